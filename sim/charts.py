"""Altair charts of forecasts, targets and sensitivity (no Streamlit here).

Every function returns an ``alt.Chart`` (or layer) sized by its container ("container"
width), so the same chart serves the app, a phone screen and the one-page report.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from .forecast import Forecast
from .sensitivity import SensitivityRow
from .targets import Targets
from .variance import PlanComparison
from .checkin import CheckIn

OWNER_COLORS = {"marketing": "#7c3aed", "sales": "#059669", "shared": "#64748b"}
BAND_COLOR = "#2563eb"
GOAL_COLOR = "#dc2626"


def _owner_scale(owners=OWNER_COLORS):
    """Colours by owner; the legend lists only the owners present."""
    present = [o for o in OWNER_COLORS if o in set(owners)]
    return alt.Scale(domain=present, range=[OWNER_COLORS[o] for o in present])


def _rows_height(rows: int, per_row: int = 30, overhead: int = 110) -> int:
    """Total height for a chart with one band per row: Vega-Lite's "fit" autosize counts the
    title, legend and axes inside the height, so they are added on top of the bands."""
    return overhead + per_row * max(rows, 1)


def _money_axis(title: str) -> alt.Axis:
    return alt.Axis(title=title, format="~s", labelExpr="replace(datum.label, 'G', 'B')")


def _month_axis(first: str) -> alt.Axis:
    """An axis of "YYYY-MM" months labelled "Jan 27", "Feb", …, "Dec", "Jan 28" (short enough
    for a phone screen); labels that would overlap are thinned out."""
    names = "['Jan','Feb','Mar','Apr','May','Jun','Jul','Aug','Sep','Oct','Nov','Dec']"
    month = "toNumber(slice(datum.value, 5, 7))"
    year = "' ' + slice(datum.value, 2, 4)"
    expr = (f"{names}[{month} - 1] + ({month} == 1 || datum.value == '{first}' ? {year} : '')")
    return alt.Axis(labelAngle=0, labelExpr=expr, labelOverlap=True)


def _goal_line(goal: float) -> alt.LayerChart:
    """The goal as a dashed red rule on the y (money) axis, labelled at the left."""
    chart = alt.Chart(pd.DataFrame({"goal": [goal], "label": [f"Goal {goal:,.0f}"]}))
    rule = chart.mark_rule(color=GOAL_COLOR, strokeDash=[6, 4], strokeWidth=2).encode(y="goal:Q")
    text = chart.mark_text(align="left", dx=4, dy=-6, color=GOAL_COLOR).encode(
        y="goal:Q", text="label:N", x=alt.value(0))
    return rule + text


def fan_chart(forecast: Forecast, height: int = 360) -> alt.LayerChart:
    """Cumulative revenue by month: P10–P90 and P25–P75 bands, the median, the goal line."""
    rows = [{"month": m.month, "p10": m.cumulative.p10, "p25": m.cumulative.p25,
             "p50": m.cumulative.p50, "p75": m.cumulative.p75, "p90": m.cumulative.p90}
            for m in forecast.months]
    data = pd.DataFrame(rows)
    base = alt.Chart(data).encode(x=alt.X("month:O", title=None, axis=_month_axis(data["month"].iloc[0])))
    tooltip = [alt.Tooltip("month:O", title="Month"),
               alt.Tooltip("p10:Q", title="P10", format=",.0f"),
               alt.Tooltip("p50:Q", title="Median", format=",.0f"),
               alt.Tooltip("p90:Q", title="P90", format=",.0f")]
    outer = base.mark_area(opacity=0.18, color=BAND_COLOR).encode(
        y=alt.Y("p10:Q", axis=_money_axis("Cumulative revenue")), y2="p90:Q", tooltip=tooltip)
    inner = base.mark_area(opacity=0.30, color=BAND_COLOR).encode(y="p25:Q", y2="p75:Q",
                                                                  tooltip=tooltip)
    median = base.mark_line(color=BAND_COLOR, point=True).encode(y="p50:Q", tooltip=tooltip)
    return (outer + inner + median + _goal_line(forecast.scenario.goal)).properties(
        height=height, width="container",
        title=alt.TitleParams("Cumulative revenue", subtitle="median, P25–P75 and P10–P90 bands",
                              anchor="start"))


def revenue_histogram(forecast: Forecast, height: int = 360) -> alt.LayerChart:
    """Distribution of revenue (baseline included) over the trials, with the goal line."""
    edges, counts = forecast.histogram_edges, forecast.histogram_counts
    total = sum(counts) or 1
    data = pd.DataFrame({"lo": edges[:-1], "hi": edges[1:], "share": [c / total for c in counts]})
    data["hit"] = data["lo"] >= forecast.scenario.goal
    bars = alt.Chart(data).mark_bar(opacity=0.85).encode(
        x=alt.X("lo:Q", bin="binned", axis=_money_axis("Revenue in the period")), x2="hi:Q",
        y=alt.Y("share:Q", axis=alt.Axis(title="Share of simulated years", format="%")),
        color=alt.Color("hit:N", scale=alt.Scale(domain=[False, True], range=["#94a3b8", BAND_COLOR]),
                        legend=alt.Legend(title=None, orient="top",
                                          labelExpr="datum.value ? 'Goal reached' : 'Short of goal'")),
        tooltip=[alt.Tooltip("lo:Q", title="From", format=",.0f"),
                 alt.Tooltip("hi:Q", title="To", format=",.0f"),
                 alt.Tooltip("share:Q", title="Share", format=".1%")])
    goal = alt.Chart(pd.DataFrame({"goal": [forecast.scenario.goal]})).mark_rule(
        color=GOAL_COLOR, strokeDash=[6, 4], strokeWidth=2).encode(x="goal:Q")
    return (bars + goal).properties(height=height, width="container",
                                    title=alt.TitleParams("Revenue over all simulated years", anchor="start"))


def stage_volumes(forecast: Forecast, height: int | None = None) -> alt.LayerChart:
    """Expected volume per stage in the period, with the P10–P90 range (log scale)."""
    data = pd.DataFrame([{"stage": s.name, "owner": s.owner, "mean": max(s.total.mean, 1.0),
                          "p10": max(s.total.p10, 1.0), "p90": max(s.total.p90, 1.0)}
                         for s in forecast.stages])
    order = list(data["stage"])
    y = alt.Y("stage:N", sort=order, title=None)
    bars = alt.Chart(data).mark_bar().encode(
        y=y, x=alt.X("mean:Q", scale=alt.Scale(type="log", domainMin=1),
                     title="Expected volume in the period (log scale)"),
        x2=alt.datum(1),
        color=alt.Color("owner:N", scale=_owner_scale(data["owner"]), legend=alt.Legend(title=None, orient="bottom")),
        tooltip=[alt.Tooltip("stage:N", title="Stage"), alt.Tooltip("mean:Q", title="Expected", format=",.0f"),
                 alt.Tooltip("p10:Q", title="P10", format=",.0f"), alt.Tooltip("p90:Q", title="P90", format=",.0f")])
    ranges = alt.Chart(data).mark_rule(color="#0f172a").encode(y=y, x="p10:Q", x2="p90:Q")
    labels = alt.Chart(data).mark_text(align="left", dx=8, color="#0f172a").encode(
        y=y, x="p90:Q", text=alt.Text("mean:Q", format=",.0f"))
    return (bars + ranges + labels).properties(height=height or _rows_height(len(order), 34), width="container",
                                               title=alt.TitleParams("Expected volume per stage (line: P10–P90)", anchor="start"))


def tornado(rows: tuple[SensitivityRow, ...], base_p_goal: float, height: int | None = None) -> alt.LayerChart:
    """P(goal) with each input at its P10 and P90, in probability points around the forecast."""
    data = pd.DataFrame([{"input": r.input, "owner": r.owner, "low": r.p_goal_low, "high": r.p_goal_high,
                          "swing": r.swing * 100} for r in rows])
    order = list(data["input"]) if len(data) else []
    y = alt.Y("input:N", sort=order, title=None)
    bars = alt.Chart(data).mark_bar(height={"band": 0.7}).encode(
        y=y, x=alt.X("low:Q", title="P(hit the goal) with the input at its P10 … P90",
                     axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        x2="high:Q",
        color=alt.Color("owner:N", scale=_owner_scale(data["owner"] if len(data) else ()),
                        legend=alt.Legend(title=None, orient="bottom")),
        tooltip=[alt.Tooltip("input:N", title="Input"), alt.Tooltip("owner:N", title="Owner"),
                 alt.Tooltip("low:Q", title="At P10", format=".1%"),
                 alt.Tooltip("high:Q", title="At P90", format=".1%"),
                 alt.Tooltip("swing:Q", title="Swing (points)", format="+.1f")])
    base = alt.Chart(pd.DataFrame({"p": [base_p_goal]})).mark_rule(color="#0f172a", strokeDash=[4, 3]).encode(x="p:Q")
    labels = alt.Chart(data).mark_text(align="left", dx=4, fontSize=11).encode(
        y=y, x="high:Q", text=alt.Text("swing:Q", format="+.0f"))
    return (bars + base + labels).properties(
        height=height or _rows_height(len(data), 34, 130), width="container",
        title=alt.TitleParams("Which assumption moves P(goal) most (probability points)", anchor="start"))


def funnel(targets: Targets, forecast: Forecast, height: int | None = None) -> alt.Chart:
    """Volume per stage in the period: what the current plan is expected to deliver, what the
    expected-value plan needs and what the plan at the chosen confidence needs (log scale)."""
    conf = f"Needed for P(goal) ≥ {targets.confidence:.0%}"
    rows = []
    for st_fc, det, at in zip(forecast.stages, targets.deterministic.stages, targets.at_confidence.stages):
        rows += [{"stage": det.name, "series": "Current plan (expected)", "volume": st_fc.total.mean},
                 {"stage": det.name, "series": "Needed on average", "volume": det.total},
                 {"stage": det.name, "series": conf, "volume": at.total}]
    data = pd.DataFrame(rows)
    data["shown"] = data["volume"].clip(lower=1.0)
    order = [s.name for s in targets.deterministic.stages]
    series = ["Current plan (expected)", "Needed on average", conf]
    return alt.Chart(data).mark_bar().encode(
        y=alt.Y("stage:N", sort=order, title=None),
        yOffset=alt.YOffset("series:N", sort=series),
        x=alt.X("shown:Q", scale=alt.Scale(type="log", domainMin=1), title="Volume in the period (log scale)"),
        x2=alt.datum(1),
        color=alt.Color("series:N", sort=series,
                        scale=alt.Scale(domain=series, range=["#94a3b8", "#93c5fd", BAND_COLOR]),
                        legend=alt.Legend(title=None, orient="bottom", direction="vertical")),
        tooltip=[alt.Tooltip("stage:N", title="Stage"), alt.Tooltip("series:N", title=""),
                 alt.Tooltip("volume:Q", title="Volume", format=",.0f")],
    ).properties(height=height or _rows_height(len(order), 48, 150), width="container",
                 title=alt.TitleParams("The funnel: plan vs what the goal needs", anchor="start"))


def compare_distributions(forecasts: dict[str, Forecast], height: int = 360) -> alt.LayerChart:
    """Revenue distributions of several scenarios, overlaid (share of years per revenue bin)."""
    rows = []
    for name, fc in forecasts.items():
        total = sum(fc.histogram_counts) or 1
        width = fc.histogram_edges[1] - fc.histogram_edges[0]
        for lo, c in zip(fc.histogram_edges[:-1], fc.histogram_counts):
            rows.append({"scenario": name, "revenue": lo + width / 2, "density": c / total / width})
    data = pd.DataFrame(rows)
    color = alt.Color("scenario:N", sort=list(forecasts), scale=_scenario_scale(forecasts),
                      legend=alt.Legend(title=None, orient="top"))
    lines = alt.Chart(data).mark_line(interpolate="step-after", strokeWidth=2).encode(
        x=alt.X("revenue:Q", axis=_money_axis("Revenue in the period")),
        y=alt.Y("density:Q", axis=alt.Axis(title="Density", labels=False, ticks=False)),
        color=color, tooltip=["scenario:N", alt.Tooltip("revenue:Q", format=",.0f")])
    goals = pd.DataFrame([{"scenario": n, "goal": fc.scenario.goal} for n, fc in forecasts.items()])
    rules = alt.Chart(goals).mark_rule(strokeDash=[6, 4]).encode(x="goal:Q", color=color)
    return (lines + rules).properties(height=height, width="container",
                                     title=alt.TitleParams("Revenue distributions (dashed: each goal)", anchor="start"))


def _scenario_scale(forecasts) -> alt.Scale:
    """The same colour for a scenario in every comparison chart, in the order picked."""
    return alt.Scale(domain=list(forecasts), scheme="tableau10")


def compare_p_goal(forecasts: dict[str, Forecast], height: int | None = None,
                   title: str = "Chance of hitting the goal (line: 95% Monte Carlo interval)") -> alt.LayerChart:
    data = pd.DataFrame([{"scenario": n, "p": fc.p_goal, "lo": fc.p_goal_ci.low, "hi": fc.p_goal_ci.high}
                         for n, fc in forecasts.items()])
    y = alt.Y("scenario:N", title=None, sort=list(forecasts))
    bars = alt.Chart(data).mark_bar().encode(
        color=alt.Color("scenario:N", sort=list(forecasts), scale=_scenario_scale(forecasts), legend=None),
        y=y, x=alt.X("p:Q", title="P(hit the goal)", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("scenario:N"), alt.Tooltip("p:Q", title="P(goal)", format=".1%")])
    err = alt.Chart(data).mark_rule(color="#0f172a").encode(y=y, x="lo:Q", x2="hi:Q")
    text = alt.Chart(data).mark_text(align="left", dx=6).encode(y=y, x="hi:Q", text=alt.Text("p:Q", format=".1%"))
    return (bars + err + text).properties(height=height or _rows_height(len(data), 36, 100), width="container",
                                          title=alt.TitleParams(title, anchor="start"))


STATUS_COLORS = {"below": "#dc2626", "inside": "#0f172a", "above": "#059669"}


def plan_vs_actual_fan(comparison: PlanComparison, height: int = 360) -> alt.LayerChart:
    """The plan's fan chart of cumulative revenue with the actual cumulative revenue on top."""
    rows = [{"month": r.month, "p10": r.cumulative_p10, "p25": r.cumulative_p25, "p50": r.cumulative_p50,
             "p75": r.cumulative_p75, "p90": r.cumulative_p90, "actual": r.cumulative_actual,
             "status": r.status} for r in comparison.revenue]
    data = pd.DataFrame(rows)
    base = alt.Chart(data).encode(x=alt.X("month:O", title=None, axis=_month_axis(data["month"].iloc[0])))
    tooltip = [alt.Tooltip("month:O", title="Month"),
               alt.Tooltip("actual:Q", title="Actual to date", format=",.0f"),
               alt.Tooltip("p10:Q", title="Plan P10", format=",.0f"),
               alt.Tooltip("p50:Q", title="Plan median", format=",.0f"),
               alt.Tooltip("p90:Q", title="Plan P90", format=",.0f")]
    outer = base.mark_area(opacity=0.15, color=BAND_COLOR).encode(
        y=alt.Y("p10:Q", axis=_money_axis("Cumulative revenue")), y2="p90:Q", tooltip=tooltip)
    inner = base.mark_area(opacity=0.25, color=BAND_COLOR).encode(y="p25:Q", y2="p75:Q", tooltip=tooltip)
    median = base.mark_line(color=BAND_COLOR, strokeDash=[4, 3]).encode(y="p50:Q", tooltip=tooltip)
    actual_data = data.dropna(subset=["actual"])
    actual = alt.Chart(actual_data).mark_line(color="#0f172a", strokeWidth=3, point=alt.OverlayMarkDef(
        size=60, filled=True, color="#0f172a")).encode(x="month:O", y="actual:Q", tooltip=tooltip)
    return (outer + inner + median + actual + _goal_line(comparison.plan.scenario.goal)).properties(
        height=height, width="container",
        title=alt.TitleParams("Cumulative revenue: actual vs plan",
                              subtitle="black: actual; plan median (dashed), P25–P75 and P10–P90 bands",
                              anchor="start"))


