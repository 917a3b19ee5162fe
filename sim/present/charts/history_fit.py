"""Charts of a history fit, each fitted belief beside its data: the cohorts' conversion rates with
the fitted P10–P90 band, a lag's histogram with the fitted distribution, the deal values with the
fitted lognormal, the top of the funnel with its trend (and season); and the backtest's revenue
against each origin's P10–P90 band."""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from ...model.backtest import Backtest
from ...model.funnel_history import index_label, month_index
from ...model.history_fit import HistoryFit, StageFit
from .style import ACTUAL_COLOR, BAND_COLOR, STATUS_COLORS, money_axis, month_axis


def cohort_rates(fit: HistoryFit, stage: StageFit, *, height: int = 280) -> alt.LayerChart:
    """Each cohort's rate (successes / exposure; the dot's size is the exposure) and the naive
    one (hollow), against the fitted belief's P10–P90 band and mean."""
    belief = next(s for s in fit.scenario.stages if s.name == stage.name).rate
    lo, hi = (float(v) for v in belief.ppf([0.1, 0.9])) if not belief.is_fixed else (belief.mean, belief.mean)
    rows = [{"month": m, "rate": s / n if n > 0 else None, "naive": s / e if e > 0 else None, "exposure": n,
             "successes": s, "entered": e}
            for m, e, s, n in zip(stage.cohort_months, stage.entered, stage.successes, stage.exposure) if e > 0]
    data = pd.DataFrame(rows, columns=["month", "rate", "naive", "exposure", "successes", "entered"])
    months = list(data["month"]) or [fit.first]
    x = alt.X("month:O", title=None, sort=months, axis=month_axis(months[0]))
    band = alt.Chart(alt.InlineData(values=[{"lo": lo, "hi": hi, "mean": belief.mean}]))
    area = band.mark_rect(opacity=0.18, color=BAND_COLOR).encode(y=alt.Y("lo:Q"), y2=alt.Y2("hi:Q"))
    mean = band.mark_rule(color=BAND_COLOR).encode(y=alt.Y("mean:Q"))
    tooltip = [alt.Tooltip("month:O", title="Cohort"), alt.Tooltip("successes:Q", title="Converted", format=",.0f"),
               alt.Tooltip("exposure:Q", title="Exposed (lag-aware)", format=",.1f"),
               alt.Tooltip("entered:Q", title="Entered", format=",.0f"),
               alt.Tooltip("rate:Q", title="Rate", format=".1%"), alt.Tooltip("naive:Q", title="Naive", format=".1%")]
    dots = alt.Chart().mark_circle(color=ACTUAL_COLOR, opacity=0.85).encode(
        x=x, y=alt.Y("rate:Q", title=f"Conversion into {stage.name}", axis=alt.Axis(format="%")),
        size=alt.Size("exposure:Q", legend=None), tooltip=tooltip)
    naive = alt.Chart().mark_point(color="#94a3b8", shape="circle").encode(x=x, y=alt.Y("naive:Q"), tooltip=tooltip)
    return alt.layer(area, mean, naive, dots, data=data,
                     height=height, width="container", padding={"top": 14, "left": 5, "right": 5, "bottom": 5},
                     title=alt.TitleParams(f"{stage.name}: each cohort's rate and the fitted belief",
                                           subtitle="dots: converted / exposed (size: exposure); grey: naive (no lag "
                                                    "correction); band: fitted P10–P90", anchor="start"))


def lag_histogram(stage: StageFit, *, height: int = 200) -> alt.LayerChart:
    """The conversions seen at each lag (bars, as shares) and the fitted lag (dots): the fit
    corrects for the young cohorts, which have not shown their long lags yet."""
    observed = np.asarray(stage.lag_fit.observed if stage.lag_fit is not None else [], dtype=float)
    months = max(len(stage.lag), observed.size)
    seen = np.zeros(months)
    seen[:observed.size] = observed / observed.sum() if observed.sum() > 0 else 0
    data = pd.DataFrame({"months": np.arange(months), "seen": seen,
                         "fitted": list(stage.lag) + [0.0] * (months - len(stage.lag))})
    x = alt.X("months:O", title="Months from the previous stage", axis=alt.Axis(labelAngle=0))
    bars = alt.Chart().mark_bar(color="#cbd5e1").encode(
        x=x, y=alt.Y("seen:Q", title="Share", axis=alt.Axis(format="%")),
        tooltip=[alt.Tooltip("months:O", title="Lag"), alt.Tooltip("seen:Q", title="Seen", format=".1%"),
                 alt.Tooltip("fitted:Q", title="Fitted", format=".1%")])
    dots = alt.Chart().mark_point(color=BAND_COLOR, filled=True, size=70).encode(x=x, y=alt.Y("fitted:Q"))
    return alt.layer(bars, dots, data=data, height=height, width="container", title=alt.TitleParams(
        f"Lag into {stage.name}", subtitle="bars: conversions seen; blue: fitted (each lag from the cohorts old "
                                           "enough to show it)", anchor="start"))


