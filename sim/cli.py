"""Command line: ``python -m sim forecast|targets ...`` (see README, "Command line")."""

from __future__ import annotations

import argparse
import json
import sys

from .errors import ScenarioError
from .forecast import simulate
from .scenario import MAX_SEED, MAX_TRIALS, load_scenario
from .sensitivity import sensitivity
from .targets import DEFAULT_CONFIDENCE, required_volumes

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        print(f"error: {message} (see: {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _whole_number(option: str, low: int, high: int, high_text: str):
    """An argparse type: a whole number from ``low`` to ``high``, with a message naming the option."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} must be a whole number, not {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{option} must be between {low} and {high_text}")
        return value
    return parse


_trials = _whole_number("--trials", 100, MAX_TRIALS, f"{MAX_TRIALS:,}")
_seed = _whole_number("--seed", 0, MAX_SEED, f"{MAX_SEED} (2^53-1)")


def _confidence(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--confidence must be a number, not {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError("--confidence must be between 0 and 1, e.g. 0.8")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m sim", description="Funnel SLA Planner: headless forecasts and targets.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    fc = sub.add_parser("forecast", help="P(goal), revenue distribution, stage volumes, sensitivity")
    fc.add_argument("scenario", help="scenario JSON file")
    fc.add_argument("--trials", type=_trials, help="trials (default: the scenario's)")
    fc.add_argument("--seed", type=_seed, help="random seed (default: the scenario's)")
    fc.add_argument("--sensitivity-trials", type=_trials,
                    help="trials per sensitivity run (default: min(trials, 20,000))")
    fc.add_argument("--json", action="store_true", help="print one JSON document")

    tg = sub.add_parser("targets", help="reverse funnel: volumes needed for the goal")
    tg.add_argument("scenario", help="scenario JSON file")
    tg.add_argument("--confidence", type=_confidence, default=DEFAULT_CONFIDENCE,
                    help=f"wanted P(goal) (default {DEFAULT_CONFIDENCE})")
    tg.add_argument("--trials", type=_trials, help="trials (default: the scenario's)")
    tg.add_argument("--seed", type=_seed, help="random seed (default: the scenario's)")
    tg.add_argument("--json", action="store_true", help="print one JSON document")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        scenario = load_scenario(args.scenario)
        if args.command == "forecast":
            return _forecast(scenario, args)
        return _targets(scenario, args)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _forecast(scenario, args) -> int:
    trials = args.trials or scenario.trials
    seed = scenario.seed if args.seed is None else args.seed
    from .engine import make_rng
    result = simulate(scenario, trials, make_rng(seed))
    sens_trials = args.sensitivity_trials or min(trials, 20_000)
    rows = sensitivity(scenario, sens_trials, seed)
    if args.json:
        doc = result.to_dict()
        doc["seed"] = seed
        doc["sensitivity_trials"] = sens_trials
        doc["sensitivity"] = [r.to_dict() for r in rows]
        json.dump(doc, sys.stdout, indent=2)
        print()
        return 0
    out = [f"{scenario.name}: {scenario.month_labels[0]} to {scenario.month_labels[-1]}, "
           f"goal {_money(scenario.goal)}, {trials:,} trials, seed {seed}",
           f"P(goal) = {result.p_goal:.1%}  (95% Monte Carlo interval {result.p_goal_ci[0]:.1%} to "
           f"{result.p_goal_ci[1]:.1%})",
           f"Revenue: mean {_money(result.revenue.mean)}, P10 {_money(result.revenue.p10)}, "
           f"P50 {_money(result.revenue.p50)}, P90 {_money(result.revenue.p90)}",
           f"Still in the pipeline at the end: {result.late_customers.mean:.1f} customers expected, "
           f"worth {_money(result.pipeline_value.mean)}", ""]
    out += _table(["Stage", "Owner", "Mean", "P10", "P50", "P90"],
                  [[s.name, s.owner, f"{s.total.mean:,.1f}", f"{s.total.p10:,.0f}",
                    f"{s.total.p50:,.0f}", f"{s.total.p90:,.0f}"] for s in result.stages])
    out.append("")
    out += _table(["Month", "Revenue P10", "P50", "P90", "Cumulative P50"],
                  [[m.month, _money(m.revenue.p10), _money(m.revenue.p50), _money(m.revenue.p90),
                    _money(m.cumulative.p50)] for m in result.months])
    out.append("")
    out.append(f"Sensitivity ({sens_trials:,} trials per run): P(goal) with each input at its P10 / P90")
    out += _table(["Input", "Owner", "At P10", "At P90", "Swing"],
                  [[r.input, r.owner, f"{r.p_goal_low:.1%}", f"{r.p_goal_high:.1%}",
                    f"{r.swing * 100:+.1f} pts"] for r in rows])
    print("\n".join(out))
    return 0


def _targets(scenario, args) -> int:
    result = required_volumes(scenario, args.confidence, args.trials, args.seed)
    if args.json:
        json.dump(result.to_dict(), sys.stdout, indent=2)
        print()
        return 0
    det, conf = result.deterministic, result.at_confidence
    out = [f"{scenario.name}: goal {_money(scenario.goal)}",
           f"Expected-value plan: top-of-funnel plan x {det.scale:.3f} "
           f"(expected revenue {_money(det.expected_revenue)})"]
    if result.reachable:
        out.append(f"For P(goal) >= {result.confidence:.0%}: plan x {conf.scale:.3f} "
                   f"(simulated P(goal) {conf.p_goal:.1%}, {result.trials:,} trials)")
    else:
        out.append(f"P(goal) >= {result.confidence:.0%} is out of reach: even plan x {conf.scale:.1f} "
                   f"gives P(goal) {conf.p_goal:.1%}")
    months = scenario.month_labels
    for title, plan in (("Expected-value plan", det), (f"At {result.confidence:.0%} confidence", conf)):
        out += ["", f"{title}: volume needed per month"]
        out += _table(["Stage", "Total"] + [m[2:] for m in months],
                      [[s.name, f"{s.total:,.0f}"] + [f"{v:,.0f}" for v in s.monthly] for s in plan.stages])
    print("\n".join(out))
    return 0


def _money(value: float) -> str:
    return f"{value:,.0f}"


def _table(header, rows) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = lambda row: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                                for i, (c, w) in enumerate(zip(row, widths)))
    return [fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]
