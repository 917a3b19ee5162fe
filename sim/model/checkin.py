"""The mid-year check-in: where we stand, what we learned, the reforecast and the reset SLA.

Given a plan (its scenario and forecast bands), the actuals and an "as of" month (actuals
count through the end of it):

1. **Where we stand.** Revenue banked to date (baseline + actual revenue of the plan's months
   so far) against the plan's cumulative band for that month; each stage's volume to date
   against the plan's band of arrivals to date; the bottleneck: the stage whose shortfall
   against the plan's median costs the most expected revenue (shortfall × what a unit in that
   stage is worth on average: the plan's mean downstream conversion × mean deal value).
2. **What we learned.** Each conversion rate k (stage k-1 → k) is updated from the observed
   counts: Beta(w·α + s, w·β + n − s), where Beta(α, β) is the plan's belief, ``w`` the weight
   the prior keeps, ``s`` the arrivals in stage k so far and ``n`` the *exposure*: the units
   that entered stage k-1 (in the period, or in its open pipeline at the start) weighted by
   the probability that their lag has elapsed by the end of the as-of month,
   ``n = Σ_t N_{k-1}(t)·F_k(a − t) + P_{k-1}·F_k(a)`` (F_k: the lag's distribution function).
   Units too young to have converted are thus not counted as failures; the naive estimate
   ``s / Σ N_{k-1}`` is biased low while the lags are long against the months observed.
   **Conflict** (:mod:`sim.model.prior_conflict`): how surprising ``s`` is under the plan's
   belief (a Beta-Binomial tail probability); for a stage in conflict the rule lowers ``w`` to
   the empirical power prior's weight (on by default, ``conflict_rule``).
3. **Reforecast.** A scenario for the remaining months only: the remaining top-of-funnel
   plan; the updated rates; as baseline the revenue banked plus, for recurring deals, the fees
   the customers already won bring in the remaining months: the as-of month's revenue (their
   fees, as the actuals state them) × months left. Without a revenue actual for the as-of
   month, the latest month's revenue that is known stands for the customers won through it,
   and the customers won after it count at the mean fee. As open pipeline in each stage the
   units still to convert:
   ``Σ_t N_j(t)·(1 − F_{j+1}(a − t))`` (+ the start pipeline's share), the expected number of
   conversions still to come, scaled by what the actuals show has not moved on yet when the next
   stage's arrivals are known: × ``(N_j − s_{j+1}) / (N_j − p·n_{j+1})`` (``N_j`` all units that
   entered stage j, ``s``, ``n`` the next stage's arrivals and exposure, ``p`` its updated mean
   rate); or counts entered by hand.
4. **Reset.** The volumes needed in the remaining months for P(goal) ≥ the confidence (the
   targets search on the reforecast scenario). If even the expected-value plan needs more than
   ``RESET_CAP`` times the plan's own remaining volume, the search is not run and the needed
   volume is reported as beyond the cap.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import ScenarioError
from .bands import NO_DATA, Band, band_status, plan_bands
from .beliefs import RateBelief
from .confidence import DEFAULT_CONFIDENCE
from .forecast import ConfidenceInterval, Forecast, simulate
from .monthly_actuals import Actuals
from .names import fold_name
from .prior_conflict import CONFLICT_LEVEL, Evidence, Weighing, empirical_weight, weigh
from .scenario import Scenario, Stage, TopOfFunnel
from .targets import Targets, expected_arrivals, expected_value_plan, required_volumes

#: The reset is searched only up to this multiple of the plan's own remaining volume.
RESET_CAP = 100.0
#: The confidence search of the reset uses at most this many trials.
RESET_TRIALS = 20_000
DEFAULT_PRIOR_WEIGHT = 1.0


@dataclass(frozen=True)
class StageCheck:
    name: str
    owner: str
    actual: int | None            # arrivals to date in the plan's months (None: no actuals)
    plan_p10: float
    plan_p50: float
    plan_p90: float
    status: str                   # below | inside | above the band, or "no data"
    revenue_effect: float         # expected revenue lost (+) or gained (−) by the gap to the median
    rate_prior_mean: float | None   # the conversion into this stage (None for the first stage)
    rate_prior_p10: float | None
    rate_prior_p90: float | None
    rate_posterior_mean: float | None
    rate_posterior_p10: float | None
    rate_posterior_p90: float | None
    successes: int | None         # arrivals so far
    exposure: float | None        # upstream units whose lag has elapsed (lag-corrected trials)
    naive_rate: float | None      # successes / all upstream units (no lag correction)
    open_pipeline: int            # units still to convert into the next stage (reforecast input)
    conflict_probability: float | None = None   # two-sided tail probability of `successes` under the plan's belief
    conflict: bool = False        # conflict_probability < CONFLICT_LEVEL: the actuals contradict the plan
    prior_weight_used: float | None = None      # the weight the plan's belief kept in the update

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class CheckIn:
    plan_name: str
    scenario: Scenario
    as_of: str
    months_done: tuple[str, ...]
    months_left: tuple[str, ...]
    revenue_to_date: float                    # baseline + actual revenue so far
    revenue_path: tuple[tuple[str, float], ...]  # (month, baseline + actual revenue through it)
    revenue_band: tuple[float, float, float]  # the plan's cumulative P10, P50, P90 at as_of
    revenue_status: str
    missing_revenue_months: tuple[str, ...]
    stages: tuple[StageCheck, ...]
    bottleneck: str | None
    prior_weight: float
    p_goal_plan: float
    p_goal_now: float
    p_goal_now_ci: ConfidenceInterval
    goal_reached: bool
    surplus: float                             # revenue to date − goal when reached, else 0
    reforecast: Scenario | None                # None when no month is left
    forecast_now: Forecast | None
    confidence: float
    reset: Targets | None
    reset_note: str                            # why there is no reset, or that it is capped
    plan_targets_left: tuple[tuple[str, tuple[float, ...]], ...]  # the old SLA, remaining months
    conflict_rule: bool = True                 # the rule lowered the weight of beliefs in conflict
    funnel_conflict_probability: float | None = None   # the stages' tail probabilities combined (Fisher)
    conflict_note: str = ""                    # the stages in conflict, in plain words ("" if none)
    won_fees: float = 0.0                      # recurring deals: the fees of the customers won, for the months left
    won_fees_note: str = ""                    # where won_fees comes from

    @property
    def conflicts(self) -> tuple[str, ...]:
        """The stages whose actuals contradict the plan's belief."""
        return tuple(s.name for s in self.stages if s.conflict)

    def to_dict(self) -> dict:
        """The JSON of ``python -m sim checkin --json``."""
        reset = []
        if self.reset is not None:
            reset = [{"name": s.name, "owner": s.owner, "monthly": list(s.monthly), "total": s.total}
                     for s in self.reset.at_confidence.stages]
        return {
            "plan": self.plan_name, "as_of": self.as_of, "months_done": list(self.months_done),
            "months_left": list(self.months_left), "goal": self.scenario.goal,
            "revenue_to_date": self.revenue_to_date,
            "revenue_path": [{"month": m, "cumulative": v} for m, v in self.revenue_path],
            "revenue_plan_p10": self.revenue_band[0], "revenue_plan_p50": self.revenue_band[1],
            "revenue_plan_p90": self.revenue_band[2], "revenue_status": self.revenue_status,
            "missing_revenue_months": list(self.missing_revenue_months),
            "goal_reached": self.goal_reached, "surplus": self.surplus,
            "p_goal_plan": self.p_goal_plan, "p_goal_now": self.p_goal_now,
            "p_goal_now_ci": self.p_goal_now_ci.to_list(), "prior_weight": self.prior_weight,
            "conflict_rule": self.conflict_rule, "conflicts": list(self.conflicts),
            "funnel_conflict_probability": self.funnel_conflict_probability,
            "conflict_note": self.conflict_note,
            "won_fees": self.won_fees, "won_fees_note": self.won_fees_note,
            "bottleneck": self.bottleneck,
            "stages": [s.to_dict() for s in self.stages],
            "revenue_now": (None if self.forecast_now is None else
                            self.forecast_now.revenue.to_dict(("mean", "p10", "p50", "p90"))),
            "confidence": self.confidence,
            "reset_reachable": None if self.reset is None else self.reset.reachable,
            "reset_scale": None if self.reset is None else self.reset.at_confidence.scale,
            "reset_note": self.reset_note,
            "reset": reset,
            "plan_sla_left": [{"name": n, "monthly": list(v)} for n, v in self.plan_targets_left],
            "reforecast_scenario": None if self.reforecast is None else self.reforecast.to_dict(),
        }


