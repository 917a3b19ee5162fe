"""How much work a run asks for, estimated before it starts, and the budget it must fit in.

The engine's cost grows with trials × (months + open-pipeline stages) × the months a cohort's
customers spread over, and with the customers of a cohort only up to fixed caps (customers
placed one by one, exact top deal values), never beyond: :func:`estimate_run` adds those
terms up with per-operation costs measured on the development machine (2 cores, numpy 2.4),
in CPU-seconds, and the run's peak memory in bytes (the arrays it keeps for every trial, the
chunks in flight, the stage-detail sample and the tables). Both are upper-bound estimates, not
promises (``tests/slow/test_work_budget.py`` checks them against measured runs).

A run whose estimate exceeds ``WORK_BUDGET_SECONDS`` of CPU or ``MEMORY_BUDGET_BYTES`` is
refused before it starts, with :class:`WorkBudgetExceeded`: a :class:`ScenarioError` whose
message says which budget, by how much, the largest number of trials that fits
(:func:`max_trials_within_budget`) and what else can be lowered (months, lag lengths, stages).
The refusal is the same for every caller (command line, app, library); a caller that prefers
to run with fewer trials asks :func:`max_trials_within_budget` and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ScenarioError
from .positional_random import BLOCK

#: CPU-seconds (development machine) one run may use: about 20 s of wall time on its 2 cores.
WORK_BUDGET_SECONDS = 40.0
#: Bytes one run may hold at its peak (the interpreter and libraries, ~200 MB, come on top,
#: so that a whole process stays below 1 GiB).
MEMORY_BUDGET_BYTES = 720 * 2 ** 20

# Measured costs (ns of one core) of the engine's operations, rounded up.
_NS_TRIAL = 600            # per trial: uniforms, gamma noise, rates, bookkeeping, per chunk
_NS_MONTH = 60             # per trial and month: volume noise, summaries, fan chart
_NS_COHORT = 120           # per trial and cohort: two uniforms, sizes, stream states
_NS_SMALL_COUNT = 12       # per trial, cohort and expected customer of a count drawn by search
_NS_LARGE_COUNT = 350      # per binomial drawn by the corrected normal (with exact fallbacks)
_NS_NUMPY_BINOMIAL = 90    # per binomial of numpy's sampler (outputs only)
_NS_PLACED = 40            # per customer placed in its month one by one
_NS_VALUE_SUM = 500        # per value sum (exact top values + bulk)
_NS_DETAIL_CELL = 120      # per detail trial, stage, month and lag entry
_CHUNK = BLOCK
_WORKERS = 2
#: A run whose chunks are estimated above this (CPU-seconds) has long jobs: the engine's pool
#: gives them to its regular workers only, and serves light runs beside them on express
#: workers (:mod:`sim.model.fair_pool`), so a light run may have twice as many chunks in flight.
LONG_JOB_SECONDS = 0.5
#: Measured CPU time of 8 scenarios (demo, 100x and 10^7 visits, recurring, 5,000 deals, skewed,
#: 36 months, the worst case) was 0.5 to 1.2 times the sum above: counted 1.3 times.
_SAFETY = 1.3


@dataclass(frozen=True)
class RunCost:
    """Estimated cost of one run: CPU-seconds on the development machine and peak bytes, and
    the CPU-seconds of one chunk of the run's trials."""

    trials: int
    cpu_seconds: float
    peak_bytes: int
    chunk_seconds: float = 0.0

    @property
    def within_budget(self) -> bool:
        return self.cpu_seconds <= WORK_BUDGET_SECONDS and self.peak_bytes <= MEMORY_BUDGET_BYTES

    @property
    def long_chunks(self) -> bool:
        """Whether the run's chunks are long (:data:`LONG_JOB_SECONDS`)."""
        return _is_long(self.chunk_seconds)


def _is_long(chunk_seconds: float) -> bool:
    return chunk_seconds > LONG_JOB_SECONDS


class WorkBudgetExceeded(ScenarioError):
    """A run would exceed the work or memory budget (raised before any work is done)."""


def _cohorts(scenario):
    """(expected customers within the period, months they spread over) per cohort."""
    K, T = len(scenario.stages), scenario.months
    mean_rates = [1.0] + [s.rate.mean for s in scenario.stages[1:]]
    to_customer = []
    for j in range(K):
        p = 1.0
        for rate in mean_rates[j + 1:]:
            p *= rate
        to_customer.append(p)
    lag_length = sum(len(s.lag) - 1 for s in scenario.stages[1:]) + 1
    out = [(v * to_customer[0], min(lag_length, T - t)) for t, v in enumerate(scenario.top.monthly)]
    for j, count in enumerate(scenario.pipeline_counts()):
        if count and j < K - 1:
            spread = len(scenario.pipeline_lag(j)) + sum(len(s.lag) - 1 for s in scenario.stages[j + 2:])
            out.append((count * to_customer[j], min(spread, T)))
    return out


