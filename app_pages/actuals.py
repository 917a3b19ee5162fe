"""Actuals: the plan of record against what happened; import CSV exports; the import history."""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from sim import charts
from sim.actuals import load_actuals
from sim.errors import ScenarioError
from sim.ingest import (FORMATS, MAX_IMPORT_BYTES, ImportOptions, ImportRejected, import_csv,
                        import_history, known_stages, read_header, undo_import)
from sim.markdown import escape_markdown
from sim.plans import list_plans, save_plan, stored_bands
from sim.scenario import normalise_stage_name
from sim.sla import spreadsheet_safe
from sim.variance import compare_plan
from ui import state
from ui.store import store as open_store

esc = escape_markdown  # file, stage and plan names are user text

UPLOAD = "actuals-upload"
MESSAGE = "actuals-message"      # session: (kind, text or problems) of the last action
SKIP = "(skip this column)"
NEW = "new stage: "
AUTO = "detect"
MAX_UPLOAD_MB = MAX_IMPORT_BYTES // 2**20

ss = st.session_state
scenario = state.current()
store = open_store()
st.subheader("Actuals")
if store is None:
    st.stop()


def show_message() -> None:
    kind, body = ss.pop(MESSAGE, (None, None))
    if kind == "success":
        st.success(body, icon=":material/check_circle:")
    elif kind == "info":
        st.info(body, icon=":material/info:")
    elif kind == "error":
        title, problems = body
        st.error(f"**{esc(title)}**\n\n" + "\n".join(f"- {esc(p)}" for p in problems),
                 icon=":material/error:")


# -- actions (callbacks: they run before the page reads the data) ------------------------------

def do_save_plan() -> None:
    name = ss.get("actuals-plan-name") or f"{scenario.name} — plan of record"
    try:
        plan = save_plan(store, scenario, name)
    except ScenarioError as exc:
        ss[MESSAGE] = ("error", ("The plan was not saved", list(exc.problems)))
        return
    ss["actuals-plan"] = plan.name
    ss["actuals-plan-name"] = ""
    ss[MESSAGE] = ("success", f"Saved the current scenario as plan of record “{esc(plan.name)}” "
                              f"(P(goal) {plan.p_goal:.1%}, {plan.trials:,} trials, seed {plan.seed}).")


def do_import(options: ImportOptions) -> None:
    upload = ss.get(UPLOAD)
    if upload is None:
        return
    try:
        result = import_csv(store, upload.getvalue(), upload.name, options, scenario.stage_names)
    except ImportRejected as exc:
        ss[MESSAGE] = ("error", (f"{exc.source}: not imported — the database is unchanged", list(exc.problems)))
        return
    ss[MESSAGE] = ("info" if result.already_imported else "success", esc(result.message))


def do_undo(import_id: int) -> None:
    try:
        ss[MESSAGE] = ("success", esc(undo_import(store, import_id)))
    except ScenarioError as exc:
        ss[MESSAGE] = ("error", ("Nothing was undone", list(exc.problems)))


# -- the page ---------------------------------------------------------------------------------

with st.container():  # always there, so that the tabs below keep their place and open tab
    show_message()
plans = list_plans(store)
actuals = load_actuals(store, scenario.stage_names)
history = import_history(store)
active = [h for h in history if h.active]
st.caption(f"{len(active)} import{'s' if len(active) != 1 else ''} · "
           + (f"months {actuals.months[0]} to {actuals.months[-1]}" if actuals.months else "no actuals yet")
           + f" · {len(plans)} saved plan{'s' if len(plans) != 1 else ''}")

compare_tab, data_tab, import_tab, history_tab = st.tabs(
    ["Plan vs actual", "Actuals", "Import CSV", f"History ({len(history)})"])