def lag_cdf(lag: tuple[float, ...], months: int) -> np.ndarray:
    """F(d) = P(lag <= d) for d = 0 .. months-1."""
    cdf = np.cumsum(np.asarray(lag, dtype=float))
    out = np.ones(months)
    out[:min(months, cdf.size)] = np.minimum(cdf[:months], 1.0)
    return out


def observed_counts(scenario: Scenario, actuals: Actuals, as_of_index: int) -> dict[int, np.ndarray]:
    """Stage index -> arrivals per plan month 0..as_of (missing months count 0), for the stages
    with any actual in those months."""
    months = scenario.month_labels[:as_of_index + 1]
    position = {m: t for t, m in enumerate(months)}
    index = {fold_name(s.name): k for k, s in enumerate(scenario.stages)}
    out: dict[int, np.ndarray] = {}
    for month, stage, count in actuals.counts:
        k, t = index.get(fold_name(stage)), position.get(month)
        if k is None or t is None:
            continue
        out.setdefault(k, np.zeros(len(months)))[t] = count
    return out


def updated_rate(prior: RateBelief, successes: float, exposure: float, weight: float) -> RateBelief:
    """Beta(w·α + s, w·β + n − s) as a mean/strength belief (a fixed rate stays fixed)."""
    if prior.is_fixed:
        return prior
    exposure = max(exposure, successes)
    a = weight * prior.alpha + successes
    b = weight * prior.beta + exposure - successes
    return RateBelief.from_mean_strength(a / (a + b), a + b)


