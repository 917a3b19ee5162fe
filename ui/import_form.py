"""The Actuals page's import form: upload a CSV file or a workbook, check the mapping the
planner guessed from the header names and values (format, id, dates → stages, outcome, amount,
segment), see what the import would give (the first rows with the stage each counts toward, and
the monthly counts) before anything is written, and import it.

At the first import of the user's own data into a database that holds the demo company's, the
form offers to remove the demo first (a clean database for the user's data), in the same
transaction as the import.
"""

from __future__ import annotations

import csv
import io

import pandas as pd
import streamlit as st

from sim.data.demo_content import DemoState
from sim.data.history import ImportRecord
from sim.data.ingest import FORMATS, MAX_IMPORT_BYTES, ImportOptions, ImportPreview
from sim.data.ingest.decoding import display_file_name
from sim.data.ingest.layout import parse_header, sniff_delimiter
from sim.data.ingest.outcomes import FALSE_VALUES, TRUE_VALUES
from sim.data.ingest.suggestion import Suggestion
from sim.data.ingest.workbook import SheetText
from sim.errors import ImportRejected, PlannerError
from sim.model.names import fold_name
from sim.present.markdown import escape_markdown as esc
from ui import database as stores

SKIP = "(skip this column)"
NONE = "(none)"
NEW = "new stage: "
LOST = "lost (never a customer)"
AUTO = "detect"
MAX_UPLOAD_MB = MAX_IMPORT_BYTES // 2**20
FILE_TYPES = ["csv", "txt", "tsv", "xlsx", "xlsm", "xls", "ods"]
FORMAT_LABELS = {"monthly": "monthly", "records": "records", "history": "stage history"}
CLEAN, BESIDE = "clean", "beside"
MAX_CRM_STAGES_SHOWN = 40


def format_label(fmt: str) -> str:
    return FORMAT_LABELS[fmt]


def demo_label(choice: str) -> str:
    return {CLEAN: "Remove the demo company's data, then import mine (a clean database)",
            BESIDE: "Keep the demo's data and import mine beside it"}[choice]


def form(upload, stage_names: list[str], demo: DemoState,
         history: list[ImportRecord]) -> tuple[ImportOptions, bool] | None:
    """The mapping form for ``upload``; (the options, whether to remove the demo first) when
    the file can be mapped, else None (after saying why)."""
    data, name = upload.getvalue(), display_file_name(upload.name)
    try:
        text = stores.file_text(data, name, None)
        sheet = None
        if isinstance(text, SheetText):                      # a workbook: its sheet
            c1, _ = st.columns([2, 3])
            sheet = c1.selectbox("Sheet", text.sheets, index=text.sheets.index(text.sheet), key="actuals-sheet",
                                 help="The workbook's sheet to import")
            if sheet != text.sheet:
                text = stores.file_text(data, name, sheet)
            text = text.text if isinstance(text, SheetText) else text
    except PlannerError as exc:                          # the database busy or not available
        st.warning(esc(str(exc)), icon=":material/database:")
        return None
    if isinstance(text, list):
        st.error(f"**{esc(name)}**: " + "; ".join(esc(p) for p in text), icon=":material/error:")
        return None
    try:
        header, first = _head(text, name, "," if sheet else None)
    except ImportRejected as exc:
        st.error(f"**{esc(exc.source)}**: " + "; ".join(esc(p) for p in exc.problems), icon=":material/error:")
        return None
    guess = stores.suggestion(text, tuple(stage_names), "," if sheet else None, sheet)
    st.caption(f"The first rows of {esc(name)}" + (f", sheet “{esc(sheet)}”" if sheet else "") + ":")
    shown = header if len(set(header)) == len(header) else [f"{i + 1}: {h}" for i, h in enumerate(header)]
    st.dataframe(pd.DataFrame(first[:5], columns=shown), hide_index=True, width="stretch", placeholder="")
    if guess.reasons:
        st.caption("Guessed from the column names and values: " + "; ".join(esc(r) for r in guess.reasons)
                   + ". Check it below: the preview shows what the import will give.")
    options = _mapping(header, first, guess, stage_names, sheet)
    if options is None:
        return None
    options = _source(options, name, history)
    remove_demo = False
    if demo.present and not demo.own_data:
        st.markdown("**This database holds the demo company's data.** Your data should not be mixed with it:")
        choice = st.radio("Where your data goes", [CLEAN, BESIDE], format_func=demo_label, key="actuals-demo-choice",
                          label_visibility="collapsed")
        remove_demo = choice == CLEAN
    return options, remove_demo


