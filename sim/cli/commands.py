"""The command line's commands: read the arguments, call the library, print.

Each function takes the parsed arguments and returns the exit code. The library modules each
command needs are imported inside it: ``python -m sim --help`` then loads neither numpy,
scipy nor DuckDB.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from ..errors import ScenarioError
from . import rendering
from .rendering import print_error, print_json, print_lines

#: The command line reads files from disk, not uploads: a larger limit than the app's.
CLI_MAX_IMPORT_BYTES = 2 * 1024**3


#: Seconds a command waits while another process (the app, another command) writes the
#: database, before it gives up; ``$FUNNEL_DB_WAIT`` sets another.
WAIT_ENV = "FUNNEL_DB_WAIT"


@contextmanager
def _store(args, *, read_only: bool = False):
    """The database of ``--db`` (or ``$FUNNEL_DB``), for one operation: read-only for the
    commands that only read (they work on a read-only file system and beside the app)."""
    from ..data.store import DEFAULT_WAIT, Store
    try:
        wait = float(os.environ.get(WAIT_ENV, DEFAULT_WAIT))
    except ValueError:
        raise ScenarioError(f"${WAIT_ENV} must be a number of seconds") from None
    with Store(args.db, read_only=read_only, wait=wait) as store:
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
    from ..data.ingest import ImportOptions, import_csv, preview_import
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    stages = _stage_names(args.scenario)
    options = ImportOptions(format=args.format, mapping=tuple(args.map), id_column=args.id_column,
                            amount_column=args.amount_column, date_format=args.date_format,
                            decimal=args.decimal, ignore=tuple(args.ignore), outcome_column=args.outcome_column,
                            won_values=tuple(v for vs in args.won for v in vs),
                            lost_values=tuple(v for vs in args.lost for v in vs), closed_column=args.closed_column,
                            won_stage=args.won_stage, stage_column=args.stage_column, date_column=args.date_column,
                            lost_stages=tuple(args.lost_stage), segment_column=args.segment_column, sheet=args.sheet,
                            source=args.source, replace=args.replace)
    with _store(args) as store:
        guessed = None
        if args.guess:
            options, guessed = _guessed(store, data, path.name, options, stages)
        if args.preview:
            found = preview_import(store, data, path.name, options=options, scenario_stages=stages,
                                   max_bytes=CLI_MAX_IMPORT_BYTES)
            if args.json:
                return print_json({**found.to_dict(), "guessed": guessed})
            return print_lines(rendering.preview_text(found, guessed))
        result = import_csv(store, data, path.name, options=options, scenario_stages=stages,
                            max_bytes=CLI_MAX_IMPORT_BYTES)
    if args.json:
        return print_json(result.to_dict())
    return print_lines([result.message])


def _guessed(store, data: bytes, name: str, options, stages):
    """The options with those not given guessed from the file (--guess), and the guesses as
    command-line options."""
    from dataclasses import fields, replace

    from ..data.history import known_stages
    from ..data.ingest.batch import read_text
    from ..data.ingest.suggestion import suggest_options
    text = read_text(store, data, name, options)
    sheet_text = getattr(text, "text", text)
    suggestion = suggest_options(sheet_text, tuple(dict.fromkeys(stages + known_stages(store))),
                                 delimiter="," if sheet_text is not text else None, sheet=options.sheet)
    empty = type(options)()
    chosen = {f.name: getattr(suggestion.options, f.name) for f in fields(options)
              if getattr(options, f.name) == getattr(empty, f.name) and getattr(suggestion.options, f.name)}
    return replace(options, **chosen), rendering.options_as_arguments(chosen)


def actuals(args) -> int:
    from ..data.actuals import load_actuals, segment_breakdown
    with _store(args, read_only=True) as store:
        if args.by_segment:
            split = segment_breakdown(store, stage_order=_stage_names(args.scenario))
            if args.json:
                return print_json(split.to_dict())
            if split.empty:
                return print_lines(["No actuals have a segment: import with --segment COLUMN."])
            return print_lines(rendering.segments_text(split))
        found = load_actuals(store, stage_order=_stage_names(args.scenario), segment=args.segment)
        if args.json:
            return print_json(found.to_dict())
        if found.empty:
            if args.segment is not None:
                return print_lines([f"No actuals of segment '{args.segment}' in {store.path}."])
            return print_lines([f"No actuals in {store.path} yet: import a CSV with `python -m sim import FILE`."])
    return print_lines(rendering.actuals_text(found))


def history(args) -> int:
    from ..data.history import import_history
    with _store(args, read_only=True) as store:
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
    scenario = _scenario(args.scenario)
    with _store(args) as store:
        plan = save_plan(store, scenario, args.name)
    if args.json:
        return print_json(plan.to_dict())
    return print_lines([f"Saved plan #{plan.id} '{plan.name}': {plan.scenario.name}, P(goal) {plan.p_goal:.1%} "
                        f"({plan.trials:,} trials, seed {plan.seed})."])


def plan_list(args) -> int:
    from ..data.plans import list_plans, unreadable_plans
    with _store(args, read_only=True) as store:
        plans, unreadable = list_plans(store), unreadable_plans(store)
    for note in unreadable:
        print_error(f"note: {note}")
    if args.json:
        return print_json([p.to_dict() for p in plans])
    if not plans:
        return print_lines(["No plans saved yet: `python -m sim plan save SCENARIO --name NAME`."])
    return print_lines(rendering.plans_text(plans))


def compare(args) -> int:
    """A saved plan against the actuals (plan vs actual: the only "compare" of the project)."""
    from ..data.handoff_actuals import measure_stored_handoffs
    from ..data.plans import load_plan
    from ..data.variance import compare_plan
    from .agreement_rendering import handoff_text
    with _store(args, read_only=True) as store:
        plan = load_plan(store, args.plan)
        comparison = compare_plan(store, plan, segment=args.segment)
        handoff = measure_stored_handoffs(store, plan.scenario, segment=args.segment)
        if args.json:
            return print_json({**comparison.to_dict(), **handoff.to_dict()})
        return print_lines(rendering.comparison_text(comparison, store.path, segment=args.segment)
                           + handoff_text(handoff))


def checkin(args) -> int:
    from ..data.handoff_actuals import measure_stored_handoffs
    from ..data.plan_checkin import load_checkin_inputs, run_checkin, save_reset
    from ..data.plans import load_plan
    from .agreement_rendering import handoff_text, review_fields, review_text
    if bool(args.scenario) == bool(args.plan):
        raise ScenarioError("give either a scenario file or --plan NAME (one of them)")
    scenario = None if args.plan else _scenario(args.scenario)
    with _store(args, read_only=True) as store:
        plan = load_plan(store, args.plan) if args.plan else None
        inputs = load_checkin_inputs(store, plan=plan, scenario=scenario, as_of=args.as_of, segment=args.segment)
        handoff = measure_stored_handoffs(store, inputs.scenario, as_of=args.as_of, segment=args.segment)
    check = run_checkin(inputs, confidence=args.confidence, prior_weight=args.prior_weight, trials=args.trials,
                        conflict_rule=args.conflict_rule)
    known = inputs.known_pipeline
    saved = None
    if args.save is not None:
        with _store(args) as store:
            saved = save_reset(store, check, args.save, plan, note=args.note, review=args.review)
    if args.json:
        doc = check.to_dict()
        doc["saved_plan"] = None if saved is None else saved.to_dict()
        doc.update(handoff.to_dict())
        doc["agreement_review"] = review_fields(inputs.scenario, args.as_of)
        if args.segment is not None:          # only then: the documented document stays as it was
            doc["segment"] = args.segment
        if known and known.stages:
            doc["open_pipeline_from_outcomes"] = list(known.stages)
        return print_json(doc)
    lines = review_text(inputs.scenario, args.as_of) + rendering.checkin_text(check, saved) + handoff_text(handoff)
    if known and known.stages:
        lines.append(f"Open pipeline of {', '.join(known.stages)}: the records still open at the end of {args.as_of} "
                     f"(from their outcomes); of the other stages, estimated by the lags.")
    return print_lines(lines)


def demo_remove(args) -> int:
    from ..data.demo_content import remove_demo
    with _store(args) as store:
        return print_lines([remove_demo(store)])