def check_in(scenario: Scenario, actuals: Actuals, as_of: str, *, plan_name: str | None = None,
             bands: list[Band] | None = None, p_goal_plan: float | None = None,
             confidence: float = DEFAULT_CONFIDENCE, prior_weight: float = DEFAULT_PRIOR_WEIGHT,
             pipeline: dict[str, int] | None = None, trials: int | None = None,
             conflict_rule: bool = True, reset: bool = True) -> CheckIn:
    """The check-in of ``scenario`` (the plan) with ``actuals`` through ``as_of`` ("YYYY-MM").

    ``bands`` and ``p_goal_plan``: a saved plan's stored bands and P(goal) (computed from the
    scenario when not given). ``pipeline``: open pipeline per stage name, overriding the
    estimate from the actuals. ``trials``: of the reforecast (default: the scenario's).
    ``prior_weight``: the weight the plan's beliefs keep; with ``conflict_rule`` a stage whose
    actuals contradict its belief keeps less (:mod:`sim.model.prior_conflict`). ``reset=False``
    skips the search of the reset (the reforecast only: ``reset`` is then None, e.g. for
    calibration studies that check in many years).
    """
    months = scenario.month_labels
    _check_options(months, as_of, prior_weight, confidence)
    a = months.index(as_of)
    band, p_goal_plan = _plan_bands_by_key(scenario, bands, p_goal_plan)

    # 1. Where we stand; 2. what we learned, and the open pipeline --------------------------------
    done = months[:a + 1]
    path, missing = _revenue_path(scenario, actuals, done)
    to_date = path[-1][1]
    cum = band[("cumulative_revenue", None, as_of)]
    counts = observed_counts(scenario, actuals, a)
    evidence = [_evidence(scenario, k, counts, a) for k in range(len(scenario.stages))]
    weighing = weigh([None if e is None else e[0] for e in evidence], prior_weight, conflict_rule)
    stages = _stages(scenario, counts, band, as_of, a, evidence, weighing, pipeline)
    checks = tuple(s.check for s in stages)
    short = [c for c in checks if c.actual is not None and c.revenue_effect > 0]
    bottleneck = max(short, key=lambda c: c.revenue_effect).name if short else None

    # 3. Reforecast -----------------------------------------------------------------------------
    left_months = months[a + 1:]
    reached = to_date >= scenario.goal
    base = dict(plan_name=plan_name or scenario.name, scenario=scenario, as_of=as_of, months_done=done,
                months_left=left_months, revenue_to_date=to_date, revenue_path=path,
                revenue_band=(cum.p10, cum.p50, cum.p90), revenue_status=band_status(to_date, cum.p10, cum.p90),
                missing_revenue_months=missing, stages=checks, bottleneck=bottleneck, prior_weight=prior_weight,
                p_goal_plan=float(p_goal_plan), confidence=confidence,
                plan_targets_left=_plan_targets_left(scenario, a), conflict_rule=conflict_rule,
                funnel_conflict_probability=weighing.funnel_probability,
                conflict_note=_conflict_note(checks, evidence, weighing, prior_weight, conflict_rule))
    if not left_months or reached:
        p = 1.0 if reached else 0.0
        note = ("The goal is already reached: nothing more is needed." if reached else
                "No month is left in the plan's period: the goal was not reached.")
        return CheckIn(**base, p_goal_now=p, p_goal_now_ci=ConfidenceInterval(p, p), goal_reached=reached,
                       surplus=max(to_date - scenario.goal, 0.0), reforecast=None, forecast_now=None,
                       reset=None, reset_note=note)
    won_fees, won_fees_note = _won_fees(scenario, actuals, counts, a)
    reforecast = _reforecast_scenario(scenario, as_of, a, stages, to_date + won_fees, trials)
    forecast_now = simulate(reforecast)

    # 4. Reset ------------------------------------------------------------------------------------
    targets, note = _reset(scenario, reforecast, confidence) if reset else (None, "The reset was not searched.")
    return CheckIn(**base, p_goal_now=forecast_now.p_goal,
                   p_goal_now_ci=forecast_now.p_goal_ci, goal_reached=False, surplus=0.0,
                   reforecast=reforecast, forecast_now=forecast_now, reset=targets, reset_note=note,
                   won_fees=won_fees, won_fees_note=won_fees_note)


