"""Funnel SLA Planner: the simulation library (no Streamlit here).

Typical use::

    from sim import load_scenario, simulate, required_volumes, sensitivity
    scenario = load_scenario("data/scenarios/demo.json")
    forecast = simulate(scenario)            # seeded by scenario.seed
    forecast.p_goal, forecast.p_goal_ci.low, forecast.p_goal_ci.high

The package is layered (see README, "Project layout"): :mod:`sim.model` (numpy/scipy only),
:mod:`sim.data` (DuckDB), :mod:`sim.present` (pandas/Altair), :mod:`sim.cli`. The names below
are loaded on first use, so ``import sim`` (and ``python -m sim --help``) loads neither numpy
nor scipy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy_exports import lazy_exports

#: Public name -> the module that defines it.
_EXPORTS = {
    "DealValue": "sim.model.beliefs", "RateBelief": "sim.model.beliefs",
    "draw": "sim.model.engine", "draw_revenue": "sim.model.engine",
    "draw_stage_arrivals": "sim.model.engine", "make_rng": "sim.model.engine",
    "period_revenue": "sim.model.engine",
    "PlannerError": "sim.errors", "ScenarioError": "sim.errors",
    "ConfidenceInterval": "sim.model.forecast", "Distribution": "sim.model.forecast",
    "Forecast": "sim.model.forecast", "simulate": "sim.model.forecast", "summarise": "sim.model.forecast",
    "Scenario": "sim.model.scenario", "Stage": "sim.model.scenario", "TopOfFunnel": "sim.model.scenario",
    "load_scenario": "sim.model.scenario_io", "scenario_from_json": "sim.model.scenario_io",
    "scenario_from_url_token": "sim.model.scenario_io", "scenario_from_dict": "sim.model.validation",
    "RunCancelled": "sim.model.run_cancellation",
    "Sensitivity": "sim.model.sensitivity", "SensitivityRow": "sim.model.sensitivity",
    "sensitivity": "sim.model.sensitivity",
    "Targets": "sim.model.targets", "expected_value_plan": "sim.model.targets",
    "expected_arrivals": "sim.model.targets", "required_volumes": "sim.model.targets",
    "WorkBudgetExceeded": "sim.model.work_budget", "estimate_run": "sim.model.work_budget",
    "max_trials_within_budget": "sim.model.work_budget",
}
__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)


if TYPE_CHECKING:       # for type checkers and editors: the same names, eagerly
    from .errors import PlannerError, ScenarioError
    from .model.beliefs import DealValue, RateBelief
    from .model.engine import draw, draw_revenue, draw_stage_arrivals, make_rng, period_revenue
    from .model.forecast import ConfidenceInterval, Distribution, Forecast, simulate, summarise
    from .model.run_cancellation import RunCancelled
    from .model.scenario import Scenario, Stage, TopOfFunnel
    from .model.scenario_io import load_scenario, scenario_from_json, scenario_from_url_token
    from .model.sensitivity import Sensitivity, SensitivityRow, sensitivity
    from .model.targets import Targets, expected_arrivals, expected_value_plan, required_volumes
    from .model.work_budget import WorkBudgetExceeded, estimate_run, max_trials_within_budget