with compare_tab:
    with st.popover("Save the current scenario as a plan of record", icon=":material/bookmark_add:"):
        st.text_input("Plan name", key="actuals-plan-name", max_chars=100,
                      placeholder=f"{scenario.name} — plan of record")
        st.caption("A plan of record keeps the scenario, its seed and its forecast bands; it is never "
                   "changed afterwards.")
        st.button("Save plan", on_click=do_save_plan, type="primary", key="actuals-save-plan")
    if not plans:
        st.info("No plan of record yet: save the current scenario as one to compare the actuals with it.")
    else:
        names = [p.name for p in plans]
        if ss.get("actuals-plan") not in names:
            ss["actuals-plan"] = names[0]
        picked = st.selectbox("Plan of record", names, key="actuals-plan",
                              help="Saved plans, newest first")
        plan = next(p for p in plans if p.name == picked)
        comparison = compare_plan(store, plan)
        st.caption(f"“{esc(plan.scenario.name)}”, saved {plan.saved_at:%Y-%m-%d %H:%M}: goal "
                   f"{plan.scenario.goal:,.0f}, P(goal) at plan time {plan.p_goal:.1%} "
                   f"({plan.trials:,} trials, seed {plan.seed}).")
        if comparison.empty:
            st.info(f"No actuals fall in the plan's months ({plan.scenario.month_labels[0]} to "
                    f"{plan.scenario.month_labels[-1]}) yet: import some on the “Import CSV” tab.")
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
            cols[2].metric("Stage-months outside the plan's band", f"{len(outside)} of {len(comparison.stages)}",
                           help="Below the plan's P10 or above its P90")
            st.altair_chart(charts.plan_vs_actual_fan(comparison), width="stretch")
            if comparison.stages:
                st.altair_chart(charts.variance_heatmap(comparison), width="stretch")
                stages = [s for s in plan.scenario.stage_names if any(r.stage == s for r in comparison.stages)]
                pick = st.selectbox("Stage", stages, key="actuals-stage")
                st.altair_chart(charts.stage_vs_plan(comparison, stored_bands(store, plan, "arrivals"), pick),
                                width="stretch")
            if comparison.unplanned_stages:
                st.caption("Stages with actuals that this plan does not have: "
                           + ", ".join(esc(s) for s in comparison.unplanned_stages))
            table = pd.DataFrame([r.to_dict() for r in comparison.stages])
            with st.expander("The numbers: stage by month"):
                st.dataframe(table, hide_index=True, width="stretch", column_config={
                    "variance_pct": st.column_config.NumberColumn("variance %", format="percent")})
            safe = table.map(lambda v: spreadsheet_safe(v) if isinstance(v, str) else v)
            st.download_button("Download the comparison (CSV)", safe.to_csv(index=False), icon=":material/download:",
                               file_name="plan-vs-actual.csv", mime="text/csv", key="actuals-download-compare")

with data_tab:
    if actuals.empty:
        st.info("No actuals yet: import a CSV export on the “Import CSV” tab.")
    else:
        revenue = dict(actuals.revenue)
        rows = [{"month": m, **{s: actuals.count(m, s) for s in actuals.stages}, "revenue": revenue.get(m)}
                for m in actuals.months]
        table = pd.DataFrame(rows)
        st.dataframe(table, hide_index=True, width="stretch",
                     column_config={"month": st.column_config.TextColumn("month", pinned=True),
                                    **{s: st.column_config.NumberColumn(s, format="localized") for s in actuals.stages},
                                    "revenue": st.column_config.NumberColumn("revenue", format="localized")})
        st.caption("Per month and stage: the latest monthly import that states it, else the records that "
                   "reached the stage in that month (each record once).")
        safe = table.map(lambda v: spreadsheet_safe(v) if isinstance(v, str) else v)
        st.download_button("Download the actuals (CSV)", safe.to_csv(index=False), icon=":material/download:",
                           file_name="actuals.csv", mime="text/csv", key="actuals-download-data")

