"""The engine against exact oracles (scipy.stats), with fixed seeds and 4-standard-error
tolerances. Both samplers are checked: the revenue sample (collapsed chain, all trials) and the
stage-by-stage sample (per-stage volumes)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.model import engine
from sim.model.engine import CHUNK, draw, draw_revenue, draw_stage_arrivals
from sim.model.forecast import DETAIL_TRIALS, distributions, simulate, wilson_interval

from ..conftest import small_scenario

SE_TOL = 4.0


def assert_matches(samples, dist, *, what=""):
    """Empirical CDF at the oracle's 5%..95% quantiles and the mean, within 4 standard errors."""
    samples = np.asarray(samples, dtype=np.float64)
    n = samples.size
    mean, var = dist.mean(), dist.var()
    assert abs(samples.mean() - mean) <= SE_TOL * np.sqrt(var / n) + 1e-12, \
        f"{what}: mean {samples.mean()} vs {mean}"
    for q in (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95):
        x = dist.ppf(q)
        F = dist.cdf(x)
        if not 0 < F < 1:
            continue
        emp = np.count_nonzero(samples <= x) / n
        assert abs(emp - F) <= SE_TOL * np.sqrt(F * (1 - F) / n), f"{what}: P(X <= {x}) {emp} vs {F}"


def customers_both_ways(sc, trials, seed):
    """Customers closing within the period, per trial: revenue sampler and stage sampler."""
    rev = draw_revenue(sc, trials=trials, seed=seed)
    arrivals, late = draw_stage_arrivals(sc, trials=trials, seed=seed + 1)
    return rev, rev.new_customers[:sc.months].sum(axis=0), arrivals, arrivals[:, -1].sum(axis=1), late


def test_one_stage_beta_rate_matches_betabinom():
    sc = small_scenario(top={"monthly": [200], "noise_cv": 0},
                        stages=[{"name": "Top"},
                                {"name": "Won", "rate": {"mean": 0.3, "strength": 20}}])
    oracle = stats.betabinom(200, 0.3 * 20, 0.7 * 20)
    _, collapsed, _, chained, _ = customers_both_ways(sc, 40_000, 11)
    assert_matches(collapsed, oracle, what="revenue sampler")
    assert_matches(chained, oracle, what="stage sampler")


def test_chain_of_fixed_rates_matches_binomial_of_product():
    sc = small_scenario(top={"monthly": [1000], "noise_cv": 0},
                        stages=[{"name": "Top"},
                                {"name": "A", "rate": {"fixed": 0.5}},
                                {"name": "B", "rate": {"fixed": 0.4}},
                                {"name": "C", "rate": {"fixed": 0.3}}])
    _, collapsed, arrivals, chained, _ = customers_both_ways(sc, 30_000, 21)
    assert_matches(collapsed, stats.binom(1000, 0.5 * 0.4 * 0.3), what="revenue sampler")
    assert_matches(chained, stats.binom(1000, 0.5 * 0.4 * 0.3), what="stage sampler")
    assert_matches(arrivals[:, 1, 0], stats.binom(1000, 0.5), what="stage A")
    assert_matches(arrivals[:, 2, 0], stats.binom(1000, 0.2), what="stage B")


def test_lag_past_the_horizon_thins_the_count():
    # One cohort of 500 in month 0 of 2; conversions arrive 0, 1 or 2 months later.
    sc = small_scenario(months=2, top={"monthly": [500, 0], "noise_cv": 0},
                        stages=[{"name": "Top"},
                                {"name": "Won", "rate": {"fixed": 0.2}, "lag": [0.5, 0.25, 0.25]}])
    rev, collapsed, arrivals, chained, late = customers_both_ways(sc, 30_000, 31)
    assert_matches(collapsed, stats.binom(500, 0.2 * 0.75), what="in period, revenue sampler")
    assert_matches(chained, stats.binom(500, 0.2 * 0.75), what="in period, stage sampler")
    assert_matches(rev.new_customers[0], stats.binom(500, 0.1), what="month 0")
    assert_matches(rev.new_customers[2], stats.binom(500, 0.05), what="after the period")
    assert_matches(late, stats.binom(500, 0.05), what="after the period, stage sampler")


