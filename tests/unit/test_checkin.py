"""The mid-year check-in (sim.model.checkin): the lag-aware rate update, the reforecast and the reset.

The statistical tests generate actuals with an independent simulator written here (numpy, fixed
seeds): the top of the funnel is round(plan · G) with G ~ Gamma(mean 1, CV c); every month's
cohort of stage k-1 (plus, in month 0, its start pipeline) converts Binomial(N, p_k) and its
conversions are split over the lag months with one multinomial draw; arrivals after the months
observed are not observed; each customer brings a lognormal deal value (mu = log median,
sigma = log(p90 / median) / z90), booked in its arrival month. Expected values come from that
generator, from scipy.stats or from the Beta-Binomial formula of the module docstring, never
from the check-in code itself. Tolerances are a few standard errors.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

from sim.errors import ScenarioError
from sim.model.bands import ABOVE, BELOW, INSIDE, NO_DATA, plan_bands
from sim.model.beliefs import RateBelief
from sim.model.checkin import RESET_CAP, check_in, lag_cdf, observed_counts, updated_rate
from sim.model.engine import make_rng
from sim.model.forecast import simulate
from sim.model.monthly_actuals import Actuals
from sim.model.scenario_io import load_scenario
from sim.model.targets import expected_value_plan

from ..conftest import DEMO_PATH, small_scenario

SE_TOL = 4.0
Z90 = stats.norm.ppf(0.9)


# -- the independent generator ---------------------------------------------------------------

def generate_year(scenario, rates, rng, *, cut: int | None = None):
    """One year of the funnel with the TRUE ``rates`` (one per stage after the first).

    Returns ``arrivals`` (K, T): units arriving in each stage per month (in the period only);
    ``revenue`` (T,): one-time deal values booked in each month; ``late`` (K,): for ``cut``
    (a month index), the conversions into stage k of the units that entered stage k-1 in
    months 0..cut (or were in its start pipeline) and arrive after month ``cut``, in the period
    or after it."""
    T, K = scenario.months, len(scenario.stages)
    plan = np.asarray(scenario.top.monthly, dtype=float)
    cv = scenario.top.noise_cv
    arrivals = np.zeros((K, T), dtype=np.int64)
    if cv > 0:
        shape = 1.0 / cv ** 2
        arrivals[0] = np.rint(plan * rng.gamma(shape, 1.0 / shape, size=T))
    else:
        arrivals[0] = np.rint(plan)
    pipeline = dict(scenario.start_pipeline)
    late = np.zeros(K, dtype=np.int64)
    for k in range(1, K):
        lag = np.asarray(scenario.stages[k].lag, dtype=float)
        start = pipeline.get(scenario.stages[k - 1].name, 0)
        for t in range(T):
            entering = arrivals[k - 1, t] + (start if t == 0 else 0)
            converted = rng.binomial(entering, rates[k - 1])
            for L, c in enumerate(rng.multinomial(converted, lag)):
                if t + L < T:
                    arrivals[k, t + L] += c
                if cut is not None and t <= cut < t + L:
                    late[k] += c
    deal = scenario.deal
    mu, sigma = math.log(deal.median), math.log(deal.p90 / deal.median) / Z90
    revenue = np.array([rng.lognormal(mu, sigma, size=c).sum() if sigma > 0 else c * deal.median
                        for c in arrivals[-1]])
    return arrivals, revenue, late


def actuals_through(scenario, arrivals, revenue, a: int) -> Actuals:
    """The actuals of months 0..a: every stage's count and the revenue."""
    months, names = scenario.month_labels, scenario.stage_names
    return Actuals(names,
                   tuple((months[t], names[k], int(arrivals[k, t]))
                         for t in range(a + 1) for k in range(len(names))),
                   tuple((months[t], float(revenue[t])) for t in range(a + 1)))


def beta_sd(belief: RateBelief) -> float:
    a, b = belief.alpha, belief.beta
    return math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1.0)))


