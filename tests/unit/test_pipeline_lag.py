"""``start_pipeline_lag``: the lag with which a stage's open pipeline moves on to the next stage.

* The scenario field: JSON and share-link round trips, validation messages naming the field.
* The engine against exact oracles (fixed seeds, a few standard errors): with no top-of-funnel
  volume, the customers (or arrivals) of month m from an open pipeline of N units in stage j are
  Binomial(N, P · d[m]), where P is the product of the later rates and d the convolution of the
  pipeline lag with the later stages' lags, jointly multinomial over the months (so any set of
  months adds up to a binomial too). Several pipelines are independent: their pmfs convolve.
  Both samplers are checked, the revenue sample (``simulate``'s months and customers) and the
  stage-by-stage sample (``simulate``'s per-stage volumes).
* The default is unchanged: the field set to the stage's own lag gives identical numbers.
* ``expected_arrivals`` by hand, and the check-in's reforecast lag by hand.
"""

from __future__ import annotations

import copy
import dataclasses
import json

import numpy as np
import pytest
from scipy import stats

from sim.errors import ScenarioError
from sim.model.checkin import check_in
from sim.model.engine import draw, draw_stage_arrivals
from sim.model.forecast import simulate
from sim.model.monthly_actuals import Actuals
from sim.model.scenario_io import scenario_from_json, scenario_from_url_token
from sim.model.targets import expected_arrivals, expected_value_plan
from sim.model.validation import scenario_from_dict

from ..conftest import small_scenario

SE_TOL = 4.0


# ------------------------------------------------------------------------------------------
# The scenario field
# ------------------------------------------------------------------------------------------

def with_lags(demo_dict, lags):
    data = copy.deepcopy(demo_dict)
    data["start_pipeline_lag"] = lags
    return data


def test_round_trips_through_json_and_the_share_link(demo_dict):
    # The demo's stages: Visits, Leads, MQLs, SQLs, Proposals, Customers.
    data = with_lags(demo_dict, {"SQLs": [0.8, 0.2], "Proposals": [0.0, 0.25, 0.75],
                                 "Leads": [0.5, 0.0, 0.5]})
    sc = scenario_from_dict(data)
    assert dict(sc.pipeline_lags) == {"SQLs": (0.8, 0.2), "Proposals": (0.0, 0.25, 0.75),
                                      "Leads": (0.5, 0.0, 0.5)}
    assert sc.to_dict() == data
    assert json.loads(sc.to_json())["start_pipeline_lag"] == data["start_pipeline_lag"]
    assert scenario_from_json(sc.to_json()) == sc
    assert scenario_from_url_token(sc.to_url_token()) == sc
    # pipeline_lag(j): the given lag, else stage j+1's own lag.
    names = sc.stage_names
    assert sc.pipeline_lag(names.index("SQLs")) == (0.8, 0.2)
    assert sc.pipeline_lag(names.index("Proposals")) == (0.0, 0.25, 0.75)
    assert sc.pipeline_lag(names.index("MQLs")) == tuple(demo_dict["stages"][3]["lag"])
    assert sc.pipeline_lag(0) == tuple(demo_dict["stages"][1]["lag"])


def test_without_the_field_the_document_has_none(demo, demo_dict):
    assert "start_pipeline_lag" not in demo_dict
    assert demo.pipeline_lags == ()
    assert "start_pipeline_lag" not in demo.to_dict()
    for j in range(len(demo.stages) - 1):
        assert demo.pipeline_lag(j) == demo.stages[j + 1].lag
    assert scenario_from_dict(with_lags(demo_dict, {})) == demo       # an empty object: no lag


def test_stage_names_match_ignoring_case_and_spaces(demo_dict):
    sc = scenario_from_dict(with_lags(demo_dict, {"  sqls ": [0.25, 0.75], "PROPOSALS": [1]}))
    assert sc.pipeline_lags == (("SQLs", (0.25, 0.75)), ("Proposals", (1.0,)))
    assert sc.to_dict()["start_pipeline_lag"] == {"SQLs": [0.25, 0.75], "Proposals": [1.0]}
    assert sc.pipeline_lag(sc.stage_names.index("SQLs")) == (0.25, 0.75)


