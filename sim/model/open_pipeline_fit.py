"""The open pipeline at the plan's start, from the history: how many units wait in each stage,
and when they move on.

In the model, each unit of a stage's open pipeline moves on with the next stage's rate p, after
the pipeline's own lag. A cohort c of N_c units that entered the stage ``a`` months before the
end of the data still has, in expectation, N_c·p·(1 − F(a)) conversions to come (F: the next
stage's lag distribution): its units whose lag has not elapsed, N_c·(1 − F(a)), are the open
pipeline (as the check-in estimates it), and they move on ``i`` months after the start with
probability f(a + 1 + i) / (1 − F(a)), mixed over the cohorts.

With outcomes (every record of the stage won, lost or open), the records still open bound it:
a cohort with O_c open records cannot bring more than O_c conversions, so its pipeline is
min(N_c·(1 − F(a)), O_c / p). Records open longer than the longest lag can no longer move on
in the model: they are counted as stale, not in the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OpenStage:
    name: str
    count: int                        # units in the plan's open pipeline
    lag: tuple[float, ...] | None     # their move on, months 0, 1, ... after the start; None: none
    source: str                       # "outcomes" | "lags"
    open_records: int | None          # records still open (with outcomes), stale ones included
    stale: int                        # open records older than the longest lag (left out)
    mean_age: float | None            # months the counted units have waited, on average

    def to_dict(self) -> dict:
        return {"count": self.count, "lag": None if self.lag is None else list(self.lag), "from": self.source,
                "open_records": self.open_records, "stale": self.stale, "mean_age": self.mean_age}


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


def open_stage(name: str, entered, ages, pmf, *, open_records=None, rate: float | None = None) -> OpenStage:
    """The open pipeline of a stage from its cohorts (``entered[c]`` units aged ``ages[c]``) and,
    with outcomes, each cohort's open records (``open_records[c]``) and the next stage's mean
    ``rate``."""
    f = np.asarray(pmf, dtype=float)
    tail = np.clip(1.0 - np.cumsum(f), 0.0, 1.0)
    ages = np.asarray(ages, dtype=int)
    entered = np.asarray(entered, dtype=float)
    live = (ages >= 0) & (ages < f.size - 1)
    live[live] = tail[ages[live]] > 1e-12
    pending = np.where(live, entered * tail[np.clip(ages, 0, f.size - 1)], 0.0)
    stale, total_open = 0, None
    if open_records is not None:
        opened = np.asarray(open_records, dtype=float)
        bound = opened / rate if rate and rate > 0 else opened
        pending = np.minimum(pending, bound)
        stale, total_open = int(opened[~live].sum()), int(opened.sum())
    by_age = np.bincount(ages[live], weights=pending[live], minlength=f.size)
    count, lag = remaining_lag(by_age, f)
    mean_age = float((by_age * np.arange(by_age.size)).sum() / by_age.sum()) if by_age.sum() > 0 else None
    return OpenStage(name, int(round(count)), lag, "outcomes" if open_records is not None else "lags",
                     total_open, stale, mean_age)