def _check_options(months: tuple[str, ...], as_of: str, prior_weight: float, confidence: float) -> None:
    if as_of not in months:
        raise ScenarioError(f"as-of month {as_of} is not in the plan's months ({months[0]} to {months[-1]})")
    if not 0.0 < prior_weight <= 1.0:
        raise ScenarioError(f"the prior weight must be above 0 and at most 1 (got {prior_weight})")
    if not 0.0 < confidence < 1.0:
        raise ScenarioError(f"confidence must be between 0 and 1 (got {confidence})")


def _plan_bands_by_key(scenario: Scenario, bands, p_goal_plan):
    """The plan's bands by (measure, folded stage or None, month), and its P(goal): as given
    (a saved plan's), else computed from the scenario."""
    if bands is None or p_goal_plan is None:
        forecast, computed = plan_bands(scenario)
        bands = bands if bands is not None else computed
        p_goal_plan = forecast.p_goal if p_goal_plan is None else p_goal_plan
    band = {(b.measure, None if b.stage is None else fold_name(b.stage), b.month): b.dist for b in bands}
    return band, p_goal_plan


def _revenue_path(scenario: Scenario, actuals: Actuals, done: tuple[str, ...]):
    """(month, baseline + actual revenue through it) for the months done, and the months done
    without a revenue actual (counted 0)."""
    revenue = dict(actuals.revenue)
    missing = tuple(m for m in done if m not in revenue)
    path = tuple(zip(done, (scenario.baseline_revenue + np.cumsum([revenue.get(m, 0.0) for m in done])).tolist()))
    return path, missing


@dataclass(frozen=True)
class _StageResult:
    check: StageCheck
    stage: Stage                                  # with its updated rate (the reforecast's)
    open_count: int | None                        # its open pipeline (None for the last stage)
    open_lag: tuple[float, ...] | None            # the lag still ahead of it, when not the next stage's


def _evidence(scenario: Scenario, k: int, counts, a: int) -> tuple[Evidence | None, float, float, float] | None:
    """What the actuals say about the conversion into stage k: (the Beta-Binomial evidence for
    an uncertain rate, else None; successes; lag-corrected exposure; the naive rate), or None
    without the counts of stage k and the one before it."""
    prior = scenario.stages[k].rate
    if prior is None or counts.get(k) is None or counts.get(k - 1) is None:
        return None
    upstream = _cohorts(scenario, k - 1, counts[k - 1], a)
    s = float(counts[k].sum())
    n = sum(c * float(lag_cdf(lag, age + 1)[age]) for c, lag, age in upstream)
    naive = s / max(sum(c for c, _, _ in upstream), 1.0)
    return (None if prior.is_fixed else Evidence(prior.alpha, prior.beta, s, n)), s, n, naive


