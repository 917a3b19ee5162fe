"""The open pipeline at the plan's start, from the history: how many units wait in each stage,
and when they move on.

* **From outcomes** (every record of the stage has a won / lost / open outcome): the records
  whose last stage at the end of the data is this one, neither won nor lost by then. A record
  that has waited ``a`` months moves on ``i`` months after the start with probability
  ``f(a + 1 + i) / (1 − F(a))`` (f, F: the next stage's lag); the stage's lag is that mixed
  over its records. Records that have waited longer than the longest lag can no longer move
  on in the model: they are left out (counted as stale).
* **From the lags** (outcomes not known): the check-in's estimate, each cohort's units whose lag
  has not elapsed, ``Σ_c entered_c · (1 − F(age_c))``, with the same mixed lag.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OpenStage:
    name: str
    count: int
    lag: tuple[float, ...] | None     # the move on, months 0, 1, ... after the start; None: none open
    source: str                       # "outcomes" | "lags"
    stale: int                        # open records older than the longest lag (left out)
    mean_age: float | None            # months the counted units have waited, on average

    def to_dict(self) -> dict:
        return {"count": self.count, "lag": None if self.lag is None else list(self.lag), "from": self.source,
                "stale": self.stale, "mean_age": self.mean_age}


def remaining_lag(pending_by_age, pmf) -> tuple[float, tuple[float, ...] | None]:
    """(units, lag still ahead) of units waiting at each age a (``pending_by_age[a]``, units
    whose lag is longer than a): the lag mixes f(a + 1 + i) / (1 − F(a)) over the ages."""
    f = np.asarray(pmf, dtype=float)
    tail = 1.0 - np.cumsum(f)                  # P(lag > a)
    ahead = np.zeros(f.size)
    total = 0.0
    for age, units in enumerate(np.asarray(pending_by_age, dtype=float)):
        if units <= 0 or age >= f.size - 1 or tail[age] <= 1e-12:
            continue
        rest = f[age + 1:] / tail[age]
        ahead[:rest.size] += units * rest
        total += units
    if total <= 0:
        return 0.0, None
    shares = ahead / ahead.sum()
    last = int(np.flatnonzero(shares > 0)[-1])
    out = [float(v) for v in shares[:last + 1]]
    out[-1] = max(0.0, 1.0 - sum(out[:-1]))
    return total, tuple(out)


def open_from_outcomes(name: str, ages, pmf) -> OpenStage:
    """The open records of a stage, by how many months each has waited (``ages``)."""
    ages = np.asarray(ages, dtype=int)
    ages = np.maximum(ages, 0)
    tail = 1.0 - np.cumsum(np.asarray(pmf, dtype=float))
    alive = (ages < len(pmf) - 1) & (tail[np.minimum(ages, len(pmf) - 1)] > 1e-12)
    by_age = np.bincount(ages[alive], minlength=len(pmf))
    count, lag = remaining_lag(by_age, pmf)
    stale = int(np.count_nonzero(~alive))
    mean_age = float(ages[alive].mean()) if alive.any() and count > 0 else None
    return OpenStage(name, int(round(count)), lag, "outcomes", stale, mean_age)


def open_from_cohorts(name: str, entered, ages, pmf) -> OpenStage:
    """The units of each cohort (``entered``, aged ``ages``) whose lag has not elapsed."""
    f = np.asarray(pmf, dtype=float)
    tail = np.clip(1.0 - np.cumsum(f), 0.0, 1.0)
    ages = np.asarray(ages, dtype=int)
    entered = np.asarray(entered, dtype=float)
    by_age = np.zeros(f.size)
    for n, a in zip(entered, ages):
        if 0 <= a < f.size - 1:
            by_age[a] += n * tail[a]
    count, lag = remaining_lag(by_age, f)
    mean_age = float((by_age * np.arange(f.size)).sum() / by_age.sum()) if by_age.sum() > 0 else None
    return OpenStage(name, int(round(count)), lag, "lags", 0, mean_age)
