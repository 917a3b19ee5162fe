"""Actuals: the plan of record against what happened (all segments or one); import CRM exports
(CSV files and workbooks); the import history; removing the demo's data."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from sim.data.demo_content import remove_demo
from sim.data.history import undo_import
from sim.data.ingest import ImportOptions, import_csv
from sim.data.plans import save_plan
from sim.errors import ImportRejected, PlannerError
from sim.present import charts
from sim.present.markdown import escape_markdown
from sim.present.spreadsheet import spreadsheet_csv
from ui import access, agreement_form, chart_specs, import_form, plan_deletion, state, upload_refusals
from ui import database as stores

esc = escape_markdown  # file, stage and plan names are user text

UPLOAD = "actuals-upload"
UPLOADS = "actuals-upload-count"   # session: bumped after an import, to clear the uploader
MESSAGE = "actuals-message"        # session: {tab: (kind, text or (title, problems))}
ALL = "All segments"

ss = st.session_state
editor = access.can_edit()       # viewers read; only editors import, undo and save plans
scenario = state.current()
st.subheader("Actuals")


def say(tab: str, kind: str, body) -> None:
    ss.setdefault(MESSAGE, {})[tab] = (kind, body)


def show_message(tab: str) -> None:
    """The last action's message, shown in the tab where it happened (next to the action)."""
    kind, body = ss.get(MESSAGE, {}).pop(tab, (None, None))
    if kind == "success":
        st.success(body, icon=":material/check_circle:")
    elif kind == "info":
        st.info(body, icon=":material/info:")
    elif kind == "error":
        title, problems = body
        st.error(f"**{esc(title)}**\n\n" + "\n".join(f"- {esc(p)}" for p in problems), icon=":material/error:")


# -- actions (callbacks: they run before the page reads the data) ------------------------------

def do_save_plan() -> None:
    if not access.can_edit():
        return
    name = ss.get("actuals-plan-name") or f"{scenario.name} — plan of record"
    try:
        plan = stores.write(save_plan, scenario, name)
    except PlannerError as exc:
        say("compare", "error", ("The plan was not saved", list(exc.problems)))
        return
    ss["actuals-plan"] = plan.name
    ss["actuals-plan-name"] = ""
    say("compare", "success", f"Saved the current scenario as plan of record “{esc(plan.name)}” "
                              f"(P(goal) {plan.p_goal:.1%}, {plan.trials:,} trials, seed {plan.seed}).")


def do_import(key: str, options: ImportOptions, clean: bool) -> None:
    upload = ss.get(key)
    if upload is None or not access.can_edit():
        return
    try:
        result = stores.write(import_csv, upload.getvalue(), upload.name, options=options,
                              scenario_stages=scenario.stage_names, remove_demo=clean)
    except ImportRejected as exc:
        say("import", "error", (f"{exc.source}: not imported — the database is unchanged", list(exc.problems)))
        return
    except PlannerError as exc:
        say("import", "error", ("Not imported — the database is unchanged", list(exc.problems)))
        return
    say("import", "info" if result.already_imported else "success", esc(result.message))
    if not result.already_imported:
        ss[UPLOADS] = ss.get(UPLOADS, 0) + 1          # a fresh, empty uploader


def do_remove_demo() -> None:
    if not access.can_edit():
        return
    try:
        say("history", "success", esc(stores.write(remove_demo)))
    except PlannerError as exc:
        say("history", "error", ("The demo was not removed", list(exc.problems)))


def do_undo(import_id: int) -> None:
    if not access.can_edit():
        return
    try:
        say("history", "success", esc(stores.write(undo_import, import_id)))
    except PlannerError as exc:
        say("history", "error", ("Nothing was undone", list(exc.problems)))


# -- the page ---------------------------------------------------------------------------------

