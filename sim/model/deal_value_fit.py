"""The deal value from the won amounts: a lognormal fitted by maximum likelihood.

ln(amount) is normal: its mean μ and standard deviation σ (the maximum-likelihood ones,
``scipy.stats.lognorm.fit`` with the location fixed at 0 gives the same) give the scenario's
median e^μ and P90 e^(μ + 1.2816·σ). Amounts of 0 or less are not deals and are left out
(counted). The empirical median and P90 are given beside the fitted ones, so the fit can be
judged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .beliefs import Z90, DealValue

#: A deal value is fitted from at least this many amounts.
MIN_DEALS = 2


@dataclass(frozen=True)
class DealValueFit:
    mu: float
    sigma: float
    n: int
    left_out: int                  # amounts of 0 or less
    empirical_median: float
    empirical_p90: float

    @property
    def median(self) -> float:
        return math.exp(self.mu)

    @property
    def p90(self) -> float:
        return math.exp(self.mu + Z90 * self.sigma)

    def deal(self, kind: str = "one_time") -> DealValue:
        return DealValue(self.median, max(self.p90, self.median), kind)


def fit_deal_value(amounts) -> DealValueFit | None:
    """The lognormal of ``amounts`` (None with fewer than :data:`MIN_DEALS` positive ones)."""
    x = np.asarray(amounts, dtype=float)
    positive = x[np.isfinite(x) & (x > 0)]
    if positive.size < MIN_DEALS:
        return None
    logs = np.log(positive)
    mu, sigma = float(logs.mean()), float(logs.std())
    return DealValueFit(mu, sigma, int(positive.size), int(x.size - positive.size),
                        float(np.median(positive)), float(np.percentile(positive, 90)))
