"""What an import would do, before anything is written: the file read and checked exactly as
:func:`import_csv` does (every problem raised the same way), then, instead of writing, its
first rows with the stage each counts toward and the monthly counts and revenue it would
produce on its own. The store is only read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ...model.months import MONTH_FORMAT
from .batch import Batch, read_text
from .decoding import display_file_name
from .options import MAX_IMPORT_BYTES, ImportOptions, check_options, check_size
from .outcomes import LOST, OPEN, WON
from .writing import file_revenue_sql

if TYPE_CHECKING:
    from ..store import Store

PREVIEW_ROWS = 8


@dataclass(frozen=True)
class ImportPreview:
    """The import of a file as it would be: ``format``, ``rows``, ``stages`` (new ones in
    ``new_stages``), ``won_stage``, ``outcomes`` (won / lost / open records, or None),
    ``first_rows`` (``columns``, then one tuple per row: the file's row number, the record, the
    stage it counts toward, the date, its outcome), ``counts`` (month, stage, count) and
    ``revenue`` (month, revenue) this file alone gives (a monthly file's first rows: month,
    stage, count), and the ``notes`` the summary would have."""

    file_name: str
    format: str
    rows: int
    stages: tuple[str, ...]
    new_stages: tuple[str, ...]
    won_stage: str | None
    outcomes: dict[str, int] | None
    columns: tuple[str, ...]
    first_rows: tuple[tuple, ...]
    counts: tuple[tuple[str, str, int], ...]
    revenue: tuple[tuple[str, float], ...]
    notes: tuple[str, ...] = field(default_factory=tuple)
    sheet: str | None = None
    sheets: tuple[str, ...] = ()

    @property
    def months(self) -> tuple[str, ...]:
        return tuple(sorted({m for m, _, _ in self.counts} | {m for m, _ in self.revenue}))

    def count(self, month: str, stage: str) -> int | None:
        return next((c for m, s, c in self.counts if m == month and s == stage), None)

    def to_dict(self) -> dict:
        return {"file_name": self.file_name, "format": self.format, "rows": self.rows, "stages": list(self.stages),
                "new_stages": list(self.new_stages), "won_stage": self.won_stage, "outcomes": self.outcomes,
                "sheet": self.sheet, "sheets": list(self.sheets),
                "first_rows": [dict(zip(self.columns, map(_json, r))) for r in self.first_rows],
                "counts": [{"month": m, "stage": s, "count": c} for m, s, c in self.counts],
                "revenue": [{"month": m, "revenue": r} for m, r in self.revenue], "notes": list(self.notes)}


def preview_import(store: Store, data: bytes, file_name: str, *, options: ImportOptions = ImportOptions(),
                   scenario_stages: tuple[str, ...] = (), max_bytes: int = MAX_IMPORT_BYTES,
                   rows: int = PREVIEW_ROWS) -> ImportPreview:
    """What importing ``data`` with ``options`` would do; :class:`ImportRejected` with every
    problem, as the import itself would raise. Nothing is written."""
    name = display_file_name(file_name)
    check_options(options, name)
    check_size(data, max_bytes, name)
    text = read_text(store, data, name, options)
    cur = store.cursor()
    try:
        batch = Batch(cur, store, text, name, options, scenario_stages)
        try:
            found = batch.read()
            return _preview(batch, found, rows)
        finally:
            batch.drop()
    finally:
        cur.close()


def _preview(b: Batch, found, n: int) -> ImportPreview:
    names = dict(b.stages.known)
    stages = tuple(d for _, d in found.stages)
    new = tuple(d for k, d in found.stages if k not in b.stages.db_stages)
    if b.format == "monthly":
        counts = b.cur.execute(f"SELECT strftime(month, '{MONTH_FORMAT}'), stage_key, sum(count)::BIGINT "
                               f"FROM {found.counts} GROUP BY ALL ORDER BY 1").fetchall()
        revenue = b.cur.execute(f"SELECT strftime(month, '{MONTH_FORMAT}'), sum(revenue) FROM {found.revenue} "
                                f"GROUP BY ALL ORDER BY 1").fetchall()
        columns = ("month", "stage", "count")
        first = b.cur.execute(f"SELECT strftime(month, '{MONTH_FORMAT}'), stage_key, count FROM {found.counts} "
                              f"ORDER BY month LIMIT {n}").fetchall()
        first_rows = tuple((m, names.get(k, k), c) for m, k, c in first)
        won_name = None
    else:
        counts = b.cur.execute(f"SELECT strftime(date_trunc('month', reached), '{MONTH_FORMAT}'), stage_key, "
                               f"count(*) FROM {found.records} GROUP BY ALL ORDER BY 1").fetchall()
        outcome_join = (f"LEFT JOIN {found.outcomes} o USING (record_id)" if found.outcomes else
                        "LEFT JOIN (SELECT NULL::VARCHAR AS record_id, NULL::VARCHAR AS outcome, "
                        "NULL::DATE AS closed LIMIT 0) o USING (record_id)")
        revenue = b.cur.execute(f"SELECT strftime(month, '{MONTH_FORMAT}'), sum(amount) "
                                f"FROM ({file_revenue_sql(found.records, found)}) GROUP BY ALL ORDER BY 1").fetchall()
        won_name = names.get(found.won_stage) if found.won_stage else None
        columns, first_rows = _first_records(b, found, outcome_join, names, won_name, n)
    return ImportPreview(
        b.sheet.name, b.format, b.rows, stages, new, won_name, b.outcome_counts, columns, first_rows,
        tuple((m, names.get(k, k), int(c)) for m, k, c in counts), tuple((m, float(r)) for m, r in revenue),
        tuple(b.notes), b.workbook.sheet if b.workbook else None, b.workbook.sheets if b.workbook else ())


def _first_records(b: Batch, found, outcome_join: str, names: dict, won_name: str | None, n: int):
    """The first rows of a records or history file: the stage each counts toward (the last one
    it reached in the funnel's order) and when, and its outcome."""
    order = {k: i for i, k in enumerate(k for k, _ in found.stages)}
    if b.format == "history":
        stage_i, date_i = b.history_columns
        rows = b.cur.execute(
            f"""SELECT t.row, t.rid, trim(t.c{stage_i}), m.stage_key, m.lost, t.d{date_i}
                FROM (SELECT * FROM {b.typed} ORDER BY row LIMIT {n}) t
                LEFT JOIN {b.crm_table} m ON m.crm = t.crm ORDER BY t.row""").fetchall()
        out = []
        for row, rid, crm_text, key, lost, day in rows:
            counts = "lost" if lost else (names.get(key, key) if key else "(not mapped: ignored)")
            out.append((b.sheet.row_number(row), rid, crm_text, counts, day))
        return ("row", "record", "CRM stage", "counts toward", "date"), tuple(out)
    ids = b.cur.execute(f"SELECT row, rid FROM {b.typed} ORDER BY row LIMIT {n}").fetchall()
    facts = b.cur.execute(
        f"""SELECT r.record_id, r.stage_key, r.reached FROM {found.records} r
            WHERE r.record_id IN (SELECT unnest(?::VARCHAR[]))""", [[rid for _, rid in ids]]).fetchall()
    outcome = dict((rid, (o, c)) for rid, o, c in b.cur.execute(
        f"SELECT record_id, outcome, closed FROM (SELECT unnest(?::VARCHAR[]) AS record_id) x {outcome_join}",
        [[rid for _, rid in ids]]).fetchall())
    last: dict[str, tuple[str, object]] = {}
    for rid, key, day in facts:
        if rid not in last or order.get(key, 0) > order.get(last[rid][0], 0):
            last[rid] = (key, day)
    out = []
    for row, rid in ids:
        key, day = last.get(rid, (None, None))
        state, closed = outcome.get(rid, (None, None))
        stage = names.get(key, key) if key else "(no stage date)"
        if state == WON:
            what = f"{stage}: won"
        elif state == LOST:
            what = f"lost after {stage}" + (f" on {closed}" if closed else "") if key else "lost (no stage date)"
        elif state == OPEN:
            what = f"{stage}: open"
        else:
            what = stage
        out.append((b.sheet.row_number(row), rid, what, day))
    return ("row", "record", "counts toward", "date"), tuple(out)


def _json(value):
    return value.isoformat() if hasattr(value, "isoformat") else value
