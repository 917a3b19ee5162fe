"""Plan: set the goal and the funnel's assumptions; see what the goal needs (the SLA)."""

from __future__ import annotations

from functools import partial

import streamlit as st

from sim import ScenarioError, WorkBudgetExceeded
from sim.model import editing
from sim.model.validation import scenario_from_dict
from sim.present import charts
from sim.present.describe import scale_text
from sim.present.markdown import escape_markdown
from sim.present.sla import SIDE_TITLES, sla_by_side
from ui import agreement_form, belief_inputs, chart_specs, compute, state, widgets
from ui.widgets import PLAN_TAB_KEY, PLAN_TABS

INVALID_INPUTS = ("Some inputs are not valid (see the messages below the inputs): the numbers are those "
                  "of the last valid inputs.")

scenario = state.current()          # with a moved slider applied already (ui.scenario_callbacks)
rev = state.revision()
key = widgets.keyer("plan", rev)

st.subheader(escape_markdown(scenario.name))
headline = st.container()
notice, slot = headline.empty(), headline.empty()
# The headline first, before the fifty-odd input elements: the browser shows it before it has to
# handle them. A typed value applied while the inputs are read below redraws it in place.
try:
    early = (state.token(), widgets.headline_before_inputs(slot, state.token()))
except WorkBudgetExceeded:
    early = None                    # said below the inputs, which can lower the trials
inputs, results = st.columns([5, 7], gap="large")

# -- inputs ----------------------------------------------------------------------------------
with inputs:
    doc = scenario.to_dict()
    problems: list[str] = []
    # Only the open tab's inputs run (and are sent): a change then reruns a few dozen widgets, not
    # a hundred, and the headline reaches the screen sooner. The inputs of a closed tab leave the
    # document as the scenario has it (doc starts as the scenario).
    tab_goal, tab_marketing, tab_sales, tab_stages, tab_sim = st.tabs(
        list(PLAN_TABS), key=PLAN_TAB_KEY, on_change="rerun")
    if tab_goal.open:
        with tab_goal:
            widgets.goal_and_deal(doc, key, problems)
    owners = {"marketing": tab_marketing, "sales": tab_sales}
    top_tab = owners.get(scenario.stages[0].owner, tab_marketing)      # the top stage's side
    if top_tab.open:
        with top_tab:
            widgets.top_of_funnel(doc, scenario, key, problems)
    for k, stage in enumerate(scenario.stages[1:], start=1):
        tab = owners.get(stage.owner, tab_sales)
        if tab.open:
            with tab:
                widgets.stage_rate(doc, scenario, k, key, problems)
    for side, tab in owners.items():
        if tab.open and not any(stage.owner == side for stage in scenario.stages) and not (
                side == "sales" and any(stage.owner == "shared" for stage in scenario.stages[1:])):
            with tab:
                st.caption(f"No stage of this funnel is owned by {side}: owners are set on the tab Stages.")
    if tab_stages.open:
        with tab_stages:
            widgets.stage_list(scenario, doc, key)
            belief_inputs.open_pipeline(doc, scenario, key, problems)
    if tab_sim.open:
        with tab_sim:
            widgets.simulation(doc, key)
    agreement_form.plan_part(doc, scenario, key)

    if problems:
        notice.warning(INVALID_INPUTS)
    else:
        try:
            edited = scenario_from_dict(doc)
        except ScenarioError as exc:
            for message in exc.problems:
                st.error(editing.in_words(message, doc))
            notice.warning(INVALID_INPUTS)
        else:
            if edited != scenario:
                state.set_scenario(edited)
                scenario = edited

# -- results ---------------------------------------------------------------------------------
with results:
    token = state.token()
    if early is not None and early[0] == token:
        forecast = early[1]
    else:
        forecast = widgets.first_headline(slot, token)     # a first answer at once, if need be
    confidence = st.select_slider(
        "Chance of hitting the goal the SLA should give", options=state.CONFIDENCES,
        value=state.confidence(), format_func=widgets.percent_label, key="confidence-slider")
    state.set_confidence(confidence)
    # The whole forecast replaces a first answer even when the search is refused.
    targets = widgets.targets_or_stop(token, confidence,
                                      before_stop=None if forecast else lambda: widgets.refined_headline(slot, token))
    forecast = forecast or widgets.refined_headline(slot, token)
    if not targets.reachable:
        st.warning(f"P(goal) ≥ {confidence:.0%} is out of reach: even {scale_text(targets.at_confidence.scale)} times "
                   f"the top-of-funnel plan gives only {targets.at_confidence.p_goal:.0%}.")
    chart_specs.show("funnel", (token, confidence), lambda: charts.funnel(targets, forecast))
    st.markdown(f"**The SLA** — volume each side commits to per month for P(goal) ≥ {confidence:.0%} "
                f"(top-of-funnel plan × {scale_text(targets.at_confidence.scale)}); in brackets, what the "
                "current plan is expected to deliver (P10–P90).")
    for side, table in sla_by_side(targets, forecast).items():
        st.caption(SIDE_TITLES[side])
        st.dataframe(table, width="stretch", height="content")
    st.download_button("Download the SLA table (CSV)", data=partial(compute.sla_file, token, confidence, targets, forecast),
                       file_name="sla.csv", mime="text/csv", key="sla-csv", icon=":material/download:", on_click="ignore")
