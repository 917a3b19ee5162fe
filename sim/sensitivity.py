"""Sensitivity: which assumption moves P(goal) most (the tornado chart).

For each uncertain input — every conversion rate given as a belief, the deal value and the
top-of-funnel volume — the scenario is simulated twice with that input held at its P10 and at
its P90 (everything else as uncertain as before), with the same seed: common random numbers,
so the difference is the input's effect and not Monte Carlo noise. Rows are sorted by swing.

* a rate held at P10: the rate is fixed at the 10th percentile of its belief;
* the deal value held at P10: every deal is worth the 10th percentile of the deal value;
* the top-of-funnel volume held at P10: every month's volume is the plan times the 10th
  percentile of its noise factor (a consistently weak year), no further noise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from .beliefs import DealValue, RateBelief
from .engine import draw_revenue, make_rng
from .scenario import Scenario, TopOfFunnel

DEFAULT_SENSITIVITY_TRIALS = 20_000


@dataclass(frozen=True)
class SensitivityRow:
    input: str             # e.g. "Leads rate", "Deal value", "Visits volume"
    owner: str             # marketing / sales / shared
    low_value: float       # the input's P10
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
        lo, hi = (float(v) for v in deal.ppf([0.1, 0.9]))
        out.append(("Deal value", "sales", lo, hi,
                    replace(scenario, deal=DealValue(lo, lo, deal.kind)),
                    replace(scenario, deal=DealValue(hi, hi, deal.kind))))
    top = scenario.top
    if top.noise_cv > 0 and max(top.monthly) > 0:
        shape = 1.0 / top.noise_cv ** 2
        lo, hi = (float(v) for v in stats.gamma.ppf([0.1, 0.9], shape, scale=1.0 / shape))

        def with_top(factor):
            held = TopOfFunnel(tuple(v * factor for v in top.monthly), 0.0)
            return replace(scenario, top=held)
        out.append((f"{scenario.stages[0].name} volume", scenario.stages[0].owner, lo, hi,
                    with_top(lo), with_top(hi)))
    return out


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
