"""Charts of a plan of record against the actuals: the plan's fan with the actual revenue, the
stage × month variance heat map, and one stage's months against its band."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ...data.variance import PlanComparison
from ...model.bands import ABOVE, BELOW, INSIDE
from .fan import actual_line, fan_layers, goal_line
from .style import BAND_COLOR, by_rows, month_axis, row_labels, status_scale


def plan_vs_actual_fan(comparison: PlanComparison, *, height: int = 360) -> alt.LayerChart:
    """The plan's fan chart of cumulative revenue with the actual cumulative revenue on top."""
    rows = [{"month": r.month, "p10": r.cumulative_p10, "p25": r.cumulative_p25, "p50": r.cumulative_p50,
             "p75": r.cumulative_p75, "p90": r.cumulative_p90, "actual": r.cumulative_actual,
             "status": r.status} for r in comparison.revenue]
    data = pd.DataFrame(rows)
    x = alt.X("month:O", title=None, axis=month_axis(data["month"].iloc[0]))
    tooltip = [alt.Tooltip("month:O", title="Month"),
               alt.Tooltip("actual:Q", title="Actual to date", format=",.0f"),
               alt.Tooltip("p10:Q", title="Plan P10", format=",.0f"),
               alt.Tooltip("p50:Q", title="Plan median", format=",.0f"),
               alt.Tooltip("p90:Q", title="Plan P90", format=",.0f")]
    actual = actual_line(data.dropna(subset=["actual"]), alt.X("month:O"), tooltip)
    return alt.layer(*fan_layers(x, tooltip, faint=True), actual, *goal_line(comparison.plan.scenario.goal),
                     data=data, height=height, width="container",
                     title=alt.TitleParams("Cumulative revenue: actual vs plan",
                                           subtitle="black: actual; plan median (dashed), P25–P75 and P10–P90 bands",
                                           anchor="start"))


def variance_heatmap(comparison: PlanComparison, *, height: int | None = None) -> alt.LayerChart:
    """Stage × month: the actual's variance from the plan's median (text, %), coloured by where
    it falls in the plan's band (±1: at its P10/P90 edge; so small counts that swing by a large
    percentage but stay well inside the band stay pale), the cells outside the band outlined
    and marked ▲ (above) or ▼ (below)."""
    mark = {BELOW: " ▼", ABOVE: " ▲", INSIDE: ""}

    def position(r) -> float:
        half = (r.p90 - r.p50) if r.actual >= r.p50 else (r.p50 - r.p10)
        if half <= 0:
            return 0.0 if r.actual == r.p50 else (2.0 if r.actual > r.p50 else -2.0)
        return max(-2.0, min(2.0, (r.actual - r.p50) / half))

    data = pd.DataFrame([{
        "stage": r.stage, "month": r.month, "owner": r.owner, "actual": r.actual, "p50": r.p50,
        "p10": r.p10, "p90": r.p90, "status": r.status, "pct": position(r),
        "pct_text": ("n/a" if r.variance_pct is None else f"{r.variance_pct:+.0%}") + mark[r.status],
        "outside": r.status != INSIDE} for r in comparison.stages])
    order = [s.name for s in comparison.plan.scenario.stages if s.name in set(data["stage"])]
    x = alt.X("month:O", title=None, axis=month_axis(min(data["month"])))
    y = alt.Y("stage:N", sort=order, title=None, axis=row_labels())
    tooltip = [alt.Tooltip("stage:N", title="Stage"), alt.Tooltip("owner:N", title="Owner"),
               alt.Tooltip("month:O", title="Month"), alt.Tooltip("actual:Q", title="Actual", format=",.0f"),
               alt.Tooltip("p50:Q", title="Plan median", format=",.0f"),
               alt.Tooltip("p10:Q", title="Plan P10", format=",.0f"),
               alt.Tooltip("p90:Q", title="Plan P90", format=",.0f"),
               alt.Tooltip("pct_text:N", title="Variance"), alt.Tooltip("status:N", title="Band")]
    cells = alt.Chart().mark_rect().encode(
        x=x, y=y,
        color=alt.Color("pct:Q", scale=alt.Scale(scheme="redblue", domain=[-2, 2]),
                        legend=alt.Legend(title="Where in the plan's band (−1: its P10, +1: its P90)",
                                          orient="bottom", values=[-2, -1, 0, 1, 2], titleLimit=400)),
        stroke=alt.StrokeValue(None, condition={"test": "datum.outside", "value": "#0f172a"}),
        strokeWidth=alt.StrokeWidthValue(0, condition={"test": "datum.outside", "value": 2}),
        tooltip=tooltip)
    text = alt.Chart().mark_text(fontSize=11).encode(
        x=x, y=y, text=alt.Text("pct_text:N"),
        color=alt.ColorValue("#0f172a", condition={"test": "abs(datum.pct) > 1.2", "value": "white"}),
        tooltip=tooltip)
    return alt.layer(cells, text, data=data, width="container", **by_rows(height=height),
                     title=alt.TitleParams("Actual vs plan median, by stage and month",
                                           subtitle="text: difference from the median; outlined ▲/▼: outside the "
                                                    "P10–P90 band", anchor="start"))


def stage_vs_plan(comparison: PlanComparison, bands: list, stage: str, *, height: int = 300) -> alt.LayerChart:
    """One stage's monthly arrivals: the plan's P10–P90 band and median, the actuals as dots
    coloured by where they fall."""
    plan = pd.DataFrame([{"month": b.month, "p10": b.dist.p10, "p50": b.dist.p50, "p90": b.dist.p90}
                         for b in bands if b.stage == stage])
    actual = pd.DataFrame([{"month": r.month, "actual": r.actual, "status": r.status, "p50": r.p50}
                           for r in comparison.stages if r.stage == stage],
                          columns=["month", "actual", "status", "p50"])
    x = alt.X("month:O", title=None, axis=month_axis(plan["month"].iloc[0]))
    band = alt.Chart().mark_area(opacity=0.2, color=BAND_COLOR).encode(
        x=x, y=alt.Y("p10:Q", title="per month", scale=alt.Scale(zero=False)), y2=alt.Y2("p90:Q"))
    median = alt.Chart().mark_line(color=BAND_COLOR, strokeDash=[4, 3]).encode(
        x=x, y=alt.Y("p50:Q"), tooltip=[alt.Tooltip("month:O"), alt.Tooltip("p10:Q", title="Plan P10", format=",.0f"),
                                  alt.Tooltip("p50:Q", title="Plan median", format=",.0f"),
                                  alt.Tooltip("p90:Q", title="Plan P90", format=",.0f")])
    dots = alt.Chart(actual).mark_circle(size=90, opacity=1).encode(
        x=x, y=alt.Y("actual:Q"),
        color=alt.Color("status:N", scale=status_scale(),
                        legend=alt.Legend(title="Actual", orient="bottom")),
        tooltip=[alt.Tooltip("month:O"), alt.Tooltip("actual:Q", title="Actual", format=",.0f"),
                 alt.Tooltip("p50:Q", title="Plan median", format=",.0f"), alt.Tooltip("status:N", title="Band")])
    return alt.layer(band, median, dots, data=plan, height=height, width="container",
                     title=alt.TitleParams(f"{stage}: actual per month against the plan",
                                           subtitle="plan median (dashed) and P10–P90 band", anchor="start"))
