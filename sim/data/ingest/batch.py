"""One import, start to end: the file decoded and laid out, its options checked, the very same
file recognised, the file read in its format with every problem collected, and what it says
written in one transaction (see :mod:`sim.data.ingest`)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import TYPE_CHECKING

from ...errors import ImportRejected
from ...model.months import label_of
from ...model.names import fold_name, tidy_name
from ...model.problems import Problems
from ..demo_content import remove_demo_in
from .checks import MAX_PROBLEMS, CellChecks
from .decoding import decode, display_file_name
from .layout import Sheet
from .monthly import read_monthly
from .options import MAX_IMPORT_BYTES, ImportOptions, check_options, check_size
from .records import read_records
from .stage_history import read_history
from .stages import StageNames
from .staging import TempTables, load_raw
from .values import date_sql, number_sql
from .workbook import SheetText, read_sheet, workbook_kind
from .writing import ImportResult, write

if TYPE_CHECKING:
    from ..store import Store


def import_csv(store: Store, data: bytes, file_name: str, *, options: ImportOptions = ImportOptions(),
               scenario_stages: tuple[str, ...] = (), max_bytes: int = MAX_IMPORT_BYTES,
               remove_demo: bool = False) -> ImportResult:
    """Validate ``data`` (the bytes of ``file_name``: a CSV file or a workbook) and import it in
    one transaction.

    ``scenario_stages`` are stage names to match columns against besides the database's own.
    ``remove_demo``: in the same transaction, remove the demo's data first (a clean database
    for the user's own). Raises :class:`ImportRejected` (nothing changed) on any problem.
    """
    name = display_file_name(file_name)
    check_options(options, name)
    check_size(data, max_bytes, name)
    digest = hashlib.sha256(data).hexdigest()
    options_json = options.to_json()
    with store.write_lock:
        cur = store.cursor()
        try:
            earlier = _same_import(cur, name, digest, options_json)
            if earlier is not None:
                return earlier
            batch = Batch(cur, store, read_text(store, data, name, options), name, options, scenario_stages)
            try:
                rows = batch.read()
                with store.transaction(cur) as tx:
                    removed = remove_demo_in(tx) if remove_demo else ""
                    result = write(tx, batch, rows, digest, options_json)
                return replace(result, message=f"{removed} {result.message}") if removed else result
            finally:
                batch.drop()
        finally:
            cur.close()


def read_text(store: Store, data: bytes, name: str, options: ImportOptions) -> str | SheetText:
    """The file as text: a workbook's sheet (:class:`SheetText`), or the decoded CSV text."""
    if workbook_kind(data, name):
        return read_sheet(data, name, store.staging_dir, sheet=options.sheet, decimal=options.decimal or ".")
    if options.sheet:
        raise ImportRejected(f"--sheet '{options.sheet}': the file is not a workbook (.xlsx, .xls, .ods) but a text "
                             f"file", name)
    return decode(data, name)


def _same_import(cur, name: str, digest: str, options_json: str) -> ImportResult | None:
    """The very same file (same bytes, same options) already imported, and not undone: what
    that import did, said again, and nothing changed."""
    same = cur.execute(
        "SELECT id, imported_at FROM imports WHERE content_hash = ? AND options = ? "
        "AND undone_at IS NULL ORDER BY id LIMIT 1", [digest, options_json]).fetchone()
    if not same:
        return None
    row = cur.execute("SELECT format, rows, stages, first_month, last_month FROM imports "
                      "WHERE id = ?", [same[0]]).fetchone()
    msg = (f"{name}: the very same file was already imported as import #{same[0]} "
           f"on {same[1]:%Y-%m-%d %H:%M}: nothing changed")
    return ImportResult(same[0], name, row[0], int(row[1]), tuple(row[2]), (),
                        label_of(row[3]), label_of(row[4]), 0, 0, True, msg)


def detect_format(columns) -> str:
    """The format of a file by its (folded) column names: ``month``: monthly; ``stage`` and
    ``date`` (one row per record and stage): history; else records."""
    if "month" in columns:
        return "monthly"
    if {"stage", "date"} <= set(columns):
        return "history"
    return "records"


