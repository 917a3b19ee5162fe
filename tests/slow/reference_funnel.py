"""A reference simulator of the README's model, written independently of the engine.

Plain numpy, one synthetic year per row, every customer drawn on its own: the top of the
funnel is round(plan · G) with G ~ Gamma(mean 1, CV ``noise_cv``) per month; every month's
cohort of stage k-1 (and, in the first month, its open pipeline) converts Binomial(N, p_k) and
its conversions are split over the lag months by one multinomial draw; each customer gets its
own lognormal deal value (mu = log median, sigma = log(p90 / median) / z90) — one-time revenue
booked in its closing month, or a monthly fee paid from its closing month to the end of the
period. It uses numpy's own samplers and none of the engine's code (no quantile tables,
positional streams, deal-value sums or cohort thinning); from the scenario it reads only the
inputs (plan, lags, beliefs' Beta parameters, deal, pipeline).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from sim.model.monthly_actuals import Actuals

Z90 = stats.norm.ppf(0.9)


@dataclass(frozen=True)
class Years:
    """``arrivals[y, k, t]``: units arriving in stage k in month t of year y (in the period);
    ``revenue[y, t]``: revenue booked in month t (one-time deals at closing; monthly fees every
    month from closing on); ``rates[y, k-1]``: the true rate of stage k in year y."""

    arrivals: np.ndarray
    revenue: np.ndarray
    rates: np.ndarray

    def total(self, baseline: float = 0.0) -> np.ndarray:
        return baseline + self.revenue.sum(axis=1)


def prior_rates(scenario, years: int, rng: np.random.Generator) -> np.ndarray:
    """True rates drawn from the plan's own beliefs (the prior world): (years, K-1)."""
    out = np.empty((years, len(scenario.stages) - 1))
    for k, stage in enumerate(scenario.stages[1:]):
        rate = stage.rate
        out[:, k] = rate.fixed_value if rate.is_fixed else rng.beta(rate.alpha, rate.beta, size=years)
    return out


def simulate_years(scenario, rates: np.ndarray, rng: np.random.Generator) -> Years:
    """Years of the funnel with the given true ``rates`` (years, K-1), one row per year."""
    rates = np.asarray(rates, dtype=float)
    Y, T, K = rates.shape[0], scenario.months, len(scenario.stages)
    plan = np.asarray(scenario.top.monthly, dtype=float)
    cv = scenario.top.noise_cv
    arrivals = np.zeros((Y, K, T), dtype=np.int64)
    if cv > 0:
        shape = 1.0 / cv ** 2
        arrivals[:, 0] = np.rint(plan * rng.gamma(shape, 1.0 / shape, size=(Y, T)))
    else:
        arrivals[:, 0] = np.rint(plan)
    pipeline = dict(scenario.start_pipeline)
    own_lags = dict(scenario.pipeline_lags)
    for k in range(1, K):
        lag = np.asarray(scenario.stages[k].lag, dtype=float)
        previous = scenario.stages[k - 1].name
        for t in range(T):
            converted = rng.binomial(arrivals[:, k - 1, t], rates[:, k - 1])
            _add_split(arrivals[:, k], converted, lag, t, rng)
        start = pipeline.get(previous, 0)
        if start:
            converted = rng.binomial(np.full(Y, start), rates[:, k - 1])
            _add_split(arrivals[:, k], converted, np.asarray(own_lags.get(previous, lag), dtype=float), 0, rng)
    won = arrivals[:, K - 1]                               # (Y, T) customers closing per month
    deal = scenario.deal
    mu, sigma = math.log(deal.median), math.log(deal.p90 / deal.median) / Z90
    n = int(won.sum())
    values = rng.lognormal(mu, sigma, size=n) if sigma > 0 else np.full(n, float(deal.median))
    year = np.repeat(np.repeat(np.arange(Y), T), won.ravel())
    month = np.repeat(np.tile(np.arange(T), Y), won.ravel())
    revenue = np.zeros((Y, T))
    if deal.recurring:
        for m in range(T):                                 # a fee is paid in every month from closing on
            paying = month <= m
            revenue[:, m] = np.bincount(year[paying], weights=values[paying], minlength=Y)
    else:
        np.add.at(revenue, (year, month), values)
    return Years(arrivals, revenue, rates)


def _add_split(target: np.ndarray, converted: np.ndarray, lag: np.ndarray, t: int, rng) -> None:
    """Spread each year's ``converted`` units over the lag months from month t (in the period)."""
    T = target.shape[1]
    split = rng.multinomial(converted, lag / lag.sum())    # (Y, len(lag))
    for d in range(min(lag.size, T - t)):
        target[:, t + d] += split[:, d]


def actuals_of(scenario, years: Years, y: int, as_of: int) -> Actuals:
    """Year y's actuals for months 0..as_of: every stage's count and the revenue."""
    months, names = scenario.month_labels, scenario.stage_names
    return Actuals(names,
                   tuple((months[t], names[k], int(years.arrivals[y, k, t]))
                         for t in range(as_of + 1) for k in range(len(names))),
                   tuple((months[t], float(years.revenue[y, t])) for t in range(as_of + 1)))