def _count_ns(mean: float) -> float:
    return _NS_SMALL_COUNT * (min(mean, 50.0) + 2) if mean < 50 else _NS_LARGE_COUNT


def estimate_run(scenario, *, trials: int | None = None, detail_trials: int = 0,
                 months_detail: bool = True, runs: int = 1) -> RunCost:
    """Estimated cost of simulating ``scenario`` (``trials`` defaults to its own): with
    ``months_detail`` the whole forecast (months, late customers, summaries), else only the
    period's revenue (what P(goal) needs), ``runs`` times (a search or a sensitivity)."""
    trials = scenario.trials if trials is None else int(trials)
    K, T = len(scenario.stages), scenario.months
    recurring = scenario.deal.recurring
    per_trial = _NS_TRIAL + _NS_MONTH * T
    for customers, spread in _cohorts(scenario):
        per_trial += _NS_COHORT + _count_ns(customers)
        if recurring:                                    # coupled: one by one, then inversion
            per_trial += _NS_PLACED * min(customers, 16.0)
            if customers > 16 and spread > 1:
                per_trial += spread * _count_ns(customers / spread)
        elif months_detail:                              # one by one, or numpy's multinomial
            per_trial += _NS_PLACED * customers if customers <= 16 else spread * _NS_NUMPY_BINOMIAL
        if months_detail:
            per_trial += _NS_NUMPY_BINOMIAL              # the customers after the period
    sums = T if recurring else 1
    per_trial += _NS_VALUE_SUM * (sums + (1 if months_detail else 0))
    cpu = _SAFETY * runs * trials * per_trial * 1e-9
    lag_entries = sum(len(s.lag) for s in scenario.stages[1:])
    cpu += _SAFETY * detail_trials * K * (T + lag_entries) * _NS_DETAIL_CELL * 1e-9
    cohorts = len(_cohorts(scenario))
    chunk_seconds = _SAFETY * _CHUNK * per_trial * 1e-9
    chunks_in_flight = _WORKERS if _is_long(chunk_seconds) else 2 * _WORKERS
    # Memory: kept per trial (customers and monthly revenue per month, totals), the chunks in
    # flight (a few arrays per cohort and month), the stage detail, the value-sum tables.
    kept = trials * (8 * (T + 1) + 8 * T + 32) if months_detail else trials * 8
    in_flight = chunks_in_flight * _CHUNK * 8 * (12 * cohorts + 10 * T + 16 * K)
    detail = detail_trials * K * T * 8 * 3
    tables = 16 * 2 ** 20 + K * 140_000
    summary = _WORKERS * trials * 8 * 2 if months_detail else 0
    peak = kept + in_flight + detail + tables + summary
    return RunCost(trials, cpu, int(peak), chunk_seconds)


def max_trials_within_budget(scenario, *, detail_trials: int = 0, months_detail: bool = True,
                             runs: int = 1) -> int:
    """The largest number of trials whose run fits both budgets (0 if none does)."""
    lo, hi = 0, 2_000_000
    def cost(n):
        return estimate_run(scenario, trials=n, detail_trials=min(detail_trials, n),
                            months_detail=months_detail, runs=runs)
    if cost(hi).within_budget:
        return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if cost(mid).within_budget else (lo, mid)
    return lo


def check_run_budget(scenario, *, trials: int | None = None, detail_trials: int = 0,
                     months_detail: bool = True, runs: int = 1, what: str = "this run") -> RunCost:
    """The run's estimate; :class:`WorkBudgetExceeded` if it does not fit the budgets."""
    cost = estimate_run(scenario, trials=trials, detail_trials=detail_trials,
                        months_detail=months_detail, runs=runs)
    if cost.within_budget:
        return cost
    fits = max_trials_within_budget(scenario, detail_trials=detail_trials, months_detail=months_detail,
                                    runs=runs)
    over = []
    if cost.cpu_seconds > WORK_BUDGET_SECONDS:
        over.append(f"about {cost.cpu_seconds:,.0f} CPU-seconds against a budget of {WORK_BUDGET_SECONDS:g}")
    if cost.peak_bytes > MEMORY_BUDGET_BYTES:
        over.append(f"about {cost.peak_bytes / 2 ** 20:,.0f} MiB of memory against a budget of "
                    f"{MEMORY_BUDGET_BYTES / 2 ** 20:,.0f} MiB")
    lower = (f"lower trials to at most {fits:,}" if fits >= 100 else "lower trials")
    raise WorkBudgetExceeded(
        f"{what} is too large to simulate here ({' and '.join(over)} for {cost.trials:,} trials): "
        f"{lower}, or shorten months, the lags or the number of stages")

