"""AppTest of the entry point and the Overview page (placeholder dashboard)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

import sim
from sim import ScenarioError, load_scenario, simulate

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "scenarios" / "demo.json"


def run_app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.run()
    return at


def test_overview_shows_the_demo_forecast():
    at = run_app()
    assert not at.exception
    assert not at.error

    scenario = load_scenario(DEMO)
    forecast = simulate(scenario)
    metrics = {m.label: m for m in at.metric}
    assert set(metrics) == {"P(hit the goal)", "Expected revenue", "Goal"}

    p_goal = metrics["P(hit the goal)"]
    assert p_goal.value == f"{forecast.p_goal:.1%}"
    lo, hi = forecast.p_goal_ci
    assert f"{lo:.1%} to {hi:.1%}" in p_goal.help
    assert metrics["Expected revenue"].value == f"{forecast.revenue.mean:,.0f}"
    assert metrics["Goal"].value == f"{scenario.goal:,.0f}"


def test_title():
    at = run_app()
    assert not at.exception
    assert at.title[0].value == "Funnel SLA Planner"


def test_bad_scenario_shows_a_message_not_a_traceback(monkeypatch):
    message = "demo.json: stages[3].rate.p90 must be > p10"

    def broken(path):
        raise ScenarioError(message)

    # The page imports load_scenario from sim when it runs, so it gets the broken one.
    monkeypatch.setattr(sim, "load_scenario", broken)
    at = run_app()
    assert not at.exception
    assert [e.value for e in at.error] == [message]
    assert len(at.metric) == 0
