"""Scenario edits made by the Plan page."""

import pytest

from sim import ScenarioError
from sim.model.editing import (
    add_stage,
    lag_from_text,
    lag_to_text,
    rate_from_range,
    remove_stage,
    rename_stage,
    with_months,
)
from sim.model.validation import scenario_from_dict


def test_add_remove_rename(demo):
    added = add_stage(demo, 3, "Demos", "sales")
    assert [s.name for s in added.stages][2:5] == ["MQLs", "Demos", "SQLs"]
    assert added.stages[3].rate.mean == pytest.approx(0.5)
    removed = remove_stage(demo, 2)                                  # MQLs, which has pipeline
    assert "MQLs" not in removed.stage_names
    assert dict(removed.start_pipeline) == {"SQLs": 30, "Proposals": 12}
    renamed = rename_stage(demo, 3, "Sales qualified")
    assert dict(renamed.start_pipeline)["Sales qualified"] == 30
    with pytest.raises(ScenarioError, match="top of the funnel cannot be removed"):
        remove_stage(demo, 0)
    with pytest.raises(ScenarioError, match="repeats stage"):
        add_stage(demo, 2, "leads")


def test_removing_the_stage_before_customers_drops_pipeline_that_would_be_last(demo):
    sc = remove_stage(demo, 5)                                      # Customers go: Proposals last
    assert sc.stage_names[-1] == "Proposals"
    assert "Proposals" not in dict(sc.start_pipeline)


def test_two_stages_at_least(demo):
    sc = demo
    while len(sc.stages) > 2:
        sc = remove_stage(sc, 1)
    with pytest.raises(ScenarioError, match="at least two stages"):
        remove_stage(sc, 1)


def test_months_resize_a_monthly_plan(demo):
    doc = demo.to_dict()
    doc["top"] = {"monthly": list(range(1, 13)), "noise_cv": 0.1}
    sc = scenario_from_dict(doc)
    assert with_months(sc, 3).top.monthly == (1, 2, 3)
    assert with_months(sc, 14).top.monthly[-3:] == (12, 12, 12)


def test_messages_in_the_words_of_the_page(demo):
    from sim.model.editing import in_words
    doc = demo.to_dict()
    assert in_words("stages[1].rate.p10 must be > 0", doc) == "Leads conversion rate.p10 must be > 0"
    assert in_words("stages[2].name 'leads' repeats stage 1", doc) == "MQLs.name 'leads' repeats stage 1"
    assert in_words("goal must be > 0", doc) == "goal must be > 0"


def test_rates_and_lags_from_widgets():
    assert rate_from_range(0.02, 0.03) == {"p10": 0.02, "p90": 0.03}
    assert rate_from_range(0.03, 0.02) == {"p10": 0.02, "p90": 0.03}
    assert rate_from_range(0.2, 0.2) == {"fixed": 0.2}
    assert lag_from_text("30/50/20") == pytest.approx([0.3, 0.5, 0.2])
    assert lag_from_text(" 30%, 70% ") == pytest.approx([0.3, 0.7])
    assert lag_to_text((0.3, 0.5, 0.2)) == "30/50/20"
    for bad, message in [("", "give the percent"), ("a/b", "not a list"), ("50/20", "add up to 100"),
                         ("-10/110", "cannot be negative")]:
        with pytest.raises(ScenarioError, match=message):
            lag_from_text(bad)
