"""Command line: ``python -m sim forecast|targets|import|actuals|history|undo|plan|compare|checkin ...``
(see README, "Command line")."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from .actuals import load_actuals
from .checkin import check_in, reset_scenario
from .errors import ScenarioError
from .forecast import simulate
from .ingest import FORMATS, ImportOptions, ImportRejected, import_csv, import_history, undo_import
from .plans import all_bands, list_plans, load_plan, save_plan
from .scenario import MAX_SEED, MAX_TRIALS, load_scenario
from .sensitivity import sensitivity
from .store import DB_ENV, Store
from .targets import DEFAULT_CONFIDENCE, required_volumes
from .variance import compare_plan

EXIT_BAD_INPUT = 2
#: The command line reads files from disk, not uploads: a larger limit than the app's.
CLI_MAX_IMPORT_BYTES = 2 * 1024**3


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
    parser = _Parser(prog="python -m sim", description="Funnel SLA Planner: forecasts, targets, actuals and plans from the command line.")
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

    im = sub.add_parser("import", help="import a CSV of actuals into the database")
    im.add_argument("file", help="CSV file (monthly or records format, see README)")
    _db_option(im)
    im.add_argument("--format", choices=FORMATS, help="default: monthly when there is a 'month' column")
    im.add_argument("--map", action="append", default=[], metavar="COLUMN=STAGE", type=_mapping,
                    help="map a column to a stage (repeatable); records: the stage's date column")
    im.add_argument("--id", dest="id_column", metavar="COLUMN", help="records: the id column (default 'id')")
    im.add_argument("--amount", dest="amount_column", metavar="COLUMN",
                    help="records: the amount column (default 'amount' when present)")
    im.add_argument("--date-format", metavar="FMT", help="records: date layout, e.g. %%d-%%m-%%Y (default ISO)")
    im.add_argument("--decimal", choices=(",", "."),
                    help="decimal separator (default ',' for ';'-delimited files, else '.')")
    im.add_argument("--ignore", action="append", default=[], metavar="COLUMN",
                    help="monthly: a column to skip (repeatable)")
    im.add_argument("--scenario", help="scenario JSON whose stage names columns are matched to")
    im.add_argument("--json", action="store_true", help="print one JSON document")

    ac = sub.add_parser("actuals", help="print the monthly stage counts and revenue in the database")
    _db_option(ac)
    ac.add_argument("--scenario", help="scenario JSON giving the stage order")
    ac.add_argument("--json", action="store_true", help="print one JSON document")

    hi = sub.add_parser("history", help="list the imports (newest first)")
    _db_option(hi)
    hi.add_argument("--json", action="store_true", help="print one JSON document")

    un = sub.add_parser("undo", help="undo one import: its values are removed, earlier ones come back")
    un.add_argument("import_id", type=_whole_number("IMPORT_ID", 1, 2**31 - 1, "2^31-1"))
    _db_option(un)

    pl = sub.add_parser("plan", help="plans of record: save a scenario with its forecast bands, list them")
    plan_sub = pl.add_subparsers(dest="plan_command", required=True, parser_class=_Parser)
    ps = plan_sub.add_parser("save", help="simulate a scenario and save it as a plan of record")
    ps.add_argument("scenario", help="scenario JSON file")
    _db_option(ps)
    ps.add_argument("--name", required=True, help="the plan's name (unique)")
    ps.add_argument("--json", action="store_true", help="print one JSON document")
    pls = plan_sub.add_parser("list", help="list the saved plans")
    _db_option(pls)
    pls.add_argument("--json", action="store_true", help="print one JSON document")

    cp = sub.add_parser("compare", help="a saved plan against the actuals, month by month and stage by stage")
    _db_option(cp)
    cp.add_argument("--plan", required=True, help="the saved plan's name")
    cp.add_argument("--json", action="store_true", help="print one JSON document")

    ci = sub.add_parser("checkin", help="mid-period check-in: where we stand, updated rates, reforecast, reset SLA")
    ci.add_argument("scenario", nargs="?", help="scenario JSON file of the plan (or --plan NAME)")
    ci.add_argument("--plan", help="a saved plan of record's name (instead of SCENARIO)")
    _db_option(ci)
    ci.add_argument("--as-of", required=True, type=_month, metavar="YYYY-MM",
                    help="actuals count through the end of this month")
    ci.add_argument("--confidence", type=_confidence, default=DEFAULT_CONFIDENCE,
                    help=f"wanted P(goal) for the reset (default {DEFAULT_CONFIDENCE})")
    ci.add_argument("--prior-weight", type=_weight, default=1.0,
                    help="weight the plan's rate beliefs keep against the observed counts, (0, 1] (default 1)")
    ci.add_argument("--trials", type=_trials, help="trials of the reforecast (default: the scenario's)")
    ci.add_argument("--save", metavar="NAME", help="save the reset as a new plan of record linked to the plan")
    ci.add_argument("--json", action="store_true", help="print one JSON document")
    return parser


def _month(text: str) -> str:
    if not re.fullmatch(r"\d{4}-\d{2}", text or "") or not 1 <= int(text[5:]) <= 12:
        raise argparse.ArgumentTypeError(f"--as-of must be a month like 2027-06, not {text!r}")
    return text


def _weight(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--prior-weight must be a number, not {text!r}") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError("--prior-weight must be above 0 and at most 1")
    return value


def _db_option(parser) -> None:
    parser.add_argument("--db", help=f"DuckDB database file (default: ${DB_ENV} or data/funnel.duckdb)")


def _mapping(text: str) -> tuple[str, str]:
    column, sep, stage = text.rpartition("=")
    if not sep or not column.strip() or not stage.strip():
        raise argparse.ArgumentTypeError(f"--map must look like COLUMN=STAGE, not {text!r}")
    return column, stage


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command in ("forecast", "targets"):
            scenario = load_scenario(args.scenario)
            if args.command == "forecast":
                return _forecast(scenario, args)
            return _targets(scenario, args)
        with Store(args.db) as store:
            return _STORE_COMMANDS[args.command](store, args)
    except ImportRejected as exc:
        if args.command != "import":        # e.g. undo: "there is no import #N", one line
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        problems = exc.problems
        print(f"error: {exc.source or 'the file'}: not imported ({len(problems)} "
              f"problem{'s' if len(problems) != 1 else ''}; the database is unchanged):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _print_json(doc) -> int:
    json.dump(doc, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


def _import(store, args) -> int:
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    stages = load_scenario(args.scenario).stage_names if args.scenario else ()
    options = ImportOptions(format=args.format, mapping=tuple(args.map), id_column=args.id_column,
                            amount_column=args.amount_column, date_format=args.date_format,
                            decimal=args.decimal, ignore=tuple(args.ignore))
    result = import_csv(store, data, path.name, options, stages, max_bytes=CLI_MAX_IMPORT_BYTES)
    if args.json:
        return _print_json(result.to_dict())
    print(result.message)
    return 0


def _actuals(store, args) -> int:
    order = load_scenario(args.scenario).stage_names if args.scenario else ()
    actuals = load_actuals(store, order)
    if args.json:
        return _print_json(actuals.to_dict())
    if actuals.empty:
        print(f"No actuals in {store.path} yet: import a CSV with `python -m sim import FILE`.")
        return 0
    revenue = dict(actuals.revenue)
    rows = [[m] + [_count(actuals.count(m, s)) for s in actuals.stages] + [_money_or_dash(revenue.get(m))]
            for m in actuals.months]
    print("\n".join(_table(["Month", *actuals.stages, "Revenue"], rows)))
    return 0


def _history(store, args) -> int:
    history = import_history(store)
    if args.json:
        return _print_json([h.to_dict() for h in history])
    if not history:
        print("No imports yet.")
        return 0
    rows = [[f"#{h.import_id}", f"{h.imported_at:%Y-%m-%d %H:%M}", h.file_name, h.format, f"{h.rows:,}",
             f"{h.first_month or '-'}..{h.last_month or '-'}", ", ".join(h.stages) or "-",
             "undone" if h.undone_at else "active"] for h in history]
    print("\n".join(_table(["Import", "Time", "File", "Format", "Rows", "Months", "Stages", "State"], rows)))
    return 0


def _undo(store, args) -> int:
    print(undo_import(store, args.import_id))
    return 0


def _plan(store, args) -> int:
    if args.plan_command == "save":
        plan = save_plan(store, load_scenario(args.scenario), args.name)
        if args.json:
            return _print_json(plan.to_dict())
        print(f"Saved plan #{plan.id} '{plan.name}': {plan.scenario.name}, P(goal) {plan.p_goal:.1%} "
              f"({plan.trials:,} trials, seed {plan.seed}).")
        return 0
    plans = list_plans(store)
    if args.json:
        return _print_json([p.to_dict() for p in plans])
    if not plans:
        print("No plans saved yet: `python -m sim plan save SCENARIO --name NAME`.")
        return 0
    rows = [[f"#{p.id}", p.name, f"{p.saved_at:%Y-%m-%d %H:%M}", p.scenario.name,
             f"{p.scenario.month_labels[0]}..{p.scenario.month_labels[-1]}", f"{p.p_goal:.1%}"] for p in plans]
    print("\n".join(_table(["Plan", "Name", "Saved", "Scenario", "Months", "P(goal)"], rows)))
    return 0


def _compare(store, args) -> int:
    comparison = compare_plan(store, load_plan(store, args.plan))
    if args.json:
        return _print_json(comparison.to_dict())
    plan = comparison.plan
    out = [f"Plan '{plan.name}' ({plan.scenario.name}) against the actuals in {store.path}"]
    if comparison.empty:
        out.append("No actuals fall in the plan's months yet.")
        print("\n".join(out))
        return 0
    out += ["", "Revenue (cumulative includes the baseline)"]
    out += _table(["Month", "Actual", "Plan P50", "Cumulative", "Plan P10", "P50", "P90", "Status"],
                  [[r.month, _money_or_dash(r.actual), _money(r.p50), _money_or_dash(r.cumulative_actual),
                    _money(r.cumulative_p10), _money(r.cumulative_p50), _money(r.cumulative_p90), r.status or "-"]
                   for r in comparison.revenue if r.actual is not None])
    out += ["", "Stages: actual against the plan's P50 and P10-P90 band"]
    out += _table(["Stage", "Owner", "Month", "Actual", "Plan P50", "P10", "P90", "Variance", "%", "Status"],
                  [[r.stage, r.owner, r.month, f"{r.actual:,}", f"{r.p50:,.0f}", f"{r.p10:,.0f}",
                    f"{r.p90:,.0f}", f"{r.variance:+,.0f}",
                    "-" if r.variance_pct is None else f"{r.variance_pct:+.0%}", r.status]
                   for r in comparison.stages])
    if comparison.unplanned_stages:
        out += ["", f"Stages with actuals that the plan does not have: {', '.join(comparison.unplanned_stages)}"]
    print("\n".join(out))
    return 0


def _checkin(store, args) -> int:
    if bool(args.scenario) == bool(args.plan):
        raise ScenarioError("give either a scenario file or --plan NAME (one of them)")
    plan = None
    if args.plan:
        plan = load_plan(store, args.plan)
        scenario, bands, p_goal = plan.scenario, all_bands(store, plan), plan.p_goal
    else:
        scenario, bands, p_goal = load_scenario(args.scenario), None, None
    check = check_in(scenario, load_actuals(store, scenario.stage_names), args.as_of,
                     plan_name=plan.name if plan else scenario.name, bands=bands, p_goal_plan=p_goal,
                     confidence=args.confidence, prior_weight=args.prior_weight, trials=args.trials)
    saved = None
    if args.save is not None:
        saved = save_plan(store, reset_scenario(check), args.save, parent_id=plan.id if plan else None,
                          as_of=args.as_of, note=f"reset at the check-in after {args.as_of}")
    if args.json:
        doc = check.to_dict()
        doc["saved_plan"] = None if saved is None else saved.to_dict()
        return _print_json(doc)
    sc = check.scenario
    lo, p50, hi = check.revenue_band
    done_n, left_n = len(check.months_done), len(check.months_left)
    out = [f"Check-in of '{check.plan_name}' after {check.as_of} ({done_n} month{'s' if done_n != 1 else ''} "
           f"done, {left_n} left); goal {_money(sc.goal)}",
           f"Revenue to date: {_money(check.revenue_to_date)} ({check.revenue_status} the plan's band for "
           f"{check.as_of}: P10 {_money(lo)}, P50 {_money(p50)}, P90 {_money(hi)})"]
    if check.missing_revenue_months:
        out.append(f"No revenue actuals for {', '.join(check.missing_revenue_months)}: counted as 0.")
    if check.goal_reached:
        out.append(f"The goal is reached: P(goal) = 100%, surplus {_money(check.surplus)}.")
    else:
        out.append(f"P(goal): {check.p_goal_plan:.1%} at plan time -> {check.p_goal_now:.1%} now "
                   f"(95% Monte Carlo interval {check.p_goal_now_ci[0]:.1%} to {check.p_goal_now_ci[1]:.1%})")
    out += ["", "Where we stand (volume to date against the plan's P10-P90)"
            + (f"; bottleneck: {check.bottleneck}" if check.bottleneck else "")]
    pct = lambda v: "-" if v is None else f"{v:.2%}"
    out += _table(["Stage", "Owner", "Actual", "Plan P10", "P50", "P90", "Status", "Rate: plan", "updated",
                   "naive", "Open"],
                  [[c.name, c.owner, _count(c.actual), f"{c.plan_p10:,.0f}", f"{c.plan_p50:,.0f}",
                    f"{c.plan_p90:,.0f}", c.status, pct(c.rate_prior_mean), pct(c.rate_posterior_mean),
                    pct(c.naive_rate), f"{c.open_pipeline:,}"] for c in check.stages])
    if check.reset is not None:
        out += ["", f"Reset: volumes needed per month for P(goal) >= {check.confidence:.0%} "
                    f"(plan x {check.reset.at_confidence.scale:.3f}; simulated P(goal) "
                    f"{check.reset.at_confidence.p_goal:.1%}); in brackets the plan's"]
        old = dict(check.plan_targets_left)
        out += _table(["Stage"] + [m[2:] for m in check.months_left],
                      [[s.name] + [f"{v:,.0f} ({o:,.0f})" for v, o in zip(s.monthly, old[s.name])]
                       for s in check.reset.at_confidence.stages])
    if check.reset_note:
        out += ["", check.reset_note]
    if saved is not None:
        out += ["", f"Saved the reset as plan #{saved.id} '{saved.name}'."]
    print("\n".join(out))
    return 0


_STORE_COMMANDS = {"import": _import, "actuals": _actuals, "history": _history, "undo": _undo,
                   "plan": _plan, "compare": _compare, "checkin": _checkin}


def _forecast(scenario, args) -> int:
    trials = args.trials or scenario.trials
    seed = scenario.seed if args.seed is None else args.seed
    result = simulate(scenario, trials=trials, seed=seed)
    sens_trials = args.sensitivity_trials or min(trials, 20_000)
    rows = sensitivity(scenario, trials=sens_trials, seed=seed).rows
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
           f"P(goal) = {result.p_goal:.1%}  (95% Monte Carlo interval {result.p_goal_ci.low:.1%} to "
           f"{result.p_goal_ci.high:.1%})",
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
    result = required_volumes(scenario, args.confidence, trials=args.trials, seed=args.seed)
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


def _money_or_dash(value) -> str:
    return "-" if value is None else _money(value)


def _count(value) -> str:
    return "-" if value is None else f"{value:,}"


def _table(header, rows) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = lambda row: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                                for i, (c, w) in enumerate(zip(row, widths)))
    return [fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]