def _stages(scenario: Scenario, counts, band, as_of: str, a: int, evidence, weighing: Weighing,
            pipeline) -> list[_StageResult]:
    """Each stage against the plan's band to date, its rate updated from the counts with the
    weight the conflict check gave it, and the units still to move on from it."""
    value = _unit_values(scenario)
    expected = expected_arrivals(scenario)
    hand = {fold_name(x): int(v) for x, v in (pipeline or {}).items()}
    rates = [None if e is None else updated_rate(stage.rate, e[1], e[2], 1.0 if w is None else w)
             for stage, e, w in zip(scenario.stages, evidence, weighing.weights)]
    return [_stage(scenario, k, counts, band[("cumulative_arrivals", fold_name(stage.name), as_of)], a, value[k],
                   expected, hand, evidence[k], weighing.stage_probability[k], weighing.weights[k], rates[k],
                   _moved_on(evidence, rates, k + 1))
            for k, stage in enumerate(scenario.stages)]


def _moved_on(evidence, rates, k: int) -> tuple[float, float, float] | None:
    """What the actuals say about the move into stage k: (arrivals so far, lag-corrected
    exposure, the updated rate's mean), or None without them."""
    if k >= len(evidence) or evidence[k] is None:
        return None
    _, s, n, _ = evidence[k]
    return s, n, rates[k].mean


def _stage(scenario: Scenario, k: int, counts, dist, a: int, value: float, expected, hand: dict[str, int],
           evidence, surprise: float | None, weight: float | None, post: RateBelief | None,
           moved_on: tuple[float, float, float] | None) -> _StageResult:
    stage = scenario.stages[k]
    observed = counts.get(k)
    actual = None if observed is None else int(observed.sum())
    status = NO_DATA if actual is None else band_status(actual, dist.p10, dist.p90)
    effect = 0.0 if actual is None else (dist.p50 - actual) * value
    prior = stage.rate
    s = n = naive = None
    if evidence is not None:
        _, s, n, naive = evidence
    # Units in this stage still to move on to the next one, and when they will: each cohort
    # keeps the part of its lag that is still ahead (expected conversions and timing exact),
    # scaled to the units the actuals show have not moved on yet.
    count = open_lag = None
    if k < len(scenario.stages) - 1:
        entered = observed if observed is not None else expected[k, :a + 1]
        groups = _cohorts(scenario, k, entered, a)
        left, lag = _still_open(groups)
        if observed is not None and moved_on is not None:
            left *= _not_moved_on_share(groups, *moved_on)
        key = fold_name(stage.name)
        count = hand[key] if key in hand else int(round(left))
        if count > 0 and left > 0 and lag != scenario.stages[k + 1].lag:
            open_lag = lag
    lo, hi = (None, None) if prior is None or prior.is_fixed else (float(x) for x in prior.ppf([0.1, 0.9]))
    plo, phi = (None, None) if post is None or post.is_fixed else (float(x) for x in post.ppf([0.1, 0.9]))
    check = StageCheck(
        stage.name, stage.owner, actual, dist.p10, dist.p50, dist.p90, status, effect,
        None if prior is None else prior.mean, lo, hi, None if post is None else post.mean, plo, phi,
        None if s is None else int(s), n, naive, count or 0, surprise,
        surprise is not None and surprise < CONFLICT_LEVEL, weight)
    return _StageResult(check, replace(stage, rate=post) if post is not None else stage, count, open_lag)


def _won_fees(scenario: Scenario, actuals: Actuals, counts, a: int) -> tuple[float, str]:
    """Recurring deals: what the customers already won bring in the months left, and where
    that comes from. A month's recurring revenue is the sum of the fees of every customer won
    so far, so the as-of month's revenue actual states their fees exactly; without it, the
    latest month with a revenue actual states those won through it, and the customers counted
    after it are taken at the mean fee."""
    if not scenario.deal.recurring:
        return 0.0, ""
    left = scenario.months - (a + 1)
    months = scenario.month_labels
    revenue = dict(actuals.revenue)
    known = [t for t in range(a + 1) if months[t] in revenue]
    t_known = known[-1] if known else -1
    fees = revenue[months[t_known]] if known else 0.0
    won = counts.get(len(scenario.stages) - 1)
    after = 0.0 if won is None else float(won[t_known + 1:a + 1].sum())
    total = (fees + after * scenario.deal.mean) * left
    if t_known == a:
        return total, (f"The customers won through {months[a]} pay {fees:,.0f} a month (the revenue of {months[a]}): "
                       f"{total:,.0f} in the {left} months left, counted as certain.")
    if not known:
        return total, (f"No revenue actual through {months[a]}: the {after:,.0f} customers won so far count at the "
                       f"mean fee ({scenario.deal.mean:,.0f} a month), {total:,.0f} in the {left} months left.")
    return total, (f"No revenue actual for {months[a]}: the customers won through {months[t_known]} pay "
                   f"{fees:,.0f} a month (its revenue), the {after:,.0f} won after it count at the mean fee "
                   f"({scenario.deal.mean:,.0f}): {total:,.0f} in the {left} months left.")