def preview(version: tuple, upload, options: ImportOptions, stage_names: list[str]) -> bool:
    """What the import would give, or the problems it would be refused for; True when it can be
    imported."""
    try:
        found = stores.import_preview(version, upload.getvalue(), upload.name, options, tuple(stage_names))
    except PlannerError as exc:                          # the database busy or not available
        st.warning(esc(str(exc)), icon=":material/database:")
        return False
    st.markdown("**Preview** (nothing is written until you import)")
    if isinstance(found, list):
        st.warning("The import would be refused:\n\n" + "\n".join(f"- {esc(p)}" for p in found),
                   icon=":material/warning:")
        return False
    _show_preview(found)
    return True


def _show_preview(found: ImportPreview) -> None:
    kind = FORMAT_LABELS[found.format]
    line = f"{found.rows:,} rows in the {kind} format; stages {', '.join(found.stages) or '–'}"
    if found.new_stages:
        line += f" (new: {', '.join(found.new_stages)})"
    if found.outcomes is not None:
        o = found.outcomes
        line += (f". Outcomes: **{o['won']:,} won** (counted as {found.won_stage}), **{o['lost']:,} lost** (never "
                 f"{found.won_stage}, no revenue), **{o['open']:,} open**")
    st.markdown(esc(line).replace("\\*\\*", "**") + ".")
    left, right = st.columns([1, 1], gap="medium")
    rows = pd.DataFrame([["" if v is None else str(v) for v in r] for r in found.first_rows],
                        columns=list(found.columns))
    left.caption("The first rows, and the stage each counts toward")
    left.dataframe(rows, hide_index=True, width="stretch", placeholder="")
    right.caption("The monthly counts this file gives (won deals only in the won stage; revenue of won deals)")
    show_monthly_counts(right, monthly_counts(found), found.stages)
    for note in found.notes:
        st.caption(f"Note: {esc(note)}.")


def monthly_counts(actuals) -> pd.DataFrame:
    """One row per month: the count of each stage and the revenue, empty where there is none
    (``actuals``: the stored actuals or an import's preview). The columns are the monthly import
    format's (``month``, the stages, ``revenue``), so its CSV imports back."""
    revenue = dict(actuals.revenue)
    table = pd.DataFrame([{"month": m, **{s: actuals.count(m, s) for s in actuals.stages},
                           "revenue": revenue.get(m)} for m in actuals.months])
    if not table.empty:
        for s in actuals.stages:
            table[s] = table[s].astype("Int64")
        table["revenue"] = pd.to_numeric(table["revenue"]).astype("Float64")      # empty, never "None"
    return table


def show_monthly_counts(where, table: pd.DataFrame, stages) -> None:
    """:func:`monthly_counts` as a table in ``where`` (a container), the month pinned."""
    where.dataframe(table, hide_index=True, width="stretch", placeholder="",
                    column_config={"month": st.column_config.TextColumn("Month", pinned=True),
                                   **{s: st.column_config.NumberColumn(s, format="localized") for s in stages},
                                   "revenue": st.column_config.NumberColumn("Revenue", format="localized")})


# -- the mapping widgets --------------------------------------------------------------------------

