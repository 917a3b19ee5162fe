"""The scenario's assumptions in plain words, for the summary page and the report."""

from __future__ import annotations

from .scenario import Scenario


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
