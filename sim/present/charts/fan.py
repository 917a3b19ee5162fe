"""The fan chart, one helper for its three uses: cumulative revenue as P10–P90 and P25–P75
bands around a median line, the goal as a dashed red rule, and an actual line drawn on top
(the forecast; the plan against the actuals; the check-in's reforecast). The helpers give
layers, which each chart puts in one ``alt.layer`` (see :mod:`sim.present.charts`)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from .style import ACTUAL_COLOR, BAND_COLOR, GOAL_COLOR, money_axis


def fan_layers(x: alt.X, tooltip: list, *, faint: bool = False) -> list[alt.Chart]:
    """The bands (columns p10, p25, p50, p75, p90 over ``x``) and the median: a line with
    points, or (``faint``: a plan drawn behind actuals) paler bands and a dashed median. Layers
    without data: they draw the data of the layer chart they are put in (``alt.layer(...,
    data=...)``)."""
    outer = alt.Chart().mark_area(opacity=0.15 if faint else 0.18, color=BAND_COLOR).encode(
        x=x, y=alt.Y("p10:Q", axis=money_axis("Cumulative revenue")), y2=alt.Y2("p90:Q"), tooltip=tooltip)
    inner = alt.Chart().mark_area(opacity=0.25 if faint else 0.30, color=BAND_COLOR).encode(
        x=x, y=alt.Y("p25:Q"), y2=alt.Y2("p75:Q"), tooltip=tooltip)
    line = (alt.Chart().mark_line(color=BAND_COLOR, strokeDash=[4, 3]) if faint
            else alt.Chart().mark_line(color=BAND_COLOR, point=True))
    return [outer, inner, line.encode(x=x, y=alt.Y("p50:Q"), tooltip=tooltip)]


def actual_line(data: pd.DataFrame, x: alt.X, tooltip: list) -> alt.Chart:
    """The actual cumulative revenue (column ``actual``): a thick dark line with dots."""
    return alt.Chart(data).mark_line(color=ACTUAL_COLOR, strokeWidth=3, point=alt.OverlayMarkDef(
        size=60, filled=True, color=ACTUAL_COLOR)).encode(x=x, y=alt.Y("actual:Q"), tooltip=tooltip)


def goal_line(goal: float) -> list[alt.Chart]:
    """The goal as a dashed red rule on the y (money) axis, labelled at the left: two layers
    with their one row of data (inline: no table to convert)."""
    chart = alt.Chart(alt.InlineData(values=[{"goal": goal, "label": f"Goal {goal:,.0f}"}]))
    rule = chart.mark_rule(color=GOAL_COLOR, strokeDash=[6, 4], strokeWidth=2).encode(y=alt.Y("goal:Q"))
    text = chart.mark_text(align="left", dx=4, dy=-6, color=GOAL_COLOR).encode(
        y=alt.Y("goal:Q"), text=alt.Text("label:N"), x=alt.XValue(0))
    return [rule, text]
