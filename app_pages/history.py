"""From history: fit the funnel from the imported actuals (each belief beside its data), use it as
the plan, and see how the planner would have forecast that same history (the backtest)."""

from __future__ import annotations

import streamlit as st

from sim.present.charts import history_fit as charts
from sim.present.history_fit_table import COUNT_COLUMNS, PERCENT_COLUMNS, stage_table
from sim.present.markdown import escape_markdown
from ui import chart_specs, history_fit, state
from ui import database as stores

esc = escape_markdown    # stage, segment and scenario names are user text
ALL = "All segments"
ss = st.session_state
scenario = state.current()
st.subheader("Plan from history")
st.caption("The conversion rates, lags, deal value, volumes and open pipeline fitted from the imported actuals. "
           "What the history cannot give keeps the current scenario's value.")

overview = stores.overview()
version, known = overview.version, list(overview.stages)
if len(known) < 2:
    st.info("Import a CRM export or monthly counts on the Actuals page first: a funnel needs two stages or more.",
            icon=":material/info:")
    st.stop()

ours = [s for s in scenario.stage_names if s in known]
default = ours if len(ours) >= 2 else known
if "history-stages" not in ss or not set(ss["history-stages"]) <= set(known):
    ss["history-stages"] = default
cols = st.columns([3, 2])
stages = tuple(cols[0].multiselect("Stages, in funnel order", known, key="history-stages",
                                   help="The funnel's stages (the current scenario's, where the data has them)"))
split = stores.segments(version, stages)
segment = None
if not split.empty:
    picked = cols[1].selectbox("Segment", [ALL] + [g for g, _ in split.segments], key="history-segment")
    segment = None if picked == ALL else picked
if len(stages) < 2:
    st.warning("Pick two stages or more.", icon=":material/warning:")
    st.stop()

months = list(stores.actuals(version, stages, segment).months)
if len(months) < 2:
    st.info("The actuals of these stages span fewer than two months: nothing to fit yet.", icon=":material/info:")
    st.stop()
window = st.select_slider("Window of history", months, value=(months[0], months[-1]), key="history-window",
                          help="The months whose actuals the fit reads; the plan starts the month after")
cols = st.columns(3)
weight = cols[0].number_input("Weight of history (cases)", min_value=1.0, value=None, step=10.0, key="history-weight",
                              placeholder="all the history holds",
                              help="The most past cases a fitted rate is worth: type a number to trust history "
                                   "less (empty: all the history holds)")
growth = cols[1].number_input("Goal growth over the last twelve months (%)", min_value=-90.0, max_value=500.0,
                              value=0.0, step=5.0, key="history-growth")
plan_months = cols[2].number_input("Plan months", min_value=1, max_value=36, value=12, key="history-months")

fit_args = (version, stages, segment, state.token(), window[0], window[1], weight or None, growth / 100.0,
            int(plan_months))
result = history_fit.fit(*fit_args)
if isinstance(result, tuple):
    st.error("**The history cannot give a plan yet**\n\n" + "\n".join(f"- {esc(p)}" for p in result),
             icon=":material/error:")
    st.stop()

fitted = result.scenario
st.markdown(f"**{esc(fitted.name)}**: plan {fitted.start}, {fitted.months} months, goal {fitted.goal:,.0f} "
            f"({esc(result.goal_from)}).")
st.dataframe(stage_table(result), hide_index=True, width="stretch", column_config={
    **{c: st.column_config.NumberColumn(format="percent") for c in PERCENT_COLUMNS},
    **{c: st.column_config.NumberColumn(format="localized") for c in COUNT_COLUMNS}})
pipeline = ", ".join(f"{esc(o.name)} {o.count:,}" for o in result.pipeline if o.count) or "none"
deal = fitted.deal
st.caption(f"Deal value: median {deal.median:,.0f}, P90 {deal.p90:,.0f}"
           + (f" (lognormal of {result.deal.n:,} won amounts)" if result.deal else " (kept)")
           + f" · Open pipeline at the start: {pipeline}")
for note in result.notes:
    st.caption(f":material/info: {esc(note)}")


def use_as_plan() -> None:
    state.set_scenario(result.scenario, external=True)
    ss["history-used"] = True


if st.button("Use as plan", type="primary", icon=":material/check:", on_click=use_as_plan,
             help="The Plan page opens on this scenario; the share link carries it"):
    pass
if ss.pop("history-used", False):
    st.switch_page("app_pages/plan.py", query_params={state.SCENARIO_PARAM: state.token(),
                                                      state.CONFIDENCE_PARAM: f"{state.confidence():g}"})

fit_key = (stores.path(), *fit_args)      # what the fit's charts are made of, for charts drawn once per fit
rates_tab, lags_tab, deal_tab, top_tab, backtest_tab = st.tabs(
    ["Rates", "Lags", "Deal value", fitted.stages[0].name, "Backtest"])
with rates_tab:
    for fit in result.stages[1:]:
        if fit.cohort_months:
            chart_specs.show("history-rates", (fit_key, fit.name), lambda fit=fit: charts.cohort_rates(result, fit))
with lags_tab:
    shown = [fit for fit in result.stages[1:] if fit.lag_fit is not None]
    for fit in shown:
        chart_specs.show("history-lags", (fit_key, fit.name), lambda fit=fit: charts.lag_histogram(fit))
    if not shown:
        st.info("No lag was fitted from records (monthly counts alone barely identify a lag).", icon=":material/info:")
with deal_tab:
    if result.deal is not None:
        chart_specs.show("history-deal", fit_key, lambda: charts.deal_values(result))
    else:
        st.info("Too few won amounts in the window: the deal value is kept.", icon=":material/info:")
with top_tab:
    if result.top is not None:
        chart_specs.show("history-top", fit_key, lambda: charts.top_of_funnel(result))
    else:
        st.info("Too few months of volume in the window: the top of the funnel is kept.", icon=":material/info:")
with backtest_tab:
    st.caption("At each origin month the funnel is fitted on the months before it and the next months are "
               "simulated, then compared with what happened.")
    cols = st.columns(3)
    fit_months = cols[0].number_input("Months each fit uses", min_value=2, max_value=120, value=12, key="bt-fit")
    horizon = cols[1].number_input("Months forecast", min_value=1, max_value=36, value=12, key="bt-horizon")
    origins = cols[2].number_input("Origins", min_value=1, max_value=36, value=12, key="bt-origins")
    if st.toggle("Run the backtest", key="bt-run", help="A fit and a simulation per origin: a few seconds"):
        with st.spinner("Backtesting…"):
            test_args = (version, stages, segment, state.token(), int(horizon), int(fit_months), int(origins),
                         growth / 100.0)
            test = history_fit.run_backtest(*test_args)
        if isinstance(test, tuple):
            st.error("\n".join(f"- {esc(p)}" for p in test), icon=":material/error:")
        else:
            st.markdown(f"**{esc(test.sentence())}**")
            if test.origins:
                chart_specs.show("history-backtest", (stores.path(), *test_args), lambda: charts.backtest_revenue(test))
                cover = test.coverage_stages()
                st.caption(f"Coverage of the P10–P90 bands: revenue {test.coverage_revenue:.0%}; "
                           + ", ".join(f"{esc(n)} {v:.0%}" for n, v in cover.items())
                           + f" · revenue P50: MAPE {test.mape:.0%}, bias {test.bias:+.0%} · "
                             f"Brier score of P(goal) {test.brier:.3f}")
            for origin, why in test.skipped:
                st.caption(f"Skipped {origin}: {esc(why)}")