def variance_heatmap(comparison: PlanComparison, height: int | None = None) -> alt.LayerChart:
    """Stage × month: the actual's variance from the plan's median (text, %), coloured by where
    it falls in the plan's band (±1: at its P10/P90 edge; so small counts that swing by a large
    percentage but stay well inside the band stay pale), the cells outside the band outlined
    and marked ▲ (above) or ▼ (below)."""
    mark = {"below": " ▼", "above": " ▲", "inside": ""}

    def position(r) -> float:
        half = (r.p90 - r.p50) if r.actual >= r.p50 else (r.p50 - r.p10)
        if half <= 0:
            return 0.0 if r.actual == r.p50 else (2.0 if r.actual > r.p50 else -2.0)
        return max(-2.0, min(2.0, (r.actual - r.p50) / half))

    data = pd.DataFrame([{
        "stage": r.stage, "month": r.month, "owner": r.owner, "actual": r.actual, "p50": r.p50,
        "p10": r.p10, "p90": r.p90, "status": r.status, "pct": position(r),
        "pct_text": ("n/a" if r.variance_pct is None else f"{r.variance_pct:+.0%}") + mark[r.status],
        "outside": r.status != "inside"} for r in comparison.stages])
    order = [s.name for s in comparison.plan.scenario.stages if s.name in set(data["stage"])]
    x = alt.X("month:O", title=None, axis=_month_axis(min(data["month"])))
    y = alt.Y("stage:N", sort=order, title=None)
    tooltip = [alt.Tooltip("stage:N", title="Stage"), alt.Tooltip("owner:N", title="Owner"),
               alt.Tooltip("month:O", title="Month"), alt.Tooltip("actual:Q", title="Actual", format=",.0f"),
               alt.Tooltip("p50:Q", title="Plan median", format=",.0f"),
               alt.Tooltip("p10:Q", title="Plan P10", format=",.0f"),
               alt.Tooltip("p90:Q", title="Plan P90", format=",.0f"),
               alt.Tooltip("pct_text:N", title="Variance"), alt.Tooltip("status:N", title="Band")]
    cells = alt.Chart(data).mark_rect().encode(
        x=x, y=y,
        color=alt.Color("pct:Q", scale=alt.Scale(scheme="redblue", domain=[-2, 2]),
                        legend=alt.Legend(title="Where in the plan's band (−1: its P10, +1: its P90)",
                                          orient="bottom", values=[-2, -1, 0, 1, 2], titleLimit=400)),
        stroke=alt.condition("datum.outside", alt.value("#0f172a"), alt.value(None)),
        strokeWidth=alt.condition("datum.outside", alt.value(2), alt.value(0)),
        tooltip=tooltip)
    text = alt.Chart(data).mark_text(fontSize=11).encode(
        x=x, y=y, text="pct_text:N",
        color=alt.condition("abs(datum.pct) > 1.2", alt.value("white"), alt.value("#0f172a")),
        tooltip=tooltip)
    return (cells + text).properties(
        height=height or _rows_height(len(order), 40, 120), width="container",
        title=alt.TitleParams("Actual vs plan median, by stage and month",
                              subtitle="text: difference from the median; outlined ▲/▼: outside the P10–P90 band",
                              anchor="start"))


