"""A conversion rate's belief from monthly cohorts: a beta-binomial fit with lag-aware exposure.

Each cohort c (the units that entered stage k−1 in one month) has ``successes[c]``, the units
that reached stage k by the end of the data, and ``exposure[c]``, the units that could have:
``entered[c] · F(age[c])``, F the lag's distribution function and ``age`` the whole months
from the cohort's month to the end of the data. Units too young to have converted are thus not
counted as failures (the naive ``Σ successes / Σ entered`` is biased low while lags are long
against the months observed).

Across cohorts, the rate of cohort c is taken as a draw from Beta(m·κ, (1−m)·κ). The mean m is
the lag-corrected pooled rate, Σ successes / Σ exposure (each case counts once, whatever its
cohort's size); the strength κ maximises the beta-binomial likelihood of the counts given m,
``Σ_c ln B(s_c + mκ, n_c − s_c + (1−m)κ) − ln B(mκ, (1−m)κ)`` (the binomial coefficient does
not depend on m, κ; a fractional exposure enters through the Beta functions, which
``scipy.stats.betabinom`` matches for whole numbers — a test checks it), found with
``scipy.optimize.minimize_scalar`` over ln κ. The cohorts are taken to vary only when the
likelihood-ratio test against one common rate rejects it (κ = ∞ lies on the boundary: the
p-value is half the χ²₁ tail); otherwise κ = ∞. κ is how many past cases the belief is worth; the belief's
strength is never more than the total exposure (the history holds no more cases than that),
nor than the "weight of history" the user gives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .beliefs import RateBelief

#: The cohorts' rates are taken to vary (κ finite) only when the likelihood-ratio test against
#: one common rate (κ = ∞) says so at this level; otherwise the rate is one, known as well as
#: the total exposure says.
OVERDISPERSION_ALPHA = 0.05
#: A rate is fitted from at least this many cohorts with exposure.
MIN_COHORTS = 2
#: The strength searched lies in [KAPPA_MIN, KAPPA_MAX] (a strength at the upper end: the
#: cohorts vary no more than binomial noise says; the total exposure then caps it).
KAPPA_MIN, KAPPA_MAX = 0.5, 1e9


@dataclass(frozen=True)
class CohortRate:
    """The fitted belief and how it was obtained: ``mean``, ``strength`` (the belief's, after the
    caps), ``dispersion_strength`` (κ of the beta-binomial fit, before the caps; ∞ when the cohorts vary
    no more than binomial noise), ``capped_by``
    ("exposure", "weight" or None), the totals and the naive rate."""

    mean: float
    strength: float
    dispersion_strength: float
    capped_by: str | None
    successes: float
    exposure: float
    entered: float
    cohorts: int
    p10: float
    p90: float
    overdispersion_p: float          # the likelihood-ratio test's p-value of κ < ∞ (variation beyond noise)

    @property
    def naive(self) -> float:
        """Σ successes / Σ entered: no lag correction."""
        return self.successes / self.entered if self.entered > 0 else math.nan

    @property
    def belief(self) -> RateBelief:
        return RateBelief.from_mean_strength(self.mean, self.strength)


def _nll(x, s, n):
    from scipy import special
    m = special.expit(x[0])
    k = math.exp(x[1])
    a, b = m * k, (1.0 - m) * k
    return -float(np.sum(special.betaln(s + a, n - s + b)) - s.size * special.betaln(a, b))


def beta_binomial_loglik(successes, exposure, mean: float, strength: float) -> float:
    """The beta-binomial log-likelihood of the cohorts (with the binomial coefficients, through
    ``gammaln``, so that whole numbers give ``scipy.stats.betabinom.logpmf`` summed)."""
    from scipy import special
    s, n = np.asarray(successes, float), np.asarray(exposure, float)
    log_choose = special.gammaln(n + 1) - special.gammaln(s + 1) - special.gammaln(n - s + 1)
    return float(np.sum(log_choose) - _nll(np.array([special.logit(mean), math.log(strength)]), s, n))


def fit_cohort_rate(successes, exposure, entered, *, weight: float | None = None) -> CohortRate | None:
    """The belief about the rate from the cohorts' successes, exposures and entries; None when
    it cannot be fitted: fewer than :data:`MIN_COHORTS` cohorts with exposure, or no success."""
    from scipy import optimize, special
    s = np.asarray(successes, dtype=float)
    n = np.maximum(np.asarray(exposure, dtype=float), s)       # a success was exposed
    keep = n > 0
    s, n = s[keep], n[keep]
    S, N = float(s.sum()), float(n.sum())
    if s.size < MIN_COHORTS or S <= 0:
        return None
    pooled = S / N
    m = min(max(pooled, 0.5 / N), 1.0 - 0.5 / N)
    logit_m = float(special.logit(m))
    best = optimize.minimize_scalar(lambda x: _nll((logit_m, x), s, n), method="bounded",
                                    bounds=(math.log(KAPPA_MIN), math.log(KAPPA_MAX)), options={"xatol": 1e-6})
    binomial = S * math.log(m) + (N - S) * math.log1p(-m)
    lr = max(0.0, 2.0 * (-float(best.fun) - binomial))
    p_value = 0.5 * float(special.chdtrc(1, lr)) if lr > 0 else 0.5   # κ = ∞ is on the boundary
    kappa = float(math.exp(best.x)) if p_value < OVERDISPERSION_ALPHA else math.inf
    m = min(max(m, 0.5 / N), 1.0 - 0.5 / N)
    strength, capped = kappa, None
    if strength > N:
        strength, capped = N, "exposure"
    if weight is not None and strength > weight:
        strength, capped = float(weight), "weight"
    belief = RateBelief.from_mean_strength(m, strength)
    lo, hi = (float(v) for v in belief.ppf([0.1, 0.9]))
    return CohortRate(m, strength, kappa, capped, S, N, float(np.asarray(entered, float)[keep].sum()),
                      int(s.size), lo, hi, p_value)