def test_lags_of_several_stages_add_up():
    # Two stages, each arriving 0 or 1 month later: total delay 0/1/2 with 1/4, 1/2, 1/4.
    sc = small_scenario(months=2, top={"monthly": [400, 0], "noise_cv": 0},
                        stages=[{"name": "Top"},
                                {"name": "A", "rate": {"fixed": 0.5}, "lag": [0.5, 0.5]},
                                {"name": "B", "rate": {"fixed": 0.6}, "lag": [0.5, 0.5]}])
    rev, collapsed, arrivals, chained, _ = customers_both_ways(sc, 30_000, 41)
    assert_matches(collapsed, stats.binom(400, 0.3 * 0.75), what="revenue sampler")
    assert_matches(chained, stats.binom(400, 0.3 * 0.75), what="stage sampler")
    assert_matches(rev.new_customers[1], stats.binom(400, 0.3 * 0.5), what="month 1")


def test_lag_with_uncertain_rate_matches_the_thinned_mixture():
    # X | p ~ Binomial(N, p * 0.6), p ~ Beta(8, 12): the mixture by numerical integration.
    from scipy import integrate
    N, a, b, f = 60, 8.0, 12.0, 0.6
    pmf = np.array([integrate.quad(lambda p, k=k: stats.binom.pmf(k, N, p * f) * stats.beta.pdf(p, a, b),
                                   0, 1)[0] for k in range(N + 1)])
    oracle = stats.rv_discrete(values=(np.arange(N + 1), pmf / pmf.sum()))
    sc = small_scenario(top={"monthly": [N], "noise_cv": 0},
                        stages=[{"name": "Top"},
                                {"name": "Won", "rate": {"successes": 7, "trials": 18},
                                 "lag": [0.6, 0.4]}])
    _, collapsed, _, chained, _ = customers_both_ways(sc, 30_000, 51)
    assert_matches(collapsed, oracle, what="revenue sampler")
    assert_matches(chained, oracle, what="stage sampler")


@pytest.mark.parametrize("kind, expected_total, expected_months", [
    ("monthly_recurring", 2000.0, {10: 1000.0, 11: 1000.0}),
    ("one_time", 1000.0, {10: 1000.0}),
])
def test_revenue_for_a_known_close_month_is_exact(kind, expected_total, expected_months):
    sc = small_scenario(months=12, goal=1500,
                        top={"monthly": [0] * 10 + [1, 0], "noise_cv": 0},
                        stages=[{"name": "Top"}, {"name": "Won", "rate": {"fixed": 1.0}}],
                        deal={"median": 1000, "p90": 1000, "kind": kind})
    rev = draw_revenue(sc, trials=500, seed=3)
    assert np.all(rev.revenue == expected_total)
    want = np.zeros(12)
    for month, value in expected_months.items():
        want[month] = value
    assert np.all(rev.monthly_revenue == want[:, None])
    assert simulate(sc, trials=500).p_goal == (1.0 if expected_total >= 1500 else 0.0)


def test_recurring_revenue_counts_each_remaining_month():
    # A client won in month t of 12 brings 12 - t monthly payments; lag 1 month.
    sc = small_scenario(months=12, top={"monthly": [1] * 12, "noise_cv": 0},
                        stages=[{"name": "Top"}, {"name": "Won", "rate": {"fixed": 1.0}, "lag": [0, 1]}],
                        deal={"median": 10, "p90": 10, "kind": "monthly_recurring"})
    rev = draw_revenue(sc, trials=100, seed=4)
    assert np.all(rev.revenue == 10 * sum(12 - t for t in range(1, 12)))
    assert np.all(rev.new_customers[12] == 1)          # December's client closes in January
    assert np.all(rev.pipeline_value == 10)