overview = stores.overview()
version, plans, history = overview.version, list(overview.plans), list(overview.history)
demo = overview.demo
split = stores.segments(version, scenario.stage_names)
segment = None
# One container above the tabs, whatever it holds: the tabs keep their place (and the tab the
# user is on) when an import brings the first segments.
with st.container():
    if not split.empty:
        names = [ALL] + [g for g, _ in split.segments]
        if ss.get("actuals-segment-filter") not in names:
            ss["actuals-segment-filter"] = ALL
        pick_col, _ = st.columns([2, 3])
        picked_segment = pick_col.selectbox("Segment", names, key="actuals-segment-filter",
                                            help="Only this segment's actuals (records and monthly rows of that "
                                                 "segment), e.g. against a plan made for it")
        segment = None if picked_segment == ALL else picked_segment
actuals = stores.actuals(version, scenario.stage_names, segment)
active = [h for h in history if h.active]
st.caption(f"{len(active)} import{'s' if len(active) != 1 else ''} · "
           + (f"months {actuals.months[0]} to {actuals.months[-1]}" if actuals.months else "no actuals yet")
           + f" · {len(plans)} saved plan{'s' if len(plans) != 1 else ''}"
           + (" · the demo company's data" if demo.present and not demo.own_data else ""))

compare_tab, data_tab, import_tab, history_tab = st.tabs(
    ["Plan vs actual", "Actuals", "Import", f"History ({len(history)})"])

with compare_tab:
    show_message("compare")
    for note in overview.unreadable:
        st.caption(esc(note[:1].upper() + note[1:]) + ".")
    plan = None
    if not plans:
        st.info("No plan of record yet: save the current scenario as one (below) to compare the actuals with it.")
    else:
        names = [p.name for p in plans]
        if ss.get("actuals-plan") not in names:
            ss["actuals-plan"] = names[0]
        pick_col, _ = st.columns([2, 3])
        picked = pick_col.selectbox("Plan of record", names, key="actuals-plan", help="Saved plans, newest first")
        plan = next((p for p in plans if p.name == picked), plans[0])      # a forged name: the newest
        st.caption(f"Scenario “{esc(plan.scenario.name)}”, saved {plan.saved_at:%Y-%m-%d %H:%M}: goal "
                   f"{plan.scenario.goal:,.0f}, P(goal) at plan time {plan.p_goal:.1%} "
                   f"({plan.trials:,} trials, seed {plan.seed}).")
        plan_deletion.delete_control(plan, plans, say)
    if editor:
        with st.popover("Save the current scenario as a plan of record", icon=":material/bookmark_add:"):
            st.text_input("Plan name", key="actuals-plan-name", max_chars=100,
                          placeholder=f"{scenario.name} — plan of record")
            st.caption("A plan of record keeps the scenario, its seed and its forecast bands; it is never "
                       "changed afterwards.")
            st.button("Save plan", on_click=do_save_plan, type="primary", key="actuals-save-plan")
    if plan is not None:
        comparison, bands = stores.comparison(version, plan.id, segment)
        compared = (stores.path(), version, plan.id, segment)     # what determines the charts below
        if comparison.empty:
            st.info(f"No actuals fall in the plan's months ({plan.scenario.month_labels[0]} to "
                    f"{plan.scenario.month_labels[-1]}) yet: import some on the “Import” tab.")
        else:
            done = [r for r in comparison.revenue if r.cumulative_actual is not None]
            outside = [r for r in comparison.stages if r.status != "inside"]
            cols = st.columns(3)
            if done:
                last = done[-1]
                cols[0].metric(f"Revenue to date (through {last.month})", f"{last.cumulative_actual:,.0f}",
                               delta=f"{last.cumulative_actual - last.cumulative_p50:+,.0f} vs plan median",
                               help=f"Plan P10–P90 for {last.month}: {last.cumulative_p10:,.0f} to "
                                    f"{last.cumulative_p90:,.0f}; the baseline is included.")
            cols[1].metric("Months with actuals", len(comparison.months_with_actuals))
            if comparison.missing_revenue_months:
                st.warning(f"No revenue actual for {', '.join(comparison.missing_revenue_months)}: counted as 0 in "
                           "the revenue to date and the chart. Import those months' revenue (a monthly file "
                           "with a revenue column, or the won deals' amounts) to correct it.",
                           icon=":material/help:")
            cols[2].metric("Stage-months outside the plan's band", f"{len(outside)} of {len(comparison.stages)}",
                           help="Below the plan's P10 or above its P90")
            chart_specs.show("plan-vs-actual", compared, lambda: charts.plan_vs_actual_fan(comparison))
            if comparison.stages:
                chart_specs.show("variance", compared, lambda: charts.variance_heatmap(comparison))
                stages = [s for s in plan.scenario.stage_names if any(r.stage == s for r in comparison.stages)]
                stage_col, _ = st.columns([2, 3])
                pick = stage_col.selectbox("Stage", stages, key="actuals-stage")
                chart_specs.show("stage-vs-plan", (compared, pick),
                                 lambda: charts.stage_vs_plan(comparison, bands, pick))
            if comparison.unplanned_stages:
                st.caption("Stages with actuals that this plan does not have: "
                           + ", ".join(esc(s) for s in comparison.unplanned_stages))
            agreement_form.handoff_section(version, plan.scenario, None, segment)
            table = pd.DataFrame([r.to_dict() for r in comparison.stages])
            with st.expander("The numbers: stage by month"):
                st.dataframe(table, hide_index=True, width="stretch", placeholder="", column_config={
                    "variance_pct": st.column_config.NumberColumn("variance %", format="percent")})
            st.download_button("Download the comparison (CSV)", partial(spreadsheet_csv, table), icon=":material/download:",
                               file_name="plan-vs-actual.csv", mime="text/csv", key="actuals-download-compare", on_click="ignore")

