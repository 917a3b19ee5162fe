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
  a grid of scales (1 + tolerance)^k find it exactly for that seed: P(goal) at the answer
  reaches the confidence and at the grid point below (the answer / (1 + tolerance)) it does
  not, wherever the search starts (an app starts it from the last answer).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ScenarioError
from .confidence import DEFAULT_CONFIDENCE
from .engine import period_revenue, period_revenue_of
from .scenario import Scenario
from .work_budget import check_run_budget

MAX_SCALE = 100.0          # never search beyond 100x the volume the expected-value plan needs
COARSE_TRIALS = 16_384     # at most: the first trials of the full run (same random numbers), a first bracket
WARM_TRIALS = 4_096        # the same, for a search that starts from a hint (half a chunk of trials)
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
    return _share_reaching_goal(scenario, revenue)


def _reaching_goal(scenario: Scenario, revenue: np.ndarray) -> np.ndarray:
    """Which trials of a sample of the period's revenue (the baseline not included) reach the goal."""
    return revenue + scenario.baseline_revenue >= scenario.goal


def _share_reaching_goal(scenario: Scenario, revenue: np.ndarray) -> float:
    """P(goal) of a sample of the period's revenue (the baseline not included in it)."""
    return float(np.count_nonzero(_reaching_goal(scenario, revenue))) / revenue.size


class _Outcomes:
    """Which trials reach the goal at the scales run so far, for one scenario and seed. A
    trial's revenue never falls as the scale rises (monotone coupling), so a trial that reaches
    the goal at one scale reaches it at every larger one, and one that falls short at a scale
    falls short at every smaller one: a run at a new scale simulates only the trials that the
    runs so far leave open (just below a scale run with all trials, those that reached the goal
    there; between two close scales run, the few that reached it at one and not the other), with
    the same answer as a run of them all."""

    def __init__(self, scenario: Scenario, seed: int, should_stop):
        self.scenario, self.seed, self.should_stop = scenario, seed, should_stop
        self.hit_from = np.empty(0)       # per trial: the smallest scale run where it reaches the goal
        self.short_to = np.empty(0)       # and the largest where it falls short (±inf: none)

    def _cover(self, n: int) -> None:
        if self.hit_from.size < n:
            grow = n - self.hit_from.size
            self.hit_from = np.concatenate([self.hit_from, np.full(grow, np.inf)])
            self.short_to = np.concatenate([self.short_to, np.full(grow, -np.inf)])

    def record(self, scale: float, trials: np.ndarray, revenue: np.ndarray) -> None:
        """The revenues of ``trials`` (indices) at ``scale``."""
        hit = _reaching_goal(self.scenario, revenue)
        self.hit_from[trials[hit]] = np.minimum(self.hit_from[trials[hit]], scale)
        self.short_to[trials[~hit]] = np.maximum(self.short_to[trials[~hit]], scale)

    def revenue(self, scale: float, n: int) -> np.ndarray:
        """The revenues of the first ``n`` trials at ``scale``, all run (and recorded)."""
        self._cover(n)
        revenue = period_revenue(self.scenario.with_top_scaled(scale), trials=n, seed=self.seed,
                                 should_stop=self.should_stop)
        self.record(scale, np.arange(n), revenue)
        return revenue

    def share(self, scale: float, n: int) -> float:
        """P(goal) on the first ``n`` trials at ``scale``: the trials still open are run."""
        self._cover(n)
        open_ = np.flatnonzero((self.hit_from[:n] > scale) & (self.short_to[:n] < scale))
        if open_.size:
            self.record(scale, open_, period_revenue_of(self.scenario.with_top_scaled(scale), open_,
                                                        seed=self.seed, should_stop=self.should_stop))
        return float(np.count_nonzero(self.hit_from[:n] <= scale)) / n


