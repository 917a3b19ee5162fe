"""The check-in against the store: loads a saved plan (or takes a scenario) and the stored
actuals, and runs the check-in maths of :mod:`sim.model.checkin` on them; saves a reset as a
plan of record linked to the plan it resets.

Reading and simulating are separate steps (:func:`load_checkin_inputs`, then
:func:`run_checkin`), so the database can be closed while the check-in simulates.

The open pipeline: where the records carry outcomes (won / lost / open), a stage's open
pipeline is the records open in it at the end of the as-of month (:func:`open_pipeline`: they
are known to be still open, the lost ones known to be gone); elsewhere the check-in maths
estimate it from the counts and the lags. Counts entered by hand win over both.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from ..model.agreement import default_review, next_version
from ..model.bands import Band
from ..model.checkin import CheckIn, check_in, reset_scenario
from ..model.confidence import DEFAULT_CONFIDENCE
from ..model.monthly_actuals import Actuals
from ..model.names import fold_name
from ..model.scenario import Scenario
from ..model.validation import scenario_from_dict
from .actuals import load_actuals
from .plans import SavedPlan, all_bands, save_plan
from .record_facts import OpenPipeline, open_pipeline
from .store import Store


@dataclass(frozen=True)
class CheckInInputs:
    """What a check-in reads from the store: the plan's scenario and name, its stored bands and
    P(goal) (None for a scenario not saved: computed), the actuals (of ``segment``, or all) and
    the open pipeline the records' outcomes give at the end of ``as_of`` (None when ``as_of``
    is not one of the scenario's months)."""

    scenario: Scenario
    name: str
    bands: tuple[Band, ...] | None
    p_goal: float | None
    actuals: Actuals
    as_of: str
    segment: str | None = None
    known_pipeline: OpenPipeline | None = None


def load_checkin_inputs(store: Store, *, plan: SavedPlan | None = None, scenario: Scenario | None = None,
                        as_of: str, segment: str | None = None) -> CheckInInputs:
    """The inputs of the check-in through ``as_of`` of a saved ``plan`` or of a ``scenario``,
    read from ``store`` (``segment``: only that segment's actuals, for a plan made for that
    segment). The store can be closed before the check-in's simulation runs."""
    if (plan is None) == (scenario is None):
        raise ValueError("give a plan or a scenario")
    if plan is not None:
        scenario, bands, p_goal, name = plan.scenario, tuple(all_bands(store, plan)), plan.p_goal, plan.name
    else:
        bands, p_goal, name = None, None, scenario.name
    known = stored_open_pipeline(store, scenario, as_of, segment=segment) if as_of in scenario.month_labels else None
    return CheckInInputs(scenario, name, bands, p_goal,
                         load_actuals(store, stage_order=scenario.stage_names, segment=segment),
                         as_of, segment, known)


def run_checkin(inputs: CheckInInputs, *, confidence: float = DEFAULT_CONFIDENCE, prior_weight: float = 1.0,
                pipeline: dict[str, int] | None = None, trials: int | None = None,
                conflict_rule: bool = True) -> CheckIn:
    """The check-in maths (:func:`sim.model.checkin.check_in`) on what was read. The open
    pipeline: ``pipeline`` (by hand) for the stages it names, else the open records where the
    outcomes say, else the check-in's estimate."""
    by_hand = {fold_name(k) for k in (pipeline or {})}
    known = inputs.known_pipeline
    merged = {s: n for s, n in (known.counts if known else ()) if fold_name(s) not in by_hand}
    merged.update(pipeline or {})
    return check_in(inputs.scenario, inputs.actuals, inputs.as_of, plan_name=inputs.name,
                    bands=None if inputs.bands is None else list(inputs.bands), p_goal_plan=inputs.p_goal,
                    confidence=confidence, prior_weight=prior_weight, pipeline=merged or None, trials=trials,
                    conflict_rule=conflict_rule)


def check_in_stored(store: Store, *, plan: SavedPlan | None = None, scenario: Scenario | None = None,
                    as_of: str, confidence: float = DEFAULT_CONFIDENCE, prior_weight: float = 1.0,
                    pipeline: dict[str, int] | None = None, trials: int | None = None,
                    segment: str | None = None, conflict_rule: bool = True) -> CheckIn:
    """The check-in of a saved ``plan`` (its stored bands and P(goal)) or of a ``scenario``
    (its bands computed), with the actuals in ``store`` through ``as_of`` (see
    :func:`load_checkin_inputs` and :func:`run_checkin`)."""
    inputs = load_checkin_inputs(store, plan=plan, scenario=scenario, as_of=as_of, segment=segment)
    return run_checkin(inputs, confidence=confidence, prior_weight=prior_weight, pipeline=pipeline, trials=trials,
                       conflict_rule=conflict_rule)


def stored_open_pipeline(store: Store, scenario: Scenario, as_of: str, *, segment: str | None = None) -> OpenPipeline:
    """The open records at the end of ``as_of`` in the scenario's stages, for the stages whose
    records all carry an outcome (see :func:`sim.data.record_facts.open_pipeline`)."""
    return open_pipeline(store, scenario.stage_names, as_of, segment=segment)


def save_reset(store: Store, check: CheckIn, name: str, plan: SavedPlan | None = None, *,
               note: str = "", review: str | None = None) -> SavedPlan:
    """Save the reset of ``check`` as plan ``name``, linked to ``plan`` (when the check-in was
    of a saved plan). A plan with an agreement saves its next version (:func:`reset_agreement`:
    ``note`` says why, ``review`` is the next review month). A note or month the agreement
    refuses raises :class:`ScenarioError` before anything is saved."""
    default = f"reset at the check-in after {check.as_of}"
    scenario = reset_agreement(reset_scenario(check), note=note or default, review=review)
    return save_plan(store, scenario, name, parent_id=plan.id if plan else None,
                     as_of=check.as_of, note=note or default)


def reset_agreement(scenario: Scenario, *, note: str, review: str | None = None, day: date | None = None) -> Scenario:
    """``scenario`` with its agreement's next version (none: unchanged): linked to the version
    it replaces, with ``note`` and the date ``day`` (today) in its change log, and ``review``
    (default: the middle of the scenario's period) as its review month; checked like any
    scenario document (a :class:`ScenarioError` names the field)."""
    if scenario.agreement is None:
        return scenario
    new = next_version(scenario.agreement, note=note, date=(day or date.today()).isoformat(),
                       review=review or default_review(scenario.start, scenario.months))
    return scenario_from_dict(replace(scenario, agreement=new).to_dict())
