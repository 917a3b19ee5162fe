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

import threading
from functools import lru_cache

import numpy as np
from scipy import special

GRID_BITS = 14
GRID = 2 ** GRID_BITS
#: Kolmogorov distance between the drawn rates and the Beta belief, at most.
CDF_ERROR_BOUND = 1.0 / GRID


class BetaQuantileTable:
    """The table Q(k / GRID) of Beta(alpha, beta), each entry computed the first time a uniform
    needs it (the same number as in the whole table: one ``betaincinv`` per entry either way).

    A first answer from 2,048 trials needs about a quarter of the entries, so it does not wait for the
    whole table; the whole run then computes the rest. Safe to share between threads."""

    def __init__(self, alpha: float, beta: float):
        self.alpha, self.beta = float(alpha), float(beta)
        self._values = np.full(GRID + 1, np.nan)
        self._values[0], self._values[GRID] = 0.0, 1.0
        self._whole = False
        self._lock = threading.Lock()

    def rates(self, u: np.ndarray) -> np.ndarray:
        """Linear interpolation of the table at uniforms ``u`` in [0, 1]."""
        i, f = _cells(u)
        return _interpolate(self._values if self._whole else self._filled(i), i, f)

    @property
    def computed(self) -> int:
        """How many entries have been computed so far."""
        return int(np.count_nonzero(~np.isnan(self._values)))

    def whole(self) -> np.ndarray:
        """Every entry, nondecreasing (a read-only array)."""
        if not self._whole:
            with self._lock:
                self._fill(np.flatnonzero(np.isnan(self._values)))
        return self._values

    def _filled(self, i: np.ndarray) -> np.ndarray:
        """The table with (at least) the entries i and i + 1 computed."""
        need = np.zeros(GRID + 1, dtype=bool)
        need[i] = True
        need[i + 1] = True
        with self._lock:
            self._fill(np.flatnonzero(need & np.isnan(self._values)))
        return self._values

    def _fill(self, missing: np.ndarray) -> None:
        """Compute the entries ``missing`` (called with the lock held)."""
        if missing.size:
            values = self._values
            values.setflags(write=True)
            values[missing] = _quantiles(self.alpha, self.beta, missing / GRID)
            known = values[~np.isnan(values)]
            if np.any(known[1:] < known[:-1]):
                # betaincinv can wobble by an ulp in far tails: then every entry, made nondecreasing
                rest = np.flatnonzero(np.isnan(values))
                values[rest] = _quantiles(self.alpha, self.beta, rest / GRID)
                np.maximum.accumulate(values, out=values)
        self._whole = not np.isnan(self._values).any()
        if self._whole:
            self._values.setflags(write=False)


def _quantiles(alpha: float, beta: float, levels: np.ndarray) -> np.ndarray:
    """Beta quantiles at ``levels`` in (0, 1), those below the smallest normal double as 0."""
    q = np.clip(np.nan_to_num(special.betaincinv(alpha, beta, levels), nan=0.0), 0.0, 1.0)
    q[q <= np.finfo(np.float64).tiny] = 0.0
    return q


@lru_cache(maxsize=512)
def quantile_table(alpha: float, beta: float) -> BetaQuantileTable:
    """The (shared, lazily filled) quantile table of Beta(alpha, beta)."""
    return BetaQuantileTable(alpha, beta)


def beta_quantile_table(alpha: float, beta: float) -> np.ndarray:
    """Q(k / GRID) for k = 0 .. GRID of Beta(alpha, beta), nondecreasing (read-only array)."""
    return quantile_table(float(alpha), float(beta)).whole()


def rates_from_uniforms(table: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Linear interpolation of the quantile table at uniforms ``u`` in [0, 1]."""
    return _interpolate(table, *_cells(u))


def _cells(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The grid cell of each uniform and the position within it."""
    x = u * GRID
    i = np.minimum(x.astype(np.int64), GRID - 1)
    return i, x - i


def _interpolate(table: np.ndarray, i: np.ndarray, f: np.ndarray) -> np.ndarray:
    return table[i] * (1.0 - f) + table[i + 1] * f
