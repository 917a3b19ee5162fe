"""Plans of record (sim.data.plans): what is saved, the bands, names, lookup and order.

Every expected number comes from ``simulate(scenario)`` or from the engine's raw draws
summarised here with numpy, never from the plan code itself. Each test opens its own
database under ``tmp_path``.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata

import duckdb
import numpy as np
import pytest

from sim.data.plans import MAX_PLAN_NAME, MEASURES, list_plans, load_plan, save_plan, stored_bands
from sim.errors import ScenarioError
from sim.model.engine import draw
from sim.model.forecast import DETAIL_TRIALS, simulate
from sim.model.scenario_io import load_scenario

from ..conftest import DEMO_PATH

QUANTILES = [10, 25, 50, 75, 90]


@pytest.fixture(scope="module")
def scenario():
    """The demo scenario with fewer trials and a baseline (so every field is non-trivial)."""
    return dataclasses.replace(load_scenario(DEMO_PATH), trials=2000, seed=11, baseline_revenue=150_000.0)


@pytest.fixture(scope="module")
def forecast(scenario):
    return simulate(scenario)


def _counts(store) -> tuple[int, int]:
    cur = store.cursor()
    return (cur.execute("SELECT count(*) FROM plans").fetchone()[0],
            cur.execute("SELECT count(*) FROM plan_bands").fetchone()[0])


def _dist_tuple(d):
    return (d.mean, d.p10, d.p25, d.p50, d.p75, d.p90)


def _np_dist(samples: np.ndarray) -> tuple:
    """(mean, p10, p25, p50, p75, p90) of a 1-d sample, with numpy's default (linear) percentiles."""
    return (float(samples.mean()), *(float(q) for q in np.percentile(samples, QUANTILES)))


# ------------------------------------------------------------------------------------------
# What a plan keeps
# ------------------------------------------------------------------------------------------

def test_save_plan_keeps_the_scenario_seed_trials_versions_and_p_goal(store, scenario, forecast):
    saved = save_plan(store, scenario, "FY2027 plan", note="first cut")
    loaded = load_plan(store, "FY2027 plan")
    for plan in (saved, loaded):
        assert plan.name == "FY2027 plan"
        assert plan.scenario == scenario
        assert plan.scenario.to_dict() == scenario.to_dict()
        assert (plan.seed, plan.trials) == (11, 2000)
        assert plan.p_goal == forecast.p_goal
        assert plan.versions["numpy"] == np.__version__
        assert plan.versions["duckdb"] == duckdb.__version__ == importlib.metadata.version("duckdb")
        assert plan.note == "first cut"
        assert plan.parent_id is None and plan.as_of is None
    assert loaded.id == saved.id == 1
    assert loaded.saved_at == saved.saved_at
    assert loaded.versions == saved.versions
    assert load_plan(store, saved.id) == loaded
    doc = loaded.to_dict()
    assert doc["scenario"] == scenario.name and doc["goal"] == scenario.goal
    assert (doc["seed"], doc["trials"], doc["p_goal"]) == (11, 2000, forecast.p_goal)


def test_revenue_bands_equal_the_forecast(store, scenario, forecast):
    plan = save_plan(store, scenario, "p")
    months = scenario.month_labels
    monthly = stored_bands(store, plan, "revenue")
    cumulative = stored_bands(store, plan, "cumulative_revenue")
    assert [b.month for b in monthly] == [b.month for b in cumulative] == list(months)
    assert all(b.stage is None for b in monthly + cumulative)
    for t, m in enumerate(forecast.months):
        assert m.month == months[t]
        assert _dist_tuple(monthly[t].dist) == _dist_tuple(m.revenue)
        assert _dist_tuple(cumulative[t].dist) == _dist_tuple(m.cumulative)
    # The cumulative band includes the baseline: month 1's cumulative = baseline + month 1.
    assert cumulative[0].dist.p10 == pytest.approx(scenario.baseline_revenue + monthly[0].dist.p10)


def test_stage_arrival_bands_equal_the_forecast(store, scenario, forecast):
    plan = save_plan(store, scenario, "p")
    bands = stored_bands(store, plan, "arrivals")
    T = scenario.months
    assert len(bands) == len(scenario.stages) * T
    for k, stage in enumerate(forecast.stages):
        rows = bands[k * T:(k + 1) * T]
        assert {b.stage for b in rows} == {stage.name} == {scenario.stages[k].name}
        assert [b.month for b in rows] == list(scenario.month_labels)
        for t, b in enumerate(rows):
            assert _dist_tuple(b.dist) == _dist_tuple(stage.monthly[t]), (stage.name, b.month)