def stage_vs_plan(comparison: PlanComparison, bands: list, stage: str, height: int = 300) -> alt.LayerChart:
    """One stage's monthly arrivals: the plan's P10–P90 band and median, the actuals as dots
    coloured by where they fall."""
    plan = pd.DataFrame([{"month": b.month, "p10": b.dist.p10, "p50": b.dist.p50, "p90": b.dist.p90}
                         for b in bands if b.stage == stage])
    actual = pd.DataFrame([{"month": r.month, "actual": r.actual, "status": r.status, "p50": r.p50}
                           for r in comparison.stages if r.stage == stage],
                          columns=["month", "actual", "status", "p50"])
    x = alt.X("month:O", title=None, axis=_month_axis(plan["month"].iloc[0]))
    band = alt.Chart(plan).mark_area(opacity=0.2, color=BAND_COLOR).encode(
        x=x, y=alt.Y("p10:Q", title=f"{stage} per month", scale=alt.Scale(zero=False)), y2="p90:Q")
    median = alt.Chart(plan).mark_line(color=BAND_COLOR, strokeDash=[4, 3]).encode(
        x=x, y="p50:Q", tooltip=[alt.Tooltip("month:O"), alt.Tooltip("p10:Q", title="Plan P10", format=",.0f"),
                                  alt.Tooltip("p50:Q", title="Plan median", format=",.0f"),
                                  alt.Tooltip("p90:Q", title="Plan P90", format=",.0f")])
    statuses = list(STATUS_COLORS)
    dots = alt.Chart(actual).mark_circle(size=90, opacity=1).encode(
        x=x, y="actual:Q",
        color=alt.Color("status:N", scale=alt.Scale(domain=statuses, range=[STATUS_COLORS[s] for s in statuses]),
                        legend=alt.Legend(title="Actual", orient="bottom")),
        tooltip=[alt.Tooltip("month:O"), alt.Tooltip("actual:Q", title="Actual", format=",.0f"),
                 alt.Tooltip("p50:Q", title="Plan median", format=",.0f"), alt.Tooltip("status:N", title="Band")])
    return (band + median + dots).properties(
        height=height, width="container",
        title=alt.TitleParams(f"{stage}: actual per month against the plan",
                              subtitle="plan median (dashed) and P10–P90 band", anchor="start"))


