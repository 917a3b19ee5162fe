"""The reverse funnel: from the revenue goal to the volume each stage must deliver per month.

* :func:`expected_value_plan` (the expected-value plan) is the spreadsheet answer made exact: with mean rates, the mean
  deal value and the lag distributions, the expected revenue is proportional to the top-of-funnel
  plan, so the plan is scaled until the expected revenue equals the goal. Stage volumes are the
  expected arrivals per month under that plan, so they are shifted by the lags and respect the
  timing of recurring revenue (a customer won in month t of 12 brings 12 - t months).
* :func:`required_volumes` answers "how much for an 80% chance": the smallest factor (to
  within 1%) by which the whole top-of-funnel plan must be scaled so that P(goal) >=
  confidence. For one seed and number of trials the engine's P(goal) never decreases when the
  volume rises (monotone coupling, see :mod:`sim.model.engine`), so bracketing and bisection on
  log(scale) find it exactly for that seed: P(goal) at the answer reaches the confidence and
  at the answer / (1 + tolerance) it does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ScenarioError
from .confidence import DEFAULT_CONFIDENCE
from .engine import period_revenue
from .scenario import Scenario
from .work_budget import check_run_budget

MAX_SCALE = 100.0          # never search beyond 100x the volume the expected-value plan needs
COARSE_TRIALS = 16_384     # the first trials of the full run (same random numbers): a first bracket
#: Runs of all trials a search is budgeted for (bracket checks and bisection steps).
SEARCH_RUNS = 8


@dataclass(frozen=True)
class StageTarget:
    name: str
    owner: str
    monthly: tuple[float, ...]   # expected arrivals per month
    total: float                 # expected arrivals in the period

    def to_dict(self) -> dict:
        return {"name": self.name, "owner": self.owner, "total": self.total,
                "monthly": list(self.monthly)}


@dataclass(frozen=True)
class TargetPlan:
    """Volumes per stage and month under the top-of-funnel plan scaled by ``scale``."""

    scale: float
    stages: tuple[StageTarget, ...]
    expected_revenue: float              # baseline + expected revenue in the period
    p_goal: float | None = None          # simulated, for the plan at confidence

    def to_dict(self) -> dict:
        out = {"scale": self.scale, "expected_revenue": self.expected_revenue,
               "stages": [s.to_dict() for s in self.stages]}
        if self.p_goal is not None:
            out["p_goal"] = self.p_goal
        return out


@dataclass(frozen=True)
class Targets:
    confidence: float
    expected_value: TargetPlan           # the expected-value plan ("deterministic" in the JSON)
    at_confidence: TargetPlan
    reachable: bool          # False: even MAX_SCALE x the plan gives P(goal) < confidence
    trials: int
    seed: int

    def to_dict(self) -> dict:
        return {"confidence": self.confidence, "trials": self.trials, "seed": self.seed,
                "reachable": self.reachable, "deterministic": self.expected_value.to_dict(),
                "at_confidence": self.at_confidence.to_dict()}


# -- expected values ------------------------------------------------------------------------

def expected_arrivals(scenario: Scenario, scale: float = 1.0) -> np.ndarray:
    """(K, T+1) expected arrivals per stage and month with mean rates and no noise; column T
    holds arrivals after the period. The top plan is multiplied by ``scale``."""
    K, T = len(scenario.stages), scenario.months
    out = np.zeros((K, T + 1))
    out[0, :T] = np.asarray(scenario.top.monthly) * scale
    pipeline = scenario.pipeline_counts()
    for k in range(1, K):
        entering = out[k - 1, :T].copy()
        flow = np.convolve(entering, np.asarray(scenario.stages[k].lag)) * scenario.stages[k].rate.mean
        # The open pipeline moves on with its own lag (the stage's unless the scenario says).
        pipe = np.asarray(scenario.pipeline_lag(k - 1)) * pipeline[k - 1] * scenario.stages[k].rate.mean
        flow = np.pad(flow, (0, max(0, pipe.size - flow.size)))
        flow[:pipe.size] += pipe
        out[k, :T] = flow[:T]
        # Units still in stage k-1's "after the period" column move on after the period too.
        out[k, T] = flow[T:].sum() + out[k - 1, T] * scenario.stages[k].rate.mean
    return out


def _expected_revenue(scenario: Scenario, customers: np.ndarray) -> float:
    """Expected period revenue (without baseline) from expected customers per month (T,)."""
    T = scenario.months
    weights = (T - np.arange(T)) if scenario.deal.recurring else np.ones(T)
    return float(np.dot(customers, weights) * scenario.deal.mean)


def _plan(scenario: Scenario, scale: float, p_goal: float | None = None) -> TargetPlan:
    arrivals = expected_arrivals(scenario, scale)
    T = scenario.months
    stages = tuple(StageTarget(s.name, s.owner, tuple(float(v) for v in arrivals[k, :T]),
                               float(arrivals[k, :T].sum()))
                   for k, s in enumerate(scenario.stages))
    revenue = scenario.baseline_revenue + _expected_revenue(scenario, arrivals[-1, :T])
    return TargetPlan(float(scale), stages, revenue, p_goal)


def expected_value_plan(scenario: Scenario) -> TargetPlan:
    """The plan scaled so that the expected revenue (mean rates, mean deal value) equals the goal."""
    T = scenario.months
    from_pipeline = _expected_revenue(scenario, expected_arrivals(scenario, 0.0)[-1, :T])
    from_top = _expected_revenue(scenario, expected_arrivals(scenario, 1.0)[-1, :T]) - from_pipeline
    needed = scenario.goal - scenario.baseline_revenue - from_pipeline
    if needed <= 0:
        return _plan(scenario, 0.0)
    if from_top <= 0:
        raise ScenarioError("the goal cannot be reached from new top-of-funnel volume: no customer "
                            "from it closes within the period (check the plan, rates and lags)")
    return _plan(scenario, needed / from_top)


# -- at a confidence level ---------------------------------------------------------------------

def p_goal_at_scale(scenario: Scenario, scale: float, *, trials: int, seed, should_stop=None) -> float:
    """Simulated P(goal) with the top-of-funnel plan multiplied by ``scale``."""
    revenue = period_revenue(scenario.with_top_scaled(scale), trials=trials, seed=seed, should_stop=should_stop)
    return float(np.count_nonzero(revenue + scenario.baseline_revenue >= scenario.goal)) / trials


def required_volumes(scenario: Scenario, confidence: float = DEFAULT_CONFIDENCE, *,
                     trials: int | None = None, seed=None, tolerance: float = 0.01,
                     max_scale: float = MAX_SCALE, progress=None, should_stop=None) -> Targets:
    """The expected-value plan and the plan that gives P(goal) >= ``confidence``.

    The reported scale is the smallest (within ``tolerance``, relative) with P(goal) >=
    confidence on all ``trials`` trials for ``seed`` (an int or a ``numpy.random.Generator``,
    from which one int seed is drawn). A first bracket comes from the first ``COARSE_TRIALS``
    trials (the same random numbers); it is then checked, widened if needed, and narrowed by
    bisection on log(scale) with all trials. If even ``max_scale`` times the expected-value
    plan's scale (times the current plan when the expected-value plan needs no new volume)
    falls short, ``reachable`` is False and the plan at that cap is reported: the search never
    goes beyond it, and the engine's memory does not grow with the scale. ``progress(fraction)``
    is called as the search advances; ``should_stop`` is checked between chunks of trials.
    """
    if not 0.0 < confidence < 1.0:
        raise ScenarioError(f"confidence must be between 0 and 1 (got {confidence})")
    trials = scenario.trials if trials is None else int(trials)
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(0, 2 ** 53))
    seed = scenario.seed if seed is None else int(seed)
    expected_value = expected_value_plan(scenario)
    cap = max_scale * (expected_value.scale if expected_value.scale > 0 else 1.0)
    check_run_budget(scenario.with_top_scaled(cap), trials=trials, months_detail=False,
                     runs=SEARCH_RUNS, what="the confidence search")
    report = progress or (lambda fraction: None)
    seen: dict[tuple[float, int], float] = {}

    def p(scale, n):
        if (scale, n) not in seen:
            seen[(scale, n)] = p_goal_at_scale(scenario, scale, trials=n, seed=seed, should_stop=should_stop)
        return seen[(scale, n)]

    def done(scale, reachable=True):
        report(1.0)
        return Targets(confidence, expected_value, _plan(scenario, scale, p(scale, trials)), reachable, trials, seed)

    def bisect(lo, hi, n, ratio):
        """Narrow [lo, hi] with P(lo) < confidence <= P(hi) until hi/lo <= ratio (lo may be 0)."""
        for _ in range(200):          # P(0) < confidence: some small scale falls short too
            if lo > 0:
                break
            mid = hi / 2
            if p(mid, n) >= confidence:
                hi = mid
            else:
                lo = mid
        if lo <= 0:
            return lo, hi
        while hi / lo > ratio:
            mid = float(np.sqrt(lo * hi))
            if not lo < mid < hi:
                break
            if p(mid, n) >= confidence:
                hi = mid
            else:
                lo = mid
        return lo, hi

    n_coarse = min(trials, COARSE_TRIALS)
    if p(0.0, n_coarse) >= confidence and p(0.0, trials) >= confidence:
        return done(0.0)
    # A first bracket on the first trials, narrowed to 5%.
    start = min(expected_value.scale or cap * 1e-3, cap)
    lo, hi = _bracket(lambda sc: p(sc, n_coarse) >= confidence, start, cap)
    if hi is None:
        lo, hi = cap / 2, cap
    else:
        lo, hi = bisect(lo, hi, n_coarse, 1.05)
    report(0.4)
    # All trials: make sure the bracket holds (widen it where the first trials misled), then
    # narrow it to the tolerance.
    if p(0.0, trials) >= confidence:
        return done(0.0)
    step = 1.05
    while p(hi, trials) < confidence:
        if hi >= cap:
            return done(cap, reachable=False)
        lo, hi = hi, min(hi * step, cap)
        step *= step
    step = 1.05
    while lo > 0 and p(lo, trials) >= confidence:
        lo, hi = lo / step, lo
        step *= step
        if lo < hi * 1e-6:
            lo = 0.0
    report(0.7)
    lo, hi = bisect(lo, hi, trials, 1.0 + tolerance)
    return done(hi)


def _bracket(ok, start: float, max_scale: float):
    """(lo, hi) with ok(hi) and not ok(lo) (lo may be 0), growing or shrinking by 2x; hi is
    None when not even ``max_scale`` is ok."""
    if ok(start):
        hi, lo = start, start / 2
        while ok(lo):
            hi, lo = lo, lo / 2
            if lo < start * 1e-6:
                return 0.0, hi
        return lo, hi
    lo, hi = start, min(start * 2, max_scale)
    while not ok(hi):
        if hi >= max_scale:
            return lo, None
        lo, hi = hi, min(hi * 2, max_scale)
    return lo, hi
