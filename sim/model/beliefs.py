"""Beliefs about uncertain inputs: conversion rates (Beta) and deal values (lognormal)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import ScenarioError

#: z-score of the 90th percentile of a standard normal distribution (``scipy.stats.norm.ppf(0.9)``,
#: written out so that importing this module does not import scipy; a test checks the value).
Z90 = 1.2815515655446004


@dataclass(frozen=True)
class RateBelief:
    """What we believe about a conversion rate: a Beta(alpha, beta) distribution, or a fixed value.

    Build one with :meth:`from_mean_strength`, :meth:`from_counts`, :meth:`from_quantiles` or
    :meth:`fixed`; ``spec`` keeps the form it was given in, so that a scenario round-trips.
    """

    alpha: float
    beta: float
    fixed_value: float | None
    spec: tuple  # (("mean", 0.3), ("strength", 50)) etc., the form the user gave

    # -- constructors -----------------------------------------------------------------------
    @classmethod
    def from_mean_strength(cls, mean: float, strength: float) -> RateBelief:
        """Beta with alpha = mean·strength and beta = (1-mean)·strength (strength = sample size)."""
        if not 0.0 < mean < 1.0:
            raise ScenarioError("mean must be strictly between 0 and 1")
        if not strength > 0.0:
            raise ScenarioError("strength must be > 0")
        return cls(mean * strength, (1.0 - mean) * strength, None,
                   (("mean", mean), ("strength", strength)))

    @classmethod
    def from_counts(cls, successes: float, trials: float) -> RateBelief:
        """Beta(successes + 1, trials - successes + 1): a uniform prior updated by observed counts."""
        if not (successes >= 0 and trials >= successes):
            raise ScenarioError("successes must be between 0 and trials")
        return cls(successes + 1.0, trials - successes + 1.0, None,
                   (("successes", successes), ("trials", trials)))

    @classmethod
    def from_quantiles(cls, p10: float, p90: float) -> RateBelief:
        """The Beta distribution whose 10th and 90th percentiles are p10 and p90."""
        if not 0.0 < p10 < 1.0:
            raise ScenarioError("p10 must be strictly between 0 and 1")
        if not 0.0 < p90 < 1.0:
            raise ScenarioError("p90 must be strictly between 0 and 1")
        if not p90 > p10:
            raise ScenarioError("p90 must be > p10")
        a, b = _fit_beta_quantiles(float(p10), float(p90))
        return cls(a, b, None, (("p10", p10), ("p90", p90)))

    @classmethod
    def fixed(cls, value: float) -> RateBelief:
        """A rate known exactly (no uncertainty)."""
        if not 0.0 <= value <= 1.0:
            raise ScenarioError("fixed must be between 0 and 1")
        return cls(math.nan, math.nan, float(value), (("fixed", value),))

    # -- properties -------------------------------------------------------------------------
    @property
    def is_fixed(self) -> bool:
        return self.fixed_value is not None

    @property
    def mean(self) -> float:
        if self.is_fixed:
            return self.fixed_value
        return self.alpha / (self.alpha + self.beta)

    def ppf(self, q):
        """Quantile(s) of the belief."""
        if self.is_fixed:
            return np.full(np.shape(q), self.fixed_value) if np.ndim(q) else self.fixed_value
        from scipy import special  # stats.beta.ppf's own function, without scipy.stats
        return special.betaincinv(self.alpha, self.beta, q)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` independent draws of the rate (float64)."""
        if self.is_fixed:
            return np.full(size, self.fixed_value)
        return rng.beta(self.alpha, self.beta, size=size)

    def to_dict(self) -> dict:
        return dict(self.spec)

    def describe(self) -> str:
        """The belief in plain words, e.g. ``30% (P10–P90 24%–36%)``."""
        if self.is_fixed:
            return f"{self.fixed_value:.2%} (fixed)"
        lo, hi = self.ppf([0.1, 0.9])
        return f"{self.mean:.2%} (P10–P90 {lo:.2%}–{hi:.2%})"