def checkin_fan(check: CheckIn, height: int = 360) -> alt.LayerChart:
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
    x = alt.X("month:O", title=None, sort=months, scale=alt.Scale(domain=months), axis=_month_axis(months[0]))
    tooltip = [alt.Tooltip("month:O", title="Month"), alt.Tooltip("p10:Q", title="P10", format=",.0f"),
               alt.Tooltip("p50:Q", title="Median", format=",.0f"), alt.Tooltip("p90:Q", title="P90", format=",.0f")]
    outer = alt.Chart(fan).mark_area(opacity=0.18, color=BAND_COLOR).encode(
        x=x, y=alt.Y("p10:Q", axis=_money_axis("Cumulative revenue")), y2="p90:Q", tooltip=tooltip)
    inner = alt.Chart(fan).mark_area(opacity=0.30, color=BAND_COLOR).encode(x=x, y="p25:Q", y2="p75:Q", tooltip=tooltip)
    median = alt.Chart(fan).mark_line(color=BAND_COLOR, point=True).encode(x=x, y="p50:Q", tooltip=tooltip)
    line = alt.Chart(actual).mark_line(color="#0f172a", strokeWidth=3, point=alt.OverlayMarkDef(
        size=60, filled=True, color="#0f172a")).encode(
        x=x, y="actual:Q", tooltip=[alt.Tooltip("month:O", title="Month"),
                                    alt.Tooltip("actual:Q", title="Actual to date", format=",.0f")])
    return (outer + inner + median + line + _goal_line(check.scenario.goal)).properties(
        height=height, width="container",
        title=alt.TitleParams("Revenue: actual, then the reforecast",
                              subtitle=f"black: actual to {check.as_of}; blue: reforecast median, P25–P75, P10–P90",
                              anchor="start"))


