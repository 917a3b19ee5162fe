"""Actuals: the plan of record against what happened; import CSV exports; the import history."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from sim.data.history import undo_import
from sim.data.ingest import FORMATS, MAX_IMPORT_BYTES, ImportOptions, import_csv, preview
from sim.data.plans import save_plan
from sim.errors import ImportRejected, PlannerError
from sim.model.names import fold_name
from sim.present import charts
from sim.present.markdown import escape_markdown
from sim.present.spreadsheet import spreadsheet_csv
from ui import access, state
from ui import database as stores

esc = escape_markdown  # file, stage and plan names are user text

UPLOAD = "actuals-upload"
UPLOADS = "actuals-upload-count"   # session: bumped after an import, to clear the uploader
MESSAGE = "actuals-message"        # session: {tab: (kind, text or (title, problems))}
SKIP = "(skip this column)"
NEW = "new stage: "
AUTO = "detect"
MAX_UPLOAD_MB = MAX_IMPORT_BYTES // 2**20

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


def do_import(key: str, options: ImportOptions) -> None:
    upload = ss.get(key)
    if upload is None or not access.can_edit():
        return
    try:
        result = stores.write(import_csv, upload.getvalue(), upload.name, options=options,
                              scenario_stages=scenario.stage_names)
    except ImportRejected as exc:
        say("import", "error", (f"{exc.source}: not imported — the database is unchanged", list(exc.problems)))
        return
    except PlannerError as exc:
        say("import", "error", ("Not imported — the database is unchanged", list(exc.problems)))
        return
    say("import", "info" if result.already_imported else "success", esc(result.message))
    if not result.already_imported:
        ss[UPLOADS] = ss.get(UPLOADS, 0) + 1          # a fresh, empty uploader


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
actuals = stores.actuals(version, scenario.stage_names)
active = [h for h in history if h.active]
st.caption(f"{len(active)} import{'s' if len(active) != 1 else ''} · "
           + (f"months {actuals.months[0]} to {actuals.months[-1]}" if actuals.months else "no actuals yet")
           + f" · {len(plans)} saved plan{'s' if len(plans) != 1 else ''}")

compare_tab, data_tab, import_tab, history_tab = st.tabs(
    ["Plan vs actual", "Actuals", "Import CSV", f"History ({len(history)})"])

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
    if editor:
        with st.popover("Save the current scenario as a plan of record", icon=":material/bookmark_add:"):
            st.text_input("Plan name", key="actuals-plan-name", max_chars=100,
                          placeholder=f"{scenario.name} — plan of record")
            st.caption("A plan of record keeps the scenario, its seed and its forecast bands; it is never "
                       "changed afterwards.")
            st.button("Save plan", on_click=do_save_plan, type="primary", key="actuals-save-plan")
    if plan is not None:
        comparison, bands = stores.comparison(version, plan.id)
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
                stage_col, _ = st.columns([2, 3])
                pick = stage_col.selectbox("Stage", stages, key="actuals-stage")
                st.altair_chart(charts.stage_vs_plan(comparison, bands, pick), width="stretch")
            if comparison.unplanned_stages:
                st.caption("Stages with actuals that this plan does not have: "
                           + ", ".join(esc(s) for s in comparison.unplanned_stages))
            table = pd.DataFrame([r.to_dict() for r in comparison.stages])
            with st.expander("The numbers: stage by month"):
                st.dataframe(table, hide_index=True, width="stretch", column_config={
                    "variance_pct": st.column_config.NumberColumn("variance %", format="percent")})
            st.download_button("Download the comparison (CSV)", spreadsheet_csv(table), icon=":material/download:",
                               file_name="plan-vs-actual.csv", mime="text/csv", key="actuals-download-compare")

with data_tab:
    if actuals.empty:
        st.info("No actuals yet: import a CSV export on the “Import CSV” tab.")
    else:
        revenue = dict(actuals.revenue)
        table = pd.DataFrame([{"month": m, **{s: actuals.count(m, s) for s in actuals.stages},
                               "revenue": revenue.get(m)} for m in actuals.months])
        for s in actuals.stages:
            table[s] = table[s].astype("Int64")
        st.dataframe(table, hide_index=True, width="stretch",
                     column_config={"month": st.column_config.TextColumn("month", pinned=True),
                                    **{s: st.column_config.NumberColumn(s, format="localized") for s in actuals.stages},
                                    "revenue": st.column_config.NumberColumn("revenue", format="localized")})
        first = scenario.month_labels[0]
        early = [m for m in actuals.months if m < first]
        st.caption("Per month and stage: the latest monthly import that states it, else the records that "
                   "reached the stage in that month (each record once). Empty: no actual."
                   + (f" Months before {first} come from the records' earlier dates (e.g. deals already "
                      "open when the plan started)." if early else ""))
        st.download_button("Download the actuals (CSV)", spreadsheet_csv(table), icon=":material/download:",
                           file_name="actuals.csv", mime="text/csv", key="actuals-download-data")

with import_tab:
    show_message("import")
    with st.expander("The two formats"):
        st.markdown(
            "- **Monthly**: a `month` column (`2027-01`), one column per stage with that month's count, and "
            "optionally `revenue`; or three columns `month,stage,count`. A later import of the same month and "
            "stage replaces the value; an empty cell keeps what is there.\n"
            "- **Records** (a CRM export): one row per lead or deal, an id column, one date column per stage "
            "(empty when the record has not reached it) and optionally an amount, booked in the month of the "
            "record's latest date. Each record counts once per stage, however often it is imported.\n\n"
            "Column names match stage names ignoring case and spaces. UTF-8, UTF-16 or Latin-1; `,` `;` tab "
            "or `|` separated; a `;`-separated file is read with decimal commas (`1.234,50`).")
    upload_key = f"{UPLOAD}-{ss.get(UPLOADS, 0)}"
    if editor:
        upload = st.file_uploader("CSV file", type=["csv", "txt"], key=upload_key, max_upload_size=MAX_UPLOAD_MB)
    else:
        upload = None
        access.read_only_note("import files")
    if upload is not None:
        try:
            header, first_rows = preview(upload.getvalue(), upload.name)
            header = list(header)
        except ImportRejected as exc:
            st.error(f"**{esc(exc.source)}**: " + "; ".join(esc(p) for p in exc.problems), icon=":material/error:")
            header = None
        if header:
            st.caption(f"The first rows of {esc(upload.name)}:")
            shown = header if len(set(header)) == len(header) else [f"{i + 1}: {h}" for i, h in enumerate(header)]
            st.dataframe(pd.DataFrame(first_rows, columns=shown), hide_index=True, width="stretch")
            keys = [fold_name(h) for h in header]
            detected = "monthly" if "month" in keys else "records"
            c1, c2 = st.columns(2)
            with c1:
                fmt = st.segmented_control("Format", FORMATS, default=detected, key="actuals-format",
                                           help="Detected from the columns: a 'month' column means monthly") or detected
            with c2:
                decimal = st.selectbox("Decimal separator", [AUTO, ",", "."], key="actuals-decimal",
                                       help="detect: a comma for ';'-separated files, else a point")
            stage_names = list(dict.fromkeys(list(scenario.stage_names) + list(overview.stages)))
            by_key = {fold_name(s): s for s in stage_names}
            id_col = amount_col = date_format = None
            if fmt == "records":
                c1, c2, c3 = st.columns(3)
                id_default = keys.index("id") if "id" in keys else next(
                    (i for i, k in enumerate(keys) if "id" in k.split()), 0)
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
            st.markdown("**Columns → stages**" + (": the date each record reached the stage" if fmt == "records"
                                                  else ": each month's count"))
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
                elif not choice.startswith(NEW) and fold_name(choice) != key:
                    mapping.append((column, choice))
            ready = fmt == "monthly" or bool(mapping)
            if not ready:
                st.caption("Map at least one date column to a stage to import a records file.")
            options = ImportOptions(format=fmt, mapping=tuple(mapping), id_column=id_col,
                                    amount_column=amount_col, date_format=date_format,
                                    decimal=None if decimal == AUTO else decimal,
                                    ignore=tuple(ignore) if fmt == "monthly" else ())
            st.button("Import", type="primary", icon=":material/upload:", key="actuals-import", disabled=not ready,
                      on_click=do_import, args=(upload_key, options))

with history_tab:
    show_message("history")
    if not history:
        st.info("No imports yet.")
    for h in history:
        with st.container(border=True):
            top, action = st.columns([6, 1], vertical_alignment="center")
            badge = ":gray-badge[undone]" if h.undone_at else ":green-badge[active]"
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