def funnel(**overrides):
    """Top -> A -> B -> Won over 12 months, one-time deals (overridden field by field)."""
    base = dict(
        months=12, goal=120_000.0, top={"monthly": [400] * 12, "noise_cv": 0.15},
        stages=[{"name": "Top", "owner": "marketing"},
                {"name": "A", "owner": "marketing", "rate": {"mean": 0.3, "strength": 40},
                 "lag": [0.5, 0.5]},
                {"name": "B", "owner": "sales", "rate": {"mean": 0.25, "strength": 40},
                 "lag": [0.3, 0.4, 0.3]},
                {"name": "Won", "owner": "sales", "rate": {"mean": 0.3, "strength": 40},
                 "lag": [0.5, 0.5]}],
        deal={"median": 1000, "p90": 2500, "kind": "one_time"},
        start_pipeline={"A": 60, "B": 20}, trials=500, seed=5)
    base.update(overrides)
    return small_scenario(**base)


# -- 1. the goal already exceeded ---------------------------------------------------------------

@pytest.mark.parametrize("extra", [2345.5, 0.0])
def test_goal_already_reached_gives_certainty_and_the_surplus(extra):
    sc = funnel(goal=10_000.0, baseline_revenue=1_500.0)
    months = sc.month_labels
    revenue = [3_000.0, 4_000.0, 10_000.0 - 1_500.0 - 7_000.0 + extra]   # to date = goal + extra
    counts = tuple((months[t], name, c) for t in range(3)
                   for name, c in zip(sc.stage_names, (400, 120, 30, 9)))
    actuals = Actuals(sc.stage_names, counts, tuple(zip(months[:3], revenue)))
    check = check_in(sc, actuals, months[2])
    to_date = 1_500.0 + sum(revenue)
    assert check.revenue_to_date == pytest.approx(to_date)
    assert check.goal_reached
    assert check.p_goal_now == 1.0 and check.p_goal_now_ci.to_list() == [1.0, 1.0]
    assert check.surplus == pytest.approx(to_date - 10_000.0) and check.surplus == pytest.approx(extra)
    assert check.reset is None and check.reforecast is None and check.forecast_now is None
    assert "already reached" in check.reset_note
    assert check.months_left == months[3:]
    # What was learned is still reported.
    assert all(s.rate_posterior_mean is not None for s in check.stages[1:])


# -- 2. nothing happened, one month left ---------------------------------------------------------

def test_zero_activity_with_one_month_left_is_out_of_reach():
    demo = dataclasses.replace(load_scenario(DEMO_PATH), trials=2_000)
    months, names = demo.month_labels, demo.stage_names
    a = demo.months - 2
    actuals = Actuals(names, tuple((months[t], n, 0) for t in range(a + 1) for n in names),
                      tuple((months[t], 0.0) for t in range(a + 1)))
    check = check_in(demo, actuals, months[a], trials=2_000)      # returns: the search is bounded
    assert check.months_left == (months[-1],)
    assert not check.goal_reached and check.revenue_to_date == 0.0
    assert check.p_goal_now < 0.01 and check.p_goal_now_ci.high < 0.01
    assert check.reset is None
    assert check.reset_note.startswith("Out of reach") and "beyond the cap" in check.reset_note
    # The expected-value plan indeed needs more than the cap (an independent call of the targets).
    assert expected_value_plan(check.reforecast).scale > RESET_CAP
    assert all(s.status == BELOW for s in check.stages)
    assert check.bottleneck is not None


# -- 3. the posterior lands near the truth ------------------------------------------------------

