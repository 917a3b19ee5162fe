"""Plan: set the goal and the funnel's assumptions; see what the goal needs (the SLA)."""

from __future__ import annotations

import streamlit as st

from sim import ScenarioError
from sim.model import editing
from sim.model.validation import scenario_from_dict
from sim.present import charts
from sim.present.markdown import escape_markdown
from sim.present.sla import SIDE_TITLES, sla_by_side, sla_csv
from ui import agreement_form, state, widgets

scenario = state.current()
rev = state.revision()
key = widgets.keyer("plan", rev)

st.subheader(escape_markdown(scenario.name))
headline = st.container()          # filled once the inputs are read: first on a phone too
inputs, results = st.columns([5, 7], gap="large")

# -- inputs ----------------------------------------------------------------------------------
with inputs:
    doc = scenario.to_dict()
    problems: list[str] = []
    tab_goal, tab_marketing, tab_sales, tab_stages, tab_sim = st.tabs(
        ["Goal & deal", "Marketing", "Sales", "Stages", "Simulation"])
    with tab_goal:
        widgets.goal_and_deal(doc, key)
    owners = {"marketing": tab_marketing, "sales": tab_sales}
    with tab_marketing:
        widgets.top_of_funnel(doc, key)
    for k, stage in enumerate(scenario.stages[1:], start=1):
        tab = owners.get(stage.owner, tab_sales)
        with tab:
            widgets.stage_rate(doc, scenario, k, key, problems)
    with tab_stages:
        widgets.stage_list(scenario, doc, key)
    with tab_sim:
        widgets.simulation(doc, key)
    agreement_form.plan_part(doc, scenario, key)

    if problems:
        with headline:
            st.warning("Some inputs are not valid (see the messages below the inputs): the numbers "
                       "are those of the last valid inputs.")
    else:
        try:
            edited = scenario_from_dict(doc)
        except ScenarioError as exc:
            for message in exc.problems:
                st.error(editing.in_words(message, doc))
            with headline:
                st.warning("Some inputs are not valid (see the messages below the inputs): the "
                           "numbers are those of the last valid inputs.")
        else:
            if edited != scenario:
                state.set_scenario(edited)
                scenario = edited

# -- results ---------------------------------------------------------------------------------
with results:
    token = state.token()
    with headline:
        forecast = widgets.forecast_or_stop(token)
        widgets.headline(forecast)
    confidence = st.select_slider(
        "Chance of hitting the goal the SLA should give", options=state.CONFIDENCES,
        value=state.confidence(), format_func=widgets.percent_label, key="confidence-slider")
    state.set_confidence(confidence)
    targets = widgets.targets_or_stop(token, confidence)
    if not targets.reachable:
        st.warning(f"P(goal) ≥ {confidence:.0%} is out of reach: even {targets.at_confidence.scale:,.0f} times "
                   f"the top-of-funnel plan gives only {targets.at_confidence.p_goal:.0%}.")
    st.altair_chart(charts.funnel(targets, forecast), width="stretch")
    st.markdown(f"**The SLA** — volume each side commits to per month for P(goal) ≥ {confidence:.0%} "
                f"(top-of-funnel plan × {targets.at_confidence.scale:.2f}); in brackets, what the "
                "current plan is expected to deliver (P10–P90).")
    for side, table in sla_by_side(targets, forecast).items():
        st.caption(SIDE_TITLES[side])
        st.dataframe(table, width="stretch", height="content")
    st.download_button("Download the SLA table (CSV)", data=sla_csv(targets, forecast),
                       file_name="sla.csv", mime="text/csv", key="sla-csv", icon=":material/download:")