def test_top_of_funnel_noise_is_rounded_gamma():
    plan, cv = 50.0, 0.3
    shape = 1 / cv ** 2

    class RoundedGamma:   # P(round(plan*G) <= x) = P(G < (x + 0.5) / plan)
        def cdf(self, x):
            return stats.gamma.cdf((np.floor(x) + 0.5) / plan, shape, scale=1 / shape)

        def ppf(self, q):
            return np.ceil(stats.gamma.ppf(q, shape, scale=1 / shape) * plan - 0.5)

        def mean(self):
            return sum(k * (self.cdf(k) - self.cdf(k - 1)) for k in range(0, 400))

        def var(self):
            m = self.mean()
            return sum((k - m) ** 2 * (self.cdf(k) - self.cdf(k - 1)) for k in range(0, 400))

    sc = small_scenario(top={"monthly": [plan], "noise_cv": cv},
                        stages=[{"name": "Top"}, {"name": "Won", "rate": {"fixed": 1.0}}])
    _, collapsed, arrivals, chained, _ = customers_both_ways(sc, 40_000, 61)
    assert_matches(collapsed, RoundedGamma(), what="revenue sampler")
    assert_matches(arrivals[:, 0, 0], RoundedGamma(), what="stage sampler, top")
    assert np.array_equal(chained, arrivals[:, 0, 0])


def test_deal_values_are_lognormal_from_median_and_p90():
    sc = small_scenario(top={"monthly": [1], "noise_cv": 0},
                        stages=[{"name": "Top"}, {"name": "Won", "rate": {"fixed": 1.0}}],
                        deal={"median": 20000, "p90": 50000})
    rev = draw_revenue(sc, trials=40_000, seed=71)
    sigma = np.log(50000 / 20000) / stats.norm.ppf(0.9)
    assert_matches(rev.revenue, stats.lognorm(sigma, scale=20000), what="deal value")


def test_start_pipeline_moves_on_through_later_stages():
    sc = small_scenario(top={"monthly": [0], "noise_cv": 0},
                        stages=[{"name": "Top"}, {"name": "Mid", "rate": {"fixed": 0.5}},
                                {"name": "Won", "rate": {"fixed": 0.4}}],
                        start_pipeline={"mid": 100, "Top": 50})
    rev, collapsed, arrivals, chained, _ = customers_both_ways(sc, 30_000, 81)
    # From Mid: Binomial(100, 0.4); from Top: Binomial(50, 0.5 * 0.4); independent.
    pmf = np.convolve(stats.binom.pmf(np.arange(101), 100, 0.4), stats.binom.pmf(np.arange(51), 50, 0.2))
    oracle = stats.rv_discrete(values=(np.arange(pmf.size), pmf / pmf.sum()))
    assert_matches(collapsed, oracle, what="revenue sampler")
    assert_matches(chained, oracle, what="stage sampler")
    assert np.all(arrivals[:, 1, 0] <= 50)   # pipeline units are not new arrivals


def test_same_seed_same_numbers_and_threads_do_not_matter(demo, monkeypatch):
    a = simulate(demo, trials=20_000)
    assert simulate(demo, trials=20_000) == a
    assert simulate(demo, trials=20_000, seed=demo.seed + 1).p_goal != a.p_goal
    monkeypatch.setattr(engine, "_WORKERS", 1)
    monkeypatch.setattr(engine, "_pool", None)
    assert simulate(demo, trials=20_000) == a


def test_a_prefix_of_the_trials_is_the_same_at_any_trial_count(demo):
    # The confidence search relies on this: its coarse steps use whole chunks of the full run.
    small = draw_revenue(demo, trials=2 * CHUNK + 5, seed=9).revenue
    large = draw_revenue(demo, trials=3 * CHUNK, seed=9).revenue
    assert np.array_equal(small[:2 * CHUNK], large[:2 * CHUNK])
    assert not np.array_equal(small[:CHUNK], large[CHUNK:2 * CHUNK])