def test_posterior_lands_near_the_true_rates():
    true = (0.22, 0.35, 0.45)
    sc = funnel(top={"monthly": [5_000] * 12, "noise_cv": 0.1}, goal=3e6,
                stages=[{"name": "Top"},
                        {"name": "A", "rate": {"mean": 0.3, "strength": 4}, "lag": [0.5, 0.5]},
                        {"name": "B", "rate": {"mean": 0.25, "strength": 4}, "lag": [0.2, 0.5, 0.3]},
                        {"name": "Won", "rate": {"mean": 0.3, "strength": 4}, "lag": [0.3, 0.4, 0.3]}],
                start_pipeline={"A": 300, "B": 100}, trials=300)
    a = 5
    arrivals, revenue, _ = generate_year(sc, true, np.random.default_rng(2027))
    check = check_in(sc, actuals_through(sc, arrivals, revenue, a), sc.month_labels[a],
                     prior_weight=0.05, trials=300)
    for k, p in enumerate(true, start=1):
        post = check.reforecast.stages[k].rate
        stage = check.stages[k]
        assert stage.rate_posterior_mean == pytest.approx(post.mean)
        sd = beta_sd(post)
        assert sd < beta_sd(sc.stages[k].rate) / 10           # the data dominate the prior
        assert abs(post.mean - p) < 3 * sd, (stage.name, post.mean, p, sd)
        # The exposure-weighted update matters here: the naive rate is off by far more.
        if k == 3:
            assert p - stage.naive_rate > 3 * sd


# -- 4. the lag correction removes the bias -----------------------------------------------------

BIAS_TRUE = (0.3, 0.4)
BIAS_REPS = 300
BIAS_AS_OF = 3      # four months observed against a lag of up to three months


@pytest.fixture(scope="module")
def bias_runs():
    """300 datasets of a long-lag funnel, each checked in end to end (``check_in``)."""
    long_lag = [0.2, 0.3, 0.3, 0.2]
    vague = {"mean": 0.5, "strength": 2}
    # A goal far beyond reach: the reset is skipped (beyond the cap), which keeps 300 calls cheap.
    sc = small_scenario(months=12, goal=1e9, top={"monthly": [1_000] * 12, "noise_cv": 0.1},
                        stages=[{"name": "Top"},
                                {"name": "A", "rate": vague, "lag": long_lag},
                                {"name": "Won", "rate": vague, "lag": long_lag}],
                        deal={"median": 100, "p90": 100, "kind": "one_time"},
                        start_pipeline={"A": 200}, trials=200, seed=3)
    forecast, bands = plan_bands(sc)
    rng = np.random.default_rng(4242)
    naive, corrected, open_a, late_won, won_so_far = [], [], [], [], []
    for _ in range(BIAS_REPS):
        arrivals, revenue, late = generate_year(sc, BIAS_TRUE, rng, cut=BIAS_AS_OF)
        check = check_in(sc, actuals_through(sc, arrivals, revenue, BIAS_AS_OF),
                         sc.month_labels[BIAS_AS_OF], bands=bands, p_goal_plan=forecast.p_goal,
                         prior_weight=1e-3, trials=100)
        naive.append([s.naive_rate for s in check.stages[1:]])
        corrected.append([s.rate_posterior_mean for s in check.stages[1:]])
        open_a.append(check.stages[1].open_pipeline)
        late_won.append(late[2])
        won_so_far.append(check.stages[2].successes)
    return np.array(naive), np.array(corrected), np.array(open_a), np.array(late_won), np.array(won_so_far)


@pytest.mark.slow          # calibration: thousands of simulated check-ins
def test_lag_correction_removes_the_bias_of_the_naive_rate(bias_runs):
    naive, corrected, _, _, _ = bias_runs
    for k, p in enumerate(BIAS_TRUE):
        bias_naive = naive[:, k].mean() - p
        bias = corrected[:, k].mean() - p
        se = corrected[:, k].std(ddof=1) / math.sqrt(BIAS_REPS)
        assert bias_naive < 0                                  # the naive rate is biased low
        assert abs(bias) < abs(bias_naive) / 3, (k, bias, bias_naive)
        assert abs(bias) < SE_TOL * se, (k, bias, se)


@pytest.mark.slow          # calibration: thousands of simulated check-ins
def test_open_pipeline_is_the_expected_number_of_conversions_to_come(bias_runs):
    """E[conversions into Won still to come from A's units so far] = p_Won × open pipeline of A."""
    _, _, open_a, late_won, _ = bias_runs
    diff = late_won - BIAS_TRUE[1] * open_a
    se = diff.std(ddof=1) / math.sqrt(BIAS_REPS)
    assert late_won.mean() > 50                                # a real pipeline
    assert abs(diff.mean()) < SE_TOL * se + 0.5 * BIAS_TRUE[1]  # (+ the rounding to whole units)


