"""Prior–data conflict (sim.model.prior_conflict): the Beta-Binomial tail probability, the
empirical power-prior weight, Fisher's combination and the rule that applies them.

Oracles: the Beta-Binomial pmf written out from log-gamma functions (math.lgamma), summed by
hand for the tails; a dense grid over the weight for the maximum likelihood;
``scipy.stats.chi2`` for Fisher's statistic; a plain numpy simulation of the prior predictive
for the size of the test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.model.prior_conflict import (
    CONFLICT_LEVEL,
    MIN_WEIGHT,
    Evidence,
    combined_probability,
    empirical_weight,
    weigh,
)


def betabinom_pmf(s: int, n: int, a: float, b: float) -> float:
    """C(n, s) · B(s + a, n − s + b) / B(a, b), from log-gamma functions."""
    def log_beta(x, y):
        return math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)
    log_comb = math.lgamma(n + 1) - math.lgamma(s + 1) - math.lgamma(n - s + 1)
    return math.exp(log_comb + log_beta(s + a, n - s + b) - log_beta(a, b))


def two_sided(s: int, n: int, a: float, b: float) -> float:
    pmf = [betabinom_pmf(x, n, a, b) for x in range(n + 1)]
    return min(1.0, 2 * min(sum(pmf[:s + 1]), sum(pmf[s:])))


@pytest.mark.parametrize("a, b, s, n", [(211, 391, 113, 460), (211, 391, 161, 460), (211, 391, 205, 460),
                                        (6, 14, 0, 25), (6, 14, 25, 25), (0.5, 0.5, 3, 10),
                                        (48, 2138, 1100, 72_000)])     # the demo's lead rate, 30% low
def test_conflict_probability_is_the_two_sided_beta_binomial_tail(a, b, s, n):
    got = Evidence(a, b, s, n).conflict_probability()
    assert got == pytest.approx(two_sided(s, n, a, b), rel=1e-6, abs=1e-300)
    # As far out as the SQL stage of the worse world: a conflict; at the predicted mean: none.
    if (a, s) == (211, 113):
        assert got < 1e-3
    if (a, s) == (211, 161):
        assert got > 0.9


def test_exposure_is_rounded_and_never_below_the_successes():
    assert Evidence(6, 14, 7, 24.6).trials == 25
    assert Evidence(6, 14, 9, 8.2).trials == 9                  # late data: no negative failures
    assert Evidence(6, 14, 0, 0.2).conflict_probability() == 1.0   # nothing observed yet


def test_a_stage_is_flagged_at_most_5_percent_of_the_time_when_the_plan_is_right():
    # Under the prior predictive the flag rate is exactly sum of pmf over flagged counts (≤ 5%:
    # the two-sided tail of a discrete distribution is conservative); a simulation agrees.
    a, b, n = 21.0, 39.0, 150
    flagged = [s for s in range(n + 1) if Evidence(a, b, s, n).conflict_probability() < CONFLICT_LEVEL]
    rate = sum(betabinom_pmf(s, n, a, b) for s in flagged)
    assert 0.03 < rate <= CONFLICT_LEVEL
    rng = np.random.default_rng(14)
    draws = rng.binomial(n, rng.beta(a, b, size=40_000))
    simulated = np.isin(draws, flagged).mean()
    assert abs(simulated - rate) < 4 * math.sqrt(rate * (1 - rate) / 40_000)


def grid_best(evidence, cap=1.0):
    grid = np.exp(np.linspace(math.log(MIN_WEIGHT), math.log(cap), 4_001))
    ll = [sum(math.log(max(betabinom_pmf(int(e.successes), e.trials, w * e.alpha, w * e.beta), 1e-320))
              for e in evidence) for w in grid]
    return grid[int(np.argmax(ll))], max(ll)


@pytest.mark.parametrize("evidence", [
    [Evidence(211, 391, 113, 460)],                                  # strong conflict: a small weight
    [Evidence(211, 391, 140, 460)],                                  # mild
    [Evidence(211, 391, 161, 460)],                                  # agreement: the cap
    [Evidence(21, 39, 30, 150), Evidence(211, 391, 113, 460)],       # one weight for two stages
])
def test_empirical_weight_maximises_the_beta_binomial_likelihood(evidence):
    w = empirical_weight(evidence)
    best, best_ll = grid_best(evidence)
    ll = sum(math.log(betabinom_pmf(int(e.successes), e.trials, w * e.alpha, w * e.beta)) for e in evidence)
    assert ll >= best_ll - 1e-6
    assert w == pytest.approx(best, rel=0.01)
    assert MIN_WEIGHT <= w <= 1.0


def test_empirical_weight_of_a_strong_conflict_matches_the_predictive_variance():
    # The weight at which the prior predictive's variance, n·m(1−m)·(1 + (n−1)/(w·A + 1)), equals
    # the squared miss: the likelihood's maximum sits close to it (a moment check).
    a, b, n, s = 211.0, 391.0, 460, 113
    m = a / (a + b)
    miss = (s - n * m) ** 2
    w_moment = ((n - 1) / (miss / (n * m * (1 - m)) - 1) - 1) / (a + b)
    assert empirical_weight([Evidence(a, b, s, n)]) == pytest.approx(w_moment, rel=0.35)


def test_the_weight_never_exceeds_the_one_chosen():
    e = Evidence(211, 391, 161, 460)
    assert empirical_weight([e], cap=0.3) == pytest.approx(0.3)
    assert empirical_weight([Evidence(211, 391, 113, 460)], cap=0.3) < 0.3


def test_fisher_combination_against_the_chi_square():
    p = [0.2, 0.03, 0.5]
    statistic = -2 * sum(math.log(x) for x in p)
    assert combined_probability(p) == pytest.approx(stats.chi2.sf(statistic, 2 * len(p)))
    assert combined_probability([0.04]) == 0.04


def test_weigh_leaves_beliefs_the_actuals_agree_with_alone():
    evidence = [None, Evidence(21, 39, 52, 150), Evidence(211, 391, 160, 460)]
    out = weigh(evidence, 0.7)
    assert out.weights == (None, 0.7, 0.7) and out.funnel_weight is None
    assert out.stage_probability[0] is None and all(p > 0.5 for p in out.stage_probability[1:])
    assert out.funnel_probability > CONFLICT_LEVEL


def test_weigh_lowers_every_belief_when_the_funnel_is_in_conflict():
    evidence = [None, Evidence(21, 39, 40, 150), Evidence(211, 391, 113, 460)]
    out = weigh(evidence, 1.0)
    seen = [e for e in evidence if e is not None]
    assert out.funnel_probability < CONFLICT_LEVEL
    assert out.funnel_weight == pytest.approx(empirical_weight(seen))
    # The stage not in conflict on its own takes the common weight; the one in conflict the
    # lower of the common weight and its own.
    assert out.stage_probability[1] > CONFLICT_LEVEL > out.stage_probability[2]
    assert out.weights[1] == out.funnel_weight
    assert out.weights[2] == pytest.approx(min(out.funnel_weight, empirical_weight([evidence[2]])))
    # Without the rule: the conflict is measured, the weights stay.
    off = weigh(evidence, 1.0, rule=False)
    assert off.weights == (None, 1.0, 1.0) and off.funnel_weight is None
    assert off.stage_probability == out.stage_probability
