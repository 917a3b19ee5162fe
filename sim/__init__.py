"""Funnel SLA Planner: the simulation library (no Streamlit here).

Typical use::

    from sim import load_scenario, simulate, required_volumes, sensitivity
    scenario = load_scenario("data/scenarios/demo.json")
    forecast = simulate(scenario)            # seeded by scenario.seed
    forecast.p_goal, forecast.p_goal_ci
"""

from .model.beliefs import DealValue, RateBelief
from .model.engine import draw, draw_revenue, draw_stage_arrivals, make_rng
from .errors import ScenarioError
from .model.forecast import Distribution, Forecast, simulate, summarise
from .model.scenario import Scenario, Stage, TopOfFunnel
from .model.scenario_io import load_scenario, scenario_from_json, scenario_from_url_token
from .model.validation import scenario_from_dict
from .model.sensitivity import SensitivityRow, sensitivity
from .model.targets import Targets, deterministic_targets, expected_arrivals, required_volumes

__all__ = [
    "DealValue", "RateBelief", "draw", "draw_revenue", "draw_stage_arrivals", "make_rng",
    "ScenarioError", "Distribution", "Forecast", "simulate", "summarise", "Scenario", "Stage",
    "TopOfFunnel", "load_scenario", "scenario_from_dict", "scenario_from_json",
    "scenario_from_url_token", "SensitivityRow", "sensitivity", "Targets",
    "deterministic_targets", "expected_arrivals", "required_volumes",
]
