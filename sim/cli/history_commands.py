"""``python -m sim fit`` and ``python -m sim backtest``: plan from history, and the planner judged
on the history (see README, "Plan from history").

A failed fit writes nothing: the scenario file of ``--out`` is written (whole, through a file
renamed into place) only after the fit succeeded.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from ..errors import ScenarioError
from .commands import _scenario, _store
from .rendering import money, print_json, print_lines


def _history(args, typed):
    """The history of ``--stages`` (each must be in the actuals), else of the scenario's stages
    (two at least must be), else of every stage in the database."""
    from ..data.funnel_history import history_stages, load_funnel_history
    from ..model.names import fold_name
    stages = tuple(args.stages) if args.stages else (typed.stage_names if typed is not None else ())
    with _store(args, read_only=True) as store:
        known = history_stages(store)
        have = {fold_name(s) for s in known}
        missing = [s for s in stages if fold_name(s) not in have]
        listed = ", ".join(known) or "none"
        if args.stages and missing:
            raise ScenarioError(f"--stages: {', '.join(repr(s) for s in missing)} not in the actuals (stages: {listed})")
        if stages and len(stages) - len(missing) < 2:
            raise ScenarioError(f"--scenario: fewer than two of its stages are in the actuals (stages: {listed}); "
                                f"name the funnel's stages with --stages")
        return load_funnel_history(store, stages=stages, segment=args.segment)


def fit(args) -> int:
    from ..model.history_fit import FitOptions, fit_history
    typed = _scenario(args.scenario) if args.scenario else None
    history = _history(args, typed)
    options = FitOptions(first=args.first, last=args.last, start=args.start, months=args.months, goal=args.goal,
                         growth=args.growth, weight=args.weight, label=args.segment)
    result = fit_history(history, options, typed)
    if args.out:
        _write(Path(args.out), result.scenario.to_json())
    if args.json:
        return print_json(result.to_dict())
    lines = fit_text(result)
    if args.out:
        lines.append(f"Scenario written to {args.out}.")
    return print_lines(lines)


def _write(path: Path, text: str) -> None:
    """``text`` into ``path``, whole or not at all."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ScenarioError(f"{path}: cannot write the scenario ({exc.strerror or exc})") from None


def _pct(value) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1%}"


def fit_text(result) -> list[str]:
    """The fit in plain text: each number and how it was obtained."""
    sc = result.scenario
    lines = [f"{sc.name}: plan {sc.start}, {sc.months} months (window {result.first} to {result.last})", ""]
    lines.append("Conversion rates (per entry-month cohort, lag-aware exposure; beta-binomial across cohorts):")
    for fit, stage in zip(result.stages[1:], sc.stages[1:]):
        lo, hi = stage.rate.ppf([0.1, 0.9]) if not stage.rate.is_fixed else (stage.rate.mean, stage.rate.mean)
        r = fit.rate
        how = (f"{r.successes:,.0f} of {r.exposure:,.1f} exposed in {r.cohorts} cohorts, naive {_pct(r.naive)}"
               if r is not None else fit.rate_from or "")
        lines.append(f"  {stage.name}: {_pct(stage.rate.mean)} (P10–P90 {_pct(float(lo))}–{_pct(float(hi))}) "
                     f"from {fit.rate_from}; {how}")
        lag = ", ".join(f"{v:.2f}" for v in stage.lag)
        lines.append(f"    lag [{lag}] from {fit.lag_from}"
                     + (f" ({fit.lag_fit.conversions:,} conversions)" if fit.lag_fit is not None else ""))
    deal = sc.deal
    if result.deal is not None:
        d = result.deal
        lines.append(f"Deal value: median {money(deal.median)}, P90 {money(deal.p90)} (lognormal of {d.n:,} won "
                     f"amounts; their own median {money(d.empirical_median)}, P90 {money(d.empirical_p90)})")
    else:
        lines.append(f"Deal value: median {money(deal.median)}, P90 {money(deal.p90)} (typed)")
    top = sc.top
    if result.top is not None:
        t = result.top
        shape = ("seasonal, twelve monthly factors" if t.seasonal is not None else
                 f"{top.per_month:,.0f} a month, growth {top.growth:+.2%} a month")
        lines.append(f"{sc.stages[0].name}: {shape}; noise {top.noise_cv:.0%} (log-linear trend over "
                     f"{t.months_used} months)")
    else:
        lines.append(f"{sc.stages[0].name}: typed")
    for p in result.pipeline:
        if p.count:
            age = "" if p.mean_age is None else f", waiting {p.mean_age:.1f} months on average"
            lines.append(f"Open pipeline {p.name}: {p.count:,} (from the {p.source}{age})")
    lines.append(f"Goal: {money(sc.goal)} ({result.goal_from})")
    if result.notes:
        lines.append("")
        lines += [f"Note: {n}" for n in result.notes]
    return lines


def backtest(args) -> int:
    from ..model.backtest import backtest as run_backtest
    typed = _scenario(args.scenario) if args.scenario else None
    history = _history(args, typed)
    result = run_backtest(history, horizon=args.horizon, fit_months=args.fit_months, origins=args.origins,
                          trials=args.trials, growth=args.growth, typed=typed)
    if args.json:
        return print_json(result.to_dict())
    return print_lines(backtest_text(result))


def backtest_text(result) -> list[str]:
    """The backtest in plain text: one line per origin, then the scores."""
    lines = [result.sentence(), ""]
    if result.origins:
        lines.append(f"{'Origin':<8} {'Months':>6} {'Actual':>14} {'P10':>14} {'P50':>14} {'P90':>14}  Band     "
                     f"P(goal) Goal hit")
        for o in result.origins:
            r = o.revenue
            lines.append(f"{o.origin:<8} {o.months:>6} {money(r.actual):>14} {money(r.p10):>14} {money(r.p50):>14} "
                         f"{money(r.p90):>14}  {'inside ' if r.inside else 'outside'}  {o.p_goal:>6.0%} "
                         f"{'yes' if o.hit else 'no'}")
        lines.append("")
        lines.append(f"Coverage of the P10–P90 bands: revenue {_pct(result.coverage_revenue)}; "
                     + ", ".join(f"{n} {_pct(v)}" for n, v in result.coverage_stages().items()))
        lines.append(f"Revenue P50: MAPE {_pct(result.mape)}, bias {_signed(result.bias)}; "
                     f"Brier score of P(goal) {result.brier:.3f}")
    for origin, why in result.skipped:
        lines.append(f"Skipped {origin}: {why}")
    return lines


def _signed(value) -> str:
    return "-" if value is None else f"{value:+.1%}"