@pytest.mark.parametrize("moved", [3, 12, 21])
def test_open_pipeline_follows_what_has_moved_on_so_far(moved):
    """The conversions still to come given what has moved on so far. One cohort of 30 units,
    rate 0.8 known, half of the conversions in the month of entry and half the month after:
    (moved on now, moving on later, never) is Multinomial(30; 0.4, 0.4, 0.2), and the oracle is
    E[later | now = s] summed over its joint pmf (scipy). A cohort that moved on more than
    expected (12) has fewer units left to move on, one that moved on less has more; the open
    pipeline without the (N − s) / (N − p·n) scaling was 15 whatever moved on."""
    n, p = 30, 0.8
    sc = small_scenario(months=3, goal=1e9, top={"monthly": [n, 0, 0], "noise_cv": 0},
                        stages=[{"name": "Top"}, {"name": "Won", "rate": {"fixed": p}, "lag": [0.5, 0.5]}],
                        deal={"median": 100, "p90": 100, "kind": "one_time"}, trials=100)
    months = sc.month_labels
    actuals = Actuals(sc.stage_names, ((months[0], "Top", n), (months[0], "Won", moved)), ((months[0], 100.0 * moved),))
    check = check_in(sc, actuals, months[0], trials=100, reset=False)
    joint = stats.multinomial(n, [p / 2, p / 2, 1 - p])
    later = np.arange(n - moved + 1)
    pmf = joint.pmf(np.stack([np.full_like(later, moved), later, n - moved - later], axis=1))
    oracle = float(np.sum(later * pmf) / np.sum(pmf))
    assert abs(p * check.stages[0].open_pipeline - oracle) <= p / 2 + 1e-9     # a whole number of units


# -- 5. calibration of the reforecast's P(goal) --------------------------------------------------

CAL_YEARS = 300
CAL_AS_OF = 5       # six months of actuals, six left


@pytest.mark.slow          # calibration: thousands of simulated check-ins
def test_reforecast_p_goal_is_calibrated():
    sc = funnel()
    forecast, bands = plan_bands(sc)
    rng = np.random.default_rng(99)
    p_now, hit, error = [], [], []
    for _ in range(CAL_YEARS):
        true = [stage.rate.sample(rng, 1)[0] for stage in sc.stages[1:]]   # from the plan's beliefs
        arrivals, revenue, _ = generate_year(sc, true, rng)
        check = check_in(sc, actuals_through(sc, arrivals, revenue, CAL_AS_OF),
                         sc.month_labels[CAL_AS_OF], bands=bands, p_goal_plan=forecast.p_goal,
                         prior_weight=1.0, trials=500)
        total = sc.baseline_revenue + revenue.sum()
        p_now.append(check.p_goal_now)
        hit.append(total >= sc.goal)
        if check.forecast_now is not None:
            error.append(total - check.forecast_now.revenue.mean)
    p_now, hit, error = np.array(p_now), np.array(hit, dtype=float), np.array(error)
    assert 0.3 < hit.mean() < 0.7                               # a goal worth forecasting
    d = hit - p_now
    assert abs(d.mean()) < 3 * d.std(ddof=1) / math.sqrt(CAL_YEARS), (p_now.mean(), hit.mean())
    # The expected revenue is unbiased too (a more sensitive check of the same thing).
    assert abs(error.mean()) < SE_TOL * error.std(ddof=1) / math.sqrt(error.size), error.mean()
    # Binned: the years called unlikely mostly miss, those called likely mostly hit, each bin
    # agreeing with its own mean prediction (binomial SE under the predictions; + 0.02 for the
    # Monte Carlo error of P(goal) from 500 trials, on which the years are binned).
    low, high = p_now < 0.3, p_now > 0.7
    assert low.sum() >= 30 and high.sum() >= 30
    assert hit[high].mean() - hit[low].mean() > 0.6
    for b in (low, high):
        se = math.sqrt(np.sum(p_now[b] * (1 - p_now[b]))) / b.sum()
        assert abs(hit[b].mean() - p_now[b].mean()) < 3 * se + 0.02


