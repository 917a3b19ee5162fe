"""sim.present.side_by_side: names of saved scenarios and the comparison tables."""

from __future__ import annotations

import math
import re
from dataclasses import replace

import pytest

from sim import required_volumes, scenario_from_url_token, simulate
from sim.model.names import tidy_name
from sim.model.scenario import MAX_NAME
from sim.model.scenario_names import (
    CURRENT,
    DEFAULT_NAME,
    DEMO,
    find_same,
    is_taken,
    json_file_name,
    renamed,
    same_inputs,
    unique_name,
)
from sim.model.validation import scenario_from_dict
from sim.present.markdown import escape_markdown
from sim.present.side_by_side import (
    NOTE_COLUMN,
    OUTCOME_COLUMNS,
    SCALE_COLUMN,
    merged_stage_names,
    outcome_table,
    upload_error_markdown,
    volume_table,
)

from ..conftest import plain, small_scenario


def three_stages(**overrides):
    return small_scenario(**{
        "months": 3, "goal": 3000.0, "top": {"monthly": [100, 100, 100], "noise_cv": 0.1},
        "stages": [{"name": "Leads", "owner": "marketing"},
                   {"name": "SQLs", "owner": "sales", "rate": {"mean": 0.4, "strength": 50}, "lag": [1.0]},
                   {"name": "Won", "owner": "sales", "rate": {"mean": 0.3, "strength": 50}, "lag": [0.5, 0.5]}],
        "deal": {"median": 100, "p90": 150, "kind": "one_time"},
        **overrides})


# -- names ------------------------------------------------------------------------------------

def test_tidy_name_folds_spaces():
    assert tidy_name("  Plan   B \t 2027 ") == "Plan B 2027"


def test_a_free_name_is_kept():
    assert unique_name("Plan B", ["Plan A"]) == "Plan B"


def test_a_taken_name_gets_the_next_free_number_ignoring_case_and_spaces():
    assert unique_name("plan  a", ["Plan A"]) == "plan a (2)"
    assert unique_name("Plan A", ["Plan A", "plan a (2)", "Plan A (4)"]) == "Plan A (3)"


@pytest.mark.parametrize("name", [CURRENT, DEMO, " current ", "DEMO"])
def test_the_names_of_current_and_demo_are_reserved(name):
    assert is_taken(name, [])
    assert unique_name(name, []) == f"{tidy_name(name)} (2)"


def test_an_empty_name_becomes_untitled():
    assert unique_name("   ", []) == DEFAULT_NAME
    assert unique_name("", [DEFAULT_NAME]) == f"{DEFAULT_NAME} (2)"


def test_a_long_name_stays_a_valid_scenario_name(demo):
    long = "x" * (MAX_NAME + 50)
    first = unique_name(long, [])
    second = unique_name(long, [first])
    assert len(first) == len(second) == MAX_NAME
    assert second.endswith(" (2)") and second != first
    for name in (first, second):           # the saved scenario keeps the name and still loads
        assert scenario_from_url_token(renamed(demo, name).to_url_token()).name == name


def test_same_inputs_ignores_only_the_name(demo):
    assert same_inputs(demo, renamed(demo, "Another name"))
    assert not same_inputs(demo, replace(demo, goal=demo.goal + 1))
    assert not same_inputs(demo, replace(demo, seed=demo.seed + 1))
    assert renamed(demo, demo.name) is demo


def test_find_same(demo):
    saved = {"A": replace(demo, goal=1.0), "B": renamed(demo, "B")}
    assert find_same(demo, saved) == "B"
    assert find_same(replace(demo, goal=2.0), saved) is None


@pytest.mark.parametrize("name, expected", [
    ("Northwind Digital — FY2027 plan", "northwind-digital-fy2027-plan.json"),
    ("../../etc/passwd", "etc-passwd.json"),
    ("Café ÉTÉ", "cafe-ete.json"),
    ("🚀🚀", "scenario.json"),
    ("", "scenario.json"),
])
def test_json_file_name_is_safe(name, expected):
    assert json_file_name(name) == expected


def test_json_file_name_is_bounded():
    assert len(json_file_name("a-" * 200)) <= 60 + len(".json")


# -- tables -----------------------------------------------------------------------------------

