"""Scenarios: save the current inputs under a name, load or upload a scenario, set several side by side."""

from __future__ import annotations

import streamlit as st

from sim import ScenarioError, WorkBudgetExceeded, scenario_from_json, scenario_from_url_token
from sim.model import scenario_names as names
from sim.model.names import tidy_name
from sim.model.scenario_names import CURRENT, DEMO
from sim.present import charts, side_by_side
from sim.present.markdown import escape_markdown
from ui import chart_specs, compute, state, upload_refusals, widgets

esc = escape_markdown  # names and file names are user text

SAVED = "saved_scenarios"          # session: saved name -> share-link token (plain data)
UPLOADED = "scenarios-upload-last"  # session: the last upload handled (file id, name or problems)
PICKED = "scenarios-side-by-side"   # session: the names picked to set side by side (kept across pages)
MAX_UPLOAD_MB = 1

ss = st.session_state
saved: dict[str, str] = ss.setdefault(SAVED, {})
scenario, token = state.current(), state.token()

st.subheader("Scenarios")
keep, files = st.columns([3, 2], gap="large")

# -- save, load, delete -------------------------------------------------------------------------
with keep:
    suggestion = names.unique_name(scenario.name, saved)
    with st.form("scenarios-save", clear_on_submit=True, border=False):
        name = st.text_input("Save the current inputs as", max_chars=names.MAX_NAME,
                             placeholder=suggestion, key="scenarios-save-name",
                             help="Saved scenarios last as long as this browser session: download a "
                                  "scenario to keep it.")
        submitted = st.form_submit_button("Save", icon=":material/bookmark_add:")
    if submitted:
        name = tidy_name(name) or suggestion
        if names.is_taken(name, saved):
            reserved = names.is_taken(name, [])
            st.error(f"“{esc(name)}” is " + ("the name of a scenario that is always there: choose another "
                                            "name." if reserved else "already saved: choose another name "
                                            "or delete the saved one first."))
        else:
            try:
                saved[name] = names.renamed(scenario, name).to_url_token()
                st.success(f"Saved the current inputs as “{esc(name)}”.")
            except ScenarioError as exc:
                st.error(f"Not saved: {esc(str(exc))}.")

    st.markdown(f"**Saved scenarios** ({len(saved)})")
    if not saved:
        st.caption("None yet. Save the current inputs, or upload a scenario file.")
    for saved_name, saved_token in list(saved.items()):
        is_current = names.same_inputs(scenario_from_url_token(saved_token), scenario)
        with st.container(horizontal=True, vertical_alignment="center"):
            st.markdown(esc(saved_name)
                        + (" :blue-badge[current]" if is_current else ""), width="stretch")
            load = st.button("Load", key=f"scenarios-load-{saved_name}", icon=":material/upload:",
                             help=f"Make “{esc(saved_name)}” the current scenario",
                             disabled=saved_token == token)
            delete = st.button("Delete", key=f"scenarios-delete-{saved_name}", icon=":material/delete:",
                               help=f"Forget “{esc(saved_name)}”")
        if load:
            state.set_scenario(scenario_from_url_token(saved_token), external=True)
            st.rerun()
        if delete:
            del saved[saved_name]
            st.rerun()

# -- upload and download ------------------------------------------------------------------------
with files:
    upload = st.file_uploader("Upload a scenario (JSON)", max_upload_size=MAX_UPLOAD_MB,   # any type: refused below
                              key="scenarios-upload",
                              help="A scenario file as described in the README, e.g. one downloaded here.")
    upload_refusals.limits_caption(["json"], MAX_UPLOAD_MB, "a scenario is a few kilobytes: is it a scenario file?")
    if upload is not None and upload_refusals.refused(
            upload, ["json"], "A scenario file is the JSON downloaded here or on the Summary page; a CRM export or "
                              "a workbook of actuals is imported on the Actuals page."):
        upload = None
    if upload is not None:
        last = ss.get(UPLOADED)
        if not last or last["file_id"] != upload.file_id:
            # Each upload is handled once: it stays in the uploader across reruns.
            try:
                uploaded = scenario_from_json(upload.getvalue())
            except ScenarioError as exc:
                last = {"file_id": upload.file_id, "file": upload.name, "problems": list(exc.problems)}
            else:
                known = names.find_same(uploaded, {n: scenario_from_url_token(t) for n, t in saved.items()})
                if known is None:
                    known = names.unique_name(uploaded.name, saved)
                    saved[known] = names.renamed(uploaded, known).to_url_token()
                    added = True
                else:
                    added = False
                last = {"file_id": upload.file_id, "file": upload.name, "name": known, "added": added}
            ss[UPLOADED] = last
        if last.get("problems"):
            st.error(side_by_side.upload_error_markdown(last["file"], last["problems"]), icon=":material/error:")
        elif last["name"] in saved:
            up_name, up_token = last["name"], saved[last["name"]]
            what = "Added" if last["added"] else "Already saved:"
            st.success(f"{what} “{esc(up_name)}” from {esc(last['file'])}.")
            if names.same_inputs(scenario_from_url_token(up_token), scenario):
                st.caption(f"“{esc(up_name)}” is the current scenario.")
            elif st.button(f"Make “{esc(up_name)}” current", key=f"scenarios-make-current-{upload.file_id}",
                           type="primary", icon=":material/check:"):
                state.set_scenario(scenario_from_url_token(up_token), external=True)
                st.rerun()

    st.download_button("Download the current scenario (JSON)", data=scenario.to_json(),
                       file_name=names.json_file_name(scenario.name), mime="application/json",
                       key="scenarios-download", icon=":material/download:",
                       help=f"“{esc(scenario.name)}” as a scenario file: upload it here or use it with the "
                            "command line.", on_click="ignore")

