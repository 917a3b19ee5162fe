"""The one-page report: a self-contained HTML file (no Streamlit here).

Everything is inline: the CSS, and the charts as SVG drawn by ``vl-convert`` (the Vega-Lite
compiler and renderer packaged for Python) in a worker process of its own
(:mod:`sim.present.svg_rendering`: a renderer that fails cannot take the app's server down; the
report then says the chart could not be drawn), so the file opens anywhere offline, without
JavaScript, and prints on one A4 page. The page is a Jinja2 template with autoescaping
(``templates/report.html.j2`` and its ``report.css``): all user text (the scenario and stage
names) is escaped.
"""

from __future__ import annotations

import calendar
import math
from datetime import date
from functools import lru_cache

import altair as alt
import jinja2
import vl_convert as vlc
from markupsafe import Markup, escape

from ..model.forecast import Forecast
from ..model.months import parse_month
from ..model.scenario import OWNERS, Scenario, file_stem
from ..model.sensitivity import SensitivityRow
from ..model.targets import Targets
from . import charts
from .agreement_text import report_context
from .describe import assumptions, verdict
from .sla import SIDE_TITLES, sla_rows, sla_sentences
from .svg_rendering import ChartRenderingError, vegalite_to_svg

#: Width in CSS pixels of a chart drawn alone across the page, and of one of two side by side.
FULL_WIDTH, HALF_WIDTH = 640, 330
#: Height of the charts in the report (the tornado grows with more than 6 inputs).
CHART_HEIGHT = 210
#: The SLA table shows at most this many period columns (longer horizons are grouped).
MAX_COLUMNS = 12


def _vegalite_version() -> str | None:
    """The Vega-Lite version of Altair's charts ("6.4" for v6.4.1) if vl-convert has it."""
    major_minor = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return major_minor if major_minor in vlc.get_vegalite_versions() else None


def chart_svg(chart: alt.TopLevelMixin, width: int = FULL_WIDTH, height: int | None = None) -> str:
    """The chart as an inline ``<svg>`` element, drawn at a fixed width (charts of
    :mod:`sim.present.charts` fill their container, which a static file does not have); a
    short note instead when the renderer fails."""
    sized = chart.properties(width=width) if height is None else chart.properties(width=width, height=height)
    try:
        svg = vegalite_to_svg(sized.to_dict(), vl_version=_vegalite_version())
    except ChartRenderingError as exc:
        return f"<p class='no-chart'>{escape(str(exc))}.</p>"
    svg = svg[svg.index("<svg"):]                     # drop any XML prolog
    return svg.replace("<svg ", '<svg role="img" ', 1)


def download_name(scenario: Scenario, suffix: str) -> str:
    """A safe file name from the scenario's name, e.g. ``northwind-digital-fy2027-plan-report.html``."""
    return f"{file_stem(scenario.name)}{suffix}"


def period_text(scenario: Scenario) -> str:
    """E.g. "January 2027 – December 2027 (12 months)"."""
    first, last = scenario.month_labels[0], scenario.month_labels[-1]
    return f"{_month_name(first)} – {_month_name(last)} ({scenario.months} months)"


def _month_name(label: str, short: bool = False) -> str:
    year, month = parse_month(label)
    names = calendar.month_abbr if short else calendar.month_name
    return f"{names[month]} {year}" if not short else f"{names[month]} {year % 100:02d}"


def _columns(scenario: Scenario) -> list[tuple[str, list[int]]]:
    """The SLA table's period columns: months, or groups of months for long horizons."""
    labels = scenario.month_labels
    step = math.ceil(len(labels) / MAX_COLUMNS)
    one_year = len({parse_month(lab)[0] for lab in labels}) == 1
    out = []
    for i in range(0, len(labels), step):
        idx = list(range(i, min(i + step, len(labels))))
        first, last = _month_name(labels[idx[0]], short=True), _month_name(labels[idx[-1]], short=True)
        if one_year:
            first, last = first[:3], last[:3]
        out.append((first if len(idx) == 1 else f"{first}–{last}", idx))
    return out


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _compact(x: float) -> str:
    """A count in at most four characters or so: 870, 9,870, 98.7k, 987k, 9.9M."""
    for threshold, div, unit in ((1e9, 1e9, "B"), (1e6, 1e6, "M"), (1e4, 1e3, "k")):
        if abs(x) >= threshold:
            v = x / div
            text = f"{v:.1f}".removesuffix(".0") if abs(v) < 100 else f"{v:,.0f}"
            return text + unit
    return _n(x)


