"""The one-page report: a self-contained HTML file (no Streamlit here).

Everything is inline: the CSS, and the charts as SVG drawn by ``vl-convert`` (the Vega-Lite
compiler and renderer packaged for Python), so the file opens anywhere offline, without
JavaScript, and prints on one A4 page. All user text (the scenario and stage names) is
escaped.
"""

from __future__ import annotations

import calendar
import html
import math
from datetime import date

import altair as alt
import vl_convert as vlc

from . import charts
from .describe import assumptions, verdict
from .forecast import Forecast
from .scenario import OWNERS, Scenario, file_stem
from .sensitivity import SensitivityRow
from .sla import SIDE_TITLES, sla_rows, sla_sentences
from .targets import Targets

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
    :mod:`sim.charts` fill their container, which a static file does not have)."""
    sized = chart.properties(width=width) if height is None else chart.properties(width=width, height=height)
    svg = vlc.vegalite_to_svg(sized.to_dict(), vl_version=_vegalite_version(), allowed_base_urls=[])
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
    year, month = (int(x) for x in label.split("-"))
    names = calendar.month_abbr if short else calendar.month_name
    return f"{names[month]} {year}" if not short else f"{names[month]} {year % 100:02d}"


def _columns(scenario: Scenario) -> list[tuple[str, list[int]]]:
    """The SLA table's period columns: months, or groups of months for long horizons."""
    labels = scenario.month_labels
    step = math.ceil(len(labels) / MAX_COLUMNS)
    one_year = len({lab[:4] for lab in labels}) == 1
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


def _sla_tables(forecast: Forecast, targets: Targets) -> str:
    scenario = forecast.scenario
    long = sla_rows(targets, forecast)
    columns = _columns(scenario)
    head = "".join(f"<th>{html.escape(label)}</th>" for label, _ in columns)
    parts = []
    for side in OWNERS:
        stages = [(k, s) for k, s in enumerate(scenario.stages) if s.owner == side]
        if not stages:
            continue
        rows = []
        for k, stage in stages:
            commitment = long.loc[long["stage"] == stage.name, "commitment"].to_numpy()
            cells = "".join(f"<td>{_n(commitment[idx].sum())}</td>" for _, idx in columns)
            plan = forecast.stages[k].total
            rows.append(f"<tr><th scope='row'>{html.escape(stage.name)}</th>{cells}"
                        f"<td class='total'>{_n(targets.at_confidence.stages[k].total)}</td>"
                        f"<td class='plan'>{_compact(plan.p10)}–{_compact(plan.p90)}</td></tr>")
        parts.append(
            f"<div class='table-wrap'><table class='sla'><caption>{SIDE_TITLES[side]}</caption>"
            f"<colgroup><col class='stage'>{'<col>' * len(columns)}<col class='total'><col class='plan'>"
            "</colgroup>"
            f"<thead><tr><th></th>{head}<th class='total'>Period</th>"
            f"<th class='plan'>Current plan</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>")
    return "\n".join(parts)


def _metric(label: str, value: str, note: str) -> str:
    return (f"<div class='metric'><div class='label'>{label}</div><div class='value'>{value}</div>"
            f"<div class='note'>{note}</div></div>")


def report_html(forecast: Forecast, targets: Targets,
                sensitivity_rows: tuple[SensitivityRow, ...] | list[SensitivityRow] | None = None, *,
                share_url: str | None = None, generated_on: date | None = None) -> str:
    """The one-page report of a forecast and its SLA targets, as one self-contained HTML
    document: headline numbers, the verdict, the fan chart (and the sensitivity chart when
    ``sensitivity_rows`` are given, else the revenue histogram), each side's commitments in a
    sentence and a table, the assumptions, and a footer with the trials and seed.
    ``share_url`` (http or https only) adds a link to the scenario in the planner."""
    sc = forecast.scenario
    esc = html.escape
    name, period = esc(sc.name), esc(period_text(sc))
    v = verdict(forecast)
    lo, hi = forecast.p_goal_ci.low, forecast.p_goal_ci.high
    r = forecast.revenue
    gap = forecast.gap
    conf = f"{targets.confidence:.0%}"

    metrics = "".join([
        _metric("Goal", _n(sc.goal), f"of which {_n(sc.baseline_revenue)} already certain"
                if sc.baseline_revenue else "revenue in the period"),
        _metric("Chance of hitting the goal", f"{forecast.p_goal:.1%}",
                f"95% Monte Carlo interval <span>{lo:.1%}–{hi:.1%}</span>"),
        _metric("Expected revenue", _n(r.mean), f"<span>P10 {_n(r.p10)}</span> · <span>P50 {_n(r.p50)}</span> · "
                                              f"<span>P90 {_n(r.p90)}</span>"),
        _metric("Gap to goal (median year)" if gap > 0 else "Ahead of goal (median year)", _n(abs(gap)),
                f"goal minus median revenue {_n(r.p50)}"),
    ])

    fan = chart_svg(charts.fan_chart(forecast), HALF_WIDTH, CHART_HEIGHT)
    if sensitivity_rows:
        second = chart_svg(charts.tornado(tuple(sensitivity_rows), forecast.p_goal), HALF_WIDTH,
                           max(CHART_HEIGHT, 110 + 16 * len(sensitivity_rows)))
    else:
        second = chart_svg(charts.revenue_histogram(forecast), HALF_WIDTH, CHART_HEIGHT)

    sentences = sla_sentences(sc, targets)
    sla_text = "".join(f"<li>{esc(text)}</li>" for text in sentences.values())
    reach = "" if targets.reachable else (
        f"<p class='warn'>{conf} confidence is out of reach: even {targets.at_confidence.scale:,.0f} times "
        f"the top-of-funnel plan gives only {targets.at_confidence.p_goal:.0%}.</p>")
    listed = "".join(f"<li>{esc(text)}</li>" for text in assumptions(sc))

    link = ""
    if share_url and share_url.lower().startswith(("https://", "http://")):
        link = f" · <a href='{esc(share_url, quote=True)}'>open this scenario in the planner</a>"
    when = f" on {generated_on.isoformat()}" if generated_on else ""

    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name} — {period} — Funnel SLA Planner report</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<header>