def _mapping(header: list[str], first: list[list[str]], guess: Suggestion, stage_names: list[str],
             sheet: str | None) -> ImportOptions | None:
    g = guess.options
    keys = [fold_name(h) for h in header]
    c1, c2 = st.columns(2)
    detected = g.format or "records"
    with c1:
        fmt = st.segmented_control("Format", FORMATS, default=detected, key="actuals-format", format_func=format_label,
                                   help="Guessed from the columns: a 'month' column means monthly; one row per "
                                        "record and stage, a stage history; else one row per record") or detected
    with c2:
        decimal = st.selectbox("Decimal separator", [AUTO, ",", "."], key="actuals-decimal",
                               help="detect: a comma for ';'-separated files, else a point")
    by_key = {fold_name(s): s for s in stage_names}
    common = dict(decimal=None if decimal == AUTO else decimal, sheet=sheet, format=fmt)
    if fmt == "monthly":
        segment = _pick("Segment column", [NONE] + header, g.segment_column if g.format == "monthly" else None,
                        "actuals-segment-monthly", st, "Optional: a column giving each row's segment (one row per "
                        "month and segment)")
        st.markdown("**Columns → stages**: each month's count")
        fixed = {h for h, k in zip(header, keys) if k in ("month", "revenue")} | {segment}
        mapping, ignore = [], []
        grid = st.columns(3)
        for i, (column, key) in enumerate((h, k) for h, k in zip(header, keys) if h not in fixed):
            options = [SKIP] + stage_names + ([f"{NEW}{column}"] if key not in by_key else [])
            default = options.index(by_key[key]) if key in by_key else len(options) - 1
            choice = grid[i % 3].selectbox(column, options, index=default, key=f"actuals-map-{fmt}-{i}")
            if choice == SKIP:
                ignore.append(column)
            elif not choice.startswith(NEW) and fold_name(choice) != key:
                mapping.append((column, choice))
        return ImportOptions(mapping=tuple(mapping), ignore=tuple(ignore), segment_column=segment, **common)
    c1, c2, c3, c4 = st.columns(4)
    id_col = _pick("Id column", header, g.id_column or _first_id(header, keys), "actuals-id", c1,
                   "The record's id: joins several exports of the same records")
    amount = _pick("Amount column", [NONE] + header, g.amount_column or (header[keys.index("amount")] if "amount" in keys
                                                                         else None), "actuals-amount", c2,
                   "The deal's amount: revenue when the record is won")
    date_format = c3.text_input("Date format", value=g.date_format or "", key="actuals-date-format",
                                placeholder="ISO: YYYY-MM-DD",
                                help="Only for dates that are not ISO, e.g. %d.%m.%Y or %m/%d/%Y") or None
    segment = _pick("Segment column", [NONE] + header, g.segment_column, "actuals-segment", c4,
                    "Optional: lead source, product, region, sales agent… (one per record)")
    common.update(id_column=id_col, amount_column=amount, date_format=date_format, segment_column=segment)
    if fmt == "history":
        return _history(header, first, g, stage_names, common)
    return _records(header, keys, first, g, stage_names, by_key, common)


def _records(header, keys, first, g: Suggestion, stage_names, by_key, common) -> ImportOptions | None:
    c1, c2, c3 = st.columns(3)
    outcome = _pick("Outcome column", [NONE] + header, g.outcome_column, "actuals-outcome", c1,
                    "The column saying won, lost or open (e.g. deal_stage, Stage, IsWon); without it every record "
                    "with a date in the last stage counts as won")
    closed = won = lost = None
    if outcome:
        values = _distinct(header, first, outcome)
        boolean = bool(values) and all(v.lower() in TRUE_VALUES + FALSE_VALUES for v in values)
        if boolean:
            closed = _pick("Closed column (true/false)", [NONE] + header, g.closed_column, "actuals-closed", c2,
                           "Salesforce's IsClosed: closed and not won is lost")
        if not closed:
            won = c2.multiselect("Values that mean won", values, default=[v for v in g.won_values if v in values],
                                 key="actuals-won", accept_new_options=True)
            lost = c3.multiselect("Values that mean lost", values,
                                  default=[v for v in g.lost_values if v in values], key="actuals-lost",
                                  accept_new_options=True, help="Anything neither won nor lost is open")
    fixed = {common["id_column"], common["amount_column"], common["segment_column"], outcome, closed}
    st.markdown("**Columns → stages**: the date each record reached the stage"
                + (" (a lost record's date in the won stage's column is the day it was lost)" if outcome else ""))
    guessed = dict(g.mapping)
    mapping = []
    grid = st.columns(3)
    for i, (column, key) in enumerate((h, k) for h, k in zip(header, keys) if h not in fixed):
        options = [SKIP] + stage_names + ([f"{NEW}{column}"] if key not in by_key else [])
        default = (options.index(guessed[column]) if guessed.get(column) in options
                   else options.index(by_key[key]) if key in by_key else 0)
        choice = grid[i % 3].selectbox(column, options, index=default, key=f"actuals-map-records-{i}")
        if choice != SKIP:
            mapping.append((column, column if choice.startswith(NEW) else choice))
    if not mapping:
        st.caption("Map at least one date column to a stage to import a records file.")
        return None
    if outcome and not closed and not won:
        st.caption("Say which values of the outcome column mean won.")
        return None
    return ImportOptions(mapping=tuple(mapping), outcome_column=outcome, closed_column=closed,
                         won_values=tuple(won or ()), lost_values=tuple(lost or ()), **common)


