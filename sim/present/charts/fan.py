"""The fan chart, one helper for its three uses: cumulative revenue as P10–P90 and P25–P75
bands around a median line, the goal as a dashed red rule, and an actual line drawn on top
(the forecast; the plan against the actuals; the check-in's reforecast)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from .style import ACTUAL_COLOR, BAND_COLOR, GOAL_COLOR, money_axis


def fan_layers(data: pd.DataFrame, x: alt.X, tooltip: list, *, faint: bool = False) -> alt.LayerChart:
    """The bands of ``data`` (columns p10, p25, p50, p75, p90 over ``x``) and its median: a line
    with points, or (``faint``: a plan drawn behind actuals) paler bands and a dashed median."""
    outer = alt.Chart(data).mark_area(opacity=0.15 if faint else 0.18, color=BAND_COLOR).encode(
        x=x, y=alt.Y("p10:Q", axis=money_axis("Cumulative revenue")), y2=alt.Y2("p90:Q"), tooltip=tooltip)
    inner = alt.Chart(data).mark_area(opacity=0.25 if faint else 0.30, color=BAND_COLOR).encode(
        x=x, y=alt.Y("p25:Q"), y2=alt.Y2("p75:Q"), tooltip=tooltip)
    line = (alt.Chart(data).mark_line(color=BAND_COLOR, strokeDash=[4, 3]) if faint
            else alt.Chart(data).mark_line(color=BAND_COLOR, point=True))
    return outer + inner + line.encode(x=x, y=alt.Y("p50:Q"), tooltip=tooltip)


def actual_line(data: pd.DataFrame, x: alt.X, tooltip: list) -> alt.Chart:
    """The actual cumulative revenue (column ``actual``): a thick dark line with dots."""
    return alt.Chart(data).mark_line(color=ACTUAL_COLOR, strokeWidth=3, point=alt.OverlayMarkDef(
        size=60, filled=True, color=ACTUAL_COLOR)).encode(x=x, y=alt.Y("actual:Q"), tooltip=tooltip)


def goal_line(goal: float) -> alt.LayerChart:
    """The goal as a dashed red rule on the y (money) axis, labelled at the left."""
    chart = alt.Chart(pd.DataFrame({"goal": [goal], "label": [f"Goal {goal:,.0f}"]}))
    rule = chart.mark_rule(color=GOAL_COLOR, strokeDash=[6, 4], strokeWidth=2).encode(y=alt.Y("goal:Q"))
    text = chart.mark_text(align="left", dx=4, dy=-6, color=GOAL_COLOR).encode(
        y=alt.Y("goal:Q"), text=alt.Text("label:N"), x=alt.XValue(0))
    return rule + text
