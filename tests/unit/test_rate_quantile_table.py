"""Rates by inversion of a Beta quantile table: the stated CDF error bound, order, constants."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from sim.model.beliefs import Z90, RateBelief
from sim.model.engine import _Model, _rates
from sim.model.forecast import Z975
from sim.model.positional_random import RandomSource
from sim.model.rate_quantile_table import (
    CDF_ERROR_BOUND,
    GRID,
    BetaQuantileTable,
    beta_quantile_table,
    rates_from_uniforms,
)

from ..conftest import ROOT, small_scenario

BELIEFS = [(0.5, 0.7), (3.0, 1.5), (20.0, 50.0), (211.0, 391.0), (1.0, 1e12 + 1),
           pytest.param(1e9, 1e9, marks=pytest.mark.slow),      # scipy's Beta CDF alone takes seconds here
           (1.5e-3, 3.0), (4239.0, 2474.0)]


@pytest.mark.parametrize("alpha, beta", BELIEFS)
def test_drawn_rates_are_within_the_bound_of_the_belief(alpha, beta):
    # The interpolated quantile function Q̂ is nondecreasing and piecewise linear, so the
    # drawn rate's CDF is exactly P(Q̂(U) <= x) = Q̂^-1(x): compare it with the Beta CDF at
    # every node and between nodes.
    table = beta_quantile_table(alpha, beta)
    inner = (table[1:] + table[:-1]) / 2
    x = np.unique(np.concatenate([table, inner, np.linspace(table[1], table[-2], 5000)]))
    x = x[(x >= np.finfo(np.float64).tiny) & (x < 1)]      # the bound's range
    # P(Q̂(U) <= x): the last node at or below x, then linear within its segment (nodes may
    # repeat where the Beta's mass sits below the smallest double).
    k = np.searchsorted(table, x, side="right")           # table[k-1] <= x < table[k]
    lo, hi = table[k - 1], table[np.minimum(k, GRID)]
    frac = np.where(hi > lo, (x - lo) / np.where(hi > lo, hi - lo, 1.0), 0.0)
    drawn_cdf = (k - 1 + frac) / GRID
    error = np.max(np.abs(drawn_cdf - stats.beta.cdf(x, alpha, beta)))
    assert error <= CDF_ERROR_BOUND * (1 + 1e-9), error
    # ... and sampled rates agree with the belief (a check of rates_from_uniforms itself; where
    # the belief has mass below 2.2e-308, the KS statistic would sit at 0, outside the bound).
    u = np.random.default_rng(1).random(200_000)
    rates = rates_from_uniforms(table, u)
    assert table[1] == 0 or stats.kstest(rates, stats.beta(alpha, beta).cdf).statistic <= CDF_ERROR_BOUND + 1.63 / np.sqrt(u.size)


@pytest.mark.parametrize("alpha, beta", [(47.9, 2138.4), (0.5, 0.7), (1.5e-3, 3.0), (4239.0, 2474.0)])
def test_a_table_filled_where_the_uniforms_need_it_gives_the_whole_tables_rates(alpha, beta):
    """A first answer's 2,048 uniforms compute about a quarter of the entries, and every rate, then
    and after the rest is filled from several threads at once, is the whole table's (bit for bit)."""
    from concurrent.futures import ThreadPoolExecutor
    whole = BetaQuantileTable(alpha, beta).whole()
    assert np.all(np.diff(whole) >= 0) and whole[0] == 0 and whole[-1] == 1
    lazy = BetaQuantileTable(alpha, beta)
    rng = np.random.default_rng(3)
    first = rng.random(2048)
    assert np.array_equal(lazy.rates(first), rates_from_uniforms(whole, first))
    assert 2 < lazy.computed < 0.3 * GRID
    batches = [rng.random(50_000) for _ in range(8)]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lazy.rates, batches))
    for u, rates in zip(batches, got):
        assert np.array_equal(rates, rates_from_uniforms(whole, u))
    assert np.array_equal(lazy.whole(), whole) and lazy.computed == GRID + 1


def test_a_higher_belief_gives_a_higher_rate_for_every_uniform():
    u = np.random.default_rng(2).random(100_000)
    pairs = [((6.0, 14.0), (7.0, 14.0)), ((6.0, 14.0), (6.0, 13.0)),          # alpha up, beta down
             ((0.35 * 60, 0.65 * 60), (0.36 * 60, 0.64 * 60)),                 # mean up, same strength
             ((211.0, 391.0), (212.0, 390.0))]                                 # one more success
    for low, high in pairs:
        a = rates_from_uniforms(beta_quantile_table(*low), u)
        b = rates_from_uniforms(beta_quantile_table(*high), u)
        assert np.all(b >= a)
        assert np.mean(b > a) > 0.99


def test_the_engine_draws_fixed_rates_exactly():
    sc = small_scenario(stages=[{"name": "Top"}, {"name": "A", "rate": {"fixed": 0.1}},
                                {"name": "B", "rate": {"mean": 0.3, "strength": 10}}])
    rates = _rates(_Model(sc), RandomSource.from_seed(1), 0, 1000)
    assert np.all(rates[:, 0] == 1.0) and np.all(rates[:, 1] == 0.1)
    assert rates[:, 2].std() > 0


def test_constants_equal_scipys_values():
    assert Z90 == float(stats.norm.ppf(0.9))
    assert Z975 == float(stats.norm.ppf(0.975))


def test_importing_beliefs_does_not_import_scipy():
    # The beliefs module must not need scipy at import (Z90 is a literal): import it alone in
    # a fresh interpreter (``import sim`` loads nothing eagerly).
    code = ("import sys; import sim.model.beliefs; "
            "print(sorted(m for m in sys.modules if m == 'scipy' or m.startswith('scipy.')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    belief = RateBelief.from_quantiles(0.2, 0.35)        # and it still works (scipy imported then)
    assert belief.ppf(0.1) == pytest.approx(0.2, rel=1e-4)
