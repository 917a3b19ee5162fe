"""AppTest of the Forecast page."""

import json

from sim import simulate

from .apptest import PROBABILITY, metric, open_app, small_demo


def test_forecast_page_shows_probability_charts_and_pipeline():
    sc = small_demo(goal=1_100_000.0)
    at = open_app("app_pages/forecast.py", scenario=sc)
    f = simulate(sc)
    assert metric(at, PROBABILITY) == f"{f.p_goal:.1%}"
    assert metric(at, "Expected revenue") == f"{f.revenue.mean:,.0f}"
    assert metric(at, "Still in the pipeline at the end (deal value)") == f"{f.pipeline_value.mean:,.0f}"
    charts = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    titles = [c.get("title", {}).get("text", "") for c in charts]
    assert any("Cumulative revenue" in t for t in titles)
    assert any("Revenue over all" in t for t in titles)
    assert any("Expected volume per stage" in t for t in titles)
    assert any("Which assumption" in t for t in titles)      # the tornado
    # ... from runs of the scenario's 3,000 trials (fewer than the app's 5,000 per run)
    assert any(c.value.startswith("Each input held at its P10 and P90 (3,000 trials each") for c in at.caption)


def test_the_forecast_follows_the_scenario_in_the_url():
    low, high = small_demo(goal=800_000.0), small_demo(goal=1_800_000.0)
    p_low = metric(open_app("app_pages/forecast.py", scenario=low), PROBABILITY)
    p_high = metric(open_app("app_pages/forecast.py", scenario=high), PROBABILITY)
    assert p_low == f"{simulate(low).p_goal:.1%}" and p_high == f"{simulate(high).p_goal:.1%}"
    assert float(p_low.rstrip("%")) > float(p_high.rstrip("%"))


def test_navigation_keeps_the_edited_scenario():
    sc = small_demo()
    at = open_app(scenario=sc)
    next(w for w in at.number_input if w.label == "Revenue goal").set_value(1_500_000).run()
    edited = at.session_state["scenario"]
    at.switch_page("app_pages/forecast.py").run()
    assert not at.exception
    assert at.session_state["scenario"] == edited
    assert metric(at, PROBABILITY) == f"{simulate(edited).p_goal:.1%}"