@pytest.mark.parametrize("lags, message", [
    ({"Nope": [1.0]}, "start_pipeline_lag['Nope'] names no stage"),
    ({"Customers": [1.0]}, "start_pipeline_lag['Customers'] is the last stage"),
    ({" customers": [1.0]}, "is the last stage"),
    ({"SQLs": [0.5, 0.4]}, "start_pipeline_lag['SQLs'] must sum to 1 (got 0.9)"),
    ({"SQLs": [0.5, -0.5, 1.0]}, "start_pipeline_lag['SQLs'][1] must be a probability between 0 and 1"),
    ({"SQLs": [1.5, -0.5]}, "start_pipeline_lag['SQLs'][0] must be a probability"),
    ({"SQLs": [0.5, True]}, "start_pipeline_lag['SQLs'][1] must be a probability"),
    ({"SQLs": [0.0] * 13 + [1.0]}, "start_pipeline_lag['SQLs'] must have at most 13 entries"),
    ({"SQLs": []}, "start_pipeline_lag['SQLs'] must be a non-empty list"),
    ({"SQLs": 1.0}, "start_pipeline_lag['SQLs'] must be a non-empty list"),
    ({"SQLs": "0.5,0.5"}, "start_pipeline_lag['SQLs'] must be a non-empty list"),
    ([1.0], "start_pipeline_lag must be an object, not a list"),
    ("SQLs", "start_pipeline_lag must be an object, not text"),
    (None, "start_pipeline_lag must be an object, not null"),
])
def test_validation_names_the_field(demo_dict, lags, message):
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(with_lags(demo_dict, lags))
    assert any(message in p for p in info.value.problems), info.value.problems


def test_a_lag_of_exactly_thirteen_entries_is_accepted(demo_dict):
    sc = scenario_from_dict(with_lags(demo_dict, {"SQLs": [0.0] * 12 + [1.0]}))
    assert sc.pipeline_lag(sc.stage_names.index("SQLs")) == (0.0,) * 12 + (1.0,)


def test_a_stage_named_twice_is_refused(demo_dict):
    # "sqls" and "SQLs" are the same stage: which lag counts would be ambiguous (and the
    # document written back would keep only one of them).
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(with_lags(demo_dict, {"sqls": [1.0], "SQLs": [0.5, 0.5]}))
    assert any(p.startswith("start_pipeline_lag['SQLs']") for p in info.value.problems)


def test_every_problem_is_reported_with_the_others(demo_dict):
    data = with_lags(demo_dict, {"Nope": [1.0], "SQLs": [0.5]})
    data["goal"] = -1
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data)
    assert len(info.value.problems) == 3


# ------------------------------------------------------------------------------------------
# The engine against exact oracles
# ------------------------------------------------------------------------------------------

def binomial_sum(sources, months):
    """The distribution of the units arriving in ``months`` (a set of month indices, T meaning
    after the period) from independent sources, each (N, q) with q[m] the probability that one
    unit arrives in month m: the convolution of Binomial(N, sum of q over the months)."""
    pmf = np.array([1.0])
    for n, q in sources:
        p = min(1.0, sum(q[m] for m in months))
        pmf = np.convolve(pmf, stats.binom.pmf(np.arange(n + 1), n, p))
    return stats.rv_discrete(values=(np.arange(pmf.size), pmf / pmf.sum()))


def fold(delay, T):
    """Delay pmf over months 0..T-1, then everything later in entry T."""
    out = np.zeros(T + 1)
    out[:T] = delay[:T] if delay.size >= T else np.pad(delay, (0, T - delay.size))
    out[T] = delay[T:].sum()
    return out


def assert_distribution(samples, dist, *, what):
    """Mean, variance and the CDF at the oracle's 5%..95% quantiles, each within 4 standard
    errors (the variance's from the oracle's fourth central moment)."""
    x = np.asarray(samples, dtype=np.float64)
    n = x.size
    mean, var, kurt = (float(v) for v in dist.stats(moments="mvk"))
    if var == 0:
        assert np.all(x == mean), f"{what}: should always be {mean}"
        return
    assert abs(x.mean() - mean) <= SE_TOL * np.sqrt(var / n), f"{what}: mean {x.mean()} vs {mean}"
    mu4 = (kurt + 3.0) * var * var
    assert abs(x.var(ddof=1) - var) <= SE_TOL * np.sqrt((mu4 - var * var) / n), \
        f"{what}: variance {x.var(ddof=1)} vs {var}"
    for level in (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95):
        k = dist.ppf(level)
        F = dist.cdf(k)
        if 0 < F < 1:
            emp = np.count_nonzero(x <= k) / n
            assert abs(emp - F) <= SE_TOL * np.sqrt(F * (1 - F) / n), f"{what}: P(X <= {k}) {emp} vs {F}"


