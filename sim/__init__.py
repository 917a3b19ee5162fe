"""Funnel SLA Planner: the simulation library (no Streamlit here).

Typical use::

    from sim import load_scenario, simulate, required_volumes, sensitivity
    scenario = load_scenario("data/scenarios/demo.json")
    forecast = simulate(scenario)            # seeded by scenario.seed
    forecast.p_goal, forecast.p_goal_ci.low, forecast.p_goal_ci.high
"""

from .beliefs import DealValue, RateBelief
from .engine import draw, draw_revenue, draw_stage_arrivals, make_rng, period_revenue
from .errors import ScenarioError
from .forecast import ConfidenceInterval, Distribution, Forecast, simulate, summarise
from .scenario import (Scenario, Stage, TopOfFunnel, load_scenario, scenario_from_dict,
                       scenario_from_json, scenario_from_url_token)
from .run_cancellation import RunCancelled
from .sensitivity import Sensitivity, SensitivityRow, sensitivity
from .targets import Targets, deterministic_targets, expected_arrivals, required_volumes
from .work_budget import WorkBudgetExceeded, estimate_run, max_trials_within_budget

__all__ = [
    "DealValue", "RateBelief", "draw", "draw_revenue", "draw_stage_arrivals", "make_rng",
    "period_revenue", "ScenarioError", "ConfidenceInterval", "Distribution", "Forecast", "simulate",
    "summarise", "Scenario", "Stage", "TopOfFunnel", "load_scenario", "scenario_from_dict",
    "scenario_from_json", "scenario_from_url_token", "RunCancelled", "Sensitivity",
    "SensitivityRow", "sensitivity", "Targets", "deterministic_targets", "expected_arrivals",
    "required_volumes", "WorkBudgetExceeded", "estimate_run", "max_trials_within_budget",
]