def checkin_position(check: CheckIn, height: int | None = None) -> alt.LayerChart:
    """Each stage's volume to date as a share of the plan's median, with the plan's P10–P90."""
    rows = [{"stage": c.name, "owner": c.owner, "actual": c.actual, "p50": c.plan_p50,
             "ratio": c.actual / c.plan_p50 if c.plan_p50 else None,
             "lo": c.plan_p10 / c.plan_p50 if c.plan_p50 else None,
             "hi": c.plan_p90 / c.plan_p50 if c.plan_p50 else None, "status": c.status}
            for c in check.stages if c.actual is not None]
    data = pd.DataFrame(rows, columns=["stage", "owner", "actual", "p50", "ratio", "lo", "hi", "status"])
    order = [c.name for c in check.stages]
    y = alt.Y("stage:N", sort=order, title=None)
    band = alt.Chart(data).mark_bar(opacity=0.25, color=BAND_COLOR, height={"band": 0.6}).encode(
        y=y, x=alt.X("lo:Q", title="Volume to date, as a share of the plan's median",
                     axis=alt.Axis(format="%"), scale=alt.Scale(zero=False)), x2="hi:Q")
    centre = alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(color=BAND_COLOR, strokeDash=[4, 3]).encode(x="x:Q")
    statuses = list(STATUS_COLORS)
    dots = alt.Chart(data).mark_point(size=120, filled=True, shape="diamond").encode(
        y=y, x="ratio:Q",
        color=alt.Color("status:N", scale=alt.Scale(domain=statuses, range=[STATUS_COLORS[s] for s in statuses]),
                        legend=alt.Legend(title="Actual", orient="bottom")),
        tooltip=[alt.Tooltip("stage:N", title="Stage"), alt.Tooltip("owner:N", title="Owner"),
                 alt.Tooltip("actual:Q", title="Actual to date", format=",.0f"),
                 alt.Tooltip("p50:Q", title="Plan median", format=",.0f"),
                 alt.Tooltip("ratio:Q", title="Share of median", format=".0%"), alt.Tooltip("status:N", title="Band")])
    return (band + centre + dots).properties(
        height=height or _rows_height(len(order), 34, 130), width="container",
        title=alt.TitleParams(f"Where we stand after {check.as_of}",
                              subtitle="bar: plan's P10–P90 to date; dashed: its median", anchor="start"))


