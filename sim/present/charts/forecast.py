"""Charts of one forecast: the fan chart, the revenue distribution, the stage volumes, the
sensitivity (tornado) and the funnel against what the goal needs."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ...model.forecast import Forecast
from ...model.sensitivity import SensitivityRow
from ...model.targets import Targets
from .fan import fan_layers, goal_line
from .style import BAND_COLOR, GOAL_COLOR, by_rows, money_axis, month_axis, owner_scale, row_labels


def fan_chart(forecast: Forecast, *, height: int = 360) -> alt.LayerChart:
    """Cumulative revenue by month: P10–P90 and P25–P75 bands, the median, the goal line."""
    rows = [{"month": m.month, "p10": m.cumulative.p10, "p25": m.cumulative.p25,
             "p50": m.cumulative.p50, "p75": m.cumulative.p75, "p90": m.cumulative.p90}
            for m in forecast.months]
    data = pd.DataFrame(rows)
    x = alt.X("month:O", title=None, axis=month_axis(data["month"].iloc[0]))
    tooltip = [alt.Tooltip("month:O", title="Month"),
               alt.Tooltip("p10:Q", title="P10", format=",.0f"),
               alt.Tooltip("p50:Q", title="Median", format=",.0f"),
               alt.Tooltip("p90:Q", title="P90", format=",.0f")]
    return alt.layer(*fan_layers(x, tooltip), *goal_line(forecast.scenario.goal), data=data,
                     height=height, width="container",
                     title=alt.TitleParams("Cumulative revenue", subtitle="median, P25–P75 and P10–P90 bands",
                                           anchor="start"))


def revenue_histogram(forecast: Forecast, *, height: int = 360) -> alt.LayerChart:
    """Distribution of revenue (baseline included) over the trials, with the goal line."""
    edges, counts = forecast.histogram_edges, forecast.histogram_counts
    total = sum(counts) or 1
    data = pd.DataFrame({"lo": edges[:-1], "hi": edges[1:], "share": [c / total for c in counts]})
    data["hit"] = data["lo"] >= forecast.scenario.goal
    bars = alt.Chart().mark_bar(opacity=0.85).encode(
        x=alt.X("lo:Q", bin="binned", axis=money_axis("Revenue in the period")), x2=alt.X2("hi:Q"),
        y=alt.Y("share:Q", axis=alt.Axis(title="Share of simulated years", format="%")),
        color=alt.Color("hit:N", scale=alt.Scale(domain=[False, True], range=["#94a3b8", BAND_COLOR]),
                        legend=alt.Legend(title=None, orient="top",
                                          labelExpr="datum.value ? 'Goal reached' : 'Short of goal'")),
        tooltip=[alt.Tooltip("lo:Q", title="From", format=",.0f"),
                 alt.Tooltip("hi:Q", title="To", format=",.0f"),
                 alt.Tooltip("share:Q", title="Share", format=".1%")])
    goal = alt.Chart(alt.InlineData(values=[{"goal": forecast.scenario.goal}])).mark_rule(
        color=GOAL_COLOR, strokeDash=[6, 4], strokeWidth=2).encode(x=alt.X("goal:Q"))
    return alt.layer(bars, goal, data=data, height=height, width="container",
                     title=alt.TitleParams("Revenue over all simulated years", anchor="start"))


def stage_volumes(forecast: Forecast, *, height: int | None = None) -> alt.LayerChart:
    """Expected volume per stage in the period, with the P10–P90 range (log scale)."""
    data = pd.DataFrame([{"stage": s.name, "owner": s.owner, "mean": max(s.total.mean, 1.0),
                          "p10": max(s.total.p10, 1.0), "p90": max(s.total.p90, 1.0)}
                         for s in forecast.stages])
    order = list(data["stage"])
    y = alt.Y("stage:N", sort=order, title=None, axis=row_labels())
    bars = alt.Chart().mark_bar().encode(
        y=y, x=alt.X("mean:Q", scale=alt.Scale(type="log", domainMin=1, domainMax=_label_room(data["p90"])),
                     title="Expected volume in the period (log scale)"),
        x2=alt.X2Datum(1),
        color=alt.Color("owner:N", scale=owner_scale(data["owner"]), legend=alt.Legend(title=None, orient="bottom")),
        tooltip=[alt.Tooltip("stage:N", title="Stage"), alt.Tooltip("mean:Q", title="Expected", format=",.0f"),
                 alt.Tooltip("p10:Q", title="P10", format=",.0f"), alt.Tooltip("p90:Q", title="P90", format=",.0f")])
    ranges = alt.Chart().mark_rule(color="#0f172a").encode(y=y, x=alt.X("p10:Q"), x2=alt.X2("p90:Q"))
    labels = alt.Chart().mark_text(align="left", dx=8, color="#0f172a").encode(
        y=y, x=alt.X("p90:Q"), text=alt.Text("mean:Q", format=",.0f"))
    return alt.layer(bars, ranges, labels, data=data, width="container", **by_rows(height=height),
                     title=alt.TitleParams("Expected volume per stage (line: P10–P90)", anchor="start"))


def _label_room(highest) -> float:
    """A log axis's end that leaves room for a number after the longest bar (a factor of 2.5)."""
    return float(max(max(highest, default=1.0), 1.0)) * 2.5