def _sla_tables(forecast: Forecast, targets: Targets, columns) -> list[dict]:
    """Per side that owns stages: its title and one row per stage (the commitment summed over
    each column's months, the period's total, the current plan's P10–P90)."""
    scenario = forecast.scenario
    long = sla_rows(targets, forecast)
    tables = []
    for side in OWNERS:
        rows = []
        for k, stage in enumerate(scenario.stages):
            if stage.owner != side:
                continue
            commitment = long.loc[long["stage"] == stage.name, "commitment"].to_numpy()
            plan = forecast.stages[k].total
            rows.append({"stage": stage.name, "cells": [_n(commitment[idx].sum()) for _, idx in columns],
                         "total": _n(targets.at_confidence.stages[k].total),
                         "plan": f"{_compact(plan.p10)}–{_compact(plan.p90)}"})
        if rows:
            tables.append({"title": SIDE_TITLES[side], "rows": rows})
    return tables


def _metrics(forecast: Forecast) -> list[dict]:
    """The four headline numbers; each note is a list of parts, some kept on one line."""
    sc, r, gap = forecast.scenario, forecast.revenue, forecast.gap
    lo, hi = forecast.p_goal_ci.low, forecast.p_goal_ci.high

    def note(*parts):
        return [{"text": text, "nowrap": nowrap} for text, nowrap in parts]
    return [
        {"label": "Goal", "value": _n(sc.goal),
         "note": note((f"of which {_n(sc.baseline_revenue)} already certain" if sc.baseline_revenue
                       else "revenue in the period", False))},
        {"label": "Chance of hitting the goal", "value": f"{forecast.p_goal:.1%}",
         "note": note(("95% Monte Carlo interval ", False), (f"{lo:.1%}–{hi:.1%}", True))},
        {"label": "Expected revenue", "value": _n(r.mean),
         "note": note((f"P10 {_n(r.p10)}", True), (" · ", False), (f"P50 {_n(r.p50)}", True), (" · ", False),
                      (f"P90 {_n(r.p90)}", True))},
        {"label": "Gap to goal (median year)" if gap > 0 else "Ahead of goal (median year)", "value": _n(abs(gap)),
         "note": note((f"goal minus median revenue {_n(r.p50)}", False))},
    ]


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.PackageLoader("sim.present", "templates"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    return env.get_template("report.html.j2")


def report_html(forecast: Forecast, targets: Targets, *,
                sensitivity_rows: tuple[SensitivityRow, ...] | list[SensitivityRow] | None = None,
                share_url: str | None = None, generated_on: date | None = None) -> str:
    """The one-page report of a forecast and its SLA targets, as one self-contained HTML
    document: headline numbers, the verdict, the fan chart (and the sensitivity chart when
    ``sensitivity_rows`` are given, else the revenue histogram), each side's commitments in a
    sentence and a table, the assumptions, and a footer with the trials and seed.
    ``share_url`` (http or https only) adds a link to the scenario in the planner. Rendered
    from ``templates/report.html.j2`` with autoescaping: every text is escaped, only the
    charts' SVG (drawn here) goes in as markup."""
    sc = forecast.scenario
    fan = chart_svg(charts.fan_chart(forecast), HALF_WIDTH, CHART_HEIGHT)
    if sensitivity_rows:
        second = chart_svg(charts.tornado(tuple(sensitivity_rows), forecast.p_goal), HALF_WIDTH,
                           max(CHART_HEIGHT, 110 + 16 * len(sensitivity_rows)))
    else:
        second = chart_svg(charts.revenue_histogram(forecast), HALF_WIDTH, CHART_HEIGHT)
    link = share_url if share_url and share_url.lower().startswith(("https://", "http://")) else None
    columns = _columns(sc)
    return _template().render(
        name=sc.name, period=period_text(sc), confidence=f"{targets.confidence:.0%}", verdict=verdict(forecast),
        metrics=_metrics(forecast), fan_svg=Markup(fan), second_svg=Markup(second),
        sentences=list(sla_sentences(sc, targets).values()), reachable=targets.reachable,
        cap_scale=f"{targets.at_confidence.scale:,.0f}", cap_p_goal=f"{targets.at_confidence.p_goal:.0%}",
        columns=[label for label, _ in columns], tables=_sla_tables(forecast, targets, columns),
        scale=f"{targets.at_confidence.scale:.2f}", assumptions=assumptions(sc), trials=f"{forecast.trials:,}",
        seed=str(forecast.seed), when=f" on {generated_on.isoformat()}" if generated_on else "", share_url=link,
        agreement=report_context(sc))
