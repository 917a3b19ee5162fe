"""The scenario's assumptions and the forecast's verdict in plain words, for the summary page
and the report."""

from __future__ import annotations

from dataclasses import dataclass

from ..model.forecast import Forecast
from ..model.scenario import Scenario


def _pct(x: float) -> str:
    return f"{x:.1%}" if x < 0.1 else f"{x:.0%}"


def _lag_words(lag) -> str:
    if len(lag) == 1:
        return "in the same month"
    mean = sum(i * p for i, p in enumerate(lag))
    return f"after {mean:.1f} months on average (up to {len(lag) - 1})"


def assumptions(scenario: Scenario) -> list[str]:
    """A short list of sentences stating every assumption of the scenario."""
    sc = scenario
    labels = sc.month_labels
    top = sc.top
    first = sc.stages[0].name
    if top.per_month is not None:
        growth = f", growing {top.growth:+.1%} a month" if top.growth else ""
        plan = f"{top.per_month:,.0f} {first} a month{growth}"
    else:
        plan = f"{sum(top.monthly):,.0f} {first} over the period, planned month by month"
    noise = (f"actual months vary around the plan by about {top.noise_cv:.0%}" if top.noise_cv
             else "exactly as planned")
    out = [
        f"Period: {labels[0]} to {labels[-1]} ({sc.months} months); goal {sc.goal:,.0f}"
        + (f", of which {sc.baseline_revenue:,.0f} is already certain." if sc.baseline_revenue else "."),
        f"Top of the funnel: {plan}; {noise}.",
    ]
    for prev, stage in zip(sc.stages, sc.stages[1:]):
        rate = stage.rate
        if rate.is_fixed:
            belief = f"exactly {_pct(rate.mean)}"
        else:
            lo, hi = rate.ppf([0.1, 0.9])
            belief = f"about {_pct(rate.mean)} (8 times in 10 between {_pct(lo)} and {_pct(hi)})"
        out.append(f"{stage.name} ({stage.owner}): {belief} of {prev.name}, {_lag_words(stage.lag)}.")
    deal = sc.deal
    kind = "one-time, counted in the month of closing" if not deal.recurring else \
        "a monthly fee, counted every month from closing to the end of the period"
    value = (f"{deal.median:,.0f}" if deal.is_fixed else
             f"typically {deal.median:,.0f}, 1 deal in 10 above {deal.p90:,.0f} (average {deal.mean:,.0f})")
    out.append(f"Deal value: {value}; {kind}.")
    if sc.start_pipeline:
        listed = ", ".join(f"{count:,} {name}" for name, count in sc.start_pipeline)
        out.append(f"Already in the pipeline at the start: {listed}.")
    out.append(f"Simulated {sc.trials:,} times with seed {sc.seed}: the same link gives the same numbers.")
    return out


#: Verdict bands by P(goal), from the top: (lowest P(goal) of the band, label, tone).
VERDICT_BANDS = (
    (0.90, "Very likely", "good"),
    (0.70, "Likely", "good"),
    (0.55, "More likely than not", "mixed"),
    (0.45, "About even odds", "mixed"),
    (0.30, "Less likely than not", "poor"),
    (0.10, "Unlikely", "poor"),
    (0.00, "Very unlikely", "poor"),
)


def _share(p: float) -> str:
    """A share in whole percent that never rounds a rare event to 0% or 100%."""
    if 0 < p < 0.005:
        return "fewer than 1%"
    if 0.995 <= p < 1:
        return "more than 99%"
    return f"{p:.0%}"


@dataclass(frozen=True)
class Verdict:
    """The answer to "are we on track?" in plain words."""

    label: str       # e.g. "More likely than not"
    tone: str        # "good", "mixed" or "poor" (for colour)
    detail: str      # the numbers behind it, e.g. "52% of 20,000 simulated years reach ..."

    @property
    def sentence(self) -> str:
        return f"{self.label}: {self.detail}"


def verdict(forecast: Forecast) -> Verdict:
    """How likely the goal is, in words: a band of P(goal) (see :data:`VERDICT_BANDS`), the
    share of simulated years that reach the goal and where the median year ends."""
    p, sc = forecast.p_goal, forecast.scenario
    label, tone = next((label, tone) for low, label, tone in VERDICT_BANDS if p >= low)
    gap = forecast.gap
    if abs(gap) < 0.005 * sc.goal:
        median = "a typical (median) year ends right at the goal"
    elif gap > 0:
        median = f"a typical (median) year ends {gap:,.0f} short of it"
    else:
        median = f"a typical (median) year ends {-gap:,.0f} above it"
    detail = (f"{_share(p)} of {forecast.trials:,} simulated years reach the goal of {sc.goal:,.0f}; "
              f"{median}.")
    return Verdict(label, tone, detail)


#: The SLA's factor on the top-of-funnel plan within this of 1 is the plan itself (the search
#: finds the factor within 1%: sim.model.targets).
SAME_SCALE = 0.01


def scale_text(scale: float) -> str:
    """A factor on the top-of-funnel plan as a reader wants it: ``1.23``, ``12.5``, ``0.004``
    (three significant digits: never "0.00" for a small factor)."""
    if scale >= 100:
        return f"{scale:,.0f}"
    return f"{scale:.3g}"


def sla_verdict(forecast: Forecast, targets) -> str:
    """What the SLA does for the goal, beside the inputs' verdict: the inputs as they are give
    :func:`verdict`'s chance; the SLA's volumes (the top-of-funnel plan scaled) give the chance
    it was set for, or say that no volume within reach does."""
    at, conf = targets.at_confidence, targets.confidence
    asked = f"P(goal) ≥ {conf:.0%}"
    if not targets.reachable:
        return (f"The SLA cannot reach {asked} by volume alone: even {scale_text(at.scale)} times the "
                f"top-of-funnel plan gives {_share(at.p_goal or 0.0)}; the rates or the deal value must improve too.")
    got = f" (simulated: {_share(at.p_goal)})" if at.p_goal is not None else ""
    if at.scale > 1 + SAME_SCALE:
        return (f"That is the plan's inputs as they are ({_share(forecast.p_goal)}). The SLA asks for "
                f"{scale_text(at.scale)} times the top-of-funnel plan, which gives {asked}{got}: "
                "make the SLA the plan to plan on it.")
    if at.scale < 1 - SAME_SCALE:
        return (f"The plan's inputs are ahead of the goal ({_share(forecast.p_goal)}): the SLA needs only "
                f"{scale_text(at.scale)} times the top-of-funnel plan for {asked}{got}.")
    return f"The plan already is the SLA: its volumes give {asked}{got}."