# -- side by side -------------------------------------------------------------------------------
st.divider()
st.markdown("**Scenarios side by side**")
tokens = {CURRENT: token, DEMO: state.demo().to_url_token(), **saved}
options = list(tokens)
# Current and Demo are the default pair, unless they are the same inputs: then a saved one.
default_pair = [CURRENT, DEMO] if not names.same_inputs(scenario, state.demo()) else \
    [CURRENT] + list(saved)[:1]
picked_before = [n for n in ss.get(PICKED, default_pair) if n in tokens]
if "scenarios-pick" not in ss:
    ss["scenarios-pick"] = picked_before
else:
    ss["scenarios-pick"] = [n for n in ss["scenarios-pick"] if n in tokens]
picked = st.multiselect("Scenarios side by side", options, key="scenarios-pick",
                        placeholder="Pick two or more scenarios")
ss[PICKED] = list(picked)
same = " (the same inputs)" if names.same_inputs(scenario, state.demo()) else ""
st.caption(f"{CURRENT}: “{esc(scenario.name)}” as set on the Plan page · "
           f"{DEMO}: “{esc(state.demo().name)}”{same}")

if len(picked) < 2:
    st.info("Pick at least two scenarios to set them side by side. To set the plan beside a variant, "
            "save it above, change it on the Plan page, and pick both.")
    st.stop()

confidence = state.confidence()
forecasts, targets = {}, {}
progress = st.progress(0.0, text="Simulating…")
for i, name in enumerate(picked):
    progress.progress(i / len(picked), text=f"Simulating “{esc(name)}” and searching the volumes for "
                                            f"P(goal) ≥ {confidence:.0%} ({i + 1} of {len(picked)})…")
    try:
        forecasts[name] = compute.forecast(tokens[name])
    except WorkBudgetExceeded as exc:
        progress.empty()
        widgets.too_large(exc, what=f"“{name}”: ")
        st.stop()
    try:
        targets[name] = compute.targets(tokens[name], confidence)
    except ScenarioError as exc:
        targets[name] = str(exc)
progress.empty()

st.markdown("**Outcome** — baseline included; the interval is the 95% Monte Carlo error")
money = st.column_config.NumberColumn(format="%,.0f")
percent = st.column_config.NumberColumn(format="percent")
names = st.column_config.TextColumn("Scenario", width=130, pinned=True)
st.dataframe(side_by_side.outcome_table(forecasts), width="stretch",
             column_config={"_index": names, "Goal": money, "Expected revenue": money, "P10": money, "P50": money,
                            "P90": money, "P(goal)": percent})

st.markdown(f"**Volumes needed for P(goal) ≥ {confidence:.0%}** — each stage's total in the period, "
            "with the scenario's top-of-funnel plan multiplied by “Plan ×” (change the chance on the "
            "Plan page)")
volumes = side_by_side.volume_table(targets)
st.dataframe(volumes, width="stretch",
             column_config={"_index": names, **{
                 c: (st.column_config.NumberColumn(format="%.2f") if c == side_by_side.SCALE_COLUMN else money)
                 for c in volumes.columns if c != side_by_side.NOTE_COLUMN}})

shown = tuple((name, tokens[name]) for name in forecasts)      # the charts' scenarios, in order
left, right = st.columns(2, gap="large")
with left:
    chart_specs.show("side-by-side-p-goal", shown, lambda: charts.side_by_side_p_goal(forecasts))
with right:
    chart_specs.show("side-by-side-distributions", shown, lambda: charts.side_by_side_distributions(forecasts))