class Batch:
    """One file being imported: its sheet, options, problems, temp tables and stage names, on
    the cursor ``cur`` (whose temp tables the write transaction sees)."""

    def __init__(self, cur, store: Store, text: str | SheetText, name: str, options: ImportOptions,
                 scenario_stages: tuple[str, ...]):
        self.cur, self.options = cur, options
        self.problems = Problems(limit=MAX_PROBLEMS)
        self.temps = TempTables(cur)
        self.staging_file = store.staging_path(self.temps.tag)
        self.stages = StageNames(cur, scenario_stages, self.problems)
        self.scenario_stages = tuple(fold_name(x) for x in scenario_stages)
        self.notes: list[str] = []
        self.outcome_counts: dict[str, int] | None = None
        self.typed = self.crm_table = self.history_columns = None   # what the readers made (for a preview)
        self.workbook = text if isinstance(text, SheetText) else None
        if self.workbook is not None:
            self.sheet = Sheet.read(self.workbook.text, name, first_row=self.workbook.first_row, delimiter=",")
            self.notes += self.workbook.notes
        else:
            self.sheet = Sheet.read(text, name)
        self.decimal = options.decimal or ("," if self.sheet.delimiter == ";" else ".")
        self.checks = CellChecks(cur, self.sheet, self.problems, self.decimal, options.date_format)

    def read(self):
        """The file's rows in temp tables (:class:`MonthlyRows` or :class:`RecordRows`), or
        :class:`ImportRejected` with every problem found."""
        self._check_header()
        self.raw, self.rows = load_raw(self.cur, self.sheet, self.staging_file, self.temps, self.problems)
        self.format = self.options.format or detect_format(self.sheet.column)
        if self.format == "monthly":
            return read_monthly(self)
        return read_history(self) if self.format == "history" else read_records(self)

    def _check_header(self) -> None:
        seen: dict[str, int] = {}
        for i, (h, k) in enumerate(zip(self.sheet.header, self.sheet.keys)):
            if not k:
                self.problems.add(f"column {i + 1} has no name in the header line")
            elif k in seen:
                self.problems.add(f"columns {seen[k] + 1} and {i + 1} have the same name '{h}'")
            else:
                seen[k] = i
        self.stop_if_problems()

    def stop_if_problems(self) -> None:
        self.problems.raise_if_any(ImportRejected, self.sheet.name)

    def drop(self) -> None:
        self.temps.drop()
        self.staging_file.unlink(missing_ok=True)

    # -- what the format readers ask ---------------------------------------------------------
    def number_sql(self, c: str, money: bool) -> str:
        return number_sql(c, money, self.decimal)

    def date_sql(self, c: str) -> str:
        # A workbook's date cells are written as ISO dates; its text cells follow the format.
        return date_sql(c, self.options.date_format, iso_too=self.workbook is not None)

    def find_column(self, name: str, option: str) -> int | None:
        """The index of the column named ``name`` (folded), or a problem naming ``option``."""
        key = fold_name(name)
        if key not in self.sheet.column:
            self.problems.add(f"{option}: there is no column '{tidy_name(name)}' in the file "
                              f"(columns: {', '.join(self.sheet.header)})")
            return None
        return self.sheet.column[key]

    def sql_params(self) -> dict:
        """The named parameters of :meth:`date_sql`'s SQL."""
        return {"fmt": self.options.date_format} if self.options.date_format else {}

    def check_date_format(self) -> None:
        fmt = self.options.date_format
        if fmt:
            try:
                self.cur.execute("SELECT try_strptime('2000-01-01', ?)", [fmt]).fetchall()
            except Exception:  # noqa: BLE001 - DuckDB rejects the format string
                self.problems.add(f"date format {fmt!r} is not valid (use strftime fields, e.g. %d-%m-%Y)")

    def id_column(self) -> int | None:
        """The record id's column: the option's, else a column named ``id``, else a problem."""
        o = self.options
        id_i = self.find_column(o.id_column, "id column") if o.id_column else self.sheet.column.get("id")
        if id_i is None and not o.id_column:
            self.problems.add(f"which column holds the record id? Name it (the id column; --id COLUMN on the "
                              f"command line); columns: {', '.join(self.sheet.header)}")
        return id_i

    def won_stage(self, stages: list[tuple[str, str]]) -> str:
        """The key of the stage a win counts toward: the option's, else the last of ``stages``
        (key, name) in the funnel's order (the scenario's, then the database's, then as mapped)."""
        if self.options.won_stage:
            return fold_name(self.options.won_stage)
        db_order = list(self.stages.db_stages)

        def rank(item):
            n, (key, _) = item
            if key in self.scenario_stages:
                return (0, self.scenario_stages.index(key))
            if key in db_order:
                return (1, db_order.index(key))
            return (2, n)
        return max(enumerate(stages), key=rank)[1][0]

    def mapped_columns(self) -> dict[int, str]:
        """Column index -> the stage name it was mapped to by ``options.mapping``."""
        out: dict[int, str] = {}
        for column, stage in self.options.mapping:
            index = self.find_column(column, f"mapping {column}={stage}")
            if index is not None:
                if index in out:
                    self.problems.add(f"column '{self.sheet.header[index]}' is mapped twice")
                out[index] = stage
        return out
