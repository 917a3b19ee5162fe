"""AppTest of the Plan page: inputs move the numbers, the URL restores a scenario."""

from dataclasses import replace

import pytest

from sim import required_volumes, simulate
from sim.model.editing import rate_from_range
from sim.model.validation import scenario_from_dict
from sim.present.describe import scale_text
from sim.present.sla import sla_by_side, sla_csv
from ui.compute import SEARCH_TRIALS
from ui.widgets import PLAN_TABS

from .apptest import PROBABILITY, metric, open_app, open_tab, small_demo, widget


def test_default_page_shows_the_demo_forecast(demo):
    at = open_app()
    assert at.session_state["scenario"] == demo
    assert metric(at, PROBABILITY) == f"{simulate(demo).p_goal:.1%}"
    assert len(at.get("vega_lite_chart")) == 1                  # the funnel
    assert len(at.dataframe) >= 2                                 # the SLA, one table per side


def test_a_higher_goal_lowers_the_probability():
    sc = small_demo()
    at = open_app(scenario=sc)
    before = simulate(sc).p_goal
    assert metric(at, PROBABILITY) == f"{before:.1%}"
    widget(at.number_input, "Revenue goal").set_value(1_600_000).run()
    after = simulate(replace(sc, goal=1_600_000.0)).p_goal
    assert after < before
    assert metric(at, PROBABILITY) == f"{after:.1%}"
    assert at.session_state["scenario"].goal == 1_600_000


def test_a_better_conversion_rate_raises_the_probability():
    sc = small_demo()
    at = open_app(scenario=sc)
    open_tab(at, "Marketing")
    before = simulate(sc).p_goal
    at.radio(key="plan-1-s1-form").set_value("slider").run()           # Visits → Leads, by slider
    leads = widget(at.slider, "Conversion rate: 8 times in 10 between")
    leads.set_value((2.4, 3.0)).run()
    doc = sc.to_dict()
    doc["stages"][1]["rate"] = rate_from_range(0.024, 0.03)
    expected = simulate(scenario_from_dict(doc)).p_goal
    assert expected > before
    assert metric(at, PROBABILITY) == f"{expected:.1%}"


def test_the_url_restores_a_scenario():
    sc = small_demo(goal=900_000.0, seed=99)
    at = open_app(scenario=sc)
    assert at.session_state["scenario"] == sc
    assert metric(at, PROBABILITY) == f"{simulate(sc).p_goal:.1%}"
    assert widget(at.number_input, "Revenue goal").value == 900_000
    assert at.query_params["s"] == [sc.to_url_token()] or at.query_params["s"] == sc.to_url_token()


def test_a_damaged_link_opens_the_demo_with_a_warning(demo):
    token = small_demo().to_url_token()
    at = open_app(s=token[:-12])
    assert any("could not be opened" in w.value for w in at.warning)
    assert at.session_state["scenario"] == demo


def test_a_bad_lag_is_explained_and_changes_nothing():
    sc = small_demo()
    at = open_app(scenario=sc)
    open_tab(at, "Marketing")
    lag = next(w for w in at.text_input if w.label.startswith("Arrives after"))
    lag.set_value("50/20").run()
    assert any("must add up to 100" in e.value for e in at.error)
    assert at.session_state["scenario"] == sc
    assert not at.exception


def test_stages_can_be_added_removed_and_renamed():
    sc = small_demo()
    at = open_app(scenario=sc)
    open_tab(at, "Stages")
    remove = [b for b in at.button if b.label == "✕"]
    remove[3].click().run()                                   # SQLs
    assert [s.name for s in at.session_state["scenario"].stages] == \
        ["Visits", "Leads", "MQLs", "Proposals", "Customers"]
    at.text_input(key=next(w.key for w in at.text_input if w.label == "Name")).set_value("Demos")
    at.selectbox(key=next(w.key for w in at.selectbox if w.label == "After")).set_value("MQLs")
    next(b for b in at.button if b.label == "Add stage").click().run()
    names = [s.name for s in at.session_state["scenario"].stages]
    assert names == ["Visits", "Leads", "MQLs", "Demos", "Proposals", "Customers"]
    widget(at.text_input, "Stage 1").set_value("Sessions").run()
    assert at.session_state["scenario"].stages[0].name == "Sessions"
    assert not at.exception


