"""The check-in against the store: loads a saved plan (or takes a scenario) and the stored
actuals, and runs the check-in maths of :mod:`sim.model.checkin` on them; saves a reset as a
plan of record linked to the plan it resets."""

from __future__ import annotations

from dataclasses import dataclass

from ..model.bands import Band
from ..model.checkin import CheckIn, check_in, reset_scenario
from ..model.confidence import DEFAULT_CONFIDENCE
from ..model.monthly_actuals import Actuals
from ..model.scenario import Scenario
from .actuals import load_actuals
from .plans import SavedPlan, all_bands, save_plan
from .store import Store


@dataclass(frozen=True)
class CheckInInputs:
    """What a check-in reads from the store: the plan's scenario and name, its stored bands and
    P(goal) (None for a scenario not saved: computed), and the actuals."""

    scenario: Scenario
    name: str
    bands: tuple[Band, ...] | None
    p_goal: float | None
    actuals: Actuals


def load_checkin_inputs(store: Store, *, plan: SavedPlan | None = None,
                        scenario: Scenario | None = None) -> CheckInInputs:
    """The inputs of the check-in of a saved ``plan`` or of a ``scenario``, read from ``store``
    (the store can be closed before the check-in's simulation runs)."""
    if (plan is None) == (scenario is None):
        raise ValueError("give a plan or a scenario")
    if plan is not None:
        scenario, bands, p_goal, name = plan.scenario, tuple(all_bands(store, plan)), plan.p_goal, plan.name
    else:
        bands, p_goal, name = None, None, scenario.name
    return CheckInInputs(scenario, name, bands, p_goal, load_actuals(store, stage_order=scenario.stage_names))


def run_checkin(inputs: CheckInInputs, *, as_of: str, confidence: float = DEFAULT_CONFIDENCE,
                prior_weight: float = 1.0, pipeline: dict[str, int] | None = None,
                trials: int | None = None) -> CheckIn:
    """The check-in maths (:func:`sim.model.checkin.check_in`) on what was read."""
    return check_in(inputs.scenario, inputs.actuals, as_of, plan_name=inputs.name,
                    bands=None if inputs.bands is None else list(inputs.bands), p_goal_plan=inputs.p_goal,
                    confidence=confidence, prior_weight=prior_weight, pipeline=pipeline or None, trials=trials)


def check_in_stored(store: Store, *, plan: SavedPlan | None = None, scenario: Scenario | None = None,
                    as_of: str, confidence: float = DEFAULT_CONFIDENCE, prior_weight: float = 1.0,
                    pipeline: dict[str, int] | None = None, trials: int | None = None) -> CheckIn:
    """The check-in of a saved ``plan`` (its stored bands and P(goal)) or of a ``scenario``
    (its bands computed), with the actuals in ``store`` through ``as_of``."""
    return run_checkin(load_checkin_inputs(store, plan=plan, scenario=scenario), as_of=as_of,
                       confidence=confidence, prior_weight=prior_weight, pipeline=pipeline, trials=trials)


def save_reset(store: Store, check: CheckIn, name: str, plan: SavedPlan | None = None) -> SavedPlan:
    """Save the reset of ``check`` as plan ``name``, linked to ``plan`` (when the check-in was
    of a saved plan)."""
    return save_plan(store, reset_scenario(check), name, parent_id=plan.id if plan else None,
                     as_of=check.as_of, note=f"reset at the check-in after {check.as_of}")
