"""Charts of a check-in: the actual revenue then the reforecast's fan, where each stage stands
against the plan's band, and the conversion rates as planned and as updated."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ...model.checkin import CheckIn
from .fan import actual_line, fan_layers, goal_line
from .style import BAND_COLOR, by_rows, month_axis, row_labels, status_scale


def checkin_fan(check: CheckIn, *, height: int = 360) -> alt.LayerChart:
    """Cumulative revenue: the actual line through the as-of month, then the reforecast's fan
    (P10–P90, P25–P75, median) continuing from it; the plan's median dashed; the goal line."""
    actual = pd.DataFrame([{"month": m, "actual": v} for m, v in check.revenue_path])
    fan_rows = [{"month": check.as_of, "p10": check.revenue_to_date, "p25": check.revenue_to_date,
                 "p50": check.revenue_to_date, "p75": check.revenue_to_date, "p90": check.revenue_to_date}]
    if check.forecast_now is not None:
        fan_rows += [{"month": m.month, "p10": m.cumulative.p10, "p25": m.cumulative.p25, "p50": m.cumulative.p50,
                      "p75": m.cumulative.p75, "p90": m.cumulative.p90} for m in check.forecast_now.months]
    fan = pd.DataFrame(fan_rows)
    months = list(check.months_done) + list(check.months_left)
    x = alt.X("month:O", title=None, sort=months, scale=alt.Scale(domain=months), axis=month_axis(months[0]))
    tooltip = [alt.Tooltip("month:O", title="Month"), alt.Tooltip("p10:Q", title="P10", format=",.0f"),
               alt.Tooltip("p50:Q", title="Median", format=",.0f"), alt.Tooltip("p90:Q", title="P90", format=",.0f")]
    line = actual_line(actual, x, [alt.Tooltip("month:O", title="Month"),
                                   alt.Tooltip("actual:Q", title="Actual to date", format=",.0f")])
    return alt.layer(*fan_layers(x, tooltip), line, *goal_line(check.scenario.goal), data=fan,
                     height=height, width="container",
                     title=alt.TitleParams("Revenue: actual, then the reforecast",
                                           subtitle=f"black: actual to {check.as_of}; blue: reforecast median, "
                                                    "P25–P75, P10–P90", anchor="start"))


def checkin_position(check: CheckIn, *, height: int | None = None) -> alt.LayerChart:
    """Each stage's volume to date as a share of the plan's median, with the plan's P10–P90."""
    rows = [{"stage": c.name, "owner": c.owner, "actual": c.actual, "p50": c.plan_p50,
             "ratio": c.actual / c.plan_p50 if c.plan_p50 else None,
             "lo": c.plan_p10 / c.plan_p50 if c.plan_p50 else None,
             "hi": c.plan_p90 / c.plan_p50 if c.plan_p50 else None, "status": c.status}
            for c in check.stages if c.actual is not None]
    data = pd.DataFrame(rows, columns=["stage", "owner", "actual", "p50", "ratio", "lo", "hi", "status"])
    order = [c.name for c in check.stages]
    y = alt.Y("stage:N", sort=order, title=None, axis=row_labels())
    band = alt.Chart().mark_bar(opacity=0.25, color=BAND_COLOR, height={"band": 0.6}).encode(
        y=y, x=alt.X("lo:Q", title="Volume to date, as a share of the plan's median",
                     axis=alt.Axis(format="%"), scale=alt.Scale(zero=False)), x2=alt.X2("hi:Q"))
    centre = alt.Chart(alt.InlineData(values=[{"x": 1.0}])).mark_rule(color=BAND_COLOR, strokeDash=[4, 3]).encode(x=alt.X("x:Q"))
    dots = alt.Chart().mark_point(size=120, filled=True, shape="diamond").encode(
        y=y, x=alt.X("ratio:Q"),
        color=alt.Color("status:N", scale=status_scale(),
                        legend=alt.Legend(title="Actual", orient="bottom")),
        tooltip=[alt.Tooltip("stage:N", title="Stage"), alt.Tooltip("owner:N", title="Owner"),
                 alt.Tooltip("actual:Q", title="Actual to date", format=",.0f"),
                 alt.Tooltip("p50:Q", title="Plan median", format=",.0f"),
                 alt.Tooltip("ratio:Q", title="Share of median", format=".0%"), alt.Tooltip("status:N", title="Band")])
    return alt.layer(band, centre, dots, data=data, width="container", **by_rows(height=height),
                     title=alt.TitleParams(f"Where we stand after {check.as_of}",
                                           subtitle="bar: plan's P10–P90 to date; dashed: its median", anchor="start"))


