"""Forecast: how likely is the goal, how revenue could turn out, and what moves it most."""

import streamlit as st

from sim import WorkBudgetExceeded
from sim.present import charts
from sim.present.markdown import escape_markdown
from ui import chart_specs, compute, state, widgets

scenario = state.current()
token = state.token()
st.subheader(f"Forecast — {escape_markdown(scenario.name)}")
forecast = widgets.forecast_or_stop(token)
widgets.headline(forecast)

left, right = st.columns(2, gap="large")
with left:
    chart_specs.show("fan", token, lambda: charts.fan_chart(forecast))
with right:
    chart_specs.show("histogram", token, lambda: charts.revenue_histogram(forecast))
    r = forecast.revenue
    st.caption(f"Revenue P10 {r.p10:,.0f} · P50 {r.p50:,.0f} · P90 {r.p90:,.0f} · mean {r.mean:,.0f}")

left, right = st.columns(2, gap="large")
with left:
    chart_specs.show("stage-volumes", token, lambda: charts.stage_volumes(forecast))
    late, value = forecast.late_customers, forecast.pipeline_value
    what = "monthly fees" if scenario.deal.recurring else "deals"
    st.metric("Still in the pipeline at the end (deal value)", f"{value.mean:,.0f}",
              help=f"{late.mean:.1f} customers expected to close after the period (P10–P90 "
                   f"{late.p10:,.0f}–{late.p90:,.0f}), from this period's activity: their {what}.")
with right:
    try:
        with st.spinner("Testing each assumption at its P10 and P90…"):
            tornado = compute.sensitivity(token)
    except WorkBudgetExceeded as exc:
        widgets.too_large(exc)
        st.stop()
    if tornado.rows:
        chart_specs.show("tornado", token, lambda: charts.tornado(tornado.rows, forecast.p_goal))
        st.caption(f"Each input held at its P10 and P90 ({tornado.trials:,} trials each, same "
                   "random numbers); the dashed line is the forecast. Rates are held at the P10/P90 of "
                   "their belief, the deal value at the P10/P90 of the period's average deal, the "
                   "volume at the P10/P90 of the period's total.")
    else:
        st.info("Every input is fixed: there is no uncertainty to test.")