def test_cumulative_arrival_bands(store, scenario, forecast):
    plan = save_plan(store, scenario, "p")
    cumulative = stored_bands(store, plan, "cumulative_arrivals")
    arrivals = stored_bands(store, plan, "arrivals")
    T, K = scenario.months, len(scenario.stages)
    assert len(cumulative) == K * T
    # The same sample as simulate(): the stage-by-stage detail sample for all stages but the
    # last, all trials' new customers for the last one.
    draws = draw(scenario, trials=scenario.trials, seed=scenario.seed, detail_trials=DETAIL_TRIALS)
    for k in range(K):
        name = scenario.stages[k].name
        rows = cumulative[k * T:(k + 1) * T]
        assert {b.stage for b in rows} == {name}
        assert [b.month for b in rows] == list(scenario.month_labels)
        p50 = [b.dist.p50 for b in rows]
        assert all(a <= b for a, b in zip(p50, p50[1:])), name
        assert all(b.dist.mean <= c.dist.mean + 1e-9 for b, c in zip(rows, rows[1:])), name
        # Month 1's arrivals to date are month 1's arrivals.
        assert _dist_tuple(rows[0].dist) == pytest.approx(_dist_tuple(arrivals[k * T].dist)), name
        # To date at the end of the horizon = the stage's total over the period.
        assert rows[-1].dist.p50 == pytest.approx(forecast.stages[k].total.p50), name
        assert rows[-1].dist.mean == pytest.approx(forecast.stages[k].total.mean), name
        # Every month: the distribution of the running sum of the same draws.
        sample = (draws.arrivals[:, k, :] if k < K - 1
                  else draws.revenue.new_customers[:T].T)          # (trials, T)
        running = np.cumsum(sample, axis=1)
        for t, b in enumerate(rows):
            assert _dist_tuple(b.dist) == pytest.approx(_np_dist(running[:, t]), rel=1e-9, abs=1e-9), \
                (name, b.month)


def test_stored_bands_rejects_an_unknown_measure(store, scenario):
    plan = save_plan(store, scenario, "p")
    assert set(MEASURES) == {"arrivals", "cumulative_arrivals", "revenue", "cumulative_revenue"}
    with pytest.raises(ValueError):
        stored_bands(store, plan, "visits")


# ------------------------------------------------------------------------------------------
# Names, links, lookup, order
# ------------------------------------------------------------------------------------------

def test_a_duplicate_name_is_refused_and_nothing_is_written(store, scenario):
    save_plan(store, scenario, "Q1 plan")
    before = _counts(store)
    other = dataclasses.replace(scenario, goal=2_000_000.0)
    for name in ("Q1 plan", "  Q1   plan "):          # spaces are folded before the check
        with pytest.raises(ScenarioError, match="already exists"):
            save_plan(store, other, name)
    assert _counts(store) == before
    assert load_plan(store, "Q1 plan").scenario.goal == scenario.goal


@pytest.mark.parametrize("name, message", [
    ("", "needs a name"),
    ("   ", "needs a name"),
    (None, "needs a name"),
    ("x" * (MAX_PLAN_NAME + 1), f"at most {MAX_PLAN_NAME} characters"),
    ("plan\x1b[31m", r"control or invisible characters \(U\+001B\)"),
    ("plan\u200bB", r"control or invisible characters \(U\+200B\)"),
])
def test_bad_names_are_refused(store, scenario, name, message):
    with pytest.raises(ScenarioError, match=message):
        save_plan(store, scenario, name)
    assert _counts(store) == (0, 0)


def test_longest_allowed_name_and_folded_spaces(store, scenario):
    longest = "y" * MAX_PLAN_NAME
    assert save_plan(store, scenario, longest).name == longest
    assert save_plan(store, scenario, "  spaced \t  out  ").name == "spaced out"
    assert load_plan(store, "spaced   out").name == "spaced out"


def test_load_plan_is_case_insensitive_when_unambiguous(store, scenario):
    a = save_plan(store, scenario, "Board Plan")
    assert load_plan(store, "board plan").id == a.id
    assert load_plan(store, "BOARD  PLAN").id == a.id
    b = save_plan(store, scenario, "board plan")             # a different name (case-sensitive)
    assert load_plan(store, "board plan").id == b.id         # the exact name wins
    assert load_plan(store, "Board Plan").id == a.id
    with pytest.raises(ScenarioError) as err:                # two case-insensitive matches
        load_plan(store, "BOARD PLAN")
    assert "'BOARD PLAN'" in str(err.value)
    assert "Board Plan" in str(err.value) and "board plan" in str(err.value)


def test_load_plan_error_lists_the_saved_plans(store, scenario):
    with pytest.raises(ScenarioError, match=r"no plan named 'x' \(no plan is saved yet\)"):
        load_plan(store, "x")
    save_plan(store, scenario, "alpha")
    save_plan(store, scenario, "beta")
    with pytest.raises(ScenarioError) as err:
        load_plan(store, "gamma")
    assert "no plan named 'gamma'" in str(err.value)
    assert "saved plans: beta, alpha" in str(err.value)
    with pytest.raises(ScenarioError, match="no plan #99"):
        load_plan(store, 99)


def test_parent_id_must_exist(store, scenario):
    with pytest.raises(ScenarioError, match="no plan #7"):
        save_plan(store, scenario, "child", parent_id=7)
    assert _counts(store) == (0, 0)
    parent = save_plan(store, scenario, "parent")
    child = save_plan(store, scenario, "child", parent_id=parent.id, as_of="2027-04")
    loaded = load_plan(store, "child")
    assert (child.parent_id, loaded.parent_id) == (parent.id, parent.id)
    assert loaded.as_of == "2027-04"


def test_list_plans_newest_first(store, scenario):
    assert list_plans(store) == []
    names = ["first", "second", "third"]
    ids = [save_plan(store, scenario, n).id for n in names]
    assert ids == [1, 2, 3]
    plans = list_plans(store)
    assert [p.name for p in plans] == names[::-1]
    assert [p.id for p in plans] == ids[::-1]
    assert all(p.scenario == scenario for p in plans)