with import_tab:
    st.markdown("Import a **monthly** file (a `month` column, one column per stage, optional `revenue`) or a "
                "**records** export (one row per lead or deal: an id, a date column per stage reached, an "
                "optional amount). See the README for the formats. Every import is all-or-nothing and can "
                "be undone on the History tab.")
    upload = st.file_uploader("CSV file", type=["csv", "txt"], key=UPLOAD, max_upload_size=MAX_UPLOAD_MB)
    if upload is not None:
        try:
            header = list(read_header(upload.getvalue(), upload.name))
        except ImportRejected as exc:
            st.error(f"**{esc(exc.source)}**: " + "; ".join(esc(p) for p in exc.problems), icon=":material/error:")
            header = None
        if header:
            keys = [normalise_stage_name(h) for h in header]
            detected = "monthly" if "month" in keys else "records"
            fmt = st.segmented_control("Format", FORMATS, default=detected, key="actuals-format",
                                       help="Detected from the columns: a 'month' column means monthly") or detected
            stage_names = list(dict.fromkeys(list(scenario.stage_names) + list(known_stages(store))))
            by_key = {normalise_stage_name(s): s for s in stage_names}
            fixed, id_col, amount_col, date_format = set(), None, None, None
            c1, c2, c3 = st.columns(3)
            if fmt == "records":
                id_default = keys.index("id") if "id" in keys else next(
                    (i for i, h in enumerate(header) if "id" in normalise_stage_name(h).split()), 0)
                id_col = c1.selectbox("Id column", header, index=id_default, key="actuals-id")
                amount_options = ["(none)"] + header
                amount_default = amount_options.index(header[keys.index("amount")]) if "amount" in keys else 0
                amount_col = c2.selectbox("Amount column", amount_options, index=amount_default, key="actuals-amount")
                amount_col = None if amount_col == "(none)" else amount_col
                date_format = c3.text_input("Date format", key="actuals-date-format", placeholder="ISO: YYYY-MM-DD",
                                            help="Only for dates that are not ISO, e.g. %d.%m.%Y or %m/%d/%Y") or None
                fixed = {id_col, amount_col}
            else:
                fixed = {h for h, k in zip(header, keys) if k in ("month", "revenue")}
            decimal = c1.selectbox("Decimal separator", [AUTO, ",", "."], key="actuals-decimal",
                                   help="detect: a comma for ';'-separated files, else a point") if fmt == "monthly" \
                else c1.selectbox("Decimal separator", [AUTO, ",", "."], key="actuals-decimal-records")
            st.markdown("**Columns → stages**" + (" (the date each record reached the stage)" if fmt == "records" else ""))
            mapping, ignore = [], []
            grid = st.columns(3)
            for i, (column, key) in enumerate((h, k) for h, k in zip(header, keys) if h not in fixed):
                options = [SKIP] + stage_names + ([f"{NEW}{column}"] if key not in by_key else [])
                default = options.index(by_key[key]) if key in by_key else (
                    len(options) - 1 if fmt == "monthly" else 0)
                choice = grid[i % 3].selectbox(column, options, index=default, key=f"actuals-map-{fmt}-{i}")
                if choice == SKIP:
                    ignore.append(column)
                elif fmt == "records":
                    mapping.append((column, column if choice.startswith(NEW) else choice))
                elif not choice.startswith(NEW) and normalise_stage_name(choice) != key:
                    mapping.append((column, choice))
            options = ImportOptions(format=fmt, mapping=tuple(mapping), id_column=id_col,
                                    amount_column=amount_col, date_format=date_format,
                                    decimal=None if decimal == AUTO else decimal,
                                    ignore=tuple(ignore) if fmt == "monthly" else ())
            st.button("Import", type="primary", icon=":material/upload:", key="actuals-import",
                      on_click=do_import, args=(options,))

with history_tab:
    if not history:
        st.info("No imports yet.")
    for h in history:
        with st.container(border=True):
            top, action = st.columns([5, 1], vertical_alignment="center")
            badge = ":gray-badge[undone]" if h.undone_at else ":green-badge[active]"
            top.markdown(f"**#{h.import_id} · {esc(h.file_name)}** {badge}  \n"
                         f"{h.imported_at:%Y-%m-%d %H:%M} · {h.format} · {h.rows:,} rows · "
                         f"{h.first_month or '–'} to {h.last_month or '–'} · {esc(', '.join(h.stages)) or 'no stages'}")
            top.caption(esc(h.summary) + (f" Undone {h.undone_at:%Y-%m-%d %H:%M}." if h.undone_at else ""))
            if h.active:
                with action.popover("Undo", icon=":material/undo:"):
                    st.markdown(f"Remove import #{h.import_id} (“{esc(h.file_name)}”)? The values it replaced "
                                "come back.")
                    st.button("Yes, undo it", key=f"actuals-undo-{h.import_id}", on_click=do_undo,
                              args=(h.import_id,), type="primary")
