"""The command line's parser: every subcommand, its options and their checks.

Each subcommand names its function with ``set_defaults(func=...)``; :func:`sim.cli.main` calls
it. Only light modules are imported here (no numpy, scipy or DuckDB), so ``--help`` and a bad
option answer at once.
"""

from __future__ import annotations

import argparse
import math
import sys

from ..data.ingest.options import FORMATS
from ..data.location import DB_ENV
from ..model.confidence import DEFAULT_CONFIDENCE
from ..model.months import parse_month
from ..model.scenario import MAX_MONTHS, MAX_SEED, MAX_TRIALS
from . import commands, history_commands

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


def _month(text: str) -> str:
    if parse_month(text) is None:
        raise argparse.ArgumentTypeError(f"--as-of must be a month like 2027-06, not {text!r}")
    return text


def _month_of(option: str):
    """An argparse type: a month ``YYYY-MM``, with a message naming the option."""
    def parse(text: str) -> str:
        if parse_month(text) is None:
            raise argparse.ArgumentTypeError(f"{option} must be a month like 2027-06, not {text!r}")
        return text
    return parse


def _positive(option: str, *, allow_zero: bool = False, above: float | None = None):
    """An argparse type: a finite number above 0 (or ``above``), with a message naming the option."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} must be a number, not {text!r}") from None
        low = above if above is not None else 0.0
        if not math.isfinite(value) or value < low or (value == low and not allow_zero):
            raise argparse.ArgumentTypeError(f"{option} must be a number above {low:g}")
        return value
    return parse


def _weight(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--prior-weight must be a number, not {text!r}") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError("--prior-weight must be above 0 and at most 1")
    return value


def _mapping(text: str) -> tuple[str, str]:
    column, sep, stage = text.rpartition("=")
    if not sep or not column.strip() or not stage.strip():
        raise argparse.ArgumentTypeError(f"--map must look like COLUMN=STAGE, not {text!r}")
    return column, stage


def _values(text: str) -> list[str]:
    """``--won Won,"Closed Won"``: comma-separated values (the option may be repeated too)."""
    values = [v.strip() for v in text.split(",") if v.strip()]
    if not values:
        raise argparse.ArgumentTypeError(f"give at least one value, not {text!r}")
    return values


def _db_option(parser) -> None:
    parser.add_argument("--db", help=f"DuckDB database file (default: ${DB_ENV} or data/funnel.duckdb)")


def _json_option(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m sim", description="Funnel SLA Planner: forecasts, targets, actuals and plans from the command line.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    fc = sub.add_parser("forecast", help="P(goal), revenue distribution, stage volumes, sensitivity")
    fc.set_defaults(func=commands.forecast)
    fc.add_argument("scenario", help="scenario JSON file")
    fc.add_argument("--trials", type=_trials, help="trials (default: the scenario's)")
    fc.add_argument("--seed", type=_seed, help="random seed (default: the scenario's)")
    fc.add_argument("--sensitivity-trials", type=_trials,
                    help="trials per sensitivity run (default: min(trials, 20,000))")
    _json_option(fc)

    tg = sub.add_parser("targets", help="reverse funnel: volumes needed for the goal")
    tg.set_defaults(func=commands.targets)
    tg.add_argument("scenario", help="scenario JSON file")
    tg.add_argument("--confidence", type=_confidence, default=DEFAULT_CONFIDENCE,
                    help=f"wanted P(goal) (default {DEFAULT_CONFIDENCE})")
    tg.add_argument("--trials", type=_trials, help="trials (default: the scenario's)")
    tg.add_argument("--seed", type=_seed, help="random seed (default: the scenario's)")
    _json_option(tg)

    im = sub.add_parser("import", help="import a CSV file or a workbook of actuals into the database")
    im.set_defaults(func=commands.import_file)
    im.add_argument("file", help="CSV file or workbook (.xlsx, .xls, .ods): monthly, records or history format (README)")
    _db_option(im)
    im.add_argument("--format", choices=FORMATS,
                    help="default: monthly with a 'month' column, history with 'stage' and 'date' columns, else records")
    im.add_argument("--map", action="append", default=[], metavar="COLUMN=STAGE", type=_mapping,
                    help="map a column to a stage (repeatable); records: the stage's date column; history: "
                         "\"CRM STAGE=FUNNEL STAGE\"")
    im.add_argument("--id", dest="id_column", metavar="COLUMN", help="records, history: the id column (default 'id')")
    im.add_argument("--amount", dest="amount_column", metavar="COLUMN",
                    help="records, history: the amount column (default 'amount' when present)")
    im.add_argument("--date-format", metavar="FMT", help="records, history: date layout, e.g. %%d-%%m-%%Y (default ISO)")
    im.add_argument("--decimal", choices=(",", "."),
                    help="decimal separator (default ',' for ';'-delimited files, else '.')")
    im.add_argument("--ignore", action="append", default=[], metavar="COLUMN",
                    help="monthly: a column to skip (repeatable)")
    im.add_argument("--scenario", help="scenario JSON whose stage names columns are matched to")
    im.add_argument("--outcome", dest="outcome_column", metavar="COLUMN",
                    help="records: the column saying won, lost or open (e.g. deal_stage, Stage, IsWon)")
    im.add_argument("--won", action="append", default=[], type=_values, metavar="VALUE[,VALUE...]",
                    help="records: the outcome values that mean won (e.g. Won, \"Closed Won\", closedwon)")
    im.add_argument("--lost", action="append", default=[], type=_values, metavar="VALUE[,VALUE...]",
                    help="records: the outcome values that mean lost; any other value is open")
    im.add_argument("--closed", dest="closed_column", metavar="COLUMN",
                    help="records: a true/false column saying closed (Salesforce IsClosed): closed and not won is lost")
    im.add_argument("--won-stage", metavar="STAGE",
                    help="the stage a win counts toward (default: the last mapped stage in the funnel's order)")
    im.add_argument("--stage-column", metavar="COLUMN", help="history: the CRM stage column (default 'stage')")
    im.add_argument("--date-column", metavar="COLUMN", help="history: the date column (default 'date')")
    im.add_argument("--lost-stage", action="append", default=[], metavar="CRM_STAGE",
                    help="history: a CRM stage that means lost, e.g. \"Closed Lost\" (repeatable)")
    im.add_argument("--segment", dest="segment_column", metavar="COLUMN",
                    help="a column giving each record (or monthly row) its segment: lead source, product, region, ...")
    im.add_argument("--sheet", metavar="NAME", help="workbooks: the sheet to read (default: the first)")
    im.add_argument("--source", metavar="NAME",
                    help="what the file is an export of (default: its file name), for --replace")
    im.add_argument("--replace", action="store_true",
                    help="replace what earlier imports of the same source said (a corrected or complete export)")
    im.add_argument("--preview", action="store_true",
                    help="write nothing: show the first rows with the stage each counts toward and the monthly counts")
    im.add_argument("--guess", action="store_true",
                    help="guess the options not given from the header names and values (see --preview)")
    _json_option(im)

    ac = sub.add_parser("actuals", help="print the monthly stage counts and revenue in the database")
    ac.set_defaults(func=commands.actuals)
    _db_option(ac)
    ac.add_argument("--scenario", help="scenario JSON giving the stage order")
    ac.add_argument("--segment", metavar="VALUE", help="only this segment's actuals")
    ac.add_argument("--by-segment", action="store_true", help="the counts and revenue by segment")
    _json_option(ac)

    hi = sub.add_parser("history", help="list the imports (newest first)")
    hi.set_defaults(func=commands.history)
    _db_option(hi)
    _json_option(hi)

    un = sub.add_parser("undo", help="undo one import: its values are removed, earlier ones come back")
    un.set_defaults(func=commands.undo)
    un.add_argument("import_id", type=_whole_number("IMPORT_ID", 1, 2**31 - 1, "2^31-1"))
    _db_option(un)

    pl = sub.add_parser("plan", help="plans of record: save a scenario with its forecast bands, list them")
    plan_sub = pl.add_subparsers(dest="plan_command", required=True, parser_class=_Parser)
    ps = plan_sub.add_parser("save", help="simulate a scenario and save it as a plan of record")
    ps.set_defaults(func=commands.plan_save)
    ps.add_argument("scenario", help="scenario JSON file")
    _db_option(ps)
    ps.add_argument("--name", required=True, help="the plan's name (unique)")
    _json_option(ps)
    pls = plan_sub.add_parser("list", help="list the saved plans")
    pls.set_defaults(func=commands.plan_list)
    _db_option(pls)
    _json_option(pls)

    cp = sub.add_parser("compare", help="a saved plan against the actuals, month by month and stage by stage")
    cp.set_defaults(func=commands.compare)
    _db_option(cp)
    cp.add_argument("--plan", required=True, help="the saved plan's name")
    cp.add_argument("--segment", metavar="VALUE", help="only this segment's actuals (a plan made for that segment)")
    _json_option(cp)

    ci = sub.add_parser("checkin", help="mid-period check-in: where we stand, updated rates, reforecast, reset SLA")
    ci.set_defaults(func=commands.checkin)
    ci.add_argument("scenario", nargs="?", help="scenario JSON file of the plan (or --plan NAME)")
    ci.add_argument("--plan", help="a saved plan of record's name (instead of SCENARIO)")
    _db_option(ci)
    ci.add_argument("--as-of", required=True, type=_month, metavar="YYYY-MM",
                    help="actuals count through the end of this month")
    ci.add_argument("--confidence", type=_confidence, default=DEFAULT_CONFIDENCE,
                    help=f"wanted P(goal) for the reset (default {DEFAULT_CONFIDENCE})")
    ci.add_argument("--prior-weight", type=_weight, default=1.0,
                    help="weight the plan's rate beliefs keep against the observed counts, (0, 1] (default 1)")
    ci.add_argument("--no-conflict-rule", dest="conflict_rule", action="store_false",
                    help="keep the prior weight even for stages whose actuals contradict the plan's belief "
                         "(default: the conflict rule lowers it there; see the README)")
    ci.add_argument("--trials", type=_trials, help="trials of the reforecast (default: the scenario's)")
    ci.add_argument("--save", metavar="NAME", help="save the reset as a new plan of record linked to the plan")
    ci.add_argument("--note", metavar="TEXT", default="",
                    help="with --save: why the plan is reset (the agreement's change log; default: the check-in's month)")
    ci.add_argument("--review", type=_month_of("--review"), metavar="YYYY-MM",
                    help="with --save: the next review month of the agreement (default: the middle of the months left)")
    ci.add_argument("--segment", metavar="VALUE", help="only this segment's actuals (a plan made for that segment)")
    _json_option(ci)

    ft = sub.add_parser("fit", help="plan from history: a scenario fitted from the actuals, and how each number was got")
    ft.set_defaults(func=history_commands.fit)
    _db_option(ft)
    ft.add_argument("--from", dest="first", type=_month_of("--from"), metavar="YYYY-MM",
                    help="the window's first month (default: the first month of the actuals)")
    ft.add_argument("--to", dest="last", type=_month_of("--to"), metavar="YYYY-MM",
                    help="the window's last month: the data count through its end (default: the last month of the actuals)")
    ft.add_argument("--start", type=_month_of("--start"), metavar="YYYY-MM",
                    help="the plan's first month (default: the month after --to)")
    ft.add_argument("--months", type=_whole_number("--months", 1, MAX_MONTHS, str(MAX_MONTHS)), default=12,
                    help="the plan's months (default 12)")
    goal = ft.add_mutually_exclusive_group()
    goal.add_argument("--goal", type=_positive("--goal"), help="the revenue goal (default: trailing twelve months' "
                                                               "revenue × (1 + --growth))")
    goal.add_argument("--growth", type=_positive("--growth", allow_zero=True, above=-1.0),
                      help="growth of the goal over the trailing twelve months' revenue, e.g. 0.2 (default 0)")
    ft.add_argument("--segment", metavar="VALUE", help="only this segment's actuals")
    ft.add_argument("--scenario", help="scenario JSON whose stages, owners, deal kind and typed beliefs are kept where "
                                       "the history cannot give them")
    ft.add_argument("--stages", type=_values, metavar="STAGE[,STAGE...]",
                    help="the funnel's stages in order (default: the scenario's, else every stage of the database)")
    ft.add_argument("--weight", type=_positive("--weight"),
                    help="weight of history: the most past cases a fitted rate is worth (default: all it holds)")
    ft.add_argument("--out", metavar="FILE", help="write the fitted scenario (JSON) to FILE")
    _json_option(ft)

    bt = sub.add_parser("backtest", help="the planner judged on the history: rolling origins, coverage, MAPE, bias, Brier")
    bt.set_defaults(func=history_commands.backtest)
    _db_option(bt)
    bt.add_argument("--horizon", type=_whole_number("--horizon", 1, MAX_MONTHS, str(MAX_MONTHS)), default=12,
                    help="months simulated after each origin, as many as the data has up to this (default 12)")
    bt.add_argument("--fit-months", type=_whole_number("--fit-months", 2, 120, "120"), default=12,
                    help="months of history each fit uses, before its origin (default 12)")
    bt.add_argument("--origins", type=_whole_number("--origins", 1, 120, "120"), default=12,
                    help="the most recent origins backtested (default 12)")
    bt.add_argument("--trials", type=_whole_number("--trials", 100, 100_000, "100,000"), default=2000,
                    help="trials per origin (default 2,000)")
    bt.add_argument("--growth", type=_positive("--growth", allow_zero=True, above=-1.0),
                    help="growth of each origin's goal over its trailing twelve months' revenue (default 0)")
    bt.add_argument("--segment", metavar="VALUE", help="only this segment's actuals")
    bt.add_argument("--scenario", help="scenario JSON whose typed values are kept where a fit cannot give them")
    bt.add_argument("--stages", type=_values, metavar="STAGE[,STAGE...]",
                    help="the funnel's stages in order (default: the scenario's, else every stage of the database)")
    _json_option(bt)

    dm = sub.add_parser("demo", help="the demo company's data in the database")
    demo_sub = dm.add_subparsers(dest="demo_command", required=True, parser_class=_Parser)
    dr = demo_sub.add_parser("remove", help="remove the demo's imports and plan of record (your own data stays)")
    dr.set_defaults(func=commands.demo_remove)
    _db_option(dr)
    return parser
