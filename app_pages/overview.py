"""Overview: the demo scenario's chance of hitting the goal (placeholder for the dashboard)."""

from dataclasses import replace
from pathlib import Path

import streamlit as st

from sim import ScenarioError, load_scenario, scenario_from_json, simulate

ROOT = Path(__file__).resolve().parent.parent
DEMO_SCENARIO = ROOT / "data" / "scenarios" / "demo.json"


@st.cache_data(max_entries=16, show_spinner="Simulating…")
def forecast_summary(scenario_json: str, seed: int) -> dict:
    """The few numbers the page shows, for a scenario (as JSON text) and a seed.

    Small hashable arguments in, a small summary out (never the raw draws).
    """
    scenario = replace(scenario_from_json(scenario_json), seed=int(seed))
    forecast = simulate(scenario)
    return {
        "p_goal": forecast.p_goal,
        "p_goal_ci": tuple(forecast.p_goal_ci),
        "revenue_mean": forecast.revenue.mean,
        "revenue_p10": forecast.revenue.p10,
        "revenue_p90": forecast.revenue.p90,
        "trials": forecast.trials,
    }


def money(value: float) -> str:
    return f"{value:,.0f}"


st.title("Funnel SLA Planner")
st.write(
    "How likely is the revenue goal, given the marketing and sales funnel? "
    "A Monte Carlo forecast of the plan, with uncertain conversion rates, lags and deal values."
)

try:
    scenario = load_scenario(DEMO_SCENARIO)
    summary = forecast_summary(scenario.to_json(), scenario.seed)
except ScenarioError as exc:
    st.error(str(exc))
    st.stop()

st.caption(f"Scenario: {scenario.name} · {scenario.month_labels[0]} to "
           f"{scenario.month_labels[-1]} · {summary['trials']:,} trials, seed {scenario.seed}")

lo, hi = summary["p_goal_ci"]
col_p, col_rev, col_goal = st.columns(3)
col_p.metric(
    "P(hit the goal)", f"{summary['p_goal']:.1%}",
    help=f"Share of simulated years whose revenue reaches the goal. 95% Monte Carlo "
         f"interval: {lo:.1%} to {hi:.1%} ({summary['trials']:,} trials).",
)
col_rev.metric(
    "Expected revenue", money(summary["revenue_mean"]),
    help=f"Mean simulated revenue for the period, baseline included. P10 "
         f"{money(summary['revenue_p10'])}, P90 {money(summary['revenue_p90'])}.",
)
col_goal.metric("Goal", money(scenario.goal), help="Revenue goal for the period.")