@lru_cache(maxsize=1024)
def _fit_beta_quantiles(p10: float, p90: float) -> tuple[float, float]:
    """Solve beta.ppf(0.1)=p10, beta.ppf(0.9)=p90 for (alpha, beta), in log-parameter space.

    Newton's method on the two equations (a Jacobian by finite differences) from the normal
    approximation, which converges in a few steps for any valid range; only if it does not,
    ``scipy.optimize.least_squares`` (Levenberg-Marquardt) takes over. ``scipy.optimize`` costs
    about half a second to import, more than the rest of a command-line forecast's imports."""
    from scipy import special
    # Start from the normal approximation: mean in the middle, sd from the 10-90 width.
    m = (p10 + p90) / 2.0
    sd = (p90 - p10) / (2.0 * Z90)
    n0 = max(m * (1.0 - m) / (sd * sd) - 1.0, 0.5)
    x0 = np.log([m * n0, (1.0 - m) * n0])
    target = np.array([p10, p90])
    # Work on the logit scale so that tiny rates are matched relatively, not absolutely.
    logit_target = np.log(target / (1.0 - target))

    def residual(x):
        a, b = np.exp(np.clip(x, -20, 20))
        q = special.betaincinv(a, b, [0.1, 0.9])
        q = np.clip(q, 1e-300, 1.0 - 1e-16)
        return np.log(q / (1.0 - q)) - logit_target

    x = _newton(residual, x0)
    if x is None:
        from scipy import optimize
        x = optimize.least_squares(residual, x0, method="lm", xtol=1e-14, ftol=1e-14).x
    a, b = (float(v) for v in np.exp(x))
    got = special.betaincinv(a, b, [0.1, 0.9])
    if not np.allclose(got, target, rtol=1e-4, atol=1e-9):
        raise ScenarioError(f"no Beta distribution has P10={p10:g} and P90={p90:g}")
    return a, b


def _newton(residual, x0, *, tol: float = 1e-12, steps: int = 60):
    """A root of ``residual`` (R^2 -> R^2) by damped Newton steps from ``x0``, or None if it
    does not converge (the caller then uses a library solver)."""
    x = np.asarray(x0, dtype=np.float64)
    r = residual(x)
    for _ in range(steps):
        norm = float(np.max(np.abs(r)))
        if not np.isfinite(norm):
            return None
        if norm < tol:
            return x
        h = 1e-7 * np.maximum(1.0, np.abs(x))
        jac = np.column_stack([(residual(x + np.eye(2)[j] * h[j]) - r) / h[j] for j in range(2)])
        try:
            step = np.linalg.solve(jac, -r)
        except np.linalg.LinAlgError:
            return None
        t = 1.0
        while t > 1e-4:                       # halve the step until the residual shrinks
            trial = x + t * step
            r_trial = residual(trial)
            if float(np.max(np.abs(r_trial))) < norm:
                x, r = trial, r_trial
                break
            t /= 2
        else:
            return None
    return x if float(np.max(np.abs(r))) < 1e-9 else None


@dataclass(frozen=True)
class DealValue:
    """Value of one customer's deal: lognormal from its median and 90th percentile.

    ``kind`` is ``"one_time"`` (counted in the month of closing) or ``"monthly_recurring"``
    (counted in every month from closing to the end of the period). ``p90 == median`` means a
    fixed value.
    """

    median: float
    p90: float
    kind: str = "one_time"

    KINDS = ("one_time", "monthly_recurring")

    def __post_init__(self):
        if not (math.isfinite(self.median) and self.median > 0):
            raise ScenarioError("median must be a number > 0")
        if not (math.isfinite(self.p90) and self.p90 >= self.median):
            raise ScenarioError("p90 must be >= median")
        if self.kind not in self.KINDS:
            raise ScenarioError(f"kind must be one of {', '.join(self.KINDS)}")

    @property
    def mu(self) -> float:
        return math.log(self.median)

    @property
    def sigma(self) -> float:
        return (math.log(self.p90) - math.log(self.median)) / Z90

    @property
    def is_fixed(self) -> bool:
        return self.sigma == 0.0

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma ** 2 / 2.0)

    @property
    def recurring(self) -> bool:
        return self.kind == "monthly_recurring"

    def ppf(self, q):
        from scipy import special
        return np.exp(self.mu + self.sigma * special.ndtri(q))

    def to_dict(self) -> dict:
        return {"median": self.median, "p90": self.p90, "kind": self.kind}
