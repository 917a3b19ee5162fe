"""Charts of several scenarios side by side: their revenue distributions and their chances of
hitting the goal, each scenario in the same colour in both."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ...model.forecast import Forecast
from .style import by_rows, money_axis, row_labels


def scenario_scale(forecasts) -> alt.Scale:
    """The same colour for a scenario in every comparison chart, in the order picked."""
    return alt.Scale(domain=list(forecasts), scheme="tableau10")


def side_by_side_distributions(forecasts: dict[str, Forecast], *, height: int = 360) -> alt.LayerChart:
    """Revenue distributions of several scenarios, overlaid (share of years per revenue bin)."""
    rows = []
    for name, fc in forecasts.items():
        total = sum(fc.histogram_counts) or 1
        width = fc.histogram_edges[1] - fc.histogram_edges[0]
        for lo, c in zip(fc.histogram_edges[:-1], fc.histogram_counts):
            rows.append({"scenario": name, "revenue": lo + width / 2, "density": c / total / width})
    data = pd.DataFrame(rows)
    color = alt.Color("scenario:N", sort=list(forecasts), scale=scenario_scale(forecasts),
                      legend=alt.Legend(title=None, orient="top", labelLimit=320))
    lines = alt.Chart().mark_line(interpolate="step-after", strokeWidth=2).encode(
        x=alt.X("revenue:Q", axis=money_axis("Revenue in the period")),
        y=alt.Y("density:Q", axis=alt.Axis(title="Density", labels=False, ticks=False)),
        color=color, tooltip=[alt.Tooltip("scenario:N"), alt.Tooltip("revenue:Q", format=",.0f")])
    goals = pd.DataFrame([{"scenario": n, "goal": fc.scenario.goal} for n, fc in forecasts.items()])
    rules = alt.Chart(goals).mark_rule(strokeDash=[6, 4]).encode(x=alt.X("goal:Q"), color=color)
    return alt.layer(lines, rules, data=data, height=height, width="container",
                     title=alt.TitleParams("Revenue distributions (dashed: each goal)", anchor="start"))


def side_by_side_p_goal(forecasts: dict[str, Forecast], *, height: int | None = None,
                   title: str = "Chance of hitting the goal (line: 95% Monte Carlo interval)") -> alt.LayerChart:
    data = pd.DataFrame([{"scenario": n, "p": fc.p_goal, "lo": fc.p_goal_ci.low, "hi": fc.p_goal_ci.high}
                         for n, fc in forecasts.items()])
    y = alt.Y("scenario:N", title=None, sort=list(forecasts), axis=row_labels())
    bars = alt.Chart().mark_bar().encode(
        color=alt.Color("scenario:N", sort=list(forecasts), scale=scenario_scale(forecasts), legend=None),
        y=y, x=alt.X("p:Q", title="P(hit the goal)", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("scenario:N"), alt.Tooltip("p:Q", title="P(goal)", format=".1%")])
    err = alt.Chart().mark_rule(color="#0f172a").encode(y=y, x=alt.X("lo:Q"), x2=alt.X2("hi:Q"))
    text = alt.Chart().mark_text(align="left", dx=6).encode(y=y, x=alt.X("hi:Q"), text=alt.Text("p:Q", format=".1%"))
    return alt.layer(bars, err, text, data=data, width="container", **by_rows(height=height),
                     title=alt.TitleParams(title, anchor="start"))
