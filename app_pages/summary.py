"""Summary: are we on track? One screen for executives, no inputs; share and download."""

from __future__ import annotations

import logging
from datetime import date
from functools import partial

import streamlit as st

from sim import Forecast, Targets
from sim.present import charts
from sim.present.describe import assumptions, scale_text, sla_verdict, verdict
from sim.present.markdown import escape_markdown
from sim.present.report import download_name, period_text, report_html
from sim.present.sla import sla_sentences
from ui import agreement_form, chart_specs, compute, sla_plan, state, widgets

_CALLOUTS = {"good": st.success, "mixed": st.warning, "poor": st.error}


def report_file(forecast: Forecast, targets: Targets, token: str, share_url: str) -> str:
    """The one-page report, built when the button is clicked (on a thread of its own): a
    failure gives a short page saying so, never a broken download."""
    try:
        try:
            rows = compute.sensitivity(token).rows
        except Exception:  # the report is still useful without the sensitivity chart
            logging.getLogger(__name__).exception("sensitivity for the report failed")
            rows = None
        return report_html(forecast, targets, sensitivity_rows=rows, share_url=share_url, generated_on=date.today())
    except Exception:
        logging.getLogger(__name__).exception("building the report failed")
        return ("<!DOCTYPE html><html lang='en'><meta charset='utf-8'><title>Report unavailable</title>"
                "<p>The report could not be built. Please try again, or use the share link.</p></html>")


scenario = state.current()
token = state.token()
confidence = state.confidence()
st.subheader(f"{escape_markdown(scenario.name)}: are we on track?")
st.caption(period_text(scenario))
forecast = widgets.forecast_or_stop(token)
answer = verdict(forecast)
callout = st.empty()                 # the verdict speaks of the inputs, then also of the SLA (found below)
with callout:
    _CALLOUTS[answer.tone](f"**{answer.label}.** {answer.detail}")

widgets.headline(forecast, with_goal=True, with_delta=False)

left, right = st.columns([3, 2], gap="large")
with left:
    chart_specs.show("fan", (token, 320), lambda: charts.fan_chart(forecast, height=320))
with right:
    targets = widgets.targets_or_stop(token, confidence)
    with callout:
        _CALLOUTS[answer.tone](f"**{answer.label}.** {answer.detail} {escape_markdown(sla_verdict(forecast, targets))}")
    st.markdown(f"**The SLA at {confidence:.0%} confidence**: what each side commits to, so that the "
                f"goal is hit in {confidence:.0%} of simulated years\n\n"       # one element: each costs every viewer
                + "\n".join(f"- {escape_markdown(sentence)}" for sentence in sla_sentences(scenario, targets).values()))
    if not targets.reachable:
        st.warning(f"{confidence:.0%} confidence is out of reach: even {scale_text(targets.at_confidence.scale)} times "
                   f"the top-of-funnel plan gives only {targets.at_confidence.p_goal:.0%}.")
    sla_plan.adopt_button(scenario, targets)
    st.caption("The month-by-month table and the confidence are on the Plan page.")

    share_url = state.share_url()
    st.markdown("**Share**")
    st.code(share_url, language=None)
    st.caption("Share this link: it reproduces these numbers.")
    d1, d2, d3 = st.columns(3)
    d1.download_button("SLA table", data=partial(compute.sla_file, token, confidence, targets, forecast),
                       file_name=download_name(scenario, "-sla.csv"),
                       mime="text/csv", key="summary-sla-csv", icon=":material/download:", width="stretch",
                       help="The SLA month by month, one row per stage and month (CSV).", on_click="ignore")
    d2.download_button("Scenario", data=scenario.to_json, file_name=download_name(scenario, ".json"),
                       mime="application/json", key="summary-scenario-json", icon=":material/download:",
                       width="stretch", help="Every input of this scenario (JSON): load it on the Scenarios page.", on_click="ignore")
    d3.download_button("Report", data=partial(report_file, forecast, targets, token, share_url),
                       file_name=download_name(scenario, "-report.html"), mime="text/html",
                       key="summary-report", icon=":material/download:", width="stretch", type="primary",
                       help="This summary on one printable page (HTML that opens anywhere, offline).", on_click="ignore")

agreement_form.summary_part(scenario)

with st.expander("The assumptions behind these numbers", expanded=True):
    st.markdown("\n".join(f"- {escape_markdown(line)}" for line in assumptions(scenario)))