<p class="kicker">Are we on track?</p>
<h1>{name}</h1>
<p class="period">{period} · SLA set for {conf} confidence of hitting the goal</p>
</header>
<p class="verdict {v.tone}"><strong>{esc(v.label)}.</strong> {esc(v.detail)}</p>
<section class="metrics">{metrics}</section>
<section class="charts">
<figure>{fan}</figure>
<figure>{second}</figure>
</section>
<section>
<h2>The SLA at {conf} confidence: what each side commits to, per month</h2>
<ul class="sentences">{sla_text}</ul>
{reach}
{_sla_tables(forecast, targets)}
<p class="note">Commitments are the volumes needed with the top-of-funnel plan scaled by
{targets.at_confidence.scale:.2f}; "Current plan" is the P10–P90 of what the current plan is
expected to deliver in the period.</p>
</section>
<section>
<h2>Assumptions</h2>
<ul class="assumptions">{listed}</ul>
</section>
<footer>{forecast.trials:,} simulated years, seed {esc(str(forecast.seed))} · generated by the Funnel SLA Planner{when}{link}</footer>
</main>
</body>
</html>
"""


_CSS = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#f1f5f9;color:#0f172a;font:14px/1.45 system-ui,-apple-system,"Segoe UI",
Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:780px;margin:24px auto;background:#fff;padding:28px 32px;border-radius:8px}
header{border-bottom:2px solid #2563eb;padding-bottom:8px;margin-bottom:12px}
.kicker{margin:0;color:#2563eb;font-weight:600;text-transform:uppercase;letter-spacing:.06em;font-size:11px}
h1{margin:2px 0 2px;font-size:22px;line-height:1.2;overflow-wrap:anywhere}
h2{font-size:14px;margin:14px 0 6px;color:#1e293b}
.period{margin:0;color:#475569;font-size:12.5px}
.verdict{margin:0 0 12px;padding:8px 12px;border-radius:6px;border-left:5px solid}
.verdict.good{background:#ecfdf5;border-color:#059669}
.verdict.mixed{background:#fffbeb;border-color:#d97706}
.verdict.poor{background:#fef2f2;border-color:#dc2626}
.metrics{display:grid;grid-template-columns:repeat(4,1fr);gap:8px}
.metric{border:1px solid #e2e8f0;border-radius:6px;padding:6px 10px}
.metric .label{font-size:11px;color:#475569}
.metric .value{font-size:20px;font-weight:650;font-variant-numeric:tabular-nums}
.metric .note{font-size:10.5px;color:#64748b}
.metric .note span{white-space:nowrap}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:12px;margin-top:10px}
figure{margin:0}
figure svg{display:block;width:100%;height:auto}
ul{margin:0;padding-left:18px}
.sentences li{margin-bottom:2px}
.assumptions{font-size:12px;color:#334155}
.table-wrap{overflow-x:auto}
table.sla{width:100%;min-width:700px;table-layout:fixed;border-collapse:collapse;margin:6px 0 4px;font-size:10.5px;
font-variant-numeric:tabular-nums}
table.sla col.stage{width:7em}
table.sla col.total{width:5em}
table.sla col.plan{width:7.8em}
table.sla caption{text-align:left;font-weight:600;font-size:12px;padding:2px 0}
table.sla th,table.sla td{padding:2px 3px;text-align:right;border-bottom:1px solid #e2e8f0;white-space:nowrap}
table.sla thead th{color:#475569;font-weight:600;border-bottom:1px solid #94a3b8}
table.sla tbody th{text-align:left;font-weight:600;overflow:hidden;text-overflow:ellipsis}
table.sla .total{font-weight:650;border-left:1px solid #cbd5e1}
table.sla .plan{color:#475569}
.note{font-size:11px;color:#64748b;margin:4px 0 0}
.warn{color:#b45309;font-weight:600}
footer{margin-top:14px;padding-top:6px;border-top:1px solid #e2e8f0;font-size:11px;color:#64748b}
a{color:#2563eb}
@media (max-width:640px){
 main{margin:0;padding:16px;border-radius:0}
 .metrics{grid-template-columns:1fr 1fr}
 .charts{grid-template-columns:1fr}
}
@page{size:A4 portrait;margin:10mm}
@media print{
 body{background:#fff;font-size:11px;line-height:1.35}
 .charts{gap:8px;margin-top:6px}
 table.sla{font-size:9.5px}
 .assumptions{font-size:10px}
 .metric .value{font-size:17px}
 h2{margin:10px 0 4px}
 main{max-width:none;margin:0;padding:0;border-radius:0}
 h1{font-size:18px}
 .verdict,.metric{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 table,figure,.metrics{break-inside:avoid}
 a{color:inherit;text-decoration:none}
}
"""