# -- the open pipeline keeps the part of its lag still ahead ----------------------------------------

def test_open_pipeline_closes_when_its_lag_says():
    # Two stages, rate 0.5 known, every conversion arrives exactly one month later. With one
    # month left, the 100 units that entered in the as-of month convert in the last month:
    # customers ~ Binomial(100, 0.5) for certain inside the period.
    sc = small_scenario(months=12, goal=50 * 10 * 100 + 4_000,
                        top={"monthly": [100] * 12, "noise_cv": 0},
                        stages=[{"name": "Top"}, {"name": "Won", "rate": {"fixed": 0.5}, "lag": [0, 1]}],
                        deal={"median": 100, "p90": 100, "kind": "one_time"}, trials=4_000)
    months, a = sc.month_labels, 10
    counts = tuple((months[t], n, c) for t in range(a + 1)
                   for n, c in (("Top", 100), ("Won", 0 if t == 0 else 50)))
    revenue = tuple((months[t], 0.0 if t == 0 else 5_000.0) for t in range(a + 1))
    check = check_in(sc, Actuals(sc.stage_names, counts, revenue), months[a], trials=4_000)
    assert check.stages[0].open_pipeline == 100
    oracle = stats.binom(100, 0.5)
    customers = check.forecast_now.months[0].customers.mean
    assert abs(customers - oracle.mean()) < SE_TOL * oracle.std() / math.sqrt(4_000)
    p = oracle.sf(39)                       # >= 40 customers: 4,000 more revenue
    assert abs(check.p_goal_now - p) < SE_TOL * math.sqrt(p * (1 - p) / 4_000) + 1e-9


# -- 6. unit checks ------------------------------------------------------------------------------

def test_lag_cdf():
    assert np.allclose(lag_cdf((0.2, 0.3, 0.5), 5), [0.2, 0.5, 1.0, 1.0, 1.0])
    assert np.allclose(lag_cdf((0.2, 0.3, 0.5), 2), [0.2, 0.5])
    assert np.allclose(lag_cdf((0.0, 1.0), 3), [0.0, 1.0, 1.0])
    assert np.allclose(lag_cdf((1.0,), 4), [1.0] * 4)


def test_updated_rate_is_the_weighted_beta_binomial_update():
    prior = RateBelief.from_mean_strength(0.3, 20)        # Beta(6, 14)
    w, s, n = 0.4, 7, 25.5
    post = updated_rate(prior, s, n, w)
    a, b = w * 6 + s, w * 14 + n - s
    assert (post.alpha, post.beta) == (pytest.approx(a), pytest.approx(b))
    assert post.mean == pytest.approx(a / (a + b))
    assert np.allclose(post.ppf([0.1, 0.5, 0.9]), stats.beta(a, b).ppf([0.1, 0.5, 0.9]))
    # An exposure below the successes (rounding, late data) counts no failure.
    clamped = updated_rate(prior, 9, 8.0, 1.0)
    assert (clamped.alpha, clamped.beta) == (pytest.approx(6 + 9), pytest.approx(14))
    fixed = RateBelief.fixed(0.25)
    assert updated_rate(fixed, 10, 20, 0.5) is fixed


def _three_stage(**overrides):
    base = dict(months=12, goal=1e9, top={"monthly": [200] * 12, "noise_cv": 0},
                stages=[{"name": "Top"},
                        {"name": "A", "rate": {"mean": 0.4, "strength": 10}, "lag": [0.5, 0.5]},
                        {"name": "Won", "rate": {"mean": 0.5, "strength": 10}, "lag": [0.5, 0.5]}],
                deal={"median": 100, "p90": 100, "kind": "one_time"}, trials=300)
    base.update(overrides)
    return small_scenario(**base)


