"""The check-in against the store: loads a saved plan (or takes a scenario) and the stored
actuals, and runs the check-in maths of :mod:`sim.model.checkin` on them; saves a reset as a
plan of record linked to the plan it resets."""

from __future__ import annotations

from ..model.checkin import CheckIn, check_in, reset_scenario
from ..model.confidence import DEFAULT_CONFIDENCE
from ..model.scenario import Scenario
from .actuals import load_actuals
from .plans import SavedPlan, all_bands, save_plan
from .store import Store


def check_in_stored(store: Store, *, plan: SavedPlan | None = None, scenario: Scenario | None = None,
                    as_of: str, confidence: float = DEFAULT_CONFIDENCE, prior_weight: float = 1.0,
                    pipeline: dict[str, int] | None = None, trials: int | None = None,
                    conflict_rule: bool = True) -> CheckIn:
    """The check-in of a saved ``plan`` (its stored bands and P(goal)) or of a ``scenario``
    (its bands computed), with the actuals in ``store`` through ``as_of``."""
    if (plan is None) == (scenario is None):
        raise ValueError("give a plan or a scenario")
    if plan is not None:
        scenario, bands, p_goal, name = plan.scenario, all_bands(store, plan), plan.p_goal, plan.name
    else:
        bands, p_goal, name = None, None, scenario.name
    return check_in(scenario, load_actuals(store, stage_order=scenario.stage_names), as_of, plan_name=name, bands=bands,
                    p_goal_plan=p_goal, confidence=confidence, prior_weight=prior_weight,
                    pipeline=pipeline or None, trials=trials, conflict_rule=conflict_rule)


def save_reset(store: Store, check: CheckIn, name: str, plan: SavedPlan | None = None) -> SavedPlan:
    """Save the reset of ``check`` as plan ``name``, linked to ``plan`` (when the check-in was
    of a saved plan)."""
    return save_plan(store, reset_scenario(check), name, parent_id=plan.id if plan else None,
                     as_of=check.as_of, note=f"reset at the check-in after {check.as_of}")
