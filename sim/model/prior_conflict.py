"""Prior–data conflict at the check-in: how surprising each stage's observed conversions are
under the plan's belief, and the weight the belief keeps when they contradict it.

**Conflict.** A stage's plan belief is Beta(α, β); before seeing the actuals it predicts the
number of arrivals ``s`` out of the (lag-corrected) exposure ``n`` to be Beta-Binomial(n, α, β).
The conflict measure is the two-sided tail probability of the observed ``s`` under that
prediction, ``min(1, 2·min(P(S ≤ s), P(S ≥ s)))``: the chance that a world in which the plan's
belief is right gives a count at least as far out as the one observed. Below
``CONFLICT_LEVEL`` (5%) the stage is *in conflict*: the actuals contradict the plan.

**The rule (an empirical power prior).** For a stage in conflict, the plan's belief is raised
to the power ``w`` (Beta(w·α, w·β): the same mean, ``w`` times the evidence) with the ``w`` in
[``MIN_WEIGHT``, the weight chosen] that makes the observed count most likely, i.e. that
maximises the Beta-Binomial likelihood of ``s`` out of ``n`` (the empirical-Bayes power prior
of Gravestock & Held, 2017). A stage not in conflict keeps the weight chosen. So a belief the
actuals agree with keeps its full say, and a belief they contradict is discounted just as far
as the data ask, no further. When the stages together are in conflict (Fisher's combination
of their tail probabilities below 5%), every stage with data keeps at most the one weight that
maximises the joint likelihood of all their counts: a planner who was optimistic about one
rate often was about the others. The rule was chosen on simulated years
(``tests/slow/test_calibration.py``; figures in the README): a per-stage rule alone left the
demo's "all rates 30% low" world at 72% coverage of the check-in's P10–P90 (200 years: the
weak beliefs about later stages, never in conflict on their own, kept their optimism); with
the funnel-wide weight it is 79% (62% without any rule, 600 years), and years drawn from the
plan's own beliefs keep 78–79% (the demo 78.4% of 8,895 years, 79.1% without the rule).
Two variants were measured against it on the same years and not kept: the *smallest*
discount that ends the conflict (the largest w at which the tail probability reaches 5%) gave
the demo's ordinary years 78.2% instead of 77.9% but left its worse world at 74.2% (79.0%)
with twice the optimism (mean error −44k, not −19k); a directional funnel test (Stouffer's
signed z, the common weight only for the stages that deviate its way) gave the same figures
as Fisher's within 0.3 point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: A stage whose observed count has a two-sided tail probability below this is in conflict;
#: so is the funnel when the stages' tail probabilities together (Fisher's method) are.
CONFLICT_LEVEL = 0.05
#: The lowest weight the rule gives a belief (the data then speak for themselves).
MIN_WEIGHT = 1e-3


@dataclass(frozen=True)
class Evidence:
    """A stage's plan belief Beta(alpha, beta) and what the actuals showed: ``successes`` out of
    ``exposure`` (lag-corrected) trials."""

    alpha: float
    beta: float
    successes: float
    exposure: float

    @property
    def trials(self) -> int:
        """The whole number of trials of the Beta-Binomial: the exposure, rounded, at least ``s``."""
        return max(int(round(self.exposure)), int(round(self.successes)))

    def log_likelihood(self, weight: float) -> float:
        """log P(successes | trials) under Beta(weight·alpha, weight·beta)."""
        from scipy import stats  # loaded on first use: importing the model stays light
        return float(stats.betabinom.logpmf(int(round(self.successes)), self.trials, weight * self.alpha,
                                            weight * self.beta))

    def conflict_probability(self) -> float:
        """Two-sided tail probability of the successes under the prior predictive
        Beta-Binomial(trials, alpha, beta)."""
        from scipy import stats
        if self.trials == 0:
            return 1.0
        predictive = stats.betabinom(self.trials, self.alpha, self.beta)
        s = int(round(self.successes))
        return float(min(1.0, 2.0 * min(predictive.cdf(s), predictive.sf(s - 1))))


@dataclass(frozen=True)
class Weighing:
    """The conflict check of a funnel: per stage (None where there is no evidence) the tail
    probability and the weight its belief keeps; the funnel's combined tail probability (None
    without any evidence) and the common weight the rule found for it (None if not in conflict)."""

    stage_probability: tuple[float | None, ...]
    weights: tuple[float | None, ...]
    funnel_probability: float | None
    funnel_weight: float | None


def empirical_weight(evidence: list[Evidence], cap: float = 1.0) -> float:
    """The power-prior weight in [MIN_WEIGHT, cap] that maximises the joint Beta-Binomial
    likelihood of the ``evidence`` (one stage, or several sharing one weight)."""
    from scipy import optimize
    if cap <= MIN_WEIGHT or not any(e.trials for e in evidence):
        return float(cap)

    def minus_log_likelihood(log_w: float) -> float:
        w = math.exp(log_w)
        return -sum(e.log_likelihood(w) for e in evidence)

    lo, hi = math.log(MIN_WEIGHT), math.log(cap)
    best = optimize.minimize_scalar(minus_log_likelihood, bounds=(lo, hi), method="bounded",
                                    options={"xatol": 1e-4})
    # The bounded search never evaluates the end points themselves: prefer one that is better.
    candidates = [(best.fun, best.x), (minus_log_likelihood(hi), hi), (minus_log_likelihood(lo), lo)]
    return float(math.exp(min(candidates)[1]))


def combined_probability(probabilities: list[float]) -> float:
    """Fisher's combination of independent tail probabilities (``scipy.stats.combine_pvalues``)."""
    from scipy import stats
    if len(probabilities) == 1:
        return probabilities[0]
    return float(stats.combine_pvalues([max(p, 1e-300) for p in probabilities], method="fisher").pvalue)


def weigh(evidence: list[Evidence | None], weight: float, rule: bool = True) -> Weighing:
    """The conflict check and the weight each stage's belief keeps: ``weight`` (the one chosen)
    unless, with the ``rule``, the funnel is in conflict (then at most the common empirical
    weight of all the stages with evidence) or the stage is (then at most its own)."""
    probability = [None if e is None else e.conflict_probability() for e in evidence]
    seen = [e for e in evidence if e is not None]
    funnel = combined_probability([p for p in probability if p is not None]) if seen else None
    common = empirical_weight(seen, weight) if rule and funnel is not None and funnel < CONFLICT_LEVEL else None
    weights = []
    for e, p in zip(evidence, probability):
        if e is None:
            weights.append(None)
            continue
        w = weight if common is None else common
        if rule and p < CONFLICT_LEVEL:
            w = min(w, empirical_weight([e], weight))
        weights.append(w)
    return Weighing(tuple(probability), tuple(weights), funnel, common)
