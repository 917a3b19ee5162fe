"""Property tests (hypothesis) over random small scenarios."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.errors import ScenarioError
from sim.model.engine import draw
from sim.model.forecast import simulate
from sim.model.scenario_io import scenario_from_json, scenario_from_url_token
from sim.model.validation import scenario_from_dict

from ..conftest import json_values, lags, rates

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def scenarios(draw_):
    months = draw_(st.integers(1, 6))
    k = draw_(st.integers(2, 4))
    stages = [{"name": "S0"}] + [{"name": f"S{i}", "rate": draw_(rates()), "lag": draw_(lags())}
                                 for i in range(1, k)]
    pipeline = {f"S{i}": draw_(st.integers(0, 30)) for i in range(k - 1)}
    median = draw_(st.floats(10, 1000))
    return scenario_from_dict({
        "schema": 1, "name": "p", "start": "2027-01", "months": months,
        "goal": draw_(st.floats(1, 50_000)),
        "top": {"monthly": draw_(st.lists(st.integers(0, 300), min_size=months, max_size=months)),
                "noise_cv": draw_(st.sampled_from([0, 0.2, 0.8]))},
        "stages": stages,
        "deal": {"median": median, "p90": median * draw_(st.floats(1, 4)),
                 "kind": draw_(st.sampled_from(["one_time", "monthly_recurring"]))},
        "start_pipeline": pipeline, "trials": 300, "seed": draw_(st.integers(0, 1000)),
    })


@SETTINGS
@given(scenarios())
def test_counts_are_never_negative_and_never_exceed_the_funnel(sc):
    d = draw(sc, trials=300, seed=sc.seed, detail_trials=300)
    rev, arrivals = d.revenue, d.arrivals
    pipeline = np.array(sc.pipeline_counts())
    assert rev.new_customers.min() >= 0 and arrivals.min() >= 0 and d.late_customers.min() >= 0
    assert rev.revenue.min() >= 0 and rev.monthly_revenue.min() >= 0
    # Revenue sampler: every customer (in or after the period) came from the top or the pipeline.
    assert np.all(rev.new_customers.sum(axis=0) <= rev.top_volume + pipeline.sum())
    # Stage sampler: by any month, a stage has received no more than the stage before it had
    # received (plus its start pipeline).
    cum = np.cumsum(arrivals, axis=2)
    for k in range(1, len(sc.stages)):
        assert np.all(cum[:, k] <= cum[:, k - 1] + pipeline[k - 1])
    assert np.all(arrivals[:, -1].sum(axis=1) + d.late_customers
                  <= arrivals[:, 0].sum(axis=1) + pipeline.sum())


@SETTINGS
@given(scenarios(), st.floats(1.01, 3))
def test_p_goal_falls_as_the_goal_rises(sc, factor):
    low, high = simulate(sc, trials=300), simulate(replace(sc, goal=sc.goal * factor), trials=300)
    assert high.p_goal <= low.p_goal
    assert high.revenue == low.revenue      # the goal does not change the draws


@SETTINGS
@given(scenarios())
def test_p_goal_rises_with_the_top_volume(sc):
    # Monotone coupling: for one seed, more volume never lowers P(goal) (not even by noise).
    trials = 2_000
    base = simulate(sc, trials=trials).p_goal
    more = simulate(sc.with_top_scaled(3.0), trials=trials).p_goal
    assert more >= base


@SETTINGS
@given(scenarios())
def test_certain_funnel_delivers_exactly_the_plan(sc):
    d = sc.to_dict()
    for stage in d["stages"][1:]:
        stage["rate"], stage["lag"] = {"fixed": 1.0}, [1.0]
    d["top"]["noise_cv"] = 0
    certain = scenario_from_dict(d)
    draws = draw(certain, trials=50, seed=1, detail_trials=50)
    expected = np.rint(certain.top.monthly).astype(int)
    expected[0] += sum(certain.pipeline_counts())
    assert np.all(draws.revenue.new_customers[:certain.months] == expected[:, None])


@pytest.mark.slow          # fuzz of the loader (hypothesis)
@settings(max_examples=200, deadline=None, derandomize=True)
@given(json_values)
def test_loader_raises_only_its_own_error_on_any_document(value):
    try:
        scenario_from_json(json.dumps(value))
    except ScenarioError:
        pass


@pytest.mark.slow          # fuzz of the loader (hypothesis)
@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.data())
def test_loader_on_mutated_demo(demo_dict, data):
    doc = json.loads(json.dumps(demo_dict))
    target = doc
    path = data.draw(st.lists(st.integers(0, 20), min_size=1, max_size=4))
    for step in path[:-1]:
        keys = list(target) if isinstance(target, dict) else list(range(len(target)))
        if not keys or not isinstance(target[keys[step % len(keys)]], (dict, list)):
            break
        target = target[keys[step % len(keys)]]
    keys = list(target) if isinstance(target, dict) else list(range(len(target)))
    if keys:
        target[keys[path[-1] % len(keys)]] = data.draw(json_values)
    try:
        scenario_from_json(json.dumps(doc))
    except ScenarioError:
        pass


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text() | st.binary().map(lambda b: "s1." + b.hex()))
def test_share_link_decoder_raises_only_its_own_error(token):
    try:
        scenario_from_url_token(token)
    except ScenarioError:
        pass