def month_sets(T):
    """Every single month, the period, and a pair of adjacent months (their joint law)."""
    sets = [{m} for m in range(T + 1)] + [set(range(T))]
    if T >= 3:
        sets.append({1, 2})
    return sets


TRIALS = 30_000


@pytest.mark.parametrize("months, pipeline_lag", [
    (3, [0.0, 0.2, 0.8]),                 # the stage's own lag is [1.0]: all in month 0
    (3, [0.1, 0.0, 0.3, 0.6]),            # 60% move on after the period
])
def test_two_stages_pipeline_customers_are_binomial_per_month(months, pipeline_lag):
    N, p, seed = 250, 0.3, 101
    sc = small_scenario(months=months, top={"monthly": [0] * months, "noise_cv": 0},
                        stages=[{"name": "Top"}, {"name": "Won", "rate": {"fixed": p}, "lag": [1.0]}],
                        start_pipeline={"Top": N}, start_pipeline_lag={"top": pipeline_lag})
    T = months
    q = p * fold(np.asarray(pipeline_lag), T)
    d = draw(sc, trials=TRIALS, seed=seed, detail_trials=TRIALS)
    f = simulate(sc, trials=TRIALS, seed=seed, detail_trials=TRIALS)
    customers = d.revenue.new_customers                       # (T+1, trials): revenue sampler
    won = np.column_stack([d.arrivals[:, 1], d.late_customers])   # (trials, T+1): stage sampler
    for S in month_sets(T):
        oracle = binomial_sum([(N, q)], S)
        rows = sorted(S)
        assert_distribution(customers[rows].sum(axis=0), oracle, what=f"revenue sampler, months {rows}")
        assert_distribution(won[:, rows].sum(axis=1), oracle, what=f"stage sampler, months {rows}")
    # simulate's months and last stage are that revenue sample (same seed, same streams).
    for m in range(T):
        assert f.months[m].customers.mean == pytest.approx(customers[m].mean(), rel=1e-12)
        assert f.stages[-1].monthly[m].mean == pytest.approx(customers[m].mean(), rel=1e-12)
        assert f.months[m].revenue.mean == pytest.approx(100 * customers[m].mean(), rel=1e-6)
    assert f.late_customers.mean == pytest.approx(customers[T].mean(), rel=1e-12)
    # No top of funnel: the first stage's volume is 0, and the units in the pipeline are not
    # counted as its arrivals.
    assert np.all(d.arrivals[:, 0] == 0) and f.stages[0].total.p90 == 0