def deal_values(fit: HistoryFit, *, height: int = 220, bins: int = 30) -> alt.LayerChart:
    """The won amounts' histogram on a log scale and the fitted lognormal's density."""
    amounts = np.asarray(fit.deal_amounts, dtype=float)
    d = fit.deal
    logs = np.log(amounts)
    edges = np.linspace(logs.min(), logs.max() if logs.max() > logs.min() else logs.min() + 1, bins + 1)
    counts, _ = np.histogram(logs, edges)
    width = edges[1] - edges[0]
    hist = pd.DataFrame({"lo": np.exp(edges[:-1]), "hi": np.exp(edges[1:]),
                         "share": counts / max(counts.sum(), 1) / width})
    grid = np.linspace(edges[0], edges[-1], 120)
    density = np.exp(-0.5 * ((grid - d.mu) / max(d.sigma, 1e-9)) ** 2) / (max(d.sigma, 1e-9) * math.sqrt(2 * math.pi))
    curve = pd.DataFrame({"amount": np.exp(grid), "density": density})
    x = alt.X("lo:Q", title="Won amount (log scale)", scale=alt.Scale(type="log"), axis=alt.Axis(format="~s"))
    bars = alt.Chart(hist).mark_rect(color="#cbd5e1").encode(x=x, x2=alt.X2("hi:Q"), y=alt.Y("share:Q", title="Density of ln amount"))
    line = alt.Chart(curve).mark_line(color=BAND_COLOR).encode(x=alt.X("amount:Q"), y=alt.Y("density:Q"))
    return alt.layer(bars, line, height=height, width="container", title=alt.TitleParams(
        f"Deal value: median {d.median:,.0f}, P90 {d.p90:,.0f}",
        subtitle=f"{d.n:,} won amounts (their own median {d.empirical_median:,.0f}, P90 {d.empirical_p90:,.0f}); "
                 f"blue: the fitted lognormal", anchor="start"))


def top_of_funnel(fit: HistoryFit, *, height: int = 240) -> alt.LayerChart:
    """The first stage's monthly volume, the fitted trend (with the season, when fitted) and the
    plan's months that follow."""
    t = fit.top
    months = list(fit.top_months)
    idx = [month_index(m) for m in months]
    plan_months = list(fit.scenario.month_labels)
    rows = [{"month": m, "kind": "actual", "volume": v} for m, v in zip(months, fit.top_counts)]
    rows += [{"month": m, "kind": "fitted", "volume": float(v)} for m, v in zip(months, t.mean_at(idx))]
    rows += [{"month": m, "kind": "plan", "volume": float(v)} for m, v in zip(plan_months, fit.scenario.top.monthly)]
    data = pd.DataFrame(rows)
    domain = months + plan_months
    x = alt.X("month:O", title=None, sort=domain, scale=alt.Scale(domain=domain), axis=month_axis(domain[0]))
    colour = alt.Color("kind:N", title=None, scale=alt.Scale(domain=["actual", "fitted", "plan"],
                                                              range=[ACTUAL_COLOR, BAND_COLOR, "#7c3aed"]))
    season = "with twelve monthly factors, " if t.seasonal is not None else ""
    return alt.Chart(data, height=height, width="container", title=alt.TitleParams(
        f"{fit.scenario.stages[0].name}: history, trend and plan",
        subtitle=f"growth {t.growth:+.2%} a month, {season}noise {t.noise_cv:.0%} (log-linear fit over "
                 f"{t.months_used} months)", anchor="start")).mark_line(point=True).encode(
        x=x, y=alt.Y("volume:Q", title=fit.scenario.stages[0].name), color=colour,
        strokeDash=alt.StrokeDashValue([4, 3], condition={"test": "datum.kind == 'actual'", "value": [1, 0]}),
        tooltip=[alt.Tooltip("month:O", title="Month"), alt.Tooltip("kind:N", title="Series"),
                 alt.Tooltip("volume:Q", title="Volume", format=",.0f")])


def backtest_revenue(result: Backtest, *, height: int = 260) -> alt.LayerChart:
    """Each origin's revenue over its months: the forecast's P10–P90 and median, and the actual
    (coloured by inside / outside the band)."""
    rows = [{"origin": o.origin, "months": o.months, "p10": o.revenue.p10, "p50": o.revenue.p50, "p90": o.revenue.p90,
             "actual": o.revenue.actual, "status": "inside" if o.revenue.inside else
             ("below" if o.revenue.actual < o.revenue.p10 else "above"), "p_goal": o.p_goal}
            for o in result.origins]
    data = pd.DataFrame(rows, columns=["origin", "months", "p10", "p50", "p90", "actual", "status", "p_goal"])
    order = [o.origin for o in result.origins]
    x = alt.X("origin:O", title="Origin (the forecast's first month)", sort=order,
              axis=month_axis(order[0] if order else index_label(0)))
    tooltip = [alt.Tooltip("origin:O", title="Origin"), alt.Tooltip("months:Q", title="Months"),
               alt.Tooltip("p10:Q", title="P10", format=",.0f"), alt.Tooltip("p50:Q", title="P50", format=",.0f"),
               alt.Tooltip("p90:Q", title="P90", format=",.0f"), alt.Tooltip("actual:Q", title="Actual", format=",.0f"),
               alt.Tooltip("p_goal:Q", title="P(goal)", format=".0%")]
    band = alt.Chart().mark_bar(opacity=0.25, color=BAND_COLOR, size=14).encode(
        x=x, y=alt.Y("p10:Q", axis=money_axis("Revenue over the origin's months")), y2=alt.Y2("p90:Q"),
        tooltip=tooltip)
    median = alt.Chart().mark_tick(color=BAND_COLOR, thickness=2, size=14).encode(x=x, y=alt.Y("p50:Q"))
    status = alt.Scale(domain=["below", "inside", "above"],
                       range=[STATUS_COLORS["below"], STATUS_COLORS["inside"], STATUS_COLORS["above"]])
    actual = alt.Chart().mark_point(filled=True, size=70).encode(
        x=x, y=alt.Y("actual:Q"), color=alt.Color("status:N", title="Actual", scale=status), tooltip=tooltip)
    return alt.layer(band, median, actual, data=data, height=height, width="container", title=alt.TitleParams(
        "Backtest: each origin's forecast against what happened", subtitle=result.sentence(), anchor="start"))