def rate_updates(check: CheckIn, *, height: int | None = None) -> alt.LayerChart:
    """Each conversion rate, planned and updated, relative to the plan's mean (so a 2% and a
    40% rate read on one axis): the P10–P90 of each belief and its mean; the row labels give
    the rates themselves."""
    rows, order = [], []
    for c in check.stages:
        if c.rate_prior_mean is None:
            continue
        base, post = c.rate_prior_mean, c.rate_posterior_mean
        f = ".2%" if base < 0.1 else ".1%"
        label = (f"{c.name}: {base:{f}} → {post:{f}}" if post is not None
                 else f"{c.name}: {base:{f}} (no actuals)")
        order.append(label)

        def rel(v, d, base=base):
            """``v`` relative to the plan's mean (``d`` when there is no ``v``)."""
            return d if v is None else v / base - 1.0
        rows.append({"stage": label, "belief": "Plan", "mean": 0.0, "lo": rel(c.rate_prior_p10, 0.0),
                     "hi": rel(c.rate_prior_p90, 0.0), "rate": base, "rate_lo": c.rate_prior_p10,
                     "rate_hi": c.rate_prior_p90})
        if post is not None:
            rows.append({"stage": label, "belief": "Updated", "mean": rel(post, 0.0),
                         "lo": rel(c.rate_posterior_p10, rel(post, 0.0)), "hi": rel(c.rate_posterior_p90, rel(post, 0.0)),
                         "rate": post, "rate_lo": c.rate_posterior_p10, "rate_hi": c.rate_posterior_p90})
    data = pd.DataFrame(rows, columns=["stage", "belief", "mean", "lo", "hi", "rate", "rate_lo", "rate_hi"])
    beliefs = ["Plan", "Updated"]
    y = alt.Y("stage:N", sort=order, title=None, axis=row_labels())
    color = alt.Color("belief:N", scale=alt.Scale(domain=beliefs, range=["#94a3b8", BAND_COLOR]),
                      legend=alt.Legend(title=None, orient="bottom"))
    tooltip = [alt.Tooltip("stage:N", title="Conversion into"), alt.Tooltip("belief:N", title="Belief"),
               alt.Tooltip("rate:Q", title="Mean", format=".2%"), alt.Tooltip("rate_lo:Q", title="P10", format=".2%"),
               alt.Tooltip("rate_hi:Q", title="P90", format=".2%")]
    x = alt.X("lo:Q", axis=alt.Axis(format="+.0%"), title="Relative to the plan's rate (line: P10–P90)")
    rule = alt.Chart().mark_rule(strokeWidth=4).encode(
        y=y, yOffset=alt.YOffset("belief:N", sort=beliefs), color=color, x=x, x2=alt.X2("hi:Q"), tooltip=tooltip)
    dot = alt.Chart().mark_point(filled=True, size=80).encode(
        y=y, yOffset=alt.YOffset("belief:N", sort=beliefs), color=color, x=alt.X("mean:Q"), tooltip=tooltip)
    zero = alt.Chart(alt.InlineData(values=[{"x": 0.0}])).mark_rule(color="#64748b", strokeDash=[4, 3]).encode(x=alt.X("x:Q"))
    return alt.layer(zero, rule, dot, data=data, width="container", **by_rows(step=22, height=height),
                     title=alt.TitleParams("What we learned: the rates, planned → updated", anchor="start"))