@pytest.mark.parametrize("mid_lag", [None, [0.25, 0.0, 0.75]])
def test_three_stages_pipeline_delay_is_the_convolution(mid_lag):
    # Top -> Mid (0.5, lag [1.0]) -> Won (0.4, lag [0.5, 0.5]); 300 open in Top moving on with
    # [0, 0.2, 0.8]; 100 open in Mid moving on with Won's own lag or with ``mid_lag``.
    T, N_top, N_mid, p1, p2, seed = 3, 300, 100, 0.5, 0.4, 202
    top_lag, won_lag = [0.0, 0.2, 0.8], [0.5, 0.5]
    lags = {"Top": top_lag} | ({"MID": mid_lag} if mid_lag else {})
    sc = small_scenario(months=T, goal=5000, top={"monthly": [0] * T, "noise_cv": 0},
                        stages=[{"name": "Top"}, {"name": "Mid", "rate": {"fixed": p1}, "lag": [1.0]},
                                {"name": "Won", "rate": {"fixed": p2}, "lag": won_lag}],
                        start_pipeline={"Top": N_top, "Mid": N_mid}, start_pipeline_lag=lags)
    # By hand: [0, .2, .8] * [.5, .5] = [0, .1, .5, .4].
    from_top = p1 * p2 * np.array([0.0, 0.1, 0.5, 0.4])
    from_mid = p2 * fold(np.asarray(mid_lag or won_lag, dtype=float), T)
    customers_sources = [(N_top, from_top), (N_mid, from_mid)]
    mid_sources = [(N_top, p1 * fold(np.asarray(top_lag), T))]

    d = draw(sc, trials=TRIALS, seed=seed, detail_trials=TRIALS)
    f = simulate(sc, trials=TRIALS, seed=seed, detail_trials=TRIALS)
    customers = d.revenue.new_customers
    won = np.column_stack([d.arrivals[:, 2], d.late_customers])
    for S in month_sets(T):
        oracle = binomial_sum(customers_sources, S)
        rows = sorted(S)
        assert_distribution(customers[rows].sum(axis=0), oracle, what=f"revenue sampler, months {rows}")
        assert_distribution(won[:, rows].sum(axis=1), oracle, what=f"stage sampler, months {rows}")
    for S in ({0}, {1}, {2}, {1, 2}, {0, 1, 2}):     # Mid: months of the period only
        rows = sorted(S)
        assert_distribution(d.arrivals[:, 1, rows].sum(axis=1), binomial_sum(mid_sources, S),
                            what=f"Mid, months {rows}")
    # The stage detail simulate reports is that stage-by-stage sample.
    for m in range(T):
        assert f.stages[1].monthly[m].mean == pytest.approx(d.arrivals[:, 1, m].mean(), rel=1e-12)
        assert f.months[m].customers.mean == pytest.approx(customers[m].mean(), rel=1e-12)
    assert f.stages[1].total.mean == pytest.approx(d.arrivals[:, 1].sum(axis=1).mean(), rel=1e-12)
    assert f.stages[1].trials == TRIALS


def test_pipeline_lag_with_an_uncertain_rate_matches_the_beta_binomial():
    # Given the trial's rate p ~ Beta(6, 14), month m's customers are Binomial(N, p * lag[m]);
    # over the trials, the customers in the period are BetaBinomial-thinned: check the total
    # of the months where the lag puts all its weight (lag [0, 1]): exactly BetaBinomial(N, 6, 14).
    N, a, b = 80, 6.0, 14.0
    sc = small_scenario(months=2, top={"monthly": [0, 0], "noise_cv": 0},
                        stages=[{"name": "Top"}, {"name": "Won", "rate": {"mean": a / (a + b), "strength": a + b}}],
                        start_pipeline={"Top": N}, start_pipeline_lag={"Top": [0.0, 1.0]})
    d = draw(sc, trials=TRIALS, seed=303, detail_trials=TRIALS)
    oracle = stats.betabinom(N, a, b)
    assert np.all(d.revenue.new_customers[0] == 0) and np.all(d.arrivals[:, 1, 0] == 0)
    assert_distribution(d.revenue.new_customers[1], oracle, what="revenue sampler")
    assert_distribution(d.arrivals[:, 1, 1], oracle, what="stage sampler")


# ------------------------------------------------------------------------------------------
# The default is unchanged
# ------------------------------------------------------------------------------------------

def own_lags(scenario, names):
    """{stage name: the next stage's own lag} for ``names``."""
    idx = {s.name: j for j, s in enumerate(scenario.stages)}
    return {n: list(scenario.stages[idx[n] + 1].lag) for n in names}


@pytest.mark.parametrize("which", ["pipeline stages", "every stage but the last", "a stage without pipeline"])
def test_the_own_lag_gives_exactly_the_default(demo, demo_dict, which):
    names = {"pipeline stages": ["MQLs", "SQLs", "Proposals"],
             "every stage but the last": list(demo.stage_names[:-1]),
             "a stage without pipeline": ["Leads"]}[which]
    lags = own_lags(demo, names)
    if which == "a stage without pipeline":
        lags = {"Leads": [0.0, 0.0, 1.0]}     # Leads has no open pipeline: nothing changes
    data = with_lags(demo_dict, lags)
    data["trials"] = 9_000                      # three chunks, two of them full
    plain = scenario_from_dict({**demo_dict, "trials": 9_000})
    lagged = scenario_from_dict(data)
    assert lagged.pipeline_lags and lagged != plain

    a = simulate(plain, detail_trials=3_000)
    b = simulate(lagged, detail_trials=3_000)
    assert b.p_goal == a.p_goal and b.p_goal_ci == a.p_goal_ci
    assert b.revenue == a.revenue
    assert b.months == a.months
    assert b.stages == a.stages                 # the stage-by-stage detail too
    assert dataclasses.replace(b, scenario=plain) == a
    arr_a, late_a = draw_stage_arrivals(plain, trials=5_000, seed=7)
    arr_b, late_b = draw_stage_arrivals(lagged, trials=5_000, seed=7)
    assert np.array_equal(arr_a, arr_b) and np.array_equal(late_a, late_b)
    assert np.array_equal(expected_arrivals(plain), expected_arrivals(lagged))
    assert expected_value_plan(plain) == expected_value_plan(lagged)


