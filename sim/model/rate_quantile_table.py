"""Conversion rates drawn by inversion: p = Q(U), Q the quantile function of the rate's belief.

Inversion makes a trial's rate rise when the belief rises (a belief whose quantile function is
higher everywhere gives a higher rate for the same uniform), which the monotone coupling of
the engine needs. The exact Beta quantile (``scipy.special.betaincinv``) costs about half a
microsecond a value, too slow for millions of trials, so each belief gets a table of its
quantiles at u = k / GRID (k = 0 .. GRID), interpolated linearly:

* **Error bound.** For u in [k/GRID, (k+1)/GRID] the interpolated rate lies between Q(k/GRID)
  and Q((k+1)/GRID), so P(rate <= x) differs from the Beta CDF F(x) by at most 1/GRID
  (= 2**-14 ≈ 6.1e-5) for every x from the smallest normal double (2.2e-308) up: the drawn
  rates follow the belief within that Kolmogorov distance (``tests/unit/test_rate_quantile_table.py``
  computes it exactly). Quantiles below 2.2e-308 (a belief with mass that close to 0) are
  drawn as 0.
* **Order.** Two beliefs whose tables are ordered at every grid point give ordered rates for
  every uniform (the interpolation weights are the same): raising a belief never lowers a rate.

Fixed rates need no table: they are exact.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import special

GRID_BITS = 14
GRID = 2 ** GRID_BITS
#: Kolmogorov distance between the drawn rates and the Beta belief, at most.
CDF_ERROR_BOUND = 1.0 / GRID


@lru_cache(maxsize=512)
def beta_quantile_table(alpha: float, beta: float) -> np.ndarray:
    """Q(k / GRID) for k = 0 .. GRID of Beta(alpha, beta), nondecreasing (read-only array)."""
    levels = np.arange(1, GRID) / GRID
    inner = special.betaincinv(float(alpha), float(beta), levels)
    table = np.concatenate([[0.0], inner, [1.0]])
    table = np.clip(np.nan_to_num(table, nan=0.0), 0.0, 1.0)
    # Quantiles below the smallest normal double come back as that number: they are 0 here.
    table[table <= np.finfo(np.float64).tiny] = 0.0
    table = np.maximum.accumulate(table)     # betaincinv can wobble by an ulp in far tails
    table.setflags(write=False)
    return table


def rates_from_uniforms(table: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Linear interpolation of the quantile table at uniforms ``u`` in [0, 1]."""
    x = u * GRID
    i = np.minimum(x.astype(np.int64), GRID - 1)
    f = x - i
    return table[i] * (1.0 - f) + table[i + 1] * f
