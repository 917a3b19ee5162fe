"""CdfLookup gives exactly np.searchsorted(edges, u, side="right") for uniforms in [0, 1)."""

import numpy as np
import pytest

from sim.model.cdf_lookup import BINS, CdfLookup


def _edges(pmf):
    cdf = np.cumsum(np.asarray(pmf, dtype=np.float64) / np.sum(pmf))
    cdf[-1] = 1.0
    return cdf[:-1]


# Uniforms at random, at every bin's left end and just below every bin's right end.
_U = np.concatenate([np.random.default_rng(7).random(200_000), np.arange(BINS) / BINS,
                     np.nextafter(np.arange(1, BINS + 1) / BINS, 0.0)])


@pytest.mark.parametrize("pmf", [
    [1.0],                                                     # one month: no edges
    [0.25, 0.25, 0.25, 0.25],                                  # edges on bin boundaries
    [0.05, 0.1, 0.15, 0.15, 0.12, 0.1, 0.09, 0.08, 0.06, 0.05, 0.03, 0.02],
    [0.0, 0.0, 0.5, 0.0, 0.5],                                 # months with no chance
    [1e-9, 1e-7, 0.3, 0.0, 0.0, 0.7, 1e-12],                   # several edges in one bin
])
def test_the_lookup_is_searchsorted(pmf):
    edges = _edges(pmf)
    assert np.array_equal(CdfLookup(edges).index(_U), np.searchsorted(edges, _U, side="right"))


def test_random_month_distributions_with_tiny_months():
    rng = np.random.default_rng(11)
    for _ in range(50):
        pmf = rng.dirichlet(np.full(rng.integers(2, 40), 0.3))   # many months below 1/BINS
        edges = _edges(pmf)
        u = rng.random(20_000)
        assert np.array_equal(CdfLookup(edges).index(u), np.searchsorted(edges, u, side="right"))