def _counts(sc, rows, months_done):
    months = sc.month_labels
    return tuple((months[t], name, c) for t in range(months_done) for name, c in rows)


def test_fixed_rate_stays_fixed_through_the_check_in():
    sc = _three_stage(stages=[{"name": "Top"},
                              {"name": "A", "rate": {"fixed": 0.4}, "lag": [0.5, 0.5]},
                              {"name": "Won", "rate": {"mean": 0.5, "strength": 10}, "lag": [0.5, 0.5]}])
    actuals = Actuals(sc.stage_names, _counts(sc, [("Top", 200), ("A", 10), ("Won", 5)], 3), ())
    check = check_in(sc, actuals, sc.month_labels[2], trials=300)
    a = check.stages[1]
    assert a.rate_posterior_mean == 0.4 and a.rate_posterior_p10 is None and a.rate_posterior_p90 is None
    assert a.successes == 30 and a.exposure > 0                 # the data are still reported
    assert check.reforecast.stages[1].rate.is_fixed and check.reforecast.stages[1].rate.mean == 0.4
    assert not check.reforecast.stages[2].rate.is_fixed


@pytest.mark.parametrize("as_of", ["2026-12", "2028-01", "2027-13"])
def test_as_of_outside_the_plan_is_refused(as_of):
    sc = _three_stage()
    with pytest.raises(ScenarioError, match="as-of month"):
        check_in(sc, Actuals(sc.stage_names, (), ()), as_of)


@pytest.mark.parametrize("weight", [0.0, -0.1, 1.5, float("nan")])
def test_prior_weight_outside_0_1_is_refused(weight):
    sc = _three_stage()
    with pytest.raises(ScenarioError, match="prior weight"):
        check_in(sc, Actuals(sc.stage_names, (), ()), sc.month_labels[2], prior_weight=weight)


def test_stage_without_actuals_keeps_its_prior():
    sc = _three_stage()
    months = sc.month_labels
    actuals = Actuals(sc.stage_names, _counts(sc, [("Top", 200), ("A", 70)], 3)
                      + ((months[5], "Won", 40),), ())        # Won only after the as-of month
    check = check_in(sc, actuals, months[2], trials=300)
    won = check.stages[2]
    assert won.status == NO_DATA and won.actual is None
    assert won.rate_posterior_mean is None and won.successes is None and won.naive_rate is None
    assert won.rate_prior_mean == pytest.approx(0.5)
    assert check.reforecast.stages[2].rate == sc.stages[2].rate
    assert check.stages[1].status in (BELOW, INSIDE, ABOVE) and check.stages[1].actual == 210
    assert check.reforecast.stages[1].rate != sc.stages[1].rate   # A was learned
    # A stage with data but no upstream data cannot be learned either.
    only_won = Actuals(sc.stage_names, _counts(sc, [("Top", 200), ("Won", 20)], 3), ())
    check = check_in(sc, only_won, months[2], trials=300)
    assert check.stages[2].actual == 60 and check.stages[2].rate_posterior_mean is None
    assert check.reforecast.stages[2].rate == sc.stages[2].rate


def test_observed_counts_by_stage_and_month():
    sc = _three_stage()
    months = sc.month_labels
    actuals = Actuals(sc.stage_names, ((months[0], "top", 5), (months[2], " A ", 7),
                                       (months[3], "A", 99), ("2026-12", "Top", 1), (months[1], "Other", 3)),
                      ())
    counts = observed_counts(sc, actuals, 2)
    assert set(counts) == {0, 1}
    assert np.array_equal(counts[0], [5, 0, 0]) and np.array_equal(counts[1], [0, 0, 7])


def test_pipeline_override_is_the_reforecast_start_pipeline():
    sc = _three_stage()
    actuals = Actuals(sc.stage_names, _counts(sc, [("Top", 200), ("A", 80), ("Won", 40)], 4), ())
    default = check_in(sc, actuals, sc.month_labels[3], trials=300)
    # Without an override: the units of A whose lag has not elapsed (month 3's half of 80).
    assert default.stages[1].open_pipeline == 40
    check = check_in(sc, actuals, sc.month_labels[3], pipeline={"a": 37}, trials=300)
    assert check.stages[1].open_pipeline == 37
    assert check.reforecast.pipeline_counts()[1] == 37
    assert check.reforecast.pipeline_counts()[0] == default.reforecast.pipeline_counts()[0] == 100