def _history(header, first, g: Suggestion, stage_names, common) -> ImportOptions | None:
    c1, c2, _ = st.columns(3)
    keys = [fold_name(h) for h in header]
    stage_col = _pick("CRM stage column", header, g.stage_column or (header[keys.index("stage")] if "stage" in keys
                                                                      else None), "actuals-stage-column", c1,
                      "The stage the record entered, as the CRM names it")
    date_col = _pick("Date column", header, g.date_column or (header[keys.index("date")] if "date" in keys else None),
                     "actuals-date-column", c2, "The day the record entered that stage")
    st.markdown("**CRM stages → funnel stages** (a stage not mapped is ignored)")
    guessed, lost_guess = dict((fold_name(c), s) for c, s in g.mapping), {fold_name(s) for s in g.lost_stages}
    by_key = {fold_name(s): s for s in stage_names}
    values = _distinct(header, first, stage_col)[:MAX_CRM_STAGES_SHOWN]
    mapping, lost = [], []
    grid = st.columns(3)
    for i, value in enumerate(values):
        key = fold_name(value)
        options = [SKIP, LOST] + stage_names + ([f"{NEW}{value}"] if key not in by_key else [])
        default = (1 if key in lost_guess else options.index(guessed[key]) if guessed.get(key) in options
                   else options.index(by_key[key]) if key in by_key else 0)
        choice = grid[i % 3].selectbox(value, options, index=default, key=f"actuals-crm-{i}")
        if choice == LOST:
            lost.append(value)
        elif choice != SKIP:
            mapping.append((value, value if choice.startswith(NEW) else choice))
    if not mapping:
        st.caption("Map at least one CRM stage to a funnel stage.")
        return None
    return ImportOptions(mapping=tuple(mapping), lost_stages=tuple(lost), stage_column=stage_col, date_column=date_col,
                         **common)


def _source(options: ImportOptions, name: str, history: list[ImportRecord]) -> ImportOptions:
    """The replace choice, offered when an earlier import of the same file (source) counts."""
    earlier = [h for h in history if h.active and h.file_name == name]
    if not earlier:
        return options
    which = ", ".join(f"#{h.import_id}" for h in earlier)
    replace = st.checkbox(f"Replace what the earlier import{'s' if len(earlier) > 1 else ''} of {name} ({which}) said",
                          key="actuals-replace",
                          help="For a corrected or complete export of the same data: the earlier import's facts stop "
                               "counting (undo this import to bring them back). Leave it off for an export of new "
                               "rows only.")
    if not replace:
        return options
    from dataclasses import replace as with_changes
    return with_changes(options, replace=True)


def _pick(label: str, options: list[str], default: str | None, key: str, where, help_text: str) -> str | None:
    index = options.index(default) if default in options else 0
    value = where.selectbox(label, options, index=index, key=key, help=help_text)
    return None if value == NONE else value


def _first_id(header, keys) -> str:
    if "id" in keys:
        return header[keys.index("id")]
    return next((h for h, k in zip(header, keys) if "id" in k.split()), header[0])


def _distinct(header: list[str], first: list[list[str]], column: str) -> list[str]:
    """The values of ``column`` in the first rows, most frequent first."""
    i = header.index(column)
    counts: dict[str, int] = {}
    for row in first:
        if i < len(row) and row[i].strip():
            counts[row[i].strip()] = counts.get(row[i].strip(), 0) + 1
    return sorted(counts, key=lambda v: (-counts[v], v))


def _head(text: str, name: str, delimiter: str | None) -> tuple[list[str], list[list[str]]]:
    """The header (as the import reads it; :class:`ImportRejected` when it cannot be) and the
    first 2,000 rows of a CSV text."""
    delimiter = delimiter or sniff_delimiter(text)
    header = parse_header(text, delimiter, name)
    reader = csv.reader(io.StringIO(text[:5_000_000]), delimiter=delimiter)
    rows = []
    try:
        next(reader)
    except (StopIteration, csv.Error):
        return header, rows
    try:
        for row in reader:
            if row:
                rows.append((row + [""] * len(header))[:len(header)])
            if len(rows) >= 2000:
                break
    except csv.Error:
        pass
    return header, rows