def test_outcome_table_shows_each_forecast():
    a, b = three_stages(), three_stages(goal=4000.0, seed=7)
    forecasts = {"A": simulate(a), "B": simulate(b)}
    table = outcome_table(forecasts)
    assert list(table.index) == ["A", "B"]
    assert list(table.columns) == list(OUTCOME_COLUMNS)
    for name, fc in forecasts.items():
        row = table.loc[name]
        assert row["Goal"] == fc.scenario.goal
        assert row["P(goal)"] == fc.p_goal
        lo, hi = fc.p_goal_ci.low, fc.p_goal_ci.high
        assert row["95% interval"] == f"{lo:.1%}–{hi:.1%}"
        assert (row["Expected revenue"], row["P10"], row["P50"], row["P90"]) == (
            fc.revenue.mean, fc.revenue.p10, fc.revenue.p50, fc.revenue.p90)
    assert table.loc["B", "P(goal)"] < table.loc["A", "P(goal)"]      # a higher goal is harder


def test_merged_stage_names_keep_funnel_order():
    merged = merged_stage_names([["Visits", "Leads", "SQLs", "Won"],
                                 ["visits", "LEADS", "MQLs", "SQLs", "Won"],
                                 ["Visits", "Won", "Upsell"]])
    assert merged == ["Visits", "Leads", "MQLs", "SQLs", "Won", "Upsell"]


def test_volume_table_lists_the_required_volume_of_every_stage():
    a = three_stages()
    doc = a.to_dict()
    doc["stages"].insert(2, {"name": "Demos", "owner": "sales", "rate": {"fixed": 0.8}, "lag": [1.0]})
    b = scenario_from_dict(doc)
    targets = {"A": required_volumes(a, 0.8, trials=2000), "B": required_volumes(b, 0.8, trials=2000)}
    table = volume_table(targets)
    assert list(table.columns) == [SCALE_COLUMN, "Leads", "SQLs", "Demos", "Won"]
    for name, t in targets.items():
        assert table.loc[name, SCALE_COLUMN] == t.at_confidence.scale
        for stage in t.at_confidence.stages:
            assert table.loc[name, stage.name] == stage.total
    assert math.isnan(table.loc["A", "Demos"])
    assert NOTE_COLUMN not in table.columns                             # both reachable


def test_volume_table_notes_errors_and_unreachable_confidence():
    sc = three_stages()
    unreachable = required_volumes(sc, 0.99, trials=2000, max_scale=1.01)
    assert not unreachable.reachable
    table = volume_table({"Far": unreachable, "Broken": "the goal cannot be reached"})
    assert table.loc["Far", NOTE_COLUMN].startswith("99% out of reach")
    assert table.loc["Broken", NOTE_COLUMN] == "the goal cannot be reached"
    assert table.loc["Broken", [SCALE_COLUMN, "Won"]].isna().all()
    assert table.loc["Far", "Won"] == unreachable.at_confidence.stages[-1].total


def test_a_stage_named_like_a_table_column_stays_apart():
    sc = three_stages(stages=[{"name": "Note", "owner": "marketing"},
                              {"name": "Won", "owner": "sales", "rate": {"fixed": 0.5}, "lag": [1.0]}])
    table = volume_table({"X": required_volumes(sc, 0.8, trials=1000), "Y": "broken"})
    assert list(table.columns) == [SCALE_COLUMN, "Note (stage)", "Won", NOTE_COLUMN]


# -- messages ---------------------------------------------------------------------------------

def test_escape_markdown_leaves_no_markup():
    text = "*bold* _it_ [link](x) `code` # :red[x] $x$ <b>"
    escaped = escape_markdown(text)
    assert escaped.replace("\\", "") == text
    for ch in "*_[]()`#:$<>":
        assert ch not in escaped.replace("\\" + ch, "")


@pytest.mark.parametrize("text", ["R&D &copy; &#169; &amp;", "Plan\n===", "Plan\r\n---", "Q1\u2028# heading",
                                  "a\n\n- item\n| x | y |", "=SUM(A1)"])
def test_escape_markdown_shows_entities_and_line_breaks_as_typed(text):
    escaped = escape_markdown(text)
    assert "\n" not in escaped and "\r" not in escaped and "\u2028" not in escaped   # one line: no heading, list or table
    assert "&" not in escaped.replace("\\&", "")          # no character reference left to expand
    assert "=" not in escaped.replace("\\=", "") and "-" not in escaped.replace("\\-", "")
    assert plain(escaped) == re.sub(r"\r\n|[\r\n\u2028]", " ", text)   # the same characters, line breaks as spaces


def test_upload_error_names_the_file_and_every_problem():
    text = upload_error_markdown("my_plan.json", ["goal is missing", "stages[1].rate.p90 must be > p10"])
    assert "my\\_plan\\.json" in text
    assert "goal is missing" in text
    assert "stages\\[1\\]\\.rate\\.p90 must be \\> p10" in text
    assert text.count("\n- ") == 2
