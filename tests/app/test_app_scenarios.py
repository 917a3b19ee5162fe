"""AppTest of the Scenarios page: save, load, upload, delete and compare scenarios."""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd
import pyarrow as pa
from streamlit.testing.v1 import AppTest

from sim import load_scenario, scenario_from_url_token, simulate

from ..conftest import DEMO_PATH, ROOT

PAGE = "app_pages/scenarios.py"
SAVED = "saved_scenarios"


def small(**changes):
    """The demo with few trials (a fast page), plus any field changes."""
    return replace(load_scenario(DEMO_PATH), trials=2000, **changes)


def open_page(scenario=None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if scenario is not None:
        at.query_params["s"] = scenario.to_url_token()
    at.run()
    at.switch_page(PAGE).run()
    assert_fine(at)
    return at


def assert_fine(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def save_as(at: AppTest, name: str) -> AppTest:
    at.text_input(key="scenarios-save-name").set_value(name)
    next(b for b in at.button if b.label == "Save").click().run()
    assert_fine(at)
    return at


def upload(at: AppTest, file_name: str, content: bytes) -> AppTest:
    at.file_uploader(key="scenarios-upload").set_value((file_name, content, "application/json")).run()
    assert_fine(at)
    return at


def saved(at: AppTest) -> dict[str, str]:
    return dict(at.session_state[SAVED]) if SAVED in at.session_state else {}


def outcome(at: AppTest):
    return at.dataframe[0].value           # the outcome table comes first


def chart_data(chart) -> pd.DataFrame:
    """The data of an Altair chart as sent to the browser (one Arrow dataset)."""
    (dataset,) = chart.proto.datasets
    return pa.ipc.open_stream(dataset.data.data).read_all().to_pandas()


def test_renders_and_compares_current_with_demo_by_default():
    at = open_page(small())
    table = outcome(at)
    assert list(table.index) == ["Current", "Demo"]
    assert len(at.dataframe) == 2
    assert list(at.dataframe[1].value.index) == ["Current", "Demo"]    # the volumes needed
    assert len(at.get("vega_lite_chart")) == 2                     # P(goal) and the distributions
    assert not at.error


def test_compared_probabilities_are_those_of_each_scenario():
    current = small(goal=1_000_000.0, seed=11)
    at = open_page(current)
    table = outcome(at)
    demo = load_scenario(DEMO_PATH)
    for name, sc in (("Current", current), ("Demo", demo)):
        fc = simulate(sc)
        assert table.loc[name, "P(goal)"] == fc.p_goal
        assert table.loc[name, "Goal"] == sc.goal
        assert table.loc[name, "Expected revenue"] == fc.revenue.mean
        lo, hi = fc.p_goal_ci.low, fc.p_goal_ci.high
        assert table.loc[name, "95% interval"] == f"{lo:.1%}–{hi:.1%}"
    assert table.loc["Current", "P(goal)"] != table.loc["Demo", "P(goal)"]
    bars = chart_data(at.get("vega_lite_chart")[0])                  # the P(goal) chart
    assert dict(zip(bars["scenario"], bars["p"])) == {"Current": simulate(current).p_goal,
                                                      "Demo": simulate(demo).p_goal}


def test_saving_the_current_scenario_lists_it():
    sc = small(goal=900_000.0)
    at = save_as(open_page(sc), "Plan A")
    assert list(saved(at)) == ["Plan A"]
    stored = scenario_from_url_token(saved(at)["Plan A"])
    assert stored == replace(sc, name="Plan A")                       # the inputs, under that name
    assert any(m.value.startswith("Plan A") for m in at.markdown)     # listed
    assert "Plan A" in at.multiselect(key="scenarios-pick").options
    assert at.session_state["scenario"] == sc                         # the current one is unchanged


def test_a_name_cannot_be_saved_twice_nor_take_a_reserved_name():
    at = save_as(open_page(small()), "Plan A")
    before = saved(at)
    save_as(at, "  plan   a ")
    assert at.error and "already saved" in at.error[0].value
    save_as(at, "Demo")
    assert at.error and "always there" in at.error[0].value
    assert saved(at) == before


def test_an_empty_name_saves_under_the_scenario_name():
    sc = small()
    at = save_as(open_page(sc), "")
    save_as(at, "")
    assert list(saved(at)) == [sc.name, f"{sc.name} (2)"]


def test_loading_a_saved_scenario_makes_it_current():
    first, second = small(goal=800_000.0), small(goal=1_500_000.0, name="Stretch")
    at = save_as(open_page(first), "Cautious")
    upload(at, "stretch.json", second.to_json().encode())
    next(b for b in at.button if b.label.startswith("Make")).click().run()
    assert_fine(at)
    assert at.session_state["scenario"] == second
    at.button(key="scenarios-load-Cautious").click().run()
    assert_fine(at)
    assert at.session_state["scenario"] == replace(first, name="Cautious")
    assert at.session_state["token"] == saved(at)["Cautious"]
    assert at.button(key="scenarios-load-Cautious").disabled            # it is the current one now


def test_deleting_a_saved_scenario():
    at = save_as(save_as(open_page(small()), "A"), "B")
    at.button(key="scenarios-delete-A").click().run()
    assert_fine(at)
    assert list(saved(at)) == ["B"]
    assert "A" not in at.multiselect(key="scenarios-pick").options


def test_uploading_a_scenario_adds_it_and_offers_to_make_it_current():
    current = small()
    other = small(goal=1_400_000.0, seed=5, name="Upload me")
    at = open_page(current)
    upload(at, "other.json", other.to_json().encode())
    assert list(saved(at)) == ["Upload me"]
    assert scenario_from_url_token(saved(at)["Upload me"]) == other
    assert at.session_state["scenario"] == current                   # not current until asked
    assert at.success and "Upload me" in at.success[0].value
    at.run()                                                         # the file stays in the uploader:
    assert list(saved(at)) == ["Upload me"]                          # it is added only once
    make = next(b for b in at.button if b.label.startswith("Make"))
    make.click().run()
    assert_fine(at)
    assert at.session_state["scenario"] == other
    assert at.session_state["token"] == other.to_url_token()
    at.switch_page("app_pages/forecast.py").run()                    # the other pages follow
    assert_fine(at)
    assert any("Upload me" in h.value for h in at.subheader)


def test_an_uploaded_name_that_is_taken_gets_a_number():
    sc = small(name="Plan")
    at = save_as(open_page(sc), "Plan")
    upload(at, "plan.json", replace(sc, goal=999_999.0).to_json().encode())
    assert list(saved(at)) == ["Plan", "Plan (2)"]
    assert scenario_from_url_token(saved(at)["Plan (2)"]).name == "Plan (2)"


def test_uploading_a_scenario_already_saved_does_not_duplicate_it():
    sc = small()
    at = save_as(open_page(sc), "Mine")
    upload(at, "mine.json", sc.to_json().encode())
    assert list(saved(at)) == ["Mine"]
    assert "Already saved" in at.success[0].value


def test_a_broken_upload_names_the_file_and_the_field_and_changes_nothing():
    sc = small()
    at = save_as(open_page(sc), "Kept")
    before_saved, before_token = saved(at), at.session_state["token"]
    doc = sc.to_dict()
    doc["stages"][1]["rate"] = {"p10": 0.3, "p90": 0.2}
    del doc["goal"]
    upload(at, "bad_plan.json", json.dumps(doc).encode())
    assert len(at.error) == 1
    message = at.error[0].value
    assert "bad\\_plan\\.json" in message
    assert "stages\\[1\\]\\.rate" in message and "goal" in message
    assert saved(at) == before_saved
    assert at.session_state["token"] == before_token
    assert not any(b.label.startswith("Make") for b in at.button)


def test_an_upload_that_is_not_json_shows_an_error():
    at = open_page(small())
    upload(at, "notes.json", b"\xff\xfe not a scenario")
    assert at.error and "notes\\.json" in at.error[0].value
    assert saved(at) == {}


def test_a_saved_scenario_can_be_compared():
    sc = small()
    at = save_as(open_page(sc), "Big goal")
    # Saving stores the current inputs; compare it after making the current one different.
    at.session_state[SAVED]["Big goal"] = replace(sc, goal=2_000_000.0, name="Big goal").to_url_token()
    at.multiselect(key="scenarios-pick").set_value(["Current", "Big goal"]).run()
    assert_fine(at)
    table = outcome(at)
    assert list(table.index) == ["Current", "Big goal"]
    assert table.loc["Big goal", "P(goal)"] == simulate(replace(sc, goal=2_000_000.0)).p_goal
    assert table.loc["Big goal", "P(goal)"] < table.loc["Current", "P(goal)"]


def test_picking_fewer_than_two_asks_for_more():
    at = open_page(small())
    at.multiselect(key="scenarios-pick").set_value(["Current"]).run()
    assert_fine(at)
    assert at.info and "at least two" in at.info[0].value
    assert not at.get("vega_lite_chart")


def test_the_download_is_the_current_scenario():
    at = open_page(small())
    buttons = at.get("download_button")
    assert any("Download the current scenario" in b.proto.label for b in buttons)


def test_the_comparison_and_saved_scenarios_survive_a_visit_to_another_page():
    at = save_as(open_page(small()), "Kept")
    at.multiselect(key="scenarios-pick").set_value(["Demo", "Kept"]).run()
    at.switch_page("app_pages/plan.py").run()
    at.switch_page(PAGE).run()
    assert_fine(at)
    assert list(saved(at)) == ["Kept"]
    assert at.multiselect(key="scenarios-pick").value == ["Demo", "Kept"]
    assert list(outcome(at).index) == ["Demo", "Kept"]
