"""Deal-value sums: exact where exact, the validated bulk within its stated KS error, monotone
in the count, and the exact-distribution oracle they are validated against."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from scripts.validate_deal_value_sums import brute_force_sums, engine_sums, ks_against_oracle, oracle_window
from sim.model.beliefs import Z90
from sim.model.deal_value_sums import EXACT_TOP, MAX_KS, VALIDATION, ValueSums
from sim.model.lognormal_sum_cdf import lognormal_sum_cdf
from sim.model.positional_random import VALUES, RandomSource


def sigma_of(skew):
    return np.log(skew) / Z90


def test_a_fixed_deal_sums_exactly():
    vs = ValueSums(1000.1, 0.0)
    counts = np.array([0, 1, 10, 12345, 10 ** 9])
    assert np.array_equal(vs.sums(counts, np.zeros(5, dtype=np.uint64)), counts * 1000.1)
    assert vs.sums(np.array([10]), np.zeros(1, dtype=np.uint64))[0] >= 10001   # 14.4's boundary


@pytest.mark.parametrize("m", range(1, EXACT_TOP + 1))
def test_up_to_the_exact_top_the_sum_is_exact(m):
    # m <= EXACT_TOP: the sum is the sum of m order statistics, the exact law (no bulk).
    sigma, n = sigma_of(22.0), 400_000
    got = engine_sums(sigma, m, n, seed=m)
    want = brute_force_sums(sigma, m, n, np.random.default_rng(m))
    assert stats.ks_2samp(got, want).statistic <= 1.63 * np.sqrt(2 / n)       # 99% noise level


@pytest.mark.parametrize("skew, m", [(1.05, 40), (2.0, 12), (22.0, 100), (5.0, 256)])
def test_bulk_against_brute_force_sums(skew, m):
    n = 300_000
    got = engine_sums(sigma_of(skew), m, n, seed=11)
    want = brute_force_sums(sigma_of(skew), m, n, np.random.default_rng(12))
    assert stats.ks_2samp(got, want).statistic <= MAX_KS


@pytest.mark.parametrize("skew, m", [(1.05, 100_000), (2.0, 1_000_000), (22.0, 3_000), (30.0, 1_000_000)])
def test_bulk_against_the_exact_distribution(skew, m):
    sample = engine_sums(sigma_of(skew), m, 300_000, seed=21)
    assert ks_against_oracle(sample, sigma_of(skew), m, points=2 ** 19) <= MAX_KS


def test_the_committed_validation_covers_the_range_and_meets_the_bound():
    skews = sorted({s for s, _, _ in VALIDATION})
    counts = sorted({m for _, m, _ in VALIDATION})
    assert skews[0] <= 1.05 and skews[-1] >= 22
    assert counts[0] <= EXACT_TOP + 1 and counts[-1] >= 1_000_000
    assert len(VALIDATION) == len(skews) * len(counts)          # every pair
    assert max(ks for _, _, ks in VALIDATION) <= MAX_KS <= 0.005


def test_the_oracle_matches_brute_force_and_a_finer_lattice():
    for skew, m in [(1.05, 800), (22.0, 200)]:
        sigma = sigma_of(skew)
        exact = brute_force_sums(sigma, m, 250_000, np.random.default_rng(5))
        window = oracle_window(exact)
        x, cdf, outside = lognormal_sum_cdf(sigma, m, *window, points=2 ** 19)
        x2, cdf2, _ = lognormal_sum_cdf(sigma, m, *window, points=2 ** 20)
        assert outside < 1e-6
        assert np.max(np.abs(np.interp(x, x2, cdf2) - cdf)) < 3e-4
        s = np.sort(exact)
        f = np.interp(s, x, cdf)
        k = np.arange(1, s.size + 1) / s.size
        assert max(np.max(k - f), np.max(f - k + 1 / s.size)) <= 1.63 / np.sqrt(s.size)


@pytest.mark.parametrize("skew", [1.05, 2.0, 8.0, 22.0, 100.0])
def test_the_sum_never_decreases_when_the_count_rises(skew):
    # Same stream, counts 1 .. 400 then up to 1e12: pathwise nondecreasing (by construction).
    counts = np.unique(np.concatenate([np.arange(0, 401), np.floor(np.geomspace(400, 1e12, 300))]))
    cells = 2_000
    states = RandomSource.from_seed(3).cell_states(VALUES, np.arange(cells), 0)
    vs = ValueSums(1.0, sigma_of(skew))
    grid = np.stack([vs.sums(np.full(cells, m), states) for m in counts])     # (counts, cells)
    assert np.all(np.diff(grid, axis=0) >= 0)
    assert np.all(grid[1:] > 0)