def _conflict_note(checks: tuple[StageCheck, ...], evidence, weighing: Weighing, prior_weight: float,
                   rule: bool) -> str:
    """The conflicts in plain words: one sentence per stage whose actuals contradict the plan's
    belief, and one for the funnel as a whole; what the rule did, or what it would do."""
    notes = []
    for k, c in enumerate(checks):
        if not c.conflict:
            continue
        expected = c.exposure * c.rate_prior_mean
        notes.append(f"The actuals contradict the plan at {c.name} (from {checks[k - 1].name}): {c.successes:,} "
                     f"arrived where the plan's rate ({c.rate_prior_mean:.1%}) expected about {expected:,.0f}; a "
                     f"count this far off would have a chance {_chance(c.conflict_probability)} if the plan were "
                     "right.")
    funnel = weighing.funnel_probability
    if funnel is not None and funnel < CONFLICT_LEVEL:
        notes.append(f"Taken together, the stages' actuals would have a chance {_chance(funnel)} under the plan's "
                     "beliefs.")
    if not notes:
        return ""
    learned = [(c.name, c.prior_weight_used) for c in checks if c.prior_weight_used is not None
               and c.prior_weight_used < prior_weight]
    if rule and learned:
        groups: dict[str, list[str]] = {}
        for name, w in learned:
            groups.setdefault(f"{w:.2g}", []).append(name)
        notes.append("So the plan's beliefs count for less and the actuals for more: weight "
                     + "; ".join(f"{w} at {_listed(names)}" for w, names in groups.items())
                     + f" (instead of {prior_weight:.2g}).")
    elif rule:
        notes.append(f"The plan's beliefs keep their weight ({prior_weight:.2g}): the counts are most likely at it.")
    else:
        stages = [e[0] for e in evidence if e is not None and e[0] is not None]
        notes.append(f"Consider a lower weight for the plan's rates: the conflict rule would give "
                     f"{empirical_weight(stages, prior_weight):.2g}.")
    return " ".join(notes)


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _chance(p: float) -> str:
    return "below 0.01%" if p < 1e-4 else f"of {p:.2%}" if p < 0.01 else f"of {p:.1%}"


def _reforecast_scenario(scenario: Scenario, as_of: str, a: int, stages: list[_StageResult],
                         baseline: float, trials: int | None) -> Scenario:
    """The remaining months as a scenario of their own: the remaining top of the funnel, the
    updated rates, the revenue banked (and, for monthly fees, the fees of the customers won) as
    the baseline, the open pipeline with the lags still ahead of it."""
    months_left = scenario.months - (a + 1)
    return replace(
        scenario, name=_reforecast_name(scenario.name, as_of), start=scenario.month_labels[a + 1],
        months=months_left, top=TopOfFunnel(tuple(scenario.top.monthly[a + 1:]), scenario.top.noise_cv),
        stages=tuple(s.stage for s in stages), baseline_revenue=baseline,
        start_pipeline=tuple((s.stage.name, s.open_count) for s in stages if (s.open_count or 0) > 0),
        pipeline_lags=tuple((s.stage.name, s.open_lag) for s in stages if s.open_lag is not None),
        trials=scenario.trials if trials is None else int(trials))


def _reset(scenario: Scenario, reforecast: Scenario, confidence: float) -> tuple[Targets | None, str]:
    """The targets search on the reforecast (the reset), or why there is none; and a note when
    the confidence is out of reach."""
    try:
        expected_value = expected_value_plan(reforecast)       # the expected-value plan
    except ScenarioError:
        return None, ("No volume in the remaining months can reach the goal: with the stages' lags, nothing "
                      "that enters the funnel now closes before the period ends.")
    if expected_value.scale > RESET_CAP:
        top_needed = sum(expected_value.stages[0].monthly)
        return None, (f"Out of reach: even on average, the goal needs {expected_value.scale:,.0f} times the planned "
                      f"{scenario.stages[0].name} in the remaining months ({top_needed:,.0f} in all), beyond "
                      f"the cap of {RESET_CAP:.0f} times the plan.")
    cap = RESET_CAP / expected_value.scale if expected_value.scale > 0 else RESET_CAP
    reset = required_volumes(reforecast, confidence, trials=min(reforecast.trials, RESET_TRIALS), max_scale=cap)
    if not reset.reachable:
        return reset, (f"Out of reach at {confidence:.0%} confidence: even {RESET_CAP:.0f} times the planned "
                       f"{scenario.stages[0].name} gives P(goal) {reset.at_confidence.p_goal:.0%}.")
    return reset, ""