def test_a_pipeline_lag_past_the_period_moves_those_customers_after_it(demo, demo_dict):
    # Sanity check that the field is used: the 12 open Proposals close 12 months later, i.e.
    # all after the period, instead of with the Customers stage's own lag [.2, .5, .3]. On
    # average 12 x E[Customers rate] more customers close after the period, as many fewer in
    # months 0..2, and none of the other months changes.
    n = 20_000
    lagged = scenario_from_dict(with_lags(demo_dict, {"Proposals": [0.0] * 12 + [1.0]}))
    a = draw(demo, trials=n, seed=11).revenue.new_customers
    b = draw(lagged, trials=n, seed=12).revenue.new_customers
    moved = 12 * demo.stages[-1].rate.mean
    own = demo.stages[-1].lag
    T = demo.months

    def close(x, y, diff, what):
        se = np.sqrt(x.var() / x.size + y.var() / y.size)
        assert abs((y.mean() - x.mean()) - diff) <= SE_TOL * se, (what, y.mean() - x.mean(), diff)

    close(a[T], b[T], moved, "after the period")
    for m in range(T):
        close(a[m], b[m], -moved * (own[m] if m < len(own) else 0.0), f"month {m}")
    assert moved > 10 * np.sqrt(a[T].var() / n + b[T].var() / n)      # the test can tell


# ------------------------------------------------------------------------------------------
# expected_arrivals by hand
# ------------------------------------------------------------------------------------------

def hand_scenario():
    # Top -> A (fixed 0.5, lag [.5, .5]) -> B (mean 0.4, lag [1]); four months; top [10, 20, 0, 0];
    # open: 100 in Top moving on with [0, 0, .25, .25, .5], 40 in A with B's own lag.
    return small_scenario(months=4, top={"monthly": [10, 20, 0, 0], "noise_cv": 0},
                          stages=[{"name": "Top"},
                                  {"name": "A", "rate": {"fixed": 0.5}, "lag": [0.5, 0.5]},
                                  {"name": "B", "rate": {"mean": 0.4, "strength": 10}, "lag": [1.0]}],
                          start_pipeline={"Top": 100, "A": 40},
                          start_pipeline_lag={"Top": [0, 0, 0.25, 0.25, 0.5]})


def test_expected_arrivals_by_hand():
    sc = hand_scenario()
    # A: from the top (10, 20) * 0.5 spread over [.5, .5] = [2.5, 7.5, 5, 0]; from the open
    # pipeline 100 * 0.5 * [0, 0, .25, .25 | .5] = [0, 0, 12.5, 12.5 | 25].
    # B: A's months * 0.4 = [1, 3, 7, 5] plus the 40 open in A * 0.4 = 16 in month 0; after the
    # period: A's 25 after it * 0.4 = 10.
    want = np.array([[10, 20, 0, 0, 0],
                     [2.5, 7.5, 17.5, 12.5, 25],
                     [17, 3, 7, 5, 10]])
    assert expected_arrivals(sc) == pytest.approx(want, abs=1e-12)
    # Without the top of funnel: the pipelines alone.
    want0 = np.array([[0, 0, 0, 0, 0],
                      [0, 0, 12.5, 12.5, 25],
                      [16, 0, 5, 5, 10]])
    assert expected_arrivals(sc, 0.0) == pytest.approx(want0, abs=1e-12)
    # Doubling the top doubles only the flow from the top.
    assert expected_arrivals(sc, 2.0) == pytest.approx(2 * want - want0, abs=1e-12)


