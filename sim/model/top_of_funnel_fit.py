"""The top of the funnel from its monthly history: level, growth, noise and seasonality.

A log-linear trend is fitted by least squares to the months with a volume,
``ln y_t = a + b·t (+ s_month) + ε_t``; with :data:`SEASONAL_MONTHS` months or more, twelve
month-of-year effects ``s`` (summing to 0) are fitted too. Then:

* **growth** per month: e^b − 1, when the history shows one: a slope within
  :data:`GROWTH_SE` standard errors of 0 is noise, and the plan would extrapolate it over all
  its months (six months of 3% month-to-month noise give a slope of ±0.7% a month, ±5% after a
  year), so the trend is refitted without it and the growth is 0 (``slope_fitted`` and
  ``slope_se`` keep what was seen);
* **level**: the mean volume the trend gives at the plan's first month, e^(a + b·t)·e^(σ²/2)
  (the plan is a mean: the model multiplies it by a noise of mean 1);
* **noise_cv**: the month-to-month variation left around the trend, √(e^σ² − 1), less the
  part the counting alone explains (1 / the mean volume, Poisson): √(max(e^σ² − 1 − 1/ȳ, 0));
* **seasonality**: e^s per calendar month, and ``top.monthly`` for the plan's months.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Months with a volume needed for a trend.
MIN_TOP_MONTHS = 3
#: Months in the window needed for seasonality (each calendar month seen twice).
SEASONAL_MONTHS = 24
MAX_GROWTH = 1.0
#: A slope is kept as growth when it is at least this many standard errors from 0.
GROWTH_SE = 2.0
MAX_NOISE_CV = 2.0


@dataclass(frozen=True)
class TopFit:
    intercept: float                 # a: ln volume at month index ``origin``
    slope: float                     # b
    origin: int                      # month index where t = 0
    sigma: float                     # residual standard deviation of ln volume
    noise_cv: float
    seasonal: tuple[float, ...] | None   # e^s for January .. December, or None
    months_used: int
    months_zero: int                 # months with a count of 0 (left out of the log fit)
    mean_volume: float
    slope_fitted: float = 0.0        # the slope of the first fit, kept or not
    slope_se: float = 0.0            # its standard error (0: not estimable, too few months)

    @property
    def growth_kept(self) -> bool:
        """Whether the history shows a growth (the slope is at least GROWTH_SE errors from 0)."""
        return self.slope == self.slope_fitted

    @property
    def growth(self) -> float:
        return min(math.expm1(self.slope), MAX_GROWTH)

    def mean_at(self, months) -> np.ndarray:
        """The fitted mean volume of each month index (the trend, the season, the noise's mean)."""
        t = np.asarray(months, dtype=float)
        log = self.intercept + self.slope * (t - self.origin) + self.sigma ** 2 / 2
        if self.seasonal is not None:
            moy = np.asarray(months, dtype=int) % 12
            log = log + np.log(np.asarray(self.seasonal))[moy]
        return np.exp(log)

    def trend_at(self, months) -> np.ndarray:
        """The trend alone (no season), as a mean volume."""
        t = np.asarray(months, dtype=float)
        return np.exp(self.intercept + self.slope * (t - self.origin) + self.sigma ** 2 / 2)


def fit_top_of_funnel(counts, stated, first: int) -> TopFit | None:
    """The fit of the monthly ``counts`` (month indices ``first``, ``first + 1``, ...; only the
    ``stated`` months count); None with fewer than :data:`MIN_TOP_MONTHS` months of volume."""
    y = np.asarray(counts, dtype=float)
    stated = np.asarray(stated, dtype=bool)
    months = first + np.arange(y.size)
    use = stated & (y > 0)
    zero = int(np.count_nonzero(stated & (y <= 0)))
    if np.count_nonzero(use) < MIN_TOP_MONTHS:
        return None
    t = (months[use] - first).astype(float)
    moy = months[use] % 12
    seasonal = y.size >= SEASONAL_MONTHS and np.all(np.bincount(moy, minlength=12) >= 2)
    columns = [np.ones_like(t), t]
    if seasonal:
        for m in range(11):                   # effects coding: December is minus the sum
            columns.append((moy == m).astype(float) - (moy == 11).astype(float))
    X = np.column_stack(columns)
    z = np.log(y[use])
    coef, sigma = _least_squares(X, z)
    slope_fitted, slope_se = float(coef[1]), 0.0
    if z.size > X.shape[1]:
        cov = np.linalg.pinv(X.T @ X)
        slope_se = sigma * math.sqrt(max(float(cov[1, 1]), 0.0))
    if abs(slope_fitted) < GROWTH_SE * slope_se:         # no growth the history can tell from noise
        flat, sigma = _least_squares(np.delete(X, 1, axis=1), z)
        coef = np.insert(flat, 1, 0.0)
    mean_volume = float(y[use].mean())
    rel_var = math.expm1(sigma ** 2) - 1.0 / mean_volume
    cv = min(math.sqrt(max(rel_var, 0.0)), MAX_NOISE_CV)
    factors = None
    if seasonal:
        effects = np.append(coef[2:], -coef[2:].sum())
        factors = tuple(float(v) for v in np.exp(effects))
    return TopFit(float(coef[0]), float(coef[1]), first, sigma, cv, factors, int(z.size), zero, mean_volume,
                  slope_fitted, slope_se)


def _least_squares(X: np.ndarray, z: np.ndarray):
    """Coefficients and the residual standard deviation of z ~ X."""
    coef, *_ = np.linalg.lstsq(X, z, rcond=None)
    resid = z - X @ coef
    dof = max(z.size - X.shape[1], 1)
    return coef, math.sqrt(float(resid @ resid) / dof)