def test_the_sla_tables_and_file_are_those_of_the_confidence_shown(monkeypatch):
    """The tables and the CSV (made when the button is clicked, not at every rerun) are those
    of the page's own search and forecast, before and after the confidence moves."""
    from streamlit.runtime.media_file_manager import MediaFileManager
    made = {}
    add_deferred = MediaFileManager.add_deferred

    def record_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        made[file_name] = data_callable
        return add_deferred(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record_deferred)
    sc = small_demo(seed=5151)
    at = open_app(scenario=sc)
    for confidence in (0.8, 0.9):
        if confidence != at.session_state["confidence"]:
            widget(at.select_slider, "Chance of hitting the goal the SLA should give").set_value(confidence).run()
        targets, forecast = required_volumes(sc, confidence, trials=min(sc.trials, SEARCH_TRIALS)), simulate(sc)
        expected = sla_by_side(targets, forecast)
        shown = [df.value for df in at.dataframe]
        assert len(shown) == len(expected) and all(a.equals(b) for a, b in zip(shown, expected.values()))
        assert made.pop("sla.csv")() == sla_csv(targets, forecast)


def test_a_higher_confidence_asks_for_more_volume():
    sc = small_demo()
    at = open_app(scenario=sc)
    slider = widget(at.select_slider, "Chance of hitting the goal the SLA should give")
    low = at.session_state["confidence"]
    first = [df.value.copy() for df in at.dataframe]
    slider.set_value(0.9).run()
    assert at.session_state["confidence"] == 0.9 > low
    assert at.query_params["q"] in ("0.9", ["0.9"])
    again = [df.value for df in at.dataframe]
    assert any(not a.equals(b) for a, b in zip(first, again))


@pytest.mark.parametrize("name", ["=SUM(A1)", "@Customers", "![](http://127.0.0.1:9/x.png)", "Le\u200bads",
                                  "Le\u0001ads"])
def test_the_current_scenarios_stage_names_follow_the_one_rule(name):
    """Finding 8: the app's current scenario took stage names the import refused (starting with
    =, -, @, holding Markdown) and they reached the database. A rename or a new stage with such
    a name is refused with the rule, and the scenario stays as it was."""
    sc = small_demo()
    at = open_app(scenario=sc)
    open_tab(at, "Stages")
    widget(at.text_input, "Stage 2").set_value(name).run()
    assert not at.exception
    assert at.session_state["scenario"] == sc
    errors = " ".join(e.value for e in at.error)
    assert "must be at most 40 characters of letters" in errors or "control or invisible characters" in errors
    at.text_input(key=next(w.key for w in at.text_input if w.label == "Name")).set_value(name)
    next(b for b in at.button if b.label == "Add stage").click().run()
    assert at.session_state["scenario"] == sc and not at.exception


def test_a_changed_input_ends_with_the_whole_runs_numbers_and_a_search_from_the_last_answer():
    """The page first shows an answer from the first trials, then the whole run's in its place;
    the search starts from the session's last answer and still gives the cold search's SLA."""
    from sim import required_volumes
    from sim.model.validation import scenario_from_dict as from_dict
    from ui.compute import PREVIEW_TRIALS, SEARCH_TRIALS
    sc = replace(small_demo(seed=31), trials=3 * PREVIEW_TRIALS)
    at = open_app(scenario=sc)
    open_tab(at, "Marketing")
    assert at.session_state["last-search"][2] > 0                  # remembered for the next search
    at.radio(key="plan-1-s1-form").set_value("slider").run()           # Visits → Leads, by slider
    widget(at.slider, "Conversion rate: 8 times in 10 between").set_value((2.0, 3.4)).run()
    doc = sc.to_dict()
    doc["stages"][1]["rate"] = rate_from_range(0.02, 0.034)
    changed = from_dict(doc)
    assert metric(at, PROBABILITY) == f"{simulate(changed).p_goal:.1%}"
    assert not any("First answer" in c.value for c in at.caption)
    assert any(f"{changed.trials:,} trials" in c.value for c in at.caption)
    cold = required_volumes(changed, 0.8, trials=min(changed.trials, SEARCH_TRIALS))
    assert at.session_state["last-search"][2] == cold.at_confidence.scale
    assert f"× {scale_text(cold.at_confidence.scale)}" in " ".join(m.value for m in at.markdown)