def tornado(rows: tuple[SensitivityRow, ...], base_p_goal: float, *, height: int | None = None) -> alt.LayerChart:
    """P(goal) with each input at its P10 and P90, in probability points around the forecast."""
    data = pd.DataFrame([{"input": r.input, "owner": r.owner, "low": r.p_goal_low, "high": r.p_goal_high,
                          "swing": r.swing * 100} for r in rows])
    order = list(data["input"]) if len(data) else []
    y = alt.Y("input:N", sort=order, title=None, axis=row_labels())
    bars = alt.Chart().mark_bar(height={"band": 0.7}).encode(
        y=y, x=alt.X("low:Q", title="P(hit the goal) with the input at its P10 … P90",
                     axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        x2=alt.X2("high:Q"),
        color=alt.Color("owner:N", scale=owner_scale(data["owner"] if len(data) else ()),
                        legend=alt.Legend(title=None, orient="bottom")),
        tooltip=[alt.Tooltip("input:N", title="Input"), alt.Tooltip("owner:N", title="Owner"),
                 alt.Tooltip("low:Q", title="At P10", format=".1%"),
                 alt.Tooltip("high:Q", title="At P90", format=".1%"),
                 alt.Tooltip("swing:Q", title="Swing (points)", format="+.1f")])
    base = alt.Chart(alt.InlineData(values=[{"p": base_p_goal}])).mark_rule(color="#0f172a", strokeDash=[4, 3]).encode(x=alt.X("p:Q"))
    # The swing after its bar; inside the bar, in white, when the bar reaches the right edge.
    outside = alt.Chart().transform_filter("datum.high <= 0.9").mark_text(align="left", dx=4, fontSize=11)
    inside = alt.Chart().transform_filter("datum.high > 0.9").mark_text(
        align="right", dx=-4, fontSize=11, color="white")
    labels = [outside.encode(y=y, x=alt.X("high:Q"), text=alt.Text("swing:Q", format="+.0f")),
              inside.encode(y=y, x=alt.X("high:Q"), text=alt.Text("swing:Q", format="+.0f"))]
    return alt.layer(bars, base, *labels, data=data, width="container", **by_rows(height=height),
                     title=alt.TitleParams("Which assumption moves P(goal) most (probability points)", anchor="start"))


def funnel(targets: Targets, forecast: Forecast, *, height: int | None = None) -> alt.Chart:
    """Volume per stage in the period: what the current plan is expected to deliver, what the
    expected-value plan needs and what the plan at the chosen confidence needs (log scale)."""
    conf = f"Needed for P(goal) ≥ {targets.confidence:.0%}"
    rows = []
    expected_value = targets.expected_value          # the expected-value plan
    for st_fc, ev, at in zip(forecast.stages, expected_value.stages, targets.at_confidence.stages):
        rows += [{"stage": ev.name, "series": "Current plan (expected)", "volume": st_fc.total.mean},
                 {"stage": ev.name, "series": "Expected-value plan", "volume": ev.total},
                 {"stage": ev.name, "series": conf, "volume": at.total}]
    data = pd.DataFrame(rows)
    data["shown"] = data["volume"].clip(lower=1.0)
    order = [s.name for s in expected_value.stages]
    series = ["Current plan (expected)", "Expected-value plan", conf]
    chart = alt.Chart(data, width="container", **by_rows(step=14, height=height),
                      title=alt.TitleParams("The funnel: plan vs what the goal needs", anchor="start")).mark_bar().encode(
        y=alt.Y("stage:N", sort=order, title=None, axis=row_labels()),
        yOffset=alt.YOffset("series:N", sort=series),
        x=alt.X("shown:Q", scale=alt.Scale(type="log", domainMin=1), title="Volume in the period (log scale)"),
        x2=alt.X2Datum(1),
        color=alt.Color("series:N", sort=series,
                        scale=alt.Scale(domain=series, range=["#94a3b8", "#93c5fd", BAND_COLOR]),
                        legend=alt.Legend(title=None, orient="bottom", direction="vertical")),
        tooltip=[alt.Tooltip("stage:N", title="Stage"), alt.Tooltip("series:N", title=""),
                 alt.Tooltip("volume:Q", title="Volume", format=",.0f")],
    )
    return chart