def test_recurring_fees_of_customers_won_come_from_the_as_of_months_revenue():
    # Issue 14.1: the customers won so far pay exactly what the as-of month's revenue says
    # (a monthly fee's revenue in a month is the sum of the fees of every customer won so far),
    # not their count × the mean fee.
    sc = _three_stage(deal={"median": 100.0, "p90": 180.0, "kind": "monthly_recurring"}, baseline_revenue=1_000.0)
    months = sc.month_labels
    revenue = (90.0, 430.0, 610.0, 1_234.5)                        # 28 customers, fees below the mean
    actuals = Actuals(sc.stage_names, _counts(sc, [("Top", 200), ("A", 80), ("Won", 7)], 4),
                      tuple(zip(months[:4], revenue)))
    check = check_in(sc, actuals, months[3], trials=300)
    to_date = 1_000.0 + sum(revenue)
    assert check.revenue_to_date == pytest.approx(to_date)
    assert check.won_fees == pytest.approx(1_234.5 * 8)
    assert check.reforecast.baseline_revenue == pytest.approx(to_date + 1_234.5 * 8)
    assert check.reforecast.months == 8 and check.reforecast.start == months[4]
    assert "1,234 a month" in check.won_fees_note or "1,235 a month" in check.won_fees_note
    assert check.to_dict()["won_fees"] == check.won_fees


def test_recurring_fees_without_the_as_of_revenue_use_the_latest_known_month_and_the_mean_fee():
    sc = _three_stage(deal={"median": 100.0, "p90": 180.0, "kind": "monthly_recurring"})
    months = sc.month_labels
    sigma = math.log(180.0 / 100.0) / Z90
    mean_fee = 100.0 * math.exp(sigma ** 2 / 2)
    counts = _counts(sc, [("Top", 200), ("A", 80), ("Won", 7)], 4)
    # Revenue known through month 1: its customers' fees are known, months 2 and 3's 14 are not.
    known = Actuals(sc.stage_names, counts, ((months[0], 650.0), (months[1], 1_300.0)))
    check = check_in(sc, known, months[3], trials=300)
    assert check.won_fees == pytest.approx((1_300.0 + 14 * mean_fee) * 8)
    assert check.missing_revenue_months == months[2:4]
    assert months[1] in check.won_fees_note and "mean fee" in check.won_fees_note
    # No revenue at all: every customer won at the mean fee.
    none = check_in(sc, Actuals(sc.stage_names, counts, ()), months[3], trials=300)
    assert none.won_fees == pytest.approx(28 * mean_fee * 8)
    # One-time deals: nothing is paid later.
    one_time = check_in(_three_stage(), known, months[3], trials=300)
    assert one_time.won_fees == 0.0 and one_time.won_fees_note == ""


def _conflicted(**overrides):
    """A firm plan (SQLs 35% at strength 600) with actuals at 60% of it."""
    sc = _three_stage(stages=[{"name": "Top"},
                              {"name": "SQLs", "rate": {"mean": 0.35, "strength": 600}, "lag": [1.0]},
                              {"name": "Won", "rate": {"mean": 0.5, "strength": 10}, "lag": [1.0]}],
                      top={"monthly": [200] * 12, "noise_cv": 0}, **overrides)
    return sc, Actuals(sc.stage_names, _counts(sc, [("Top", 200), ("SQLs", 42), ("Won", 21)], 6), ())


