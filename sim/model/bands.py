"""A plan's forecast bands and where an actual falls in them.

A :class:`Band` is the distribution of one measure (a stage's arrivals in a month or to date;
revenue in a month or to date) under a plan. :func:`plan_bands` computes every band a plan of
record stores; :func:`band_status` is the one rule for an actual against a band: ``below`` its
P10, ``above`` its P90, else ``inside`` (the edges are inside).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .engine import draw
from .forecast import DETAIL_TRIALS, Distribution, Forecast, distributions, summarise
from .scenario import Scenario
from .work_budget import check_run_budget

BELOW, INSIDE, ABOVE, NO_DATA = "below", "inside", "above", "no data"
#: The statuses an actual can have against a band, from low to high.
STATUSES = (BELOW, INSIDE, ABOVE)
MEASURES = ("arrivals", "cumulative_arrivals", "revenue", "cumulative_revenue")


def band_status(value: float, p10: float, p90: float) -> str:
    """``below`` the P10, ``above`` the P90, else ``inside``."""
    return BELOW if value < p10 else ABOVE if value > p90 else INSIDE


@dataclass(frozen=True)
class Band:
    """One band: ``measure`` of ``stage`` (None for revenue) in ``month``."""

    measure: str
    stage: str | None
    month: str
    dist: Distribution


@dataclass(frozen=True)
class PlanBands:
    """A plan's forecast and the bands a plan of record stores (unpacks as a pair)."""

    forecast: Forecast
    bands: list[Band]

    def __iter__(self):
        return iter((self.forecast, self.bands))


def plan_bands(scenario: Scenario, *, trials: int | None = None,
               seed: int | np.random.Generator | None = None) -> PlanBands:
    """Simulate ``scenario`` and return its forecast and the bands a plan of record stores.

    ``trials`` defaults to the scenario's; ``seed`` (an int, or a ``numpy.random.Generator``
    to draw from) to the scenario's seed. With the defaults the numbers equal
    ``simulate(scenario)``'s. A run beyond the work budget is refused
    (:class:`~sim.model.work_budget.WorkBudgetExceeded`)."""
    trials = scenario.trials if trials is None else int(trials)
    seed = scenario.seed if seed is None else seed
    check_run_budget(scenario, trials=trials, detail_trials=DETAIL_TRIALS)
    draws = draw(scenario, trials=trials, seed=seed, detail_trials=DETAIL_TRIALS)
    forecast = summarise(scenario, draws, None if isinstance(seed, np.random.Generator) else int(seed))
    T, K = scenario.months, len(scenario.stages)
    bands: list[Band] = []
    months = scenario.month_labels
    cumulative_stages: list[list[Distribution]] = []
    if draws.arrivals is not None and draws.arrivals.shape[0]:
        detail = np.cumsum(draws.arrivals[:, :K - 1, :], axis=2)      # (d, K-1, T)
        flat = distributions(detail.reshape(detail.shape[0], -1).T)
        cumulative_stages = [flat[k * T:(k + 1) * T] for k in range(K - 1)]
    cumulative_stages.append(distributions(np.cumsum(draws.revenue.new_customers[:T], axis=0)))
    for k, stage in enumerate(forecast.stages):
        for t, month in enumerate(months):
            bands.append(Band("arrivals", stage.name, month, stage.monthly[t]))
            bands.append(Band("cumulative_arrivals", stage.name, month, cumulative_stages[k][t]))
    for m in forecast.months:
        bands.append(Band("revenue", None, m.month, m.revenue))
        bands.append(Band("cumulative_revenue", None, m.month, m.cumulative))
    return PlanBands(forecast, bands)
