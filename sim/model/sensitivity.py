"""Sensitivity: which assumption moves P(goal) most (the tornado chart).

For each uncertain input — every conversion rate given as a belief, the deal value and the
top-of-funnel volume — the scenario is simulated twice with that input held at its P10 and at
its P90 (everything else as uncertain as before), with the same seed: common random numbers,
so the difference is the input's effect and not Monte Carlo noise. Rows are sorted by swing.

Each input is held at the P10/P90 of the quantity that acts on the whole period, so that the
bars are comparable:

* a rate: drawn once per simulated year, so it is fixed at the P10/P90 of its belief;
* the deal value: drawn per deal, so what moves the year is the *average* deal value over the
  period's expected number of customers; every deal is worth the P10/P90 of that average
  (from the simulated distribution of the sum of that many deal values, exact top values and
  the validated bulk of :mod:`sim.model.deal_value_sums`: right at any count and any skew, at a
  cost that does not grow with the count);
* the top-of-funnel volume: noisy per month, so what moves the year is the period's total;
  every month gets the plan times the P10/P90 of the total's factor (sum of the noisy months
  over the planned sum), with no further noise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .beliefs import DealValue, RateBelief
from .deal_value_sums import ValueSums
from .engine import make_rng, period_revenues
from .positional_random import VALUES, RandomSource
from .run_cancellation import stop_check
from .scenario import Scenario, TopOfFunnel
from .targets import expected_arrivals
from .work_budget import check_run_budget

DEFAULT_SENSITIVITY_TRIALS = 20_000


@dataclass(frozen=True)
class SensitivityRow:
    input: str             # e.g. "Leads rate", "Deal value", "Visits volume"
    owner: str             # marketing / sales / shared
    low_value: float       # the input's P10 (rate; average deal value; volume factor vs plan)
    high_value: float      # the input's P90
    p_goal_low: float
    p_goal_high: float
    median_revenue_low: float
    median_revenue_high: float

    @property
    def swing(self) -> float:
        """Probability points between the input at P90 and at P10."""
        return self.p_goal_high - self.p_goal_low

    def to_dict(self) -> dict:
        return {"input": self.input, "owner": self.owner, "low_value": self.low_value,
                "high_value": self.high_value, "p_goal_low": self.p_goal_low,
                "p_goal_high": self.p_goal_high, "median_revenue_low": self.median_revenue_low,
                "median_revenue_high": self.median_revenue_high, "swing": self.swing}


def held_inputs(scenario: Scenario):
    """(name, owner, P10, P90, scenario at P10, scenario at P90) for every uncertain input."""
    out = []
    stages = list(scenario.stages)
    for k, stage in enumerate(stages[1:], start=1):
        if stage.rate.is_fixed:
            continue
        lo, hi = (float(v) for v in stage.rate.ppf([0.1, 0.9]))

        def with_rate(value, k=k):
            new = list(stages)
            new[k] = replace(stages[k], rate=RateBelief.fixed(value))
            return replace(scenario, stages=tuple(new))
        out.append((f"{stage.name} rate", stage.owner, lo, hi, with_rate(lo), with_rate(hi)))
    deal = scenario.deal
    if not deal.is_fixed:
        lo, hi = average_deal_value_range(scenario)
        out.append(("Deal value", "sales", lo, hi,
                    replace(scenario, deal=DealValue(lo, lo, deal.kind)),
                    replace(scenario, deal=DealValue(hi, hi, deal.kind))))
    top = scenario.top
    if top.noise_cv > 0 and max(top.monthly) > 0:
        lo, hi = top_volume_factor_range(scenario)

        def with_top(factor):
            held = TopOfFunnel(tuple(v * factor for v in top.monthly), 0.0)
            return replace(scenario, top=held)
        out.append((f"{scenario.stages[0].name} volume", scenario.stages[0].owner, lo, hi,
                    with_top(lo), with_top(hi)))
    return out


QUANTILE_DRAWS = 20_000


def average_deal_value_range(scenario: Scenario) -> tuple[float, float]:
    """P10 and P90 of the average deal value over the period's expected number of customers
    (at least one), from QUANTILE_DRAWS simulated sums of that many deal values with a fixed
    seed (the distribution of a mean of lognormals has no closed form). Always positive, at
    any count and skew; the cost does not depend on the count."""
    deal = scenario.deal
    T = scenario.months
    customers = max(1, int(round(expected_arrivals(scenario)[-1, :T].sum())))
    source = RandomSource.from_seed(scenario.seed)
    states = source.cell_states(VALUES, np.arange(QUANTILE_DRAWS), 1)
    sums = ValueSums(deal.median, deal.sigma).sums(np.full(QUANTILE_DRAWS, customers), states)
    lo, hi = np.quantile(sums / customers, [0.1, 0.9])
    return float(lo), float(hi)


def top_volume_factor_range(scenario: Scenario) -> tuple[float, float]:
    """P10 and P90 of (sum of the noisy monthly top volumes) / (planned sum), by simulation with
    a fixed seed (a sum of gammas with different scales has no closed form)."""
    top = scenario.top
    plan = np.asarray(top.monthly)
    shape = 1.0 / top.noise_cv ** 2
    g = make_rng(scenario.seed).gamma(shape, 1.0 / shape, size=(QUANTILE_DRAWS, plan.size))
    lo, hi = np.quantile(g @ plan / plan.sum(), [0.1, 0.9])
    return float(lo), float(hi)


@dataclass(frozen=True)
class Sensitivity:
    """The tornado: one row per uncertain input, largest swing first, and the trials per run."""

    rows: tuple[SensitivityRow, ...]
    trials: int


def sensitivity(scenario: Scenario, *, trials: int | None = None, seed=None, progress=None,
                should_stop=None) -> Sensitivity:
    """Each uncertain input held at its P10 and P90 (two runs of ``trials`` trials, default
    ``min(scenario.trials, DEFAULT_SENSITIVITY_TRIALS)``, with the same ``seed``: an int or a
    ``numpy.random.Generator`` from which one int seed is drawn). ``progress(fraction)`` is
    called as the runs' chunks finish (all runs go to the pool as one batch); ``should_stop`` is
    checked before each chunk of trials and between a chunk's steps."""
    trials = min(scenario.trials, DEFAULT_SENSITIVITY_TRIALS) if trials is None else int(trials)
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(0, 2 ** 53))
    seed = scenario.seed if seed is None else int(seed)
    stop_check(should_stop)()
    inputs = held_inputs(scenario)
    check_run_budget(scenario, trials=trials, months_detail=False, runs=2 * len(inputs),
                     what="the sensitivity")
    # All the runs as one batch of chunks on the pool (the workers stay busy between runs).
    runs = [sc for _, _, _, _, sc_lo, sc_hi in inputs for sc in (sc_lo, sc_hi)]
    revenues = period_revenues(runs, trials=trials, seed=seed, progress=progress, should_stop=should_stop)

    def summary(sc: Scenario, revenue: np.ndarray):
        total = revenue + sc.baseline_revenue
        return float(np.count_nonzero(total >= sc.goal)) / trials, float(np.median(total))

    rows = []
    for i, (name, owner, lo, hi, sc_lo, sc_hi) in enumerate(inputs):
        (p_lo, m_lo), (p_hi, m_hi) = summary(sc_lo, revenues[2 * i]), summary(sc_hi, revenues[2 * i + 1])
        rows.append(SensitivityRow(name, owner, lo, hi, p_lo, p_hi, m_lo, m_hi))
    rows.sort(key=lambda r: (abs(r.swing), abs(r.median_revenue_high - r.median_revenue_low)),
              reverse=True)
    return Sensitivity(tuple(rows), trials)
