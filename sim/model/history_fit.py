"""Plan from history: a scenario fitted from the funnel's history, and how each number was got.

From a :class:`~sim.model.funnel_history.FunnelHistory` and a window of months (``first`` ..
``last``, the data counted through the end of ``last``):

* **Skipped stages**: a record that reached a later stage without an earlier one passed through
  it in the month of the next stage it reached (:meth:`FunnelHistory.passed_through`).
* **Lags** (:mod:`.stage_lags`): from the records that reached stage k−1 and stage k, each lag
  from the cohorts old enough to show it. From monthly counts alone a lag is barely identified:
  it stays as typed (none typed: no lag), and the report says so.
* **Rates** (:mod:`.cohort_rates`): per entry-month cohort of stage k−1, the units that reached
  stage k and the lag-aware exposure; a beta-binomial across cohorts, capped by the total
  exposure and the weight of history. From monthly counts: per month, the arrivals in stage k
  against the units of stage k−1 the lag could bring in that month.
* **Deal value** (:mod:`.deal_value_fit`): the lognormal of the amounts booked in the window.
* **Top of the funnel** (:mod:`.top_of_funnel_fit`): level, growth, noise, seasonality.
* **Open pipeline at the start** (:mod:`.open_pipeline_fit`).
* **Goal**: given, or the trailing twelve months' revenue × (1 + growth) (per month of the plan
  when it is not twelve months long).

Whatever cannot be fitted keeps the typed scenario's value (``typed``), with a note naming what
is missing; with no typed value, :class:`~sim.errors.ScenarioError` lists what is missing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ScenarioError
from .cohort_rates import MIN_COHORTS, CohortRate, fit_cohort_rate
from .deal_value_fit import MIN_DEALS, DealValueFit, fit_deal_value
from .funnel_history import OPEN, UNKNOWN, FunnelHistory, index_label, month_index
from .names import fold_name, name_problem
from .open_pipeline_fit import OpenStage, open_stage
from .scenario import DEFAULT_SEED, DEFAULT_TRIALS, MAX_MONTHS, MAX_STAGES, MIN_STAGES, Scenario
from .stage_lags import StageLag, fit_stage_lag, lag_cdf_at, lag_data
from .top_of_funnel_fit import MIN_TOP_MONTHS, TopFit, fit_top_of_funnel
from .validation import scenario_from_dict

DEFAULT_PLAN_MONTHS = 12


@dataclass(frozen=True)
class FitOptions:
    """``first`` / ``last``: the window ("YYYY-MM"; default: all the history); ``start``: the
    plan's first month (default: the month after ``last``); ``months``: its length; ``goal``
    (default: trailing twelve months' revenue × (1 + ``growth``)); ``weight``: the most past
    cases a fitted rate belief is worth (None: as many as the history holds); ``label``: added
    to the scenario's name (e.g. the segment)."""

    first: str | None = None
    last: str | None = None
    start: str | None = None
    months: int = DEFAULT_PLAN_MONTHS
    goal: float | None = None
    growth: float | None = None
    weight: float | None = None
    label: str | None = None


@dataclass(frozen=True)
class StageFit:
    """One stage's fit. ``rate`` (None: not fitted, or the first stage), ``rate_from``
    ("records", "monthly counts", "typed"), ``lag`` (the scenario's), ``lag_from`` ("records",
    "typed", "none typed: no lag"), the fitted lag's data; the cohorts behind the rate
    (``cohort_months``, ``entered``, ``successes``, ``exposure``) for a chart."""

    name: str
    rate: CohortRate | None
    rate_from: str | None
    lag: tuple[float, ...]
    lag_from: str | None
    lag_fit: StageLag | None
    cohort_months: tuple[str, ...] = ()
    entered: tuple[float, ...] = ()
    successes: tuple[float, ...] = ()
    exposure: tuple[float, ...] = ()

    def to_dict(self, scenario: Scenario) -> dict:
        out: dict = {"name": self.name}
        stage = next(s for s in scenario.stages if s.name == self.name)
        if stage.rate is None:
            return out
        belief = stage.rate
        lo, hi = (None, None) if belief.is_fixed else (float(v) for v in belief.ppf([0.1, 0.9]))
        r = self.rate
        out.update({
            "rate_mean": belief.mean, "rate_p10": lo, "rate_p90": hi,
            "successes": None if r is None else r.successes, "exposure": None if r is None else r.exposure,
            "cohorts": None if r is None else r.cohorts, "lag": list(stage.lag),
            "rate_from": self.rate_from, "lag_from": self.lag_from,
            "naive_rate": None if r is None else r.naive,
            "strength": None if r is None else r.strength,
            "dispersion_strength": None if r is None or not math.isfinite(r.dispersion_strength)
            else r.dispersion_strength,
            "overdispersion_p": None if r is None else r.overdispersion_p,
            "strength_capped_by": None if r is None else r.capped_by,
            "lag_conversions": None if self.lag_fit is None else self.lag_fit.conversions,
        })
        return out


@dataclass(frozen=True)
class HistoryFit:
    scenario: Scenario
    first: str
    last: str
    stages: tuple[StageFit, ...]
    deal: DealValueFit | None
    deal_amounts: tuple[float, ...]          # a sample of the amounts (at most 5,000), for a chart
    top: TopFit | None
    top_months: tuple[str, ...]
    top_counts: tuple[float, ...]
    pipeline: tuple[OpenStage, ...]
    goal_from: str
    trailing_revenue: float | None
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        """The JSON of ``python -m sim fit --json``."""
        sc = self.scenario
        top = sc.top
        return {
            "scenario": sc.to_dict(),
            "window": {"from": self.first, "to": self.last},
            "stages": [s.to_dict(sc) for s in self.stages],
            "deal": {"median": sc.deal.median, "p90": sc.deal.p90, "n": 0 if self.deal is None else self.deal.n,
                     "from": "amounts" if self.deal is not None else "typed",
                     "empirical_median": None if self.deal is None else self.deal.empirical_median,
                     "empirical_p90": None if self.deal is None else self.deal.empirical_p90},
            "top": {"per_month": top.per_month, "growth": top.growth, "noise_cv": top.noise_cv,
                    "monthly": list(top.monthly), "from": "history" if self.top is not None else "typed",
                    "months_used": 0 if self.top is None else self.top.months_used,
                    "seasonal": None if self.top is None or self.top.seasonal is None else list(self.top.seasonal)},
            "start_pipeline": {p.name: p.to_dict() for p in self.pipeline},
            "goal": {"value": sc.goal, "from": self.goal_from, "trailing_revenue": self.trailing_revenue},
            "notes": list(self.notes),
        }


# -- the fit ----------------------------------------------------------------------------------------

def fit_history(history: FunnelHistory, options: FitOptions = FitOptions(), typed: Scenario | None = None) -> HistoryFit:
    """The scenario fitted from ``history`` (see the module's description)."""
    first, last = _window(history, options)
    history, skipped = history.through(last).passed_through()    # as known at the end of the window
    start = month_index(options.start) if options.start else last + 1
    if start <= last:
        raise ScenarioError(f"the plan's start ({index_label(start)}) must come after the window's last month "
                            f"({index_label(last)})")
    if not 1 <= options.months <= MAX_MONTHS:
        raise ScenarioError(f"months must be between 1 and {MAX_MONTHS} (got {options.months})")
    if options.weight is not None and not options.weight > 0:
        raise ScenarioError(f"the weight of history must be above 0 (got {options.weight})")
    names = history.stages
    if not MIN_STAGES <= len(names) <= MAX_STAGES:
        raise ScenarioError(f"the history has {len(names)} stage{'s' if len(names) != 1 else ''}: a funnel needs "
                            f"{MIN_STAGES} to {MAX_STAGES} (import the stages, or give a scenario naming them)")
    typed_stage = {fold_name(s.name): s for s in typed.stages} if typed is not None else {}
    notes: list[str] = [f"{names[k]}: {_count(n, 'record')} reached a later stage without it: counted as passing through "
                        f"it in the month of that stage." for k, n in enumerate(skipped) if n]
    missing: list[str] = []
    window = f"{index_label(first)} to {index_label(last)}"
    months_in_window = last - first + 1

    stage_fits = [StageFit(names[0], None, None, (1.0,), None, None)]
    lags: list[tuple[float, ...]] = [(1.0,)]
    for k in range(1, len(names)):
        fit = _stage_fit(history, k, first, last, options.weight, typed_stage.get(fold_name(names[k])),
                         notes, missing, window, months_in_window)
        stage_fits.append(fit)
        lags.append(fit.lag)

    deal, amounts = _deal(history, first, last)
    if deal is None:
        what = (f"deal value: fewer than {MIN_DEALS} won amounts above 0 booked in {window}")
        if typed is None:
            missing.append(what)
        else:
            notes.append(f"{what}: kept as typed (median {typed.deal.median:,.0f}, P90 {typed.deal.p90:,.0f}).")

    counts, stated = history.series(0, first, last)
    partial = [(m, why) for m, why in history.partial if first <= m <= last]
    for m, why in partial:
        notes.append(f"{names[0]}: {index_label(m)} is a partial month ({why}): left out of the trend.")
    whole = stated.copy()
    whole[[m - first for m, _ in partial]] = False
    top = fit_top_of_funnel(counts, whole, first)
    if top is None:
        what = f"top of the funnel ({names[0]}): fewer than {MIN_TOP_MONTHS} months with a volume in {window}"
        if typed is None:
            missing.append(what)
        else:
            notes.append(f"{what}: kept as typed.")
    else:
        if top.months_zero:
            notes.append(f"{names[0]}: {_count(top.months_zero, 'month')} with a volume of 0 left out of the trend.")
        if not top.growth_kept:
            notes.append(f"{names[0]}: the trend of {math.expm1(top.slope_fitted):+.1%} a month over "
                         f"{top.months_used} months is within its noise (± {2 * top.slope_se:.1%}): no growth "
                         "is planned (it would be extrapolated over every month of the plan).")

    trailing, goal, goal_from = _goal(history, last, options, typed, notes, missing)
    if missing:
        raise ScenarioError([f"cannot fit {m}" for m in missing]
                            + ["nothing was written; give a scenario whose typed values are kept for what the history "
                               "cannot give (--scenario FILE), or a longer window"])

    rates = [None] + [f.rate.mean if f.rate is not None else typed_stage[fold_name(f.name)].rate.mean
                      for f in stage_fits[1:]]
    pipeline = _pipeline(history, first, last, names, lags, rates, notes)
    doc = _document(names, stage_fits, typed, typed_stage, deal, top, start, options, goal, pipeline, first, last)
    scenario = scenario_from_dict(doc)
    if start > last + 1:
        notes.append(f"The plan starts {_count(start - last - 1, 'month')} after the window ends: the open pipeline is the "
                     f"one at the end of {index_label(last)}.")
    return HistoryFit(scenario, index_label(first), index_label(last), tuple(stage_fits), deal, amounts, top,
                      tuple(index_label(first + i) for i in range(counts.size)), tuple(float(c) for c in counts),
                      tuple(pipeline), goal_from, trailing, tuple(notes))


def _count(n: int, noun: str) -> str:
    """"1 record", "1,205 records"."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _window(history: FunnelHistory, options: FitOptions) -> tuple[int, int]:
    span = history.data_months()
    if span is None:
        raise ScenarioError("the database holds no actuals: import a CRM export or monthly counts first")
    first = month_index(options.first) if options.first else span[0]
    last = month_index(options.last) if options.last else span[1]
    if first > last:
        raise ScenarioError(f"the window's first month ({index_label(first)}) is after its last ({index_label(last)})")
    if last < span[0] or first > span[1]:
        raise ScenarioError(f"the window {index_label(first)} to {index_label(last)} holds no actuals (they run from "
                            f"{index_label(span[0])} to {index_label(span[1])})")
    return first, last


def _record_pair(history: FunnelHistory, k: int, first: int, last: int) -> bool:
    """Whether records give stage k's conversion: records entered stage k−1 in the window, and
    some record reached stage k or no month counts any unit in it (the counts come from elsewhere:
    a monthly import)."""
    before, after = history.reached[:, k - 1], history.reached[:, k]
    return bool(np.any((before >= first) & (before <= last))
                and (np.any(after >= 0) or not np.any(history.counts[k] > 0)))


def _stage_fit(history, k, first, last, weight, typed, notes, missing, window, months_in_window) -> StageFit:
    name, prev = history.stages[k], history.stages[k - 1]
    typed_lag = typed.lag if typed is not None else None
    if _record_pair(history, k, first, last):
        data = lag_data(history.reached[:, k - 1], history.reached[:, k], first, last)
        lag_fit = fit_stage_lag(data)
        lag, lag_from = typed_lag or (1.0,), "typed" if typed_lag else "none typed: no lag"
        why = None
        if lag_fit is None:
            why = f"no record reached {name} from a {prev} cohort of {window}"
        elif lag_fit.longest + 2 > months_in_window:
            why = (f"the window has {_count(months_in_window, 'month')}, fewer than the longest lag seen "
                   f"({_count(lag_fit.longest, 'month')}) + 2")
        if why is not None:
            lag_fit_used = None
            if typed_lag:
                notes.append(f"{prev} → {name}: {why}: the lag is kept as typed.")
            else:
                missing.append(f"the lag {prev} → {name}: {why}")
        else:
            lag, lag_from, lag_fit_used = lag_fit.pmf, "records", lag_fit
            if lag_fit.clipped_long:
                notes.append(f"{prev} → {name}: {_count(lag_fit.clipped_long, 'conversion')} took more than 12 months: "
                             f"counted as 12.")
            if lag_fit.clipped_negative:
                notes.append(f"{prev} → {name}: {_count(lag_fit.clipped_negative, 'record')} reached {name} before {prev}: "
                             f"counted as lag 0.")
        ages = data.ages
        exposure = data.entered * lag_cdf_at(lag, ages)
        successes = data.conversions.sum(axis=1)
        cohort_months = tuple(index_label(first + i) for i in range(data.entered.size))
        rate = fit_cohort_rate(successes, exposure, data.entered, weight=weight)
        source, entered = "records", data.entered
    else:
        lag_fit_used = None
        lag, lag_from = typed_lag or (1.0,), "typed" if typed_lag else "none typed: no lag"
        cohort_months, entered, successes, exposure = _monthly_cohorts(history, k, first, last, lag)
        rate = fit_cohort_rate(successes, exposure, entered, weight=weight) if len(successes) else None
        source = "monthly counts"
        if len(successes):
            notes.append(f"{prev} → {name}: from monthly counts alone the lag is barely identified: kept as "
                         f"{lag_from}.")
    if rate is not None and math.isfinite(rate.dispersion_strength):
        shown = np.asarray(exposure) >= 1
        by_cohort = np.asarray(successes)[shown] / np.asarray(exposure)[shown]
        notes.append(f"{prev} → {name}: the cohorts' rates varied more than chance (from {by_cohort.min():.0%} to "
                     f"{by_cohort.max():.0%}): the belief is worth {rate.strength:,.1f} cases, not the "
                     f"{rate.exposure:,.0f} exposed (a shorter window may leave out a change).")
    if rate is None:
        why = _why_no_rate(successes, exposure, prev, name, window, source)
        if typed is not None and typed.rate is not None:
            notes.append(f"{prev} → {name}: {why}: the rate is kept as typed ({typed.rate.describe()}).")
            source = "typed"
        else:
            missing.append(f"the rate {prev} → {name}: {why}")
            source = None
    return StageFit(name, rate, source, tuple(lag), lag_from, lag_fit_used, cohort_months,
                    tuple(float(v) for v in entered), tuple(float(v) for v in successes),
                    tuple(float(v) for v in exposure))


def _why_no_rate(successes, exposure, prev, name, window, source) -> str:
    s, n = np.asarray(successes, float), np.asarray(exposure, float)
    if s.size == 0 or not np.any(n > 0):
        return f"no {prev} cohort in {window} is old enough to have converted ({source})"
    if s.sum() <= 0:
        return f"no {prev} converted to {name} in {window} ({source})"
    return (f"only {_count(int(np.count_nonzero(n > 0)), 'monthly cohort')} in {window}: at least {MIN_COHORTS} are needed "
            f"to see how the rate varies ({source})")


def _monthly_cohorts(history, k, first, last, lag):
    """Per month t of the window whose stage k−1 counts are known for the lag's span: the arrivals
    in stage k, and the exposure Σ_d N_{k−1}(t−d)·f(d)."""
    D = len(lag) - 1
    prev, prev_ok = history.series(k - 1, first - D, last)
    cur, cur_ok = history.series(k, first, last)
    f = np.asarray(lag, dtype=float)
    months, entered, successes, exposure = [], [], [], []
    for i in range(cur.size):
        span = slice(i, i + D + 1)                  # months t−D .. t in the prev series
        if not cur_ok[i] or not prev_ok[span].all():
            continue
        months.append(index_label(first + i))
        entered.append(float(prev[i + D]))
        successes.append(float(cur[i]))
        exposure.append(float(prev[span][::-1] @ f))
    return tuple(months), np.array(entered), np.array(successes), np.array(exposure)


def _deal(history, first, last) -> tuple[DealValueFit | None, tuple[float, ...]]:
    inside = (history.amount_months >= first) & (history.amount_months <= last)
    amounts = history.amounts[inside]
    fit = fit_deal_value(amounts)
    sample = amounts[amounts > 0]
    if sample.size > 5000:
        sample = np.random.default_rng(0).choice(sample, 5000, replace=False)
    return fit, tuple(float(v) for v in sample)


def _goal(history, last, options, typed, notes, missing):
    growth = 0.0 if options.growth is None else float(options.growth)
    revenue, known = history.revenue_series(last - 11, last)
    trailing = float(revenue[known].sum()) if known.any() else None
    if options.goal is not None:
        return trailing, float(options.goal), "given"
    if trailing is None or trailing <= 0:
        what = f"goal: no revenue in the twelve months to {index_label(last)}"
        if typed is None:
            missing.append(what + " (give --goal)")
            return trailing, None, None
        notes.append(f"{what}: kept as typed ({typed.goal:,.0f}).")
        return trailing, typed.goal, "typed"
    n = int(known.sum())
    yearly = trailing * 12 / n
    goal = yearly * options.months / 12 * (1 + growth)
    how = f"trailing twelve months' revenue × (1 + {growth:g})"
    if n < 12:
        how += f" (from {_count(n, 'month')} of revenue, scaled to twelve)"
    if options.months != 12:
        how += f", × {options.months}/12 months"
    return trailing, goal, how


def _pipeline(history, first, last, names, lags, rates, notes) -> list[OpenStage]:
    """Each stage's open pipeline at the end of ``last`` (all stages but the last)."""
    out = []
    R = history.reached
    reached_any = R >= 0
    last_stage = np.where(reached_any.any(axis=1), R.shape[1] - 1 - np.argmax(reached_any[:, ::-1], axis=1), -1)
    C = last - first + 1
    ages = last - (first + np.arange(C))
    for j in range(len(names) - 1):
        lag = lags[j + 1]
        if (R[:, j] >= 0).any():                      # records: their cohorts, bound by the open ones
            entry = R[:, j]
            inside = (entry >= first) & (entry <= last)
            entered = np.bincount(entry[inside] - first, minlength=C).astype(float)
            here = last_stage == j
            opened = None
            if not np.any(history.outcome[here & inside] == UNKNOWN):
                is_open = inside & here & (history.outcome == OPEN)
                opened = np.bincount(entry[is_open] - first, minlength=C).astype(float)
            stage = open_stage(names[j], entered, ages, lag, open_records=opened, rate=rates[j + 1])
            if stage.stale:
                waited = "has" if stage.stale == 1 else "have"
                notes.append(f"{names[j]}: {_count(stage.stale, 'open record')} {waited} waited longer than the "
                             f"longest lag into {names[j + 1]}: left out of the open pipeline (stale).")
        else:                                         # monthly counts: their cohorts
            counts, stated = history.series(j, first, last)
            stage = open_stage(names[j], np.where(stated, counts, 0.0), ages, lag)
        out.append(stage)
    return out


def _document(names, stage_fits, typed, typed_stage, deal, top, start, options, goal, pipeline, first, last) -> dict:
    stages = []
    for k, (name, fit) in enumerate(zip(names, stage_fits)):
        t = typed_stage.get(fold_name(name))
        entry: dict = {"name": name, "owner": t.owner if t is not None else ("marketing" if k == 0 else "shared")}
        if k > 0:
            if fit.rate is not None:
                entry["rate"] = {"mean": fit.rate.mean, "strength": fit.rate.strength}
            else:
                entry["rate"] = t.rate.to_dict()
            entry["lag"] = _rounded_lag(fit.lag)
        stages.append(entry)
    kind = typed.deal.kind if typed is not None else "one_time"
    deal_doc = deal.deal(kind).to_dict() if deal is not None else typed.deal.to_dict()
    if top is not None:
        months = np.arange(start, start + options.months)
        # Growth to 0.1% a month and noise to 1%: what the Plan page shows (and keeps as it is).
        noise = round(top.noise_cv, 2)
        if top.seasonal is not None:
            top_doc = {"monthly": [float(v) for v in np.minimum(top.mean_at(months), 1e9)], "noise_cv": noise}
        else:
            top_doc = {"per_month": float(min(top.mean_at([start])[0], 1e9)), "growth": round(top.growth, 3),
                       "noise_cv": noise}
    else:
        top_doc = _typed_top(typed, options.months)
    label = f"Fitted from {index_label(first)} to {index_label(last)}"
    if options.label:
        candidate = f"{label} — {options.label}"
        label = candidate if name_problem(candidate) is None and len(candidate) <= 200 else label
    doc = {
        "schema": 1, "name": label, "start": index_label(start), "months": options.months, "goal": goal,
        "baseline_revenue": 0, "top": top_doc, "stages": stages, "deal": deal_doc,
        "trials": typed.trials if typed is not None else DEFAULT_TRIALS,
        "seed": typed.seed if typed is not None else DEFAULT_SEED,
    }
    open_counts = {p.name: p.count for p in pipeline if p.count > 0}
    if open_counts:
        doc["start_pipeline"] = open_counts
        own = {p.name: _rounded_lag(p.lag) for p in pipeline if p.count > 0 and p.lag is not None
               and _rounded_lag(p.lag) != stages[names.index(p.name) + 1]["lag"]}
        if own:
            doc["start_pipeline_lag"] = own
    return doc


def _rounded_lag(lag) -> list[float]:
    """A lag to 0.01% (as the Plan page writes it: "24.04/35.5/..."), still summing to 1: the
    largest share takes the rounding."""
    shares = np.round(np.asarray(lag, dtype=float), 4)
    shares[int(np.argmax(shares))] += 1.0 - shares.sum()
    out = [float(v) for v in np.round(shares, 10)]
    while len(out) > 1 and out[-1] == 0.0:
        out.pop()
    return out


def _typed_top(typed: Scenario, months: int) -> dict:
    top = typed.top
    if top.per_month is not None:
        return {"per_month": top.per_month, "growth": top.growth, "noise_cv": top.noise_cv}
    values = list(top.monthly)
    values = (values * math.ceil(months / len(values)))[:months]
    return {"monthly": values, "noise_cv": top.noise_cv}
