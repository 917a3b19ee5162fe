"""Scenario loading, validation messages and the share-link round trip."""

import base64
import json
import zlib

import pytest

from sim.errors import ScenarioError
from sim.model.scenario import Scenario
from sim.model.scenario_io import load_scenario, scenario_from_json, scenario_from_url_token
from sim.model.validation import scenario_from_dict


def test_demo_is_complete_and_realistic(demo):
    assert isinstance(demo, Scenario)
    assert demo.months == 12 and len(demo.stages) >= 5
    assert {s.owner for s in demo.stages} >= {"marketing", "sales"}
    leads = demo.top.monthly[0] * demo.stages[1].rate.mean
    assert 100 <= leads <= 1000                   # a few hundred leads a month
    assert 10_000 <= demo.deal.median <= 100_000  # deal values in the tens of thousands


def test_round_trips_are_lossless(demo, demo_dict):
    assert demo.to_dict() == demo_dict
    assert scenario_from_json(demo.to_json()) == demo
    token = demo.to_url_token()
    assert set(token) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
    assert scenario_from_url_token(token) == demo


def test_month_labels_cross_the_year(demo_dict):
    sc = scenario_from_dict({**demo_dict, "start": "2026-11", "months": 3})
    assert sc.month_labels == ("2026-11", "2026-12", "2027-01")


def test_monthly_top_plan_and_growth(demo_dict):
    sc = scenario_from_dict(demo_dict)
    assert sc.top.monthly[2] == pytest.approx(12000 * 1.01 ** 2)
    listed = scenario_from_dict({**demo_dict, "top": {"monthly": list(range(1, 13))}})
    assert listed.top.monthly == tuple(float(v) for v in range(1, 13))
    assert listed.top.noise_cv == 0.1     # the documented default


def mutate(data, path, value):
    """Set data[path] (a list of keys / indices) to value; value DELETE removes it."""
    data = json.loads(json.dumps(data))
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


DELETE = object()


@pytest.mark.parametrize("path, value, message", [
    (["stages", 3, "rate"], {"p10": 0.5, "p90": 0.4}, "stages[3].rate.p90 must be > p10"),
    (["goal"], DELETE, "goal is missing"),
    (["goal"], -5, "goal must be > 0"),
    (["goal"], "lots", "goal must be a number"),
    (["goal"], True, "goal must be a number"),
    (["months"], 37, "months must be <= 36"),
    (["months"], 1.5, "months must be a whole number"),
    (["start"], "2027-13", "start must be a month written YYYY-MM"),
    (["trials"], 10 ** 9, "trials must be <= 2,000,000 (got 1,000,000,000)"),
    (["schema"], 2, "schema must be 1"),
    (["stages", 1, "rate"], {"mean": 1.5, "strength": 10}, "stages[1].rate.mean must be < 1"),
    (["stages", 1, "rate"], {"fixed": -0.1}, "stages[1].rate.fixed must be >= 0"),
    (["stages", 1, "rate"], {"mean": 0.2}, "stages[1].rate.strength is missing"),
    (["stages", 1, "rate"], {"fixed": 0.2, "mean": 0.2}, "stages[1].rate must be one of"),
    (["stages", 2, "lag"], [0.5, 0.4], "stages[2].lag must sum to 1"),
    (["stages", 2, "lag"], [1.5, -0.5], "stages[2].lag[0] must be a probability"),
    (["stages", 2, "lag"], [0.0] * 13 + [1.0], "stages[2].lag must have at most 13 entries"),
    (["stages", 2, "name"], "leads", "stages[2].name 'leads' repeats stage 1"),
    (["stages", 2, "owner"], "finance", "stages[2].owner must be one of"),
    (["stages", 1, "rate"], DELETE, "stages[1].rate is missing"),
    (["stages", 0, "rate"], {"fixed": 0.5}, "stages[0] is the top of the funnel"),
    (["stages"], [{"name": "Only"}], "stages must have between 2 and 12 stages"),
    (["stages"], [{"name": f"S{i}"} for i in range(10_000)], "stages must have between 2 and 12"),
    (["deal", "p90"], 1000, "deal.p90 must be >= median"),
    (["deal", "kind"], "weekly", "deal.kind must be one of"),
    (["top"], {"monthly": [1, 2]}, "top.monthly must have one value per month (12), got 2"),
    (["top"], {"monthly": [1] * 11 + [-1]}, "top.monthly[11] must be a number between 0"),
    (["top", "noise_cv"], 5, "top.noise_cv must be <= 2"),
    (["top"], {"growth": 0.1}, "top must have either per_month"),
    (["start_pipeline"], {"Nope": 3}, "start_pipeline['Nope'] names no stage"),
    (["start_pipeline"], {"Customers": 3}, "is the last stage"),
    (["start_pipeline"], {"SQLs": -3}, "start_pipeline['SQLs'] must be >= 0"),
    (["start_pipeline"], {"SQLs": 2.5}, "start_pipeline['SQLs'] must be a whole number"),
    (["top"], {"monthly": [1] * 12, "per_month": 5}, "not both"),
    (["gaol"], 5, "gaol is not a known field"),
])
def test_validation_names_the_offending_field(demo_dict, path, value, message):
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(mutate(demo_dict, path, value))
    assert message in str(info.value)


def test_deal_p90_is_optional_and_a_missing_median_is_one_problem(demo_dict):
    assert scenario_from_dict(mutate(demo_dict, ["deal", "p90"], DELETE)).deal.is_fixed
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(mutate(demo_dict, ["deal"], {"p90": 5}))
    assert info.value.problems == ("deal.median is missing",)


def test_all_problems_are_reported_at_once(demo_dict):
    bad = mutate(mutate(demo_dict, ["goal"], -1), ["months"], 0)
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(bad)
    assert len(info.value.problems) == 2


@pytest.mark.parametrize("text, message", [
    ('{"goal": NaN}', "NaN is not a valid number"),
    ('{"goal": Infinity}', "Infinity is not a valid number"),
    ('{"goal": 1, "goal": 2}', "appears twice"),
    ("{not json", "not valid JSON (line 1"),
    ("[1, 2]", "must be an object"),
    (b"\xff\xfe\x00", "not UTF-8"),
    ("[" * 100_000, "not a valid scenario"),
])
def test_broken_json_gets_a_clear_message(text, message):
    with pytest.raises(ScenarioError) as info:
        scenario_from_json(text)
    assert message in str(info.value)


def test_load_scenario_names_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"schema": 1}')
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}: ")
    with pytest.raises(ScenarioError, match="cannot read the file"):
        load_scenario(tmp_path / "missing.json")


@pytest.mark.parametrize("make_token", [
    lambda t: t[:-10],                                   # truncated
    lambda t: t[:20] + ("A" if t[20] != "A" else "B") + t[21:],   # tampered
    lambda t: "s2." + t[3:],                             # unknown version
    lambda t: "s1." + "x" * 20_000,                      # too long
    lambda t: "s1.%%%",                                  # not base64
    lambda t: "s1." + base64.urlsafe_b64encode(zlib.compress(b"[1]")).decode(),  # valid zlib, bad doc
    lambda t: "s1." + base64.urlsafe_b64encode(zlib.compress(b"0" * 10_000_000)).decode(),  # zip bomb
])
def test_damaged_share_links_are_rejected(demo, make_token):
    with pytest.raises(ScenarioError):
        scenario_from_url_token(make_token(demo.to_url_token()))