with data_tab:
    if actuals.empty:
        st.info("No actuals yet: import a CRM export (CSV or workbook) on the “Import” tab.")
    else:
        table = import_form.monthly_counts(actuals)
        import_form.show_monthly_counts(st, table, actuals.stages)
        first, last = scenario.month_labels[0], scenario.month_labels[-1]
        if not any(first <= m <= last for m in actuals.months):
            period = (f" None of these months is in the period of the plan on the Plan page ({first} to {last}): "
                      "the “From history” page fits a plan from them.")
        elif any(m < first for m in actuals.months):
            period = (f" Months before {first} come from the records' earlier dates (e.g. deals already open when "
                      "the plan started).")
        else:
            period = ""
        st.caption("Per month and stage: the latest monthly import that states it, else the records that "
                   "reached the stage in that month (each record once). Empty: no actual." + period)
        st.download_button("Download the actuals (CSV)", partial(spreadsheet_csv, table), icon=":material/download:",
                           file_name="actuals.csv", mime="text/csv", key="actuals-download-data", on_click="ignore")
        if not split.empty:
            st.markdown("#### By segment")
            measures = list(dict.fromkeys(s for _, s, _, _ in split.counts)) + ["revenue"]
            measure_col, _ = st.columns([2, 3])
            measure = measure_col.selectbox("Stage", measures, key="actuals-segment-stage",
                                            help="The monthly counts of this stage (or the revenue) by segment")
            chart_specs.show("segments", (stores.path(), version, scenario.stage_names, measure),
                             lambda: charts.segment_bars(split, measure))