def test_the_search_hint_is_worked_out_only_when_the_search_runs(monkeypatch):
    """Every viewer of a shared link but the first gets the cached search: the hint (the last
    answer scaled by the expected-value plan: about 1.5 ms) is not computed for
    them; a changed input's search gets it."""
    import ui.compute
    calls = []
    real = ui.compute.expected_value_plan
    monkeypatch.setattr(ui.compute, "expected_value_plan", lambda sc: calls.append(sc) or real(sc))
    sc = small_demo(seed=32)
    at = open_app(scenario=sc)
    assert at.session_state["last-search"][2] > 0 and calls == []       # the first search: no last answer
    at.run()
    at.run()
    assert calls == [] and not at.exception                              # cached: no hint
    open_tab(at, "Marketing")
    at.radio(key="plan-1-s1-form").set_value("slider").run()
    widget(at.slider, "Conversion rate: 8 times in 10 between").set_value((2.0, 3.4)).run()
    assert len(calls) == 1 and calls[0].stages[1].rate != sc.stages[1].rate     # the new search's hint


def test_opening_a_link_keeps_every_digit_of_its_scenario():
    """A link (or a fitted plan) with more digits than the Plan page's inputs show — a noise of
    12.3456%, a lag of 61.234/38.766%, an open pipeline's own lag — opens unchanged: the page
    writes a value back only when it was changed, so the link, the CLI and every viewer keep
    the same numbers. A moved noise slider still changes the noise."""
    doc = small_demo().to_dict()
    doc["top"] = {"per_month": 12345.678, "growth": 0.0123456, "noise_cv": 0.123456}
    doc["stages"][2]["lag"] = [0.61234, 0.38766]
    doc["start_pipeline_lag"] = {"SQLs": [0.123456, 0.876544]}
    sc = scenario_from_dict(doc)
    at = open_app(scenario=sc)
    assert at.session_state["scenario"] == sc
    assert at.session_state["token"] == sc.to_url_token()
    assert metric(at, PROBABILITY) == f"{simulate(sc).p_goal:.1%}"
    for tab in PLAN_TABS:                                 # every tab's inputs, each run in turn
        open_tab(at, tab)
        assert at.session_state["scenario"] == sc, tab
    open_tab(at, "Marketing")
    widget(at.slider, "Month-to-month variation (%)").set_value(20).run()
    assert at.session_state["scenario"].top.noise_cv == 0.2
    assert at.session_state["scenario"].stages[2].lag == sc.stages[2].lag


def test_moved_inputs_apply_themselves_before_the_page_runs(monkeypatch):
    """Each input that changes the scenario by itself applies its value in its callback (so the
    page can draw the new headline first, ui.scenario_callbacks); the page's own reading then
    finds nothing left to change, and the numbers are those of the edited scenario."""
    from ui import scenario_callbacks, state

    applied = []
    original = scenario_callbacks.apply

    def watched(key, edit, *args):
        before = state.current()
        original(key, edit, *args)
        applied.append((key.split("-", 2)[2], state.current() != before))
    monkeypatch.setattr(scenario_callbacks, "apply", watched)

    sc = small_demo()
    at = open_app(scenario=sc)
    widget(at.number_input, "Revenue goal").set_value(1_300_000).run()
    widget(at.slider, "Months").set_value(11).run()
    open_tab(at, "Marketing")
    widget(at.slider, "Month-to-month variation (%)").set_value(20).run()
    at.radio(key="plan-1-s1-form").set_value("slider").run()
    widget(at.slider, "Conversion rate: 8 times in 10 between").set_value((2.4, 3.0)).run()
    next(w for w in at.text_input if w.label.startswith("Arrives after")).set_value("50/50").run()
    open_tab(at, "Simulation")
    widget(at.number_input, "Random seed").set_value(7).run()

    assert applied == [("goal", True), ("months", True), ("top-noise", True), ("s1-rate", True),
                       ("s1-lag", True), ("seed", True)]
    doc = sc.to_dict()
    doc["goal"] = 1_300_000.0
    doc["top"]["noise_cv"] = 0.2
    doc["stages"][1]["rate"] = rate_from_range(0.024, 0.03)
    doc["stages"][1]["lag"] = [0.5, 0.5]
    doc["seed"] = 7
    edited = scenario_from_dict(doc)
    now = at.session_state["scenario"]
    assert now.months == 11 and now.goal == edited.goal and now.seed == 7
    assert now.stages[1] == edited.stages[1] and now.top.noise_cv == 0.2
    assert metric(at, PROBABILITY) == f"{simulate(now).p_goal:.1%}"