def rate_updates(check: CheckIn, height: int | None = None) -> alt.LayerChart:
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
        rel = lambda v, d: d if v is None else v / base - 1.0  # noqa: E731
        rows.append({"stage": label, "belief": "Plan", "mean": 0.0, "lo": rel(c.rate_prior_p10, 0.0),
                     "hi": rel(c.rate_prior_p90, 0.0), "rate": base, "rate_lo": c.rate_prior_p10,
                     "rate_hi": c.rate_prior_p90})
        if post is not None:
            rows.append({"stage": label, "belief": "Updated", "mean": rel(post, 0.0),
                         "lo": rel(c.rate_posterior_p10, rel(post, 0.0)), "hi": rel(c.rate_posterior_p90, rel(post, 0.0)),
                         "rate": post, "rate_lo": c.rate_posterior_p10, "rate_hi": c.rate_posterior_p90})
    data = pd.DataFrame(rows, columns=["stage", "belief", "mean", "lo", "hi", "rate", "rate_lo", "rate_hi"])
    beliefs = ["Plan", "Updated"]
    y = alt.Y("stage:N", sort=order, title=None, axis=alt.Axis(labelLimit=260))
    color = alt.Color("belief:N", scale=alt.Scale(domain=beliefs, range=["#94a3b8", BAND_COLOR]),
                      legend=alt.Legend(title=None, orient="bottom"))
    tooltip = [alt.Tooltip("stage:N", title="Conversion into"), alt.Tooltip("belief:N", title="Belief"),
               alt.Tooltip("rate:Q", title="Mean", format=".2%"), alt.Tooltip("rate_lo:Q", title="P10", format=".2%"),
               alt.Tooltip("rate_hi:Q", title="P90", format=".2%")]
    x = alt.X("lo:Q", axis=alt.Axis(format="+.0%"), title="Relative to the plan's rate (line: P10–P90)")
    rule = alt.Chart(data).mark_rule(strokeWidth=4).encode(
        y=y, yOffset=alt.YOffset("belief:N", sort=beliefs), color=color, x=x, x2="hi:Q", tooltip=tooltip)
    dot = alt.Chart(data).mark_point(filled=True, size=80).encode(
        y=y, yOffset=alt.YOffset("belief:N", sort=beliefs), color=color, x="mean:Q", tooltip=tooltip)
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="#64748b", strokeDash=[4, 3]).encode(x="x:Q")
    return (zero + rule + dot).properties(
        height=height or _rows_height(len(order), 44, 120), width="container",
        title=alt.TitleParams("What we learned: the rates, planned → updated", anchor="start"))
