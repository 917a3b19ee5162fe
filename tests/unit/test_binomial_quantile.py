"""The exact binomial quantile function against scipy, its error bound, and its monotonicity."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.model.binomial_quantile import LARGE_VARIANCE, _edgeworth_cdf, binomial_quantile, uspensky_bound


def assert_equals_scipy(u, n, p):
    got = binomial_quantile(u, n, p)
    want = stats.binom.ppf(u, n, p)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, [(u[i], n[i], p[i], got[i], want[i]) for i in bad[:5]]


REGIMES = {
    # name: (n sampler, p sampler)
    "small means (search from 0)": (lambda r, m: np.floor(r.uniform(0, 80, m)), lambda r, m: r.uniform(0.0, 0.6, m)),
    # Most answers 0: the few elements that search on are gathered first (above: most search on,
    # and are worked on in place until the first compaction).
    "mostly zeros": (lambda r, m: np.floor(r.uniform(1, 50, m)), lambda r, m: 10 ** r.uniform(-5, -1.7, m)),
    "demo-like cohorts": (lambda r, m: np.floor(r.uniform(1e4, 1.5e4, m)), lambda r, m: r.uniform(1e-4, 6e-4, m)),
    "thousands, any p": (lambda r, m: np.floor(r.uniform(100, 5000, m)), lambda r, m: r.uniform(0.0, 1.0, m)),
    "p near 1 (near tail)": (lambda r, m: np.floor(r.uniform(1, 1e6, m)), lambda r, m: 1 - 10 ** r.uniform(-9, -1, m)),
    "tiny p, huge n": (lambda r, m: np.floor(10 ** r.uniform(6, 12, m)), lambda r, m: 10 ** r.uniform(-14, -5, m)),
    "huge n, any p": (lambda r, m: np.floor(10 ** r.uniform(6, 12, m)), lambda r, m: r.uniform(0.0, 1.0, m)),
    "any n up to 1e9": (lambda r, m: np.floor(10 ** r.uniform(0, 9, m)), lambda r, m: r.uniform(0.0, 1.0, m)),
}


#: Regimes whose scipy oracle alone takes seconds (binom.ppf at n up to 1e12): the slow tier.
SLOW_REGIMES = {"huge n, any p"}


@pytest.mark.parametrize("regime", [pytest.param(r, marks=pytest.mark.slow) if r in SLOW_REGIMES else r
                                    for r in sorted(REGIMES)])
def test_equals_scipy_on_random_draws(regime):
    rng = np.random.default_rng(sorted(REGIMES).index(regime))
    n_of, p_of = REGIMES[regime]
    m = 150_000
    assert_equals_scipy(rng.random(m), n_of(rng, m), p_of(rng, m))


def test_edges():
    u = np.array([1e-15, 1e-9, 0.5 + 1e-9, 1 - 1e-9, 0.3, 0.7])
    for n in (0.0, 1.0, 2.0, 25.0, 1e3, 1e9, 1e12):
        for p in (0.0, 1e-300, 1e-15, 1e-6, 0.5, 1 - 1e-12, 1.0):
            nn, pp = np.full(u.size, n), np.full(u.size, p)
            assert_equals_scipy(u, nn, pp)
    # u beyond the largest CDF value below 1: scipy's search stops one short of the answer
    # (F(0) = 1 - 1e-15 < u, so the smallest x with F(x) >= u is 1).
    assert binomial_quantile(1 - 2 ** -53, 1, 1e-15) == 1
    assert binomial_quantile(0.3, 0, 0.5) == 0
    assert binomial_quantile(0.3, 10, 1.0) == 10
    assert binomial_quantile(0.99, 10, 0.0) == 0
    assert binomial_quantile(np.full((2, 3), 0.5), 100, 0.5).shape == (2, 3)


def test_beyond_1e12_it_is_the_quantile_of_scipys_cdf():
    # Up to 2**53 (where float64 stops holding every whole number). There scipy's binom.ppf
    # disagrees with its own binom.cdf in the last digits, so the oracle is the definition
    # with scipy's CDF: F(x - 1) < u <= F(x).
    rng = np.random.default_rng(99)
    m = 3_000
    u, n, p = rng.random(m), np.floor(10 ** rng.uniform(12, 15.9, m)), rng.uniform(0, 1, m)
    x = binomial_quantile(u, n, p).astype(np.float64)
    def cdf(k):
        return stats.binom.cdf(k, n, p)
    assert np.all(cdf(x) >= u) and np.all((x == 0) | (cdf(x - 1) < u))


def test_uspensky_bound_holds_on_a_dense_grid():
    # The corrected normal approximation G is trusted where u is farther than the bound from
    # G at a cell's ends: check |F(x) - G(x)| <= bound on a dense grid of (n, p) with
    # n·p·q >= 25, for every x within 12 standard deviations of the mean.
    worst = 0.0
    for p in np.concatenate([np.geomspace(1e-5, 0.5, 25), [0.5]]):
        var_min = LARGE_VARIANCE / (p * (1 - p))
        for n in np.unique(np.floor(np.geomspace(var_min, var_min * 2e3, 24)) + 1):
            mean, sd = n * p, np.sqrt(n * p * (1 - p))
            x = np.arange(max(0, np.floor(mean - 12 * sd)), min(n, np.ceil(mean + 12 * sd)) + 1)
            exact = stats.binom.cdf(x, n, p)
            approx = _edgeworth_cdf(x, mean, sd, 1 - 2 * p)
            ratio = np.max(np.abs(exact - approx)) / uspensky_bound(n, p)
            worst = max(worst, ratio)
    assert worst <= 1.0, worst
    assert worst > 0.05          # the bound is not vacuous: the error comes near it


def test_nondecreasing_in_n_p_and_u():
    rng = np.random.default_rng(7)
    m = 200_000
    u = rng.random(m)
    n = np.floor(10 ** rng.uniform(0, 7, m))
    p = rng.uniform(0, 1, m)
    x = binomial_quantile(u, n, p)
    assert np.all(binomial_quantile(u, n + 1, p) >= x)
    assert np.all(binomial_quantile(u, n + np.floor(n * 0.01) + 1, p) >= x)
    assert np.all(binomial_quantile(u, n, np.minimum(1, p * 1.0001)) >= x)
    assert np.all(binomial_quantile(u, n, np.minimum(1, p + 0.01)) >= x)
    assert np.all(binomial_quantile(np.minimum(1, u + 1e-3), n, p) >= x)
    # ... and rises by at most one when n rises by one (Bin(n+1) <= Bin(n) + 1).
    assert np.all(binomial_quantile(u, n + 1, p) <= x + 1)
