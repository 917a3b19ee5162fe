"""The command line's commands: read the arguments, call the library, print.

Each function takes the parsed arguments and returns the exit code. The library modules each
command needs are imported inside it: ``python -m sim --help`` then loads neither numpy,
scipy nor DuckDB.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from ..errors import ScenarioError
from . import rendering
from .rendering import print_json, print_lines

#: The command line reads files from disk, not uploads: a larger limit than the app's.
CLI_MAX_IMPORT_BYTES = 2 * 1024**3


@contextmanager
def _store(args):
    from ..data.store import Store
    with Store(args.db) as store:
        yield store


def _scenario(path):
    from ..model.scenario_io import load_scenario
    return load_scenario(path)


def _stage_names(path) -> tuple[str, ...]:
    return _scenario(path).stage_names if path else ()


# -- scenario commands -------------------------------------------------------------------------

def forecast(args) -> int:
    from ..model.forecast import simulate
    from ..model.sensitivity import sensitivity
    scenario = _scenario(args.scenario)
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
        return print_json(doc)
    return print_lines(rendering.forecast_text(scenario, result, seed, trials, sens_trials, rows))


def targets(args) -> int:
    from ..model.targets import required_volumes
    scenario = _scenario(args.scenario)
    result = required_volumes(scenario, args.confidence, trials=args.trials, seed=args.seed)
    if args.json:
        return print_json(result.to_dict())
    return print_lines(rendering.targets_text(scenario, result))


# -- database commands -------------------------------------------------------------------------

def import_file(args) -> int:
    from ..data.ingest import ImportOptions, import_csv
    with _store(args) as store:
        path = Path(args.file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ScenarioError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
        options = ImportOptions(format=args.format, mapping=tuple(args.map), id_column=args.id_column,
                                amount_column=args.amount_column, date_format=args.date_format,
                                decimal=args.decimal, ignore=tuple(args.ignore))
        result = import_csv(store, data, path.name, options=options, scenario_stages=_stage_names(args.scenario),
                            max_bytes=CLI_MAX_IMPORT_BYTES)
    if args.json:
        return print_json(result.to_dict())
    return print_lines([result.message])


def actuals(args) -> int:
    from ..data.actuals import load_actuals
    with _store(args) as store:
        found = load_actuals(store, stage_order=_stage_names(args.scenario))
        if args.json:
            return print_json(found.to_dict())
        if found.empty:
            return print_lines([f"No actuals in {store.path} yet: import a CSV with `python -m sim import FILE`."])
    return print_lines(rendering.actuals_text(found))


def history(args) -> int:
    from ..data.history import import_history
    with _store(args) as store:
        imports = import_history(store)
    if args.json:
        return print_json([h.to_dict() for h in imports])
    if not imports:
        return print_lines(["No imports yet."])
    return print_lines(rendering.history_text(imports))


def undo(args) -> int:
    from ..data.history import undo_import
    with _store(args) as store:
        return print_lines([undo_import(store, args.import_id)])


def plan_save(args) -> int:
    from ..data.plans import save_plan
    with _store(args) as store:
        plan = save_plan(store, _scenario(args.scenario), args.name)
    if args.json:
        return print_json(plan.to_dict())
    return print_lines([f"Saved plan #{plan.id} '{plan.name}': {plan.scenario.name}, P(goal) {plan.p_goal:.1%} "
                        f"({plan.trials:,} trials, seed {plan.seed})."])


def plan_list(args) -> int:
    from ..data.plans import list_plans
    with _store(args) as store:
        plans = list_plans(store)
    if args.json:
        return print_json([p.to_dict() for p in plans])
    if not plans:
        return print_lines(["No plans saved yet: `python -m sim plan save SCENARIO --name NAME`."])
    return print_lines(rendering.plans_text(plans))


def compare(args) -> int:
    """A saved plan against the actuals (plan vs actual: the only "compare" of the project)."""
    from ..data.plans import load_plan
    from ..data.variance import compare_plan
    with _store(args) as store:
        comparison = compare_plan(store, load_plan(store, args.plan))
        if args.json:
            return print_json(comparison.to_dict())
        return print_lines(rendering.comparison_text(comparison, store.path))


def checkin(args) -> int:
    from ..data.plan_checkin import check_in_stored, save_reset
    from ..data.plans import load_plan
    with _store(args) as store:
        if bool(args.scenario) == bool(args.plan):
            raise ScenarioError("give either a scenario file or --plan NAME (one of them)")
        plan = load_plan(store, args.plan) if args.plan else None
        check = check_in_stored(store, plan=plan, scenario=None if plan else _scenario(args.scenario),
                                as_of=args.as_of, confidence=args.confidence, prior_weight=args.prior_weight,
                                trials=args.trials, conflict_rule=args.conflict_rule)
        saved = None if args.save is None else save_reset(store, check, args.save, plan)
    if args.json:
        doc = check.to_dict()
        doc["saved_plan"] = None if saved is None else saved.to_dict()
        return print_json(doc)
    return print_lines(rendering.checkin_text(check, saved))