def test_a_stage_whose_actuals_contradict_the_plan_is_named_and_its_belief_discounted():
    sc, actuals = _conflicted()
    check = check_in(sc, actuals, sc.month_labels[5], trials=300)
    sqls, won = check.stages[1], check.stages[2]
    # The tail probability is the Beta-Binomial's (scipy), with the exposure of 1,200 units.
    assert sqls.exposure == pytest.approx(1_200)
    predictive = stats.betabinom(1_200, 0.35 * 600, 0.65 * 600)
    assert sqls.conflict_probability == pytest.approx(2 * predictive.cdf(252), rel=1e-6)
    assert sqls.conflict and not won.conflict and check.conflicts == ("SQLs",)
    assert check.funnel_conflict_probability < 0.05
    # The weight: below the one chosen, and the updated rate is the weighted Beta update.
    w = sqls.prior_weight_used
    assert 0 < w < 0.2
    assert sqls.rate_posterior_mean == pytest.approx((w * 210 + 252) / (w * 600 + 1_200))
    assert abs(sqls.rate_posterior_mean - 0.21) < abs(updated_rate(sc.stages[1].rate, 252, 1_200, 1.0).mean - 0.21) / 5
    assert "SQLs" in check.conflict_note and "contradict" in check.conflict_note
    doc = check.to_dict()
    assert doc["conflicts"] == ["SQLs"] and doc["conflict_rule"] is True
    assert doc["stages"][1]["conflict"] is True and doc["stages"][1]["prior_weight_used"] == w
    # Without the rule: the same conflict, reported, the belief at the weight chosen, a suggestion.
    off = check_in(sc, actuals, sc.month_labels[5], trials=300, conflict_rule=False)
    assert off.conflicts == ("SQLs",) and off.stages[1].prior_weight_used == 1.0
    assert off.stages[1].rate_posterior_mean == pytest.approx(updated_rate(sc.stages[1].rate, 252, 1_200, 1.0).mean)
    assert "SQLs" in off.conflict_note and "Consider a lower weight" in off.conflict_note
    # The rule follows the actuals: P(goal) and the expected revenue are lower with it.
    assert check.forecast_now.revenue.mean < off.forecast_now.revenue.mean


def test_no_conflict_no_note_and_the_weight_chosen():
    sc, _ = _conflicted()
    agree = Actuals(sc.stage_names, _counts(sc, [("Top", 200), ("SQLs", 70), ("Won", 35)], 6), ())
    check = check_in(sc, agree, sc.month_labels[5], prior_weight=0.6, trials=300)
    assert check.conflicts == () and check.conflict_note == ""
    assert [s.prior_weight_used for s in check.stages] == [None, 0.6, 0.6]
    assert check.stages[1].conflict_probability > 0.5


def test_the_reforecast_without_the_reset_search():
    sc = _three_stage(goal=60_000.0)
    actuals = Actuals(sc.stage_names, _counts(sc, [("Top", 200), ("A", 80), ("Won", 40)], 4), ())
    full = check_in(sc, actuals, sc.month_labels[3], trials=300)
    quick = check_in(sc, actuals, sc.month_labels[3], trials=300, reset=False)
    assert full.reset is not None and quick.reset is None and quick.reset_note == "The reset was not searched."
    assert quick.forecast_now == full.forecast_now and quick.reforecast == full.reforecast


def test_plan_bands_take_one_seed_an_int_or_a_generator():
    sc = small_scenario(trials=500, top={"monthly": [1000], "noise_cv": 0.2},
                        stages=[{"name": "Top", "owner": "marketing"},
                                {"name": "Won", "owner": "sales", "rate": {"mean": 0.1, "strength": 20}}])
    # The engine's convention: an int seed, or a generator from which the run's random numbers
    # are keyed (not the same numbers as its int seed); either way simulate()'s numbers.
    by_int = plan_bands(sc, seed=7)
    by_generator = plan_bands(sc, seed=make_rng(7))
    assert by_int.forecast == simulate(sc, seed=7)
    assert by_generator.forecast == simulate(sc, seed=make_rng(7))
    assert (by_int.forecast.seed, by_generator.forecast.seed) == (7, None)     # a generator has no seed to record
    forecast, bands = plan_bands(sc)                                           # unpacks as a pair
    assert forecast.seed == sc.seed and len(bands) == len(by_int.bands)
