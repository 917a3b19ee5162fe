"""The backtest: the planner judged on the user's own past.

Rolling origins over the history: at each origin month o, the funnel is fitted on the
``fit_months`` months before it (:func:`~sim.model.history_fit.fit_history`, the data as known
at the end of o − 1), the next months are simulated (as many as the data has, up to the
``horizon``), and the forecast is compared with what happened:

* **coverage**: how often the revenue, and each stage's volume, fell inside the P10–P90 band
  (80% expected of a calibrated planner);
* **MAPE** and **bias** of the revenue's P50: mean |P50 − actual| / actual and the signed mean
  (P50 − actual) / actual (positive: the planner promised too much);
* **Brier score** of P(goal), the goal derived at each origin the same way as the fit's
  (trailing twelve months' revenue × (1 + growth), per month of the horizon), against whether
  the actual revenue reached it: mean (P − hit)² (0 is perfect, 0.25 a coin's).

The history ends at the last whole month the first stage has a count (later months, e.g. of deals
still closing, would be compared with a top of the funnel the data no longer shows). An origin
whose fit fails (too little history before it) is skipped with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import ScenarioError
from .forecast import simulate
from .funnel_history import FunnelHistory, index_label
from .history_fit import FitOptions, fit_history
from .scenario import Scenario

DEFAULT_HORIZON = 12
DEFAULT_FIT_MONTHS = 12
DEFAULT_ORIGINS = 12
DEFAULT_TRIALS = 2_000


@dataclass(frozen=True)
class Band:
    actual: float
    p10: float
    p50: float
    p90: float

    @property
    def inside(self) -> bool:
        return self.p10 <= self.actual <= self.p90

    def to_dict(self) -> dict:
        return {"actual": self.actual, "p10": self.p10, "p50": self.p50, "p90": self.p90, "inside": self.inside}


@dataclass(frozen=True)
class OriginResult:
    origin: str
    months: int
    fit_from: str
    fit_to: str
    revenue: Band
    stages: tuple[tuple[str, Band], ...]
    goal: float
    p_goal: float
    hit: bool

    def to_dict(self) -> dict:
        return {"origin": self.origin, "months": self.months, "fit_from": self.fit_from, "fit_to": self.fit_to,
                "revenue": self.revenue.to_dict(), "stages": {n: b.to_dict() for n, b in self.stages},
                "goal": self.goal, "p_goal": self.p_goal, "hit": self.hit}


@dataclass(frozen=True)
class Backtest:
    origins: tuple[OriginResult, ...]
    skipped: tuple[tuple[str, str], ...]          # (origin, why)
    horizon: int
    fit_months: int

    @property
    def coverage_revenue(self) -> float | None:
        return _share([o.revenue.inside for o in self.origins])

    def coverage_stages(self) -> dict[str, float | None]:
        names = [n for n, _ in self.origins[0].stages] if self.origins else []
        return {n: _share([dict(o.stages)[n].inside for o in self.origins]) for n in names}

    @property
    def mape(self) -> float | None:
        errors = [abs(o.revenue.p50 - o.revenue.actual) / o.revenue.actual for o in self.origins if o.revenue.actual > 0]
        return float(np.mean(errors)) if errors else None

    @property
    def bias(self) -> float | None:
        errors = [(o.revenue.p50 - o.revenue.actual) / o.revenue.actual for o in self.origins if o.revenue.actual > 0]
        return float(np.mean(errors)) if errors else None

    @property
    def brier(self) -> float | None:
        scores = [(o.p_goal - float(o.hit)) ** 2 for o in self.origins]
        return float(np.mean(scores)) if scores else None

    def sentence(self) -> str:
        """The result in one sentence."""
        if not self.origins:
            return "No origin of the history could be backtested: " + (self.skipped[0][1] if self.skipped else
                                                                       "the history is too short.")
        held = sum(o.revenue.inside for o in self.origins)
        return (f"On your own history the 80% revenue bands held {held} time{'s' if held != 1 else ''} out of "
                f"{len(self.origins)} (a calibrated planner: about {0.8 * len(self.origins):.0f}).")

    def to_dict(self) -> dict:
        """The JSON of ``python -m sim backtest --json``."""
        return {"origins": [o.to_dict() for o in self.origins],
                "coverage": {"revenue": self.coverage_revenue, "stages": self.coverage_stages()},
                "mape": self.mape, "bias": self.bias, "brier": self.brier,
                "horizon": self.horizon, "fit_months": self.fit_months,
                "skipped": [{"origin": o, "why": why} for o, why in self.skipped],
                "sentence": self.sentence()}


def _share(flags) -> float | None:
    return float(np.mean(flags)) if flags else None


def backtest(history: FunnelHistory, *, horizon: int = DEFAULT_HORIZON, fit_months: int = DEFAULT_FIT_MONTHS,
             origins: int = DEFAULT_ORIGINS, trials: int = DEFAULT_TRIALS, growth: float | None = None,
             typed: Scenario | None = None, seed: int = 20260101) -> Backtest:
    """Backtest at the last ``origins`` months that have ``fit_months`` months of history before
    them and at least one month after them."""
    if not 1 <= horizon <= 36:
        raise ScenarioError(f"the horizon must be between 1 and 36 months (got {horizon})")
    if fit_months < 2:
        raise ScenarioError(f"the fit needs at least 2 months of history (got {fit_months})")
    if origins < 1:
        raise ScenarioError(f"at least one origin is needed (got {origins})")
    span = history.data_months()
    if span is None:
        raise ScenarioError("the database holds no actuals: import a CRM export or monthly counts first")
    first, last = span
    top = np.flatnonzero(history.counted[0]) if history.counts.shape[0] else np.zeros(0, int)
    if top.size:                     # the months after the top of the funnel's last count are not known
        last = min(last, history.first_month + int(top[-1]))
    if any(m == last for m, _ in history.partial):      # a partial last month would look like a fall
        last -= 1
    candidates = list(range(first + fit_months, last + 1))[-origins:]
    if not candidates:
        months = last - first + 1
        raise ScenarioError(f"the history has {months} month{'s' if months != 1 else ''}: a backtest needs more than the "
                            f"{fit_months} months each fit uses (try --fit-months {max(2, last - first)})")
    results, skipped = [], []
    filled = history.passed_through()[0].reached
    for o in candidates:
        h = min(horizon, last - o + 1)
        try:
            fit = fit_history(history, FitOptions(first=index_label(o - fit_months), last=index_label(o - 1),
                                                  start=index_label(o), months=h, growth=growth), typed)
        except ScenarioError as exc:
            skipped.append((index_label(o), "; ".join(p for p in exc.problems if not p.startswith("nothing was"))))
            continue
        results.append(_judge(history, filled, fit.scenario, o, h, fit_months, trials, seed))
    return Backtest(tuple(results), tuple(skipped), horizon, fit_months)


def _passed_through_counts(history: FunnelHistory, filled: np.ndarray, first: int, last: int) -> list[int]:
    """Per stage, the records that passed through it (jumped it: ``filled`` is the reached months
    of :meth:`FunnelHistory.passed_through`) in the months ``first`` .. ``last``: the stage's
    actual volume counts them, as the fit does."""
    added = (history.reached < 0) & (filled >= first) & (filled <= last)
    return [int(v) for v in np.count_nonzero(added, axis=0)] if added.size else [0] * len(history.stages)


def _judge(history, filled, scenario: Scenario, o: int, h: int, fit_months: int, trials: int, seed: int) -> OriginResult:
    forecast = simulate(replace(scenario, trials=trials, seed=seed))
    revenue, _ = history.revenue_series(o, o + h - 1)
    actual = float(revenue.sum())
    r = forecast.revenue
    # Counted as the fit counts them: a record that jumped a stage passed through it.
    passed = _passed_through_counts(history, filled, o, o + h - 1)
    stages = []
    for k, stage in enumerate(forecast.stages):
        counts, _ = history.series(k, o, o + h - 1)
        t = stage.total
        stages.append((stage.name, Band(float(counts.sum()) + passed[k], t.p10, t.p50, t.p90)))
    return OriginResult(index_label(o), h, index_label(o - fit_months), index_label(o - 1),
                        Band(actual, r.p10, r.p50, r.p90), tuple(stages), scenario.goal, forecast.p_goal,
                        actual >= scenario.goal)