@pytest.mark.parametrize("kind", ["one_time", "monthly_recurring"])
def test_the_revenue_of_some_trials_is_theirs_in_a_run_of_all(demo, kind):
    """period_revenue_of (what the confidence search runs for the trials it still needs): the
    very numbers of those trials in a whole run, in any chunk, with or without an open pipeline."""
    from dataclasses import replace
    rng = np.random.default_rng(3)
    for sc in (replace(demo, deal=replace(demo.deal, kind=kind)), replace(demo, start_pipeline=())):
        whole = engine.period_revenue(sc, trials=2 * CHUNK + 100, seed=5)
        for trials in (np.arange(whole.size), np.sort(rng.choice(whole.size, 700, replace=False)),
                       np.array([0]), np.array([CHUNK - 1, CHUNK, 2 * CHUNK + 99])):
            assert np.array_equal(engine.period_revenue_of(sc, trials, seed=5), whole[trials])
    assert engine.period_revenue_of(demo, np.array([], dtype=np.int64)).size == 0
    with pytest.raises(ValueError):
        engine.period_revenue_of(demo, np.array([3, 2]))


def test_both_samplers_agree_on_the_demo(demo):
    d = draw(demo, trials=20_000, seed=5, detail_trials=8_000)
    a = d.revenue.new_customers[:demo.months].sum(axis=0)
    b = d.arrivals[:, -1].sum(axis=1)
    se = np.sqrt(a.var() / a.size + b.var() / b.size)
    assert abs(a.mean() - b.mean()) <= SE_TOL * se
    late_a, late_b = d.revenue.new_customers[demo.months], d.late_customers
    se = np.sqrt(late_a.var() / late_a.size + late_b.var() / late_b.size)
    assert abs(late_a.mean() - late_b.mean()) <= SE_TOL * se


def test_p_goal_and_its_wilson_interval(demo):
    f = simulate(demo, trials=20_000)
    rev = draw_revenue(demo, trials=20_000, seed=demo.seed).revenue
    # simulate spawns the same revenue streams as draw_revenue for the same seed
    hits = np.count_nonzero(rev + demo.baseline_revenue >= demo.goal)
    assert f.p_goal == hits / 20_000
    n, p, z = 20_000, hits / 20_000, stats.norm.ppf(0.975)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert (f.p_goal_ci.low, f.p_goal_ci.high) == pytest.approx((centre - half, centre + half), rel=1e-9)
    assert f.p_goal_ci.level == 0.95
    assert wilson_interval(0, 10)[0] == 0.0


def test_summary_percentiles_match_numpy():
    x = np.random.default_rng(0).lognormal(size=(3, 1001))
    got = distributions(x)
    want = np.quantile(x, [0.1, 0.25, 0.5, 0.75, 0.9], axis=1)
    for row, d in enumerate(got):
        assert [d.p10, d.p25, d.p50, d.p75, d.p90] == pytest.approx(want[:, row], rel=1e-12)
        assert d.mean == pytest.approx(x[row].mean(), rel=1e-12)


@pytest.mark.parametrize("high", [1, 40, 10**9])
def test_summary_percentiles_of_whole_numbers_match_numpy(high):
    # Counts (customers) go through a count of each value; a range much wider than the
    # number of trials (10**9) through the sort, as floats do.
    x = np.random.default_rng(1).integers(-3, high, size=(4, 1003))
    x[1, :500] = 0                                    # many ties
    got = distributions(x)
    want = np.quantile(x, [0.1, 0.25, 0.5, 0.75, 0.9], axis=1)
    for row, d in enumerate(got):
        assert [d.p10, d.p25, d.p50, d.p75, d.p90] == pytest.approx(want[:, row], rel=1e-12)
        assert d.mean == pytest.approx(x[row].mean(), rel=1e-12)


