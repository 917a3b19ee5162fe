"""A stage's lag from record-level data: whole months between reaching stage k−1 and stage k.

The data end at month E, so a cohort that entered stage k−1 in month c can show lags only up to
its age ``E − c``: counting the lags of all conversions seen would make lags look short (the
slow conversions of young cohorts have not arrived yet). Each lag d is therefore estimated from
the cohorts old enough to show it:

    q(d) = Σ_{c: E−c ≥ d} conversions_c(d) / Σ_{c: E−c ≥ d} entered_c

which estimates rate × P(lag = d) without bias; the lag's distribution is q normalised (and
Σ_d q(d) is a lag-corrected rate). Lags beyond :data:`~sim.model.scenario.MAX_LAG_MONTHS` count
as that many months; a stage date earlier than the previous stage's counts as lag 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .scenario import MAX_LAG_MONTHS


@dataclass(frozen=True)
class StageLag:
    """The fitted lag (``pmf[d]``: P(lag = d months)) and its data: ``observed[d]``, the
    conversions seen with lag d; ``conversions``; ``clipped_long`` / ``clipped_negative``: the
    conversions counted as the longest lag or as lag 0; ``longest``: the longest lag seen."""

    pmf: tuple[float, ...]
    observed: tuple[int, ...]
    conversions: int
    clipped_long: int
    clipped_negative: int
    longest: int

    @property
    def median(self) -> int:
        return int(np.searchsorted(np.cumsum(self.pmf), 0.5))

    @property
    def p90(self) -> int:
        return int(np.searchsorted(np.cumsum(self.pmf), 0.9 - 1e-12))


@dataclass(frozen=True)
class LagData:
    """The cohorts' counts behind a lag: ``entered[c]`` and ``conversions[c, d]`` for cohort
    months ``first + c`` (c = 0 .. C−1), seen at the end of month ``last``."""

    first: int
    last: int
    entered: np.ndarray
    conversions: np.ndarray
    clipped_long: int
    clipped_negative: int

    @property
    def ages(self) -> np.ndarray:
        return self.last - (self.first + np.arange(self.entered.size))


def lag_data(entry: np.ndarray, arrival: np.ndarray, first: int, last: int) -> LagData:
    """The counts of the records that entered stage k−1 in months ``first`` .. ``last``
    (``entry``, month indices) and reached stage k in month ``arrival`` (−1: not by ``last``)."""
    entry = np.asarray(entry)
    arrival = np.asarray(arrival)
    inside = (entry >= first) & (entry <= last)
    entry, arrival = entry[inside], arrival[inside]
    C = last - first + 1
    entered = np.bincount(entry - first, minlength=C).astype(float)
    done = (arrival >= 0) & (arrival <= last)
    lag = arrival[done] - entry[done]
    negative = int(np.count_nonzero(lag < 0))
    long = int(np.count_nonzero(lag > MAX_LAG_MONTHS))
    lag = np.clip(lag, 0, MAX_LAG_MONTHS)
    D = MAX_LAG_MONTHS + 1
    conversions = np.bincount((entry[done] - first) * D + lag, minlength=C * D).reshape(C, D).astype(float)
    return LagData(first, last, entered, conversions, long, negative)


def rate_by_lag(data: LagData) -> np.ndarray:
    """q(d), d = 0 .. MAX_LAG_MONTHS: rate × P(lag = d), each from the cohorts old enough."""
    ages = data.ages
    q = np.zeros(MAX_LAG_MONTHS + 1)
    for d in range(MAX_LAG_MONTHS + 1):
        old = ages >= d
        den = data.entered[old].sum()
        if den > 0:
            q[d] = data.conversions[old, d].sum() / den
    return q


def fit_stage_lag(data: LagData) -> StageLag | None:
    """The lag's distribution, or None when no conversion was seen."""
    observed = data.conversions.sum(axis=0)
    total = int(observed.sum())
    if total == 0:
        return None
    q = rate_by_lag(data)
    pmf = q / q.sum()
    longest = int(np.flatnonzero(observed)[-1])
    shares = [float(v) for v in pmf[:longest + 1]]
    shares[-1] = max(0.0, 1.0 - sum(shares[:-1]))
    return StageLag(tuple(shares), tuple(int(v) for v in observed[:longest + 1]), total,
                    data.clipped_long, data.clipped_negative, longest)


def lag_cdf_at(pmf, ages) -> np.ndarray:
    """F(age) = P(lag ≤ age) for each age (ages below 0: 0)."""
    cdf = np.minimum(np.cumsum(np.asarray(pmf, float)), 1.0)
    ages = np.asarray(ages)
    out = np.where(ages >= cdf.size - 1, 1.0, cdf[np.clip(ages, 0, cdf.size - 1)])
    return np.where(ages < 0, 0.0, out)