def required_volumes(scenario: Scenario, confidence: float = DEFAULT_CONFIDENCE, *,
                     trials: int | None = None, seed=None, tolerance: float = 0.01,
                     max_scale: float = MAX_SCALE, start_scale: float | None = None, progress=None,
                     should_stop=None) -> Targets:
    """The expected-value plan and the plan that gives P(goal) >= ``confidence``.

    The reported scale is the smallest scale of the grid (1 + ``tolerance``)^k, k an integer,
    with P(goal) >= confidence on all ``trials`` trials for ``seed`` (an int or a
    ``numpy.random.Generator``, from which one int seed is drawn): P(goal) at the answer
    reaches the confidence and at the grid point below it (the answer / (1 + tolerance)) it
    does not. P(goal) never decreases as the scale rises (monotone coupling), so that grid
    point is unique: the answer does not depend on where the search starts, only its cost does.

    Without ``start_scale``, a first bracket comes from the first quarter of the trials (the
    same random numbers; at least ``WARM_TRIALS``, at most ``COARSE_TRIALS``), starting at the
    expected-value plan's scale; with ``start_scale`` (e.g. the answer for a slightly different
    scenario, as an app has after a slider moved), from the first ``WARM_TRIALS`` trials,
    starting there. From the start, up to two Newton-like steps (the first trials' revenues,
    each taken as proportional to the scale, say where the confidence is reached) and then
    single steps find a bracket one step wide; it is then checked with all trials (usually two
    runs), widened if needed and narrowed by bisection. On the demo and the 5,000-deal funnel
    (``benchmarks/bench_search.py``) the steps cut a cold search's trials by 36–48% and a
    search after a change by 15–19%, with the same answers on 48 searches. Each run after the
    first simulates only the trials whose outcome the runs so far leave open (``_Outcomes``):
    a further 28–41% fewer trials, the same answers. If even
    ``max_scale`` times the expected-value plan's scale (times the current plan when the
    expected-value plan needs no new volume) falls short, ``reachable`` is False and the plan
    at that cap is reported: the search never goes beyond it, and the engine's memory does not
    grow with the scale. ``progress(fraction)`` is called as the search advances;
    ``should_stop`` is checked before each chunk of trials and between a chunk's steps.
    """
    if not 0.0 < confidence < 1.0:
        raise ScenarioError(f"confidence must be between 0 and 1 (got {confidence})")
    if not tolerance > 0:
        raise ScenarioError(f"tolerance must be above 0 (got {tolerance})")
    trials = scenario.trials if trials is None else int(trials)
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(0, 2 ** 53))
    seed = scenario.seed if seed is None else int(seed)
    expected_value = expected_value_plan(scenario)
    cap = max_scale * (expected_value.scale if expected_value.scale > 0 else 1.0)
    check_run_budget(scenario.with_top_scaled(cap), trials=trials, months_detail=False,
                     runs=SEARCH_RUNS, what="the confidence search")
    report = progress or (lambda fraction: None)
    grid = _ScaleGrid(tolerance, cap)
    outcomes = _Outcomes(scenario, seed, should_stop)

    def p(scale, n):
        return outcomes.share(scale, n)          # a scale run before: nothing left to run

    def estimate(k, n):
        """A grid index near the answer, from the revenues of n trials at grid point k (a
        Newton-like step: each trial's revenue taken as proportional to the scale); None when
        those trials say nothing useful (too few with any revenue)."""
        scale = grid.scale(k)
        revenue = outcomes.revenue(scale, n)
        need = scenario.goal - scenario.baseline_revenue
        with np.errstate(divide="ignore"):
            thresholds = np.where(revenue > 0, scale * need / np.maximum(revenue, 1e-300), np.inf)
        rank = min(n - 1, int(np.ceil(confidence * n)) - 1)
        guess = float(np.partition(thresholds, rank)[rank])
        return grid.index(min(guess, cap)) if np.isfinite(guess) and guess > 0 else None

    def ok(n):
        return lambda k: k > grid.zero and p(grid.scale(k), n) >= confidence

    def done(scale, reachable=True):
        report(1.0)
        return Targets(confidence, expected_value, _plan(scenario, scale, p(scale, trials)), reachable, trials, seed)

    warm = start_scale is not None and start_scale > 0
    if not warm:
        n_first = min(trials, COARSE_TRIALS, max(WARM_TRIALS, trials // 4))
        if p(0.0, n_first) >= confidence and p(0.0, trials) >= confidence:
            return done(0.0)
        # A first bracket on the first trials, from the expected-value plan.
        start, first = grid.index(min(expected_value.scale or cap * 1e-3, cap)), grid.doubling
    else:
        # From the hint, on fewer trials.
        n_first = min(trials, WARM_TRIALS)
        start, first = grid.index(min(start_scale, cap)), 1
    # Up to two Newton-like steps from there (the revenues of the first trials at the start say
    # roughly where the answer lies), then single steps, narrowed to one step: usually 3-4 runs
    # of the first trials instead of 7-8 (the answer does not depend on this path, only the cost).
    for _ in range(2):
        guess = estimate(start, n_first) if start > grid.zero else None
        if guess is None or guess == start:
            break
        start, first = guess, 1
    lo, hi = _bracket(ok(n_first), start, grid, first=first)
    if hi is None:
        lo, hi = grid.top - 1, grid.top
    lo, hi = _bisect(ok(n_first), lo, hi, width=1)
    report(0.4)
    # All trials: make sure the bracket holds (widen it where the first trials misled).
    if not ok(trials)(hi):
        lo, hi = _bracket(ok(trials), hi, grid)
    elif ok(trials)(lo):
        lo, hi = _bracket(ok(trials), lo, grid)
    if hi is None:
        return done(cap, reachable=False)
    report(0.7)
    lo, hi = _bisect(ok(trials), lo, hi, width=1)
    if lo == grid.zero and p(0.0, trials) >= confidence:
        return done(0.0)
    return done(grid.scale(hi))


@dataclass(frozen=True)
class _ScaleGrid:
    """The scales the search answers with: (1 + tolerance)^k for the integers k above
    ``zero`` (about a millionth of a millionth of the cap: stands for scale 0) and below
    ``top`` (the index of the cap itself, the largest scale searched)."""

    tolerance: float
    cap: float

    @property
    def step(self) -> float:
        return float(np.log1p(self.tolerance))

    @property
    def top(self) -> int:
        return int(np.floor(np.log(self.cap) / self.step)) + 1

    @property
    def zero(self) -> int:
        return int(np.floor(np.log(self.cap * 1e-12) / self.step))

    @property
    def doubling(self) -> int:
        """Grid steps that double the scale."""
        return max(1, int(np.round(np.log(2.0) / self.step)))

    def index(self, scale: float) -> int:
        return min(max(int(np.round(np.log(scale) / self.step)), self.zero + 1), self.top)

    def scale(self, k: int) -> float:
        if k <= self.zero:
            return 0.0
        if k >= self.top:
            return float(self.cap)
        return float(np.exp(k * self.step))


def _bracket(ok, start: int, grid: _ScaleGrid, first: int = 1):
    """Grid indices (lo, hi) with ok(hi) and not ok(lo), galloping from ``start`` (steps of
    ``first``, then twice, four times that ...); lo may be ``grid.zero`` (scale 0, known not to
    be ok); hi is None when not even the cap is ok."""
    if ok(start):
        hi, d = start, first
        while True:
            lo = max(hi - d, grid.zero)
            if lo == grid.zero or not ok(lo):
                return lo, hi
            hi, d = lo, 2 * d
    lo, d = start, first
    while True:
        hi = min(lo + d, grid.top)
        if ok(hi):
            return lo, hi
        if hi == grid.top:
            return lo, None
        lo, d = hi, 2 * d


def _bisect(ok, lo: int, hi: int, width: int):
    """Narrow grid indices lo < hi, not ok(lo) and ok(hi), until hi - lo <= width."""
    while hi - lo > width:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return lo, hi