def test_expected_arrivals_match_the_simulated_means():
    sc = hand_scenario()
    fixed = scenario_from_dict({**sc.to_dict(), "stages": [
        {"name": "Top"}, {"name": "A", "rate": {"fixed": 0.5}, "lag": [0.5, 0.5]},
        {"name": "B", "rate": {"fixed": 0.4}, "lag": [1.0]}]})
    want = expected_arrivals(fixed)
    arrivals, late = draw_stage_arrivals(fixed, trials=20_000, seed=404)
    for k in (1, 2):
        for t in range(sc.months):
            x = arrivals[:, k, t]
            assert abs(x.mean() - want[k, t]) <= SE_TOL * max(x.std(), 1e-9) / np.sqrt(x.size), (k, t)
    assert abs(late.mean() - want[2, 4]) <= SE_TOL * late.std() / np.sqrt(late.size)


# ------------------------------------------------------------------------------------------
# The check-in's reforecast keeps the part of the lag still ahead
# ------------------------------------------------------------------------------------------

def test_check_in_reforecast_lag_by_hand():
    # Top -> Won with lag [.2, .3, .5]; 100 entered Top in month 0, 50 in month 1; as of month 1.
    # Month 0's cohort (age 1) still has P(lag = 2) = .5 ahead: 50 units, all next month.
    # Month 1's cohort (age 0) has .3 and .5 ahead: 15 next month, 25 the month after.
    # Open: 90 units; their lag from the next month: [65/90, 25/90].
    sc = small_scenario(months=6, goal=1e7, top={"monthly": [100, 50, 40, 40, 40, 40], "noise_cv": 0},
                        stages=[{"name": "Top"},
                                {"name": "Won", "rate": {"mean": 0.3, "strength": 50}, "lag": [0.2, 0.3, 0.5]}],
                        trials=200, seed=9)
    months = sc.month_labels
    actuals = Actuals(sc.stage_names,
                      ((months[0], "Top", 100), (months[0], "Won", 6),
                       (months[1], "Top", 50), (months[1], "Won", 12)),
                      ((months[0], 600.0), (months[1], 1200.0)))
    check = check_in(sc, actuals, months[1], trials=200)
    re = check.reforecast
    assert re.start == months[2] and re.months == 4
    assert dict(re.start_pipeline) == {"Top": 90}
    assert check.stages[0].open_pipeline == 90
    (name, lag), = re.pipeline_lags
    assert name == "Top" and lag == pytest.approx((65 / 90, 25 / 90), abs=1e-12)
    assert sum(lag) == 1.0
    # The reforecast document is valid and keeps it.
    assert scenario_from_dict(re.to_dict()) == re
    # Exposure: 100 * F(1) + 50 * F(0) = 100 * .5 + 50 * .2 = 60.
    assert check.stages[1].exposure == pytest.approx(60.0)
    # Expected arrivals of the reforecast's first months from that pipeline:
    # 90 * mean rate * lag, plus the top's 40 a month * rate * [.2, .3, .5].
    rate = re.stages[1].rate.mean
    want = 90 * rate * np.array([65 / 90, 25 / 90, 0, 0]) + rate * np.convolve([40] * 4, [0.2, 0.3, 0.5])[:4]
    assert expected_arrivals(re)[1, :4] == pytest.approx(want, rel=1e-12)


def test_a_second_check_in_uses_the_reforecasts_pipeline_lag():
    # Check in on a reforecast-like plan whose open pipeline moves on with its own lag
    # [0, .4, .6] (Won's lag is [1]): as of its month 0 (age 0), .4 + .6 are still ahead.
    sc = small_scenario(months=4, goal=1e7, top={"monthly": [0, 0, 0, 0], "noise_cv": 0},
                        stages=[{"name": "Top"}, {"name": "Won", "rate": {"fixed": 0.5}, "lag": [1.0]}],
                        start_pipeline={"Top": 50}, start_pipeline_lag={"Top": [0.0, 0.4, 0.6]},
                        trials=200, seed=9)
    months = sc.month_labels
    actuals = Actuals(sc.stage_names, ((months[0], "Top", 0), (months[0], "Won", 0)),
                      ((months[0], 0.0),))
    check = check_in(sc, actuals, months[0], trials=200)
    assert dict(check.reforecast.start_pipeline) == {"Top": 50}
    assert check.reforecast.pipeline_lags == (("Top", (0.4, 0.6)),)
    # Nothing could have converted yet: the exposure is 50 * F(0) = 0.
    assert check.stages[1].exposure == 0.0
