"""The reverse funnel: from the revenue goal to the volume each stage must deliver per month.

* :func:`deterministic_targets` is the spreadsheet answer made exact: with mean rates, the mean
  deal value and the lag distributions, the expected revenue is proportional to the top-of-funnel
  plan, so the plan is scaled until the expected revenue equals the goal. Stage volumes are the
  expected arrivals per month under that plan, so they are shifted by the lags and respect the
  timing of recurring revenue (a customer won in month t of 12 brings 12 - t months).
* :func:`required_volumes` answers "how much for an 80% chance": the factor by which the whole
  top-of-funnel plan must be scaled so that P(goal) >= confidence, found by a bracketing and
  bisection search over the simulation with common random numbers (the same seed, and the
  same random streams per chunk of trials, at every scale).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ScenarioError
from .engine import draw_revenue, make_rng
from .scenario import Scenario

DEFAULT_CONFIDENCE = 0.8
MAX_SCALE = 100.0          # never search beyond 100x the volume the expected-value plan needs
COARSE_TRIALS = 16_384     # the first chunks of the full run: same random numbers


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
    deterministic: TargetPlan
    at_confidence: TargetPlan
    reachable: bool          # False: even MAX_SCALE x the plan gives P(goal) < confidence
    trials: int
    seed: int

    def to_dict(self) -> dict:
        return {"confidence": self.confidence, "trials": self.trials, "seed": self.seed,
                "reachable": self.reachable, "deterministic": self.deterministic.to_dict(),
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


def deterministic_targets(scenario: Scenario) -> TargetPlan:
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

def p_goal_at_scale(scenario: Scenario, scale: float, trials: int, seed: int) -> float:
    """Simulated P(goal) with the top-of-funnel plan multiplied by ``scale``."""
    draws = draw_revenue(scenario.with_top_scaled(scale), trials, make_rng(seed))
    return float(np.count_nonzero(draws.revenue + scenario.baseline_revenue >= scenario.goal)) / trials


def required_volumes(scenario: Scenario, confidence: float = DEFAULT_CONFIDENCE,
                     trials: int | None = None, seed: int | None = None, *,
                     tolerance: float = 0.01, max_scale: float = MAX_SCALE,
                     progress=None) -> Targets:
    """Deterministic targets and the targets that give P(goal) >= ``confidence``.

    The search brackets the scale factor on a prefix of the trials (the first
    ``COARSE_TRIALS``, which use the same random numbers as the full run) and narrows it to
    ``tolerance`` (relative), then checks and narrows the bracket again on all trials. The
    reported scale is the smallest scale tried with P(goal) >= confidence on all trials. If
    even ``max_scale`` times the expected-value plan's scale (times the current plan when the
    expected-value plan needs no new volume) falls short, ``reachable`` is False and the
    plan at that cap is reported. ``progress(fraction)`` is called as the search advances.
    """
    if not 0.0 < confidence < 1.0:
        raise ScenarioError(f"confidence must be between 0 and 1 (got {confidence})")
    trials = scenario.trials if trials is None else int(trials)
    seed = scenario.seed if seed is None else int(seed)
    det = deterministic_targets(scenario)
    cap = max_scale * (det.scale if det.scale > 0 else 1.0)
    report = progress or (lambda fraction: None)
    seen: dict[tuple[float, int], float] = {}

    def p(scale, n):
        if (scale, n) not in seen:
            seen[(scale, n)] = p_goal_at_scale(scenario, scale, n, seed)
        return seen[(scale, n)]

    def done(scale, reachable=True):
        report(1.0)
        return Targets(confidence, det, _plan(scenario, scale, p(scale, trials)), reachable,
                       trials, seed)

    def narrow(lo, hi, n):
        """Shrink [lo, hi] (P(lo) < confidence <= P(hi)) until hi/lo <= 1 + tolerance, by
        safeguarded false position on log(scale): interpolate, staying in the middle 80%."""
        while lo <= 0 or hi / lo > 1.0 + tolerance:
            p_lo, p_hi = p(lo, n), p(hi, n)
            t = min(0.9, max(0.1, (confidence - p_lo) / (p_hi - p_lo))) if p_hi > p_lo else 0.5
            mid = lo * (hi / lo) ** t if lo > 0 else hi * t
            if lo <= 0 and mid < hi * 1e-4:
                return 0.0, hi
            if p(mid, n) >= confidence:
                hi = mid
            else:
                lo = mid
        return lo, hi

    n_coarse = min(trials, COARSE_TRIALS)
    # Goal already as likely as asked without any new top-of-funnel volume?
    if p(0.0, n_coarse) >= confidence and p(0.0, trials) >= confidence:
        return done(0.0)
    # Coarse: bracket and narrow on the first chunks of trials.
    lo, hi = _bracket(lambda s: p(s, n_coarse) >= confidence, det.scale or 1e-3, cap)
    if hi is None:
        return done(cap, reachable=False)
    report(0.3)
    lo, hi = narrow(lo, hi, n_coarse)
    report(0.6)
    # Fine: all trials. Widen the bracket where the prefix misled, then narrow again.
    step = 1.0 + tolerance
    while p(hi, trials) < confidence:
        if hi >= cap:
            return done(cap, reachable=False)
        lo, hi = hi, min(hi * step, cap)
    while lo > 0 and p(lo, trials) >= confidence:
        lo, hi = lo / step, lo
    report(0.8)
    lo, hi = narrow(lo, hi, trials)
    return done(hi)


def _bracket(ok, start: float, max_scale: float):
    """(lo, hi) with ok(hi) and not ok(lo) (lo may be 0), growing or shrinking by 1.5x."""
    if ok(start):
        hi, lo = start, start / 1.5
        while ok(lo):
            hi, lo = lo, lo / 1.5
            if lo < start * 1e-4:
                return 0.0, hi
        return lo, hi
    lo, hi = start, start * 1.5
    while not ok(hi):
        if hi >= max_scale:
            return lo, None
        lo, hi = hi, min(hi * 1.5, max_scale)
    return lo, hi
