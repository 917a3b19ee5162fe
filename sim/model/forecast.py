"""``simulate``: run the Monte Carlo for a scenario and summarise it into a :class:`Forecast`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .engine import Draws, draw, run_parallel
from .order_statistics import order_statistics
from .scenario import Scenario
from .work_budget import check_run_budget

#: Trials of the stage-by-stage sample behind the per-stage volumes (all stages but the last).
DETAIL_TRIALS = 2_048
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
HISTOGRAM_BINS = 40


@dataclass(frozen=True)
class Distribution:
    """Mean and percentiles of a simulated quantity."""

    mean: float
    p10: float
    p25: float
    p50: float
    p75: float
    p90: float

    def to_dict(self, keys=("mean", "p10", "p50", "p90")) -> dict:
        return {k: getattr(self, k) for k in keys}


def distributions(samples: np.ndarray) -> list[Distribution]:
    """One :class:`Distribution` per row of ``samples`` (rows: quantities, columns: trials).

    Percentiles use linear interpolation between order statistics (numpy's default method).
    The order statistics are exact, one row at a time (:mod:`sim.model.order_statistics`: a
    count of each value for whole numbers, brackets from a sample otherwise), so the working
    memory is about one row, not a sorted copy of the whole array.
    """
    samples = np.atleast_2d(samples)
    n = samples.shape[1]
    pos = np.array(QUANTILES) * (n - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    ranks = np.concatenate([lo, hi])
    out = []
    for row in samples:
        values = order_statistics(row, ranks)
        q = values[:lo.size] * (1 - frac) + values[lo.size:] * frac
        out.append(Distribution(float(row.mean(dtype=np.float64)), *(float(v) for v in q)))
    return out


@dataclass(frozen=True)
class ConfidenceInterval:
    """An interval for a simulated probability: ``low`` to ``high`` at confidence ``level``."""

    low: float
    high: float
    level: float = 0.95

    def to_list(self) -> list[float]:
        return [self.low, self.high]


@dataclass(frozen=True)
class MonthForecast:
    month: str
    revenue: Distribution       # booked in the month
    cumulative: Distribution    # baseline + booked from the start of the period to this month
    customers: Distribution     # new customers closing in the month


@dataclass(frozen=True)
class StageForecast:
    name: str
    owner: str
    total: Distribution                   # arrivals in the period
    monthly: tuple[Distribution, ...]     # arrivals per month
    trials: int                           # size of the sample behind these numbers


@dataclass(frozen=True)
class Forecast:
    """The summary of one simulation. ``revenue`` is what counts toward the goal: the baseline
    plus the revenue booked in the period."""

    scenario: Scenario
    trials: int
    seed: int | None
    p_goal: float
    p_goal_ci: ConfidenceInterval         # 95% Wilson interval (Monte Carlo error)
    revenue: Distribution
    months: tuple[MonthForecast, ...]
    stages: tuple[StageForecast, ...]
    late_customers: Distribution          # closing after the period (still in the pipeline)
    pipeline_value: Distribution          # their deal value (monthly value for recurring deals)
    histogram_edges: tuple[float, ...]
    histogram_counts: tuple[int, ...]

    @property
    def gap(self) -> float:
        """Goal minus median revenue (negative: the median plan beats the goal)."""
        return self.scenario.goal - self.revenue.p50

    def stage(self, name: str) -> StageForecast:
        return next(s for s in self.stages if s.name == name)

    def to_dict(self) -> dict:
        """The JSON document of ``python -m sim forecast --json`` (without sensitivity)."""
        keys = ("mean", "p10", "p50", "p90")
        return {
            "scenario": self.scenario.name,
            "goal": self.scenario.goal,
            "baseline_revenue": self.scenario.baseline_revenue,
            "trials": self.trials,
            "seed": self.seed,
            "p_goal": self.p_goal,
            "p_goal_ci": self.p_goal_ci.to_list(),
            "revenue": self.revenue.to_dict(keys),
            "stages": [{"name": s.name, "owner": s.owner, "trials": s.trials, **s.total.to_dict(keys),
                        "monthly": [m.to_dict(keys) for m in s.monthly]} for s in self.stages],
            "monthly": [{
                "month": m.month,
                "revenue_mean": m.revenue.mean, "revenue_p10": m.revenue.p10,
                "revenue_p50": m.revenue.p50, "revenue_p90": m.revenue.p90,
                "cum_revenue_p10": m.cumulative.p10, "cum_revenue_p25": m.cumulative.p25,
                "cum_revenue_p50": m.cumulative.p50, "cum_revenue_p75": m.cumulative.p75,
                "cum_revenue_p90": m.cumulative.p90,
                "customers_mean": m.customers.mean,
            } for m in self.months],
            "pipeline_at_end": {"customers": self.late_customers.to_dict(keys),
                                "value": self.pipeline_value.to_dict(keys)},
        }


#: z of the two-sided 95% normal interval (``scipy.stats.norm.ppf(0.975)``; a test checks it).
Z975 = 1.959963984540054


def wilson_interval(hits: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for hits / trials (closed form; 95% unless ``confidence`` says)."""
    if confidence == 0.95:
        z = Z975
    else:
        from scipy import special
        z = float(special.ndtri(0.5 + confidence / 2))
    n, p = int(trials), int(hits) / int(trials)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def simulate(scenario: Scenario, *, trials: int | None = None, seed=None,
             detail_trials: int = DETAIL_TRIALS, progress=None, should_stop=None) -> Forecast:
    """Simulate ``scenario`` and summarise it.

    ``trials`` defaults to ``scenario.trials``; ``seed`` (an int or a
    ``numpy.random.Generator``) to ``scenario.seed`` (then the same scenario always gives the
    same numbers). The volumes of the stages before the last come from a stage-by-stage
    sample of ``detail_trials`` trials (see :mod:`sim.model.engine`); everything else uses all
    trials. A run beyond the work budget is refused (:mod:`sim.model.work_budget`);
    ``progress(fraction)`` and ``should_stop`` are passed to :func:`sim.model.engine.draw`.
    """
    trials = scenario.trials if trials is None else int(trials)
    detail_trials = min(max(int(detail_trials), 0), trials)
    check_run_budget(scenario, trials=trials, detail_trials=detail_trials)
    reported = (scenario.seed if seed is None else int(seed)) \
        if not isinstance(seed, np.random.Generator) else None
    draws = draw(scenario, trials=trials, seed=seed, detail_trials=detail_trials, progress=progress,
                 should_stop=should_stop)
    return summarise(scenario, draws, reported)


def summarise(scenario: Scenario, draws: Draws, seed: int | None = None) -> Forecast:
    sc, rev = scenario, draws.revenue
    T, K = sc.months, len(sc.stages)
    n = rev.revenue.size
    total = rev.revenue + sc.baseline_revenue
    hits = int(np.count_nonzero(total >= sc.goal))
    in_period = rev.new_customers[:T]
    arrivals = draws.arrivals if draws.arrivals is not None and draws.arrivals.shape[0] else None

    def cumulative_distributions():
        """The fan chart, one month at a time (no second copy of the monthly array)."""
        running = np.full(n, float(sc.baseline_revenue))
        out = []
        for month in rev.monthly_revenue:
            running += month
            out += distributions(running)
        return out

    # The longest job first (the running sums go month by month), then the rest in pieces the
    # two workers can share evenly; each row keeps its own type (whole numbers are counted).
    half = T // 2
    jobs = [
        cumulative_distributions,
        lambda: distributions(rev.monthly_revenue[:half]),
        lambda: distributions(rev.monthly_revenue[half:]),
        lambda: distributions(total),
        lambda: distributions(rev.pipeline_value),
        lambda: distributions(in_period),
        lambda: distributions(in_period.sum(axis=0)),
        lambda: distributions(rev.new_customers[T]),
    ]
    if arrivals is not None:
        d = arrivals.shape[0]
        jobs.append(lambda: distributions(arrivals[:, :K - 1].reshape(d, -1).T))
        jobs.append(lambda: distributions(arrivals[:, :K - 1].sum(axis=2).T))
    (cum_dists, early_months, late_months, [total_dist], [pipe_dist], cust_dists, [customers_dist],
     [late_dist], *detail) = run_parallel(jobs)
    month_dists = early_months + late_months

    stages = []
    if arrivals is not None:
        per_month, totals = detail
        for k in range(K - 1):
            stages.append(StageForecast(sc.stages[k].name, sc.stages[k].owner, totals[k],
                                        tuple(per_month[k * T:(k + 1) * T]), arrivals.shape[0]))
    last = sc.stages[-1]
    stages.append(StageForecast(last.name, last.owner, customers_dist, tuple(cust_dists), n))

    lo, hi = float(total.min()), float(total.max())
    counts, edges = np.histogram(total, bins=HISTOGRAM_BINS, range=(lo, hi if hi > lo else lo + 1))
    return Forecast(
        scenario=sc, trials=n, seed=seed, p_goal=hits / n,
        p_goal_ci=ConfidenceInterval(*wilson_interval(hits, n), 0.95),
        revenue=total_dist,
        months=tuple(MonthForecast(label, r, c, k) for label, r, c, k
                     in zip(sc.month_labels, month_dists, cum_dists, cust_dists)),
        stages=tuple(stages), late_customers=late_dist, pipeline_value=pipe_dist,
        histogram_edges=tuple(float(e) for e in edges),
        histogram_counts=tuple(int(c) for c in counts),
    )