def reset_scenario(check: CheckIn) -> Scenario:
    """The reforecast with the reset volumes: the scenario a reset plan of record saves."""
    if check.reforecast is None or check.reset is None:
        raise ScenarioError(check.reset_note or "there is no reset to save")
    scenario = check.reforecast.with_top_scaled(check.reset.at_confidence.scale)
    return replace(scenario, name=f"{check.scenario.name} — reset {check.as_of}")


def _reforecast_name(name: str, as_of: str) -> str:
    suffix = f" — reforecast after {as_of}"
    return name[:200 - len(suffix)] + suffix


def _unit_values(scenario: Scenario) -> list[float]:
    """Expected revenue one more unit in each stage brings: mean downstream conversion × mean
    deal value (recurring fees counted for one month: a relative measure across stages)."""
    values = []
    for k in range(len(scenario.stages)):
        p = 1.0
        for stage in scenario.stages[k + 1:]:
            p *= stage.rate.mean
        values.append(p * scenario.deal.mean)
    return values


def _cohorts(scenario: Scenario, k: int, entered, a: int) -> list[tuple[float, tuple[float, ...], int]]:
    """(units, lag into stage k+1, months since entering) of every group that entered stage k
    by the end of month ``a``: one per month of the period, and the start pipeline."""
    lag = scenario.stages[k + 1].lag
    groups = [(float(entered[t]), lag, a - t) for t in range(a + 1) if entered[t] > 0]
    start = scenario.pipeline_counts()[k]
    if start:
        groups.append((float(start), scenario.pipeline_lag(k), a))
    return groups


def _still_open(groups) -> tuple[float, tuple[float, ...]]:
    """Units whose move on is still ahead (Σ units × P(lag > age)), and the lag of that move
    counted from the next month: P(lag = age + 1 + i), mixed over the groups and normalised."""
    ahead: list[float] = []
    for units, lag, age in groups:
        rest = lag[age + 1:]
        ahead += [0.0] * max(0, len(rest) - len(ahead))
        for i, share in enumerate(rest):
            ahead[i] += units * share
    total = sum(ahead)
    if total <= 0:
        return 0.0, (1.0,)
    shares = [v / total for v in ahead]
    while len(shares) > 1 and shares[-1] == 0:
        shares.pop()
    shares[-1] = 1.0 - sum(shares[:-1])            # exactly 1 (validation of the scenario)
    return total, tuple(shares)


def _not_moved_on_share(groups, moved: float, exposure: float, rate: float) -> float:
    """The units of a stage that have not moved on yet, against the number expected: (N − s) /
    (N − p·E), N the units that entered the stage, s those that moved on so far, E their
    lag-corrected exposure and p the updated rate of the move.

    A unit that has not moved on by now moves on later with probability p(1 − F) / (1 − p·F),
    not p(1 − F): for one cohort the conversions still to come are (N − s) · p(1 − F) / (1 − p·F),
    which is its open pipeline N(1 − F) times this share, each converting at p (exact for one
    cohort; for several, the share of the units not moved on that each holds is taken at its
    expected value). Without it, a stage that happened to move on more than expected so far
    kept the full in-flight share as well, and one that moved on less kept too few: the same
    luck counted again in the months left. Counts that contradict the model (more moved on than
    entered) leave no unit open."""
    entered = sum(units for units, _, _ in groups)
    expected_left = entered - rate * exposure
    if expected_left <= 0:
        return 1.0
    return max(entered - moved, 0.0) / expected_left


def _plan_targets_left(scenario: Scenario, a: int) -> tuple[tuple[str, tuple[float, ...]], ...]:
    """The plan's own expected volumes per stage for the remaining months (the old SLA)."""
    arrivals = expected_arrivals(scenario)
    return tuple((s.name, tuple(float(v) for v in arrivals[k, a + 1:scenario.months]))
                 for k, s in enumerate(scenario.stages))
