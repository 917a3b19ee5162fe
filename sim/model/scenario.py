"""The scenario: frozen dataclasses and the limits of their fields.

A scenario is everything the model needs: the period, the goal, the top-of-funnel plan, the
stages with their conversion-rate beliefs and lags, the deal value, the open pipeline at the
start, the number of trials and the seed. :mod:`sim.model.validation` builds one from a
document, checking every field; :meth:`Scenario.to_dict` gives back the same document (the
round trip is lossless); :mod:`sim.model.scenario_io` reads and writes files and share links.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from .months import months_from
from .names import fold_name

if TYPE_CHECKING:       # the types only: beliefs load scipy, which a scenario's holder may not need
    from .agreement import Agreement
    from .beliefs import DealValue, RateBelief

SCHEMA_VERSION = 1
DEFAULT_MONTHS = 12
MAX_MONTHS = 36
MIN_STAGES, MAX_STAGES = 2, 12
MAX_LAG_MONTHS = 12          # a lag vector has at most this many + 1 entries
MAX_VOLUME = 1e9             # per month, top of funnel; and per stage of the start pipeline
MAX_MONEY = 1e13
DEFAULT_TRIALS = 20_000
MAX_TRIALS = 2_000_000
MAX_SEED = 2**53 - 1        # exact in every JSON reader (JavaScript numbers included)
DEFAULT_SEED = 20260101
DEFAULT_NOISE_CV = 0.1
MAX_NAME = 200
OWNERS = ("marketing", "sales", "shared")


def file_stem(name: str) -> str:
    """A safe file-name stem from a scenario name: ASCII letters and digits joined by "-", at
    most 60 characters (``Café — FY2027`` -> ``cafe-fy2027``; nothing usable -> ``scenario``)."""
    ascii_name = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60].strip("-") or "scenario"


@dataclass(frozen=True)
class TopOfFunnel:
    """The first stage's planned volume per month and its multiplicative noise.

    ``monthly`` is the resolved plan for each month of the horizon. ``per_month``/``growth``
    are kept when the plan was given that way (month t gets per_month·(1+growth)^t).
    """

    monthly: tuple[float, ...]
    noise_cv: float = DEFAULT_NOISE_CV
    per_month: float | None = None
    growth: float | None = None

    @classmethod
    def constant(cls, per_month: float, months: int, growth: float = 0.0,
                 noise_cv: float = DEFAULT_NOISE_CV) -> TopOfFunnel:
        plan = tuple(per_month * (1.0 + growth) ** t for t in range(months))
        return cls(plan, noise_cv, per_month, growth)

    def scaled(self, factor: float) -> TopOfFunnel:
        """The same plan with every month's volume multiplied by ``factor``."""
        per_month = None if self.per_month is None else self.per_month * factor
        return replace(self, monthly=tuple(v * factor for v in self.monthly), per_month=per_month)

    def to_dict(self) -> dict:
        if self.per_month is not None:
            return {"per_month": self.per_month, "growth": self.growth, "noise_cv": self.noise_cv}
        return {"monthly": list(self.monthly), "noise_cv": self.noise_cv}


@dataclass(frozen=True)
class Stage:
    """A funnel stage. ``rate`` is the conversion from the previous stage (None for the first);
    ``lag[i]`` is the probability of arriving i months after entering the previous stage."""

    name: str
    rate: RateBelief | None = None
    lag: tuple[float, ...] = (1.0,)
    owner: str = "shared"

    def to_dict(self) -> dict:
        out: dict = {"name": self.name}
        if self.rate is not None:
            out["rate"] = self.rate.to_dict()
            out["lag"] = list(self.lag)
        out["owner"] = self.owner
        return out


@dataclass(frozen=True)
class Scenario:
    name: str
    start: str
    months: int
    goal: float
    top: TopOfFunnel
    stages: tuple[Stage, ...]
    deal: DealValue
    baseline_revenue: float = 0.0
    start_pipeline: tuple[tuple[str, int], ...] = ()
    #: (stage, lag): when the open pipeline of that stage moves on to the next stage, months
    #: 0, 1, ... after the start (default: the next stage's own lag). A check-in sets it: units
    #: already waiting for a while have part of their lag behind them.
    pipeline_lags: tuple[tuple[str, tuple[float, ...]], ...] = ()
    trials: int = DEFAULT_TRIALS
    seed: int = DEFAULT_SEED
    schema: int = field(default=SCHEMA_VERSION)
    #: The agreement's definitions, handoff rules and terms (:mod:`sim.model.agreement`), or None.
    agreement: Agreement | None = None

    # -- derived ---------------------------------------------------------------------------
    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    @property
    def month_labels(self) -> tuple[str, ...]:
        """``"YYYY-MM"`` of every month of the horizon."""
        return months_from(self.start, self.months)

    def pipeline_lag(self, j: int) -> tuple[float, ...]:
        """The lag of stage j's open pipeline into stage j+1 (its own, or stage j+1's)."""
        key = fold_name(self.stages[j].name)
        for name, lag in self.pipeline_lags:
            if fold_name(name) == key:
                return lag
        return self.stages[j + 1].lag

    def pipeline_counts(self) -> tuple[int, ...]:
        """Open pipeline at the start, per stage (0 where none)."""
        by_key = {fold_name(k): v for k, v in self.start_pipeline}
        return tuple(int(by_key.get(fold_name(s.name), 0)) for s in self.stages)

    def with_top_scaled(self, factor: float) -> Scenario:
        return replace(self, top=self.top.scaled(factor))

    # -- serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict:
        out = {
            "schema": self.schema,
            "name": self.name,
            "start": self.start,
            "months": self.months,
            "goal": self.goal,
            "baseline_revenue": self.baseline_revenue,
            "top": self.top.to_dict(),
            "stages": [s.to_dict() for s in self.stages],
            "deal": self.deal.to_dict(),
        }
        if self.start_pipeline:
            out["start_pipeline"] = {k: v for k, v in self.start_pipeline}
        if self.pipeline_lags:
            out["start_pipeline_lag"] = {k: list(v) for k, v in self.pipeline_lags}
        out["trials"] = self.trials
        out["seed"] = self.seed
        if self.agreement is not None:
            out["agreement"] = self.agreement.to_dict()
        return out

    def to_json(self, indent: int | None = 2) -> str:
        from .scenario_io import scenario_to_json
        return scenario_to_json(self, indent)

    def to_url_token(self) -> str:
        """A compact, versioned, URL-safe token holding the whole scenario."""
        from .scenario_io import scenario_to_url_token
        return scenario_to_url_token(self)