with import_tab:
    show_message("import")
    with st.expander("The formats"):
        st.markdown(
            "- **Records** (a CRM export): one row per lead or deal, an id column, one date column per stage "
            "(empty when the record has not reached it), optionally an amount, an **outcome** (which values mean "
            "won, which lost: a lost deal is never a customer and brings no revenue; anything else is open) and a "
            "**segment** (lead source, product, region, sales agent). Each record counts once per stage, however "
            "often it is imported.\n"
            "- **Stage history**: one row per record and CRM stage it entered (id, stage, date, optionally an "
            "amount), as HubSpot's and Salesforce's stage-history reports give them; map the CRM stages to funnel "
            "stages and mark the ones that mean lost.\n"
            "- **Monthly**: a `month` column (`2027-01`), one column per stage with that month's count, and "
            "optionally `revenue`; or three columns `month,stage,count`. A later import of the same month and "
            "stage replaces the value; an empty cell keeps what is there.\n\n"
            "CSV files (UTF-8, UTF-16 or Latin-1; `,` `;` tab or `|` separated; a `;`-separated file is read with "
            "decimal commas) or workbooks (`.xlsx`, `.xls`, `.ods`: pick the sheet; dates and formulas are read "
            "as values, macros never run).")
    upload_key = f"{UPLOAD}-{ss.get(UPLOADS, 0)}"
    if editor:
        upload = st.file_uploader("CSV file or workbook", key=upload_key,      # any type: refused below
                                  max_upload_size=import_form.MAX_UPLOAD_MB)
        upload_refusals.limits_caption(import_form.FILE_TYPES, import_form.MAX_UPLOAD_MB,
                                       "split it by year, or keep only the columns the import needs; or import it "
                                       "with the command line (`python -m sim import`), which takes up to 2 GB.")
        if upload is not None and upload_refusals.refused(
                upload, import_form.FILE_TYPES, "Save it from your spreadsheet or CRM as CSV (or as .xlsx), then "
                                                "upload that."):
            upload = None
    else:
        upload = None
        access.read_only_note("import files")
    if upload is not None:
        stage_names = list(dict.fromkeys(list(scenario.stage_names) + list(overview.stages)))
        mapped = import_form.form(upload, stage_names, demo, history)
        if mapped is not None:
            options, clean = mapped
            import_form.preview(version, upload, options, stage_names)
            st.button("Import", type="primary", icon=":material/upload:", key="actuals-import",
                      on_click=do_import, args=(upload_key, options, clean))

with history_tab:
    show_message("history")
    if demo.present and editor:
        with st.container(horizontal=True, vertical_alignment="center"):
            st.caption("This database holds the demo company's imports and plan of record"
                       + (", beside your own data." if demo.own_data else "."))
            with st.popover("Remove the demo's data", icon=":material/delete:"):
                st.markdown("Remove the demo company's imports, its plan of record (and plans saved from it) and the "
                            "stages only it used? Your own imports and plans stay as they are; the demo is not "
                            "added again.")
                st.button("Yes, remove the demo", key="actuals-remove-demo", on_click=do_remove_demo, type="primary")
    if not history:
        st.info("No imports yet.")
    demo_ids = overview.demo_imports
    for h in history:
        with st.container(border=True):
            top, action = st.columns([6, 1], vertical_alignment="center")
            badge = ":gray-badge[undone]" if h.undone_at else ":green-badge[active]"
            if h.import_id in demo_ids:
                badge += " :violet-badge[the demo's]"
            top.markdown(f"**#{h.import_id} · {esc(h.file_name)}** {badge}  \n"
                         f"{h.imported_at:%Y-%m-%d %H:%M} (server time) · {h.format} · {h.rows:,} rows · "
                         f"{h.first_month or '–'} to {h.last_month or '–'} · "
                         f"{esc(', '.join(h.stages)) or 'no stages'}"
                         + (f" · undone {h.undone_at:%Y-%m-%d %H:%M}" if h.undone_at else ""))
            detail = h.summary.split(": ", 1)[-1] if ": " in h.summary else h.summary
            top.caption(esc(detail))
            if h.active and editor:
                with action.popover("Undo", icon=":material/undo:"):
                    st.markdown(f"Remove import #{h.import_id} (“{esc(h.file_name)}”)? The values it replaced "
                                "come back.")
                    st.button("Yes, undo it", key=f"actuals-undo-{h.import_id}", on_click=do_undo,
                              args=(h.import_id,), type="primary")