def test_forecast_is_consistent(demo):
    f = simulate(demo, trials=20_000)
    assert f.months[-1].cumulative.p50 == pytest.approx(f.revenue.p50, rel=1e-5)
    assert sum(m.revenue.mean for m in f.months) == pytest.approx(f.revenue.mean - demo.baseline_revenue, rel=1e-5)
    assert [s.name for s in f.stages] == list(demo.stage_names)
    assert f.stages[-1].trials == 20_000 and f.stages[0].trials == min(20_000, DETAIL_TRIALS)
    assert sum(f.histogram_counts) == 20_000
    for s in f.stages:
        assert s.total.p10 <= s.total.p50 <= s.total.p90
        assert len(s.monthly) == demo.months


def allocated(by_month, tops, bulk, shape, chunks=5):
    """engine._allocate_to_months over ``chunks`` chunks of CHUNK trials: every trial with the
    customers ``by_month`` and the exact top values ``tops``; ``bulk`` a number or one per
    trial of a chunk."""
    from sim.model.positional_random import RandomSource
    source = RandomSource.from_seed(11)

    def rows(a):                             # the same row for every trial
        return np.broadcast_to(np.asarray(a, dtype=np.float64), (CHUNK,) + np.shape(a)).copy()

    def per_trial(a):                        # a number for every trial, or one each
        return np.broadcast_to(np.asarray(a, dtype=np.float64), (CHUNK,)).copy()

    return np.concatenate([engine._allocate_to_months(source, np.arange(c * CHUNK, (c + 1) * CHUNK),
                                                      rows(by_month).astype(np.int64), rows(tops), per_trial(bulk),
                                                      per_trial(shape))
                           for c in range(chunks)])


def test_each_exact_top_value_goes_to_a_customer_picked_without_replacement():
    # Six customers, four in month 0 and two in month 1, four exact top values (no bulk): each
    # value lands in month 1 with probability 2/6, the two largest both there with (2/6)(1/5).
    tops = [1.0, 10.0, 100.0, 1000.0]
    monthly = allocated([4, 2, 0], tops, 0.0, 1.0)
    n = monthly.shape[0]
    assert np.allclose(monthly.sum(axis=1), sum(tops)) and np.all(monthly[:, 2] == 0)
    in_second = [(np.rint(monthly[:, 1]).astype(int) // int(v)) % 10 == 1 for v in tops]
    for hits in in_second:
        oracle = stats.binom(n, 1 / 3)
        assert oracle.ppf(1e-4) <= hits.sum() <= oracle.ppf(1 - 1e-4)
    both = stats.binom(n, 1 / 15)
    assert both.ppf(1e-4) <= np.sum(in_second[0] & in_second[1]) <= both.ppf(1 - 1e-4)
    assert not np.any(in_second[0] & in_second[1] & in_second[2])      # month 1 has two customers


@pytest.mark.parametrize("every", [True, False], ids=["every trial has a bulk", "every other trial"])
def test_the_bulk_is_split_over_the_customers_not_given_a_top_value(every):
    # Twelve customers (8, 0, 4), four with exact top values (1e6, 1e5, 1e4, 1e3: their digits
    # say which landed in month 2), a bulk of 1 for the other eight: given X top values in
    # month 2, its mean share of the bulk is (4 - X) / 8 (the Dirichlet split over the
    # customers left), not 4/12 whatever X.
    tops = [1e6, 1e5, 1e4, 1e3]
    bulk = np.ones(CHUNK)
    if not every:
        bulk[1::2] = 0.0                     # those trials get their top values only
    monthly = allocated([8, 0, 4], tops, bulk, 2.0, chunks=4)
    bulk = np.tile(bulk, 4)
    assert np.allclose(monthly.sum(axis=1), sum(tops) + bulk) and np.all(monthly[:, 1] == 0)
    placed = np.floor(monthly[:, 2] + 1e-6)
    x = sum((placed // v) % 10 for v in tops)
    share = monthly[:, 2] - placed
    assert np.all(share[bulk == 0] < 1e-6)
    for k in (0, 1, 2):
        got = share[(x == k) & (bulk > 0)]
        assert abs(got.mean() - (4 - k) / 8) < 4 * got.std() / np.sqrt(got.size), (k, got.mean())
