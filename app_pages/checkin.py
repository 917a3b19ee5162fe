"""Check-in: where we stand against the plan, what we learned, the reforecast and the reset SLA."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from sim.data.plan_checkin import save_reset
from sim.errors import PlannerError
from sim.model.confidence import CONFIDENCES, DEFAULT_CONFIDENCE
from sim.present import charts
from sim.present.markdown import escape_markdown
from sim.present.spreadsheet import spreadsheet_csv
from ui import access, agreement_form, chart_specs, stage_match, state, widgets
from ui import database as stores

esc = escape_markdown
CURRENT = "The current scenario (not saved)"
MESSAGE = "checkin-message"

ss = st.session_state
scenario, token = state.current(), state.token()
st.subheader("Check-in")

overview = stores.overview()
plans, version = list(overview.plans), overview.version
choices = [p.name for p in plans] + [CURRENT]
if ss.get("checkin-plan") not in choices:
    ss["checkin-plan"] = choices[0]

top = st.columns([3, 2, 2, 2], vertical_alignment="bottom")
picked = top[0].selectbox("Plan", choices, key="checkin-plan",
                          help="A saved plan of record (Actuals page), or the scenario being edited")
plan = next((p for p in plans if p.name == picked), None)
plan_scenario = plan.scenario if plan else scenario
months = plan_scenario.month_labels
actuals = stores.actuals(version, plan_scenario.stage_names)
with_data = [m for m in months if m in set(actuals.months)]
default = with_data[-1] if with_data else months[0]
offered = months[:months.index(default) + 1]     # up to the last month with actuals
if ss.get("checkin-as-of") not in offered:
    ss["checkin-as-of"] = default
as_of = top[1].selectbox("As of (actuals through)", offered, key="checkin-as-of",
                         help="The last month the actuals count (up to the latest month with actuals); the "
                              "reforecast covers the months after it")
confidence = top[2].select_slider("Confidence for the reset", CONFIDENCES,
                                  value=state.confidence() if state.confidence() in CONFIDENCES else DEFAULT_CONFIDENCE,
                                  format_func=widgets.percent_label, key="checkin-confidence")
weight = top[3].slider("How much the plan's rates still count", 0.05, 1.0, 1.0, 0.05, key="checkin-weight",
                       help="Each conversion rate is updated from what the actuals show. 1: the plan's belief about "
                            "the rate counts in full (as much evidence as it stood for when planned); lower: the "
                            "actuals count for more.")
conflict_rule = st.toggle("Count the plan's rates for less where the actuals contradict them", value=True,
                          key="checkin-conflict-rule",
                          help="When a stage's actuals would be very unlikely if the plan's rate were right (below "
                               "5%), or all stages' together, the plan's belief there keeps only the weight under which "
                               "the actuals are most likely (see the README, 'The check-in, in plain words').")
unmatched = stage_match.unmatched_warning(plan_scenario, actuals)
if unmatched:
    st.warning(unmatched, icon=":material/link_off:")
    st.stop()
if not with_data:
    st.info(f"Nothing to check yet: no actuals fall in the plan's months ({months[0]} to {months[-1]}). Import "
            "them on the Actuals page; until then the Plan and Forecast pages show the plan itself.",
            icon=":material/info:")
    st.stop()
agreement_form.review_banner(plan_scenario, as_of)


def run_check(pipeline: tuple[tuple[str, int], ...]):
    """The check-in, and the key that determines it (its charts are cached under it: every
    session looking at the same plan, data and settings shares them)."""
    args = (version, plan.id if plan else None, "" if plan else token, as_of, float(confidence), float(weight),
            pipeline, conflict_rule)
    try:
        with st.spinner("Reforecasting the rest of the period and searching the reset…"):
            return stores.checkin(*args), (stores.path(), *args)
    except PlannerError as exc:
        st.error(f"The check-in cannot be computed: {esc(str(exc))}")
        st.stop()


estimated, check_key = run_check(())
check = estimated
with st.expander("Open pipeline at the check-in: "        # stage names are user text: shown literally
                 + ", ".join(f"{c.open_pipeline:,} {esc(c.name)}" for c in estimated.stages[:-1] if c.open_pipeline)):
    st.caption("Where the imported records say won / lost / open: the records still open at the end of the month, "
               "in the stage they last reached. Elsewhere estimated from the actuals: in each stage, the units whose "
               "move to the next stage is still to come, by the stage lags. If your CRM gives the open counts, enter "
               "them instead.")
    by_hand = st.toggle("Enter the open pipeline by hand", key="checkin-by-hand")
    if by_hand:
        cols = st.columns(3)
        pipeline = tuple((c.name, int(cols[k % 3].number_input(esc(c.name), 0, 10**9, int(c.open_pipeline), step=1,
                                                                 key=f"checkin-pipe-{k}")))
                         for k, c in enumerate(estimated.stages[:-1]))
        check, check_key = run_check(pipeline)

left_n = len(check.months_left)
cols = st.columns(3)
if check.goal_reached:
    cols[0].metric("Chance of hitting the goal now", "100%", delta=f"{(1 - check.p_goal_plan) * 100:+.1f} pts vs plan")
else:
    cols[0].metric("Chance of hitting the goal now", f"{check.p_goal_now:.1%}",       # as the CLI shows it
                   delta=f"{(check.p_goal_now - check.p_goal_plan) * 100:+.1f} pts vs plan",
                   help=f"At plan time {check.p_goal_plan:.1%}. 95% Monte Carlo interval "
                        f"{check.p_goal_now_ci.low:.1%}–{check.p_goal_now_ci.high:.1%}; {left_n} month"
                        f"{'s' if left_n != 1 else ''} left.")
lo, mid, hi = check.revenue_band
cols[1].metric(f"Revenue to date (through {check.as_of})", f"{check.revenue_to_date:,.0f}",
               delta=f"{check.revenue_to_date - mid:+,.0f} vs plan median",
               help=f"{check.revenue_status} the plan's P10–P90 for {check.as_of}: {lo:,.0f} to {hi:,.0f}")
bottleneck = next((c for c in check.stages if c.name == check.bottleneck), None)
if bottleneck is None:
    cols[2].metric("Largest shortfall", "none", help="No stage is below the plan's median so far.")
else:
    cols[2].metric("Largest shortfall", esc(bottleneck.name),
                   delta=f"{bottleneck.actual - bottleneck.plan_p50:+,.0f} vs plan median "
                         f"(≈ {-bottleneck.revenue_effect:+,.0f} revenue)", delta_color="normal",
                   help=f"The stage ({bottleneck.owner}) whose shortfall against the plan's median costs the most "
                        "expected revenue: the shortfall × what a unit in that stage is worth on average. "
                        + ("It is still inside the plan's P10–P90 band." if bottleneck.status == "inside" else
                           f"It is {bottleneck.status} the plan's P10–P90 band."))
if check.goal_reached:
    st.success(f"The goal is reached: {check.revenue_to_date:,.0f} banked, {check.surplus:,.0f} above the goal.",
               icon=":material/emoji_events:")
if check.missing_revenue_months:
    st.warning("No revenue actuals for " + ", ".join(check.missing_revenue_months) + ": counted as 0.")
if check.conflict_note:
    st.warning(esc(check.conflict_note), icon=":material/report:")
if check.won_fees_note:
    st.caption(esc(check.won_fees_note))

left, right = st.columns(2, gap="large")
with left:
    chart_specs.show("checkin-fan", check_key, lambda: charts.checkin_fan(check))
with right:
    chart_specs.show("checkin-position", check_key, lambda: charts.checkin_position(check))
chart_specs.show("rate-updates", check_key, lambda: charts.rate_updates(check))
st.caption("Each conversion rate is updated from what the actuals show. Leads or deals that entered a stage "
           "recently count only in proportion to the chance that they could have moved on by now (by the stage's "
           "lag), so young ones are not counted as failures.")

st.markdown(f"#### Reset SLA: the {left_n} remaining month{'s' if left_n != 1 else ''}")
if check.reset_note and not check.goal_reached:
    st.warning(esc(check.reset_note), icon=":material/warning:")
if check.reset is not None:
    old = dict(check.plan_targets_left)
    new = check.reset.at_confidence
    change = new.scale - 1.0
    plan_chance = f"{check.p_goal_plan:.0%}"
    st.markdown(
        f"For a **{check.confidence:.0%} chance** of hitting the goal (the plan itself gave {plan_chance}), the "
        f"remaining months need **{abs(change):.0%} {'more' if change > 0 else 'less'}** top-of-funnel volume "
        f"than the plan" + (" — the same as planned." if abs(change) < 0.005 else ".")
        + " Each stage's monthly commitment follows:")
    table = pd.DataFrame([{"Stage": s.name, "Owner": s.owner, "Needed": round(s.total),
                           "Plan": round(sum(old[s.name])),
                           "Change": (s.total / sum(old[s.name]) - 1) if sum(old[s.name]) else None,
                           **{m: round(v) for m, v in zip(check.months_left, s.monthly)}} for s in new.stages])
    st.dataframe(table, hide_index=True, width="stretch", placeholder="", column_config={
        "Stage": st.column_config.TextColumn(pinned=True),
        "Needed": st.column_config.NumberColumn(f"Needed, {left_n} months", format="localized"),
        "Plan": st.column_config.NumberColumn("Plan, same months", format="localized"),
        "Change": st.column_config.NumberColumn(format="percent"),
        **{m: st.column_config.NumberColumn(m, format="localized") for m in check.months_left}})
    st.caption(f"Needed: the expected volume of the reset plan, which simulates at P(goal) {new.p_goal:.1%}; "
               "plan: what the plan of record expected for the same months. The CSV has both, month by month.")
    long = pd.DataFrame([{"stage": s.name, "owner": s.owner, "month": m, "reset": round(v, 1),
                          "plan": round(o, 1), "confidence": check.confidence}
                         for s in new.stages for m, v, o in zip(check.months_left, s.monthly, old[s.name])])
    with st.container(horizontal=True, vertical_alignment="center"):
        st.download_button("Download the reset SLA (CSV)", partial(spreadsheet_csv, long), file_name="reset-sla.csv",
                           mime="text/csv", icon=":material/download:", key="checkin-download", on_click="ignore")
        if not access.can_edit():
            st.caption("Read-only access: only editors can save the reset as a plan of record.")
        else:
            with st.popover("Save the reset as a new plan of record", icon=":material/bookmark_add:"):
                name = st.text_input("Plan name", key="checkin-save-name", max_chars=100,
                                     placeholder=f"{plan_scenario.name} — reset {check.as_of}")
                st.caption("The reset plan covers the remaining months, starts from the actual position and is "
                           "linked to the plan it resets.")
                terms = agreement_form.reset_inputs(plan_scenario, check.months_left, "checkin-save-agreement")
                if st.button("Save plan", type="primary", key="checkin-save"):
                    try:
                        saved = stores.write(save_reset, check, name or f"{plan_scenario.name} — reset {check.as_of}",
                                             plan, **terms)
                        ss[MESSAGE] = ("success", f"Saved plan of record “{esc(saved.name)}”"
                                                  + (f", linked to “{esc(plan.name)}”." if plan else "."))
                    except PlannerError as exc:
                        ss[MESSAGE] = ("error", f"The plan was not saved: {esc(str(exc))}")
                    st.rerun()
kind, text = ss.pop(MESSAGE, (None, None))
if kind == "success":
    st.success(text, icon=":material/check_circle:")
elif kind == "error":
    st.error(text, icon=":material/error:")
agreement_form.handoff_section(version, plan_scenario, as_of)
with st.expander("The numbers: stages"):
    numbers = pd.DataFrame([{
        "Stage": c.name, "Owner": c.owner, "Actual to date": c.actual, "Plan P10": c.plan_p10,
        "Plan median": c.plan_p50, "Plan P90": c.plan_p90, "Band": c.status,
        "Rate planned": c.rate_prior_mean, "Rate updated": c.rate_posterior_mean, "Rate, naive": c.naive_rate,
        "Arrivals": c.successes, "Trials (lag-corrected)": c.exposure, "Open pipeline": c.open_pipeline,
        "Revenue effect": c.revenue_effect} for c in check.stages])
    st.dataframe(numbers, hide_index=True, width="stretch", placeholder="", column_config={
        "Stage": st.column_config.TextColumn(pinned=True),
        **{k: st.column_config.NumberColumn(k, format="localized") for k in
           ("Actual to date", "Plan P10", "Plan median", "Plan P90", "Arrivals", "Open pipeline")},
        "Trials (lag-corrected)": st.column_config.NumberColumn(format="%.1f"),
        "Revenue effect": st.column_config.NumberColumn(format="localized"),
        **{k: st.column_config.NumberColumn(k, format="percent") for k in
           ("Rate planned", "Rate updated", "Rate, naive")}})
