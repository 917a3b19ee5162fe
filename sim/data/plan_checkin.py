"""The check-in against the store: loads a saved plan (or takes a scenario) and the stored
actuals, and runs the check-in maths of :mod:`sim.model.checkin` on them; saves a reset as a
plan of record linked to the plan it resets.

The open pipeline: where the records carry outcomes (won / lost / open), a stage's open
pipeline is the records open in it at the end of the as-of month (:func:`open_pipeline`: they
are known to be still open, the lost ones known to be gone); elsewhere the check-in maths
estimate it from the counts and the lags. Counts entered by hand win over both.
"""

from __future__ import annotations

from ..model.checkin import CheckIn, check_in, reset_scenario
from ..model.confidence import DEFAULT_CONFIDENCE
from ..model.names import fold_name
from ..model.scenario import Scenario
from .actuals import load_actuals
from .plans import SavedPlan, all_bands, save_plan
from .record_facts import OpenPipeline, open_pipeline
from .store import Store


def check_in_stored(store: Store, *, plan: SavedPlan | None = None, scenario: Scenario | None = None,
                    as_of: str, confidence: float = DEFAULT_CONFIDENCE, prior_weight: float = 1.0,
                    pipeline: dict[str, int] | None = None, trials: int | None = None,
                    segment: str | None = None) -> CheckIn:
    """The check-in of a saved ``plan`` (its stored bands and P(goal)) or of a ``scenario``
    (its bands computed), with the actuals in ``store`` through ``as_of`` (``segment``: only
    that segment's actuals, for a plan made for that segment). The open pipeline: ``pipeline``
    (by hand) for the stages it names, else the open records where the outcomes say (see
    :func:`stored_open_pipeline`), else the check-in's estimate."""
    if (plan is None) == (scenario is None):
        raise ValueError("give a plan or a scenario")
    if plan is not None:
        scenario, bands, p_goal, name = plan.scenario, all_bands(store, plan), plan.p_goal, plan.name
    else:
        bands, p_goal, name = None, None, scenario.name
    by_hand = {fold_name(k) for k in (pipeline or {})}
    known = stored_open_pipeline(store, scenario, as_of, segment=segment) if as_of in scenario.month_labels else None
    merged = {s: n for s, n in (known.counts if known else ()) if fold_name(s) not in by_hand}
    merged.update(pipeline or {})
    return check_in(scenario, load_actuals(store, stage_order=scenario.stage_names, segment=segment), as_of,
                    plan_name=name, bands=bands, p_goal_plan=p_goal, confidence=confidence,
                    prior_weight=prior_weight, pipeline=merged or None, trials=trials)


def stored_open_pipeline(store: Store, scenario: Scenario, as_of: str, *, segment: str | None = None) -> OpenPipeline:
    """The open records at the end of ``as_of`` in the scenario's stages, for the stages whose
    records all carry an outcome (see :func:`sim.data.record_facts.open_pipeline`)."""
    return open_pipeline(store, scenario.stage_names, as_of, segment=segment)


def save_reset(store: Store, check: CheckIn, name: str, plan: SavedPlan | None = None) -> SavedPlan:
    """Save the reset of ``check`` as plan ``name``, linked to ``plan`` (when the check-in was
    of a saved plan)."""
    return save_plan(store, reset_scenario(check), name, parent_id=plan.id if plan else None,
                     as_of=check.as_of, note=f"reset at the check-in after {check.as_of}")
