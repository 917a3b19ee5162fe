"""Sensitivity: which assumption moves P(goal) most (the tornado chart).

For each uncertain input — every conversion rate given as a belief, the deal value and the
top-of-funnel volume — the scenario is simulated twice with that input held at its P10 and at
its P90 (everything else as uncertain as before), with the same seed: common random numbers,
so the difference is the input's effect and not Monte Carlo noise. Rows are sorted by swing.

Each input is held at the P10/P90 of the quantity that acts on the whole period, so that the
bars are comparable:

* a rate: drawn once per simulated year, so it is fixed at the P10/P90 of its belief;
* the deal value: drawn per deal, so what moves the year is the *average* deal value over the
  period's expected number of customers; every deal is worth the P10/P90 of that average;
* the top-of-funnel volume: noisy per month, so what moves the year is the period's total;
  every month gets the plan times the P10/P90 of the total's factor (sum of the noisy months
  over the planned sum), with no further noise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from .beliefs import DealValue, RateBelief
from .engine import draw_revenue, make_rng
from .scenario import Scenario, TopOfFunnel
from .targets import expected_arrivals

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
    (at least one), by simulation with a fixed seed (the exact distribution of a mean of
    lognormals has no closed form); beyond 400 deals, by the normal limit of the mean."""
    deal = scenario.deal
    T = scenario.months
    customers = max(1, int(round(expected_arrivals(scenario)[-1, :T].sum())))
    if customers > 400:
        sd = np.sqrt((np.exp(deal.sigma ** 2) - 1.0)) * deal.mean / np.sqrt(customers)
        z = stats.norm.ppf(0.9)
        return deal.mean - z * sd, deal.mean + z * sd
    rng = make_rng(scenario.seed)
    means = rng.lognormal(deal.mu, deal.sigma, size=(QUANTILE_DRAWS, customers)).mean(axis=1)
    lo, hi = np.quantile(means, [0.1, 0.9])
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


def sensitivity(scenario: Scenario, trials: int | None = None, seed: int | None = None):
    """Rows of :class:`SensitivityRow`, largest swing in P(goal) first."""
    trials = min(scenario.trials, DEFAULT_SENSITIVITY_TRIALS) if trials is None else int(trials)
    seed = scenario.seed if seed is None else int(seed)

    def run(sc: Scenario):
        total = draw_revenue(sc, trials, make_rng(seed)).revenue + sc.baseline_revenue
        return float(np.count_nonzero(total >= sc.goal)) / trials, float(np.median(total))

    rows = []
    for name, owner, lo, hi, sc_lo, sc_hi in held_inputs(scenario):
        (p_lo, m_lo), (p_hi, m_hi) = run(sc_lo), run(sc_hi)
        rows.append(SensitivityRow(name, owner, lo, hi, p_lo, p_hi, m_lo, m_hi))
    rows.sort(key=lambda r: (abs(r.swing), abs(r.median_revenue_high - r.median_revenue_low)),
              reverse=True)
    return tuple(rows)
