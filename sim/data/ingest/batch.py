"""CSV import of actuals into the store: validated, atomic, idempotent, undoable.

Two formats (README, "Actuals CSV formats"):

* **monthly**: a ``month`` column and one column per stage (plus an optional ``revenue``), or
  the long form ``month,stage,count``. A later import of the same month and stage replaces
  the earlier value (cell by cell); an empty cell states nothing.
* **records**: one row per lead or deal, an id column, a date column per stage it reached
  (empty when not reached) and optionally an amount, booked in the month of the record's
  latest stage date. Each (id, stage) counts once over all imports (the latest import's date
  wins), so overlapping exports never count twice.

The file is decoded in Python (UTF-8 with or without BOM, UTF-16 with BOM, else Latin-1 /
Windows-1252), written as UTF-8 to the store's staging folder and read by DuckDB's CSV reader
as text; every value is then parsed and checked in SQL. Column and stage names never enter
the SQL: columns are addressed as ``c0, c1, ...`` by position, stage names are parameters.

Any problem rejects the whole file (:class:`ImportRejected`, naming row and column) and the
database stays exactly as it was; otherwise everything is written in one transaction.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ...errors import ImportRejected
from ...model.names import fold_name, tidy_name
from ...model.scenario import MAX_STAGE_NAME
from ..store import Store

MAX_IMPORT_BYTES = 50 * 1024 * 1024      # the app's upload limit; the CLI may pass another
MAX_COLUMNS = 200
MAX_PROBLEMS = 20                         # problems listed before "... and N more"
MAX_COUNT = 1e9                           # per stage and month
MAX_AMOUNT = 1e12
FIRST_YEAR, LAST_YEAR = 1990, 2100
MAX_ID = 200                              # characters of a record id
FORMATS = ("monthly", "records")
RESERVED = {"month": "month", "revenue": "revenue"}
NOT_STATED = ("", "n/a", "na", "#n/a", "-", "--", "\u2013", "\u2014", "null", "none", "nan")
DELIMITERS = (",", ";", "\t", "|")
_NEW_STAGE_RE = re.compile(r"^[\w][\w &/().'#+-]*$")


@dataclass(frozen=True)
class ImportOptions:
    """How to read a file. ``mapping``: (column, stage) pairs; ``ignore``: columns to skip
    (monthly format); ``decimal``: "," or "." (default "," for ";"-delimited files)."""

    format: str | None = None
    mapping: tuple[tuple[str, str], ...] = ()
    id_column: str | None = None
    amount_column: str | None = None
    date_format: str | None = None
    decimal: str | None = None
    ignore: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps({"format": self.format, "mapping": [list(m) for m in self.mapping],
                           "id": self.id_column, "amount": self.amount_column,
                           "date_format": self.date_format, "decimal": self.decimal,
                           "ignore": list(self.ignore)}, sort_keys=True)


@dataclass(frozen=True)
class ImportResult:
    """What an import did (or, with ``already_imported``, that it did nothing)."""

    import_id: int
    file_name: str
    format: str
    rows: int
    stages: tuple[str, ...]
    new_stages: tuple[str, ...]
    first_month: str | None
    last_month: str | None
    revenue_months: int
    replaced: int
    already_imported: bool
    message: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {"import_id": self.import_id, "file_name": self.file_name, "format": self.format,
                "rows": self.rows, "stages": list(self.stages), "new_stages": list(self.new_stages),
                "first_month": self.first_month, "last_month": self.last_month,
                "revenue_months": self.revenue_months, "replaced": self.replaced,
                "already_imported": self.already_imported, "message": self.message,
                "notes": list(self.notes)}


@dataclass(frozen=True)
class ImportRecord:
    """A row of the import history."""

    import_id: int
    file_name: str
    content_hash: str
    format: str
    imported_at: datetime
    rows: int
    stages: tuple[str, ...]
    first_month: str | None
    last_month: str | None
    summary: str
    undone_at: datetime | None

    @property
    def active(self) -> bool:
        return self.undone_at is None

    def to_dict(self) -> dict:
        return {"import_id": self.import_id, "file_name": self.file_name,
                "content_hash": self.content_hash, "format": self.format,
                "imported_at": self.imported_at.isoformat(timespec="seconds"), "rows": self.rows,
                "stages": list(self.stages), "first_month": self.first_month,
                "last_month": self.last_month, "summary": self.summary,
                "undone_at": self.undone_at.isoformat(timespec="seconds") if self.undone_at else None}


# ------------------------------------------------------------------------------------------
# Public operations
# ------------------------------------------------------------------------------------------

def import_csv(store: Store, data: bytes, file_name: str, options: ImportOptions = ImportOptions(),
               scenario_stages: tuple[str, ...] = (), *, max_bytes: int = MAX_IMPORT_BYTES) -> ImportResult:
    """Validate ``data`` (the bytes of ``file_name``) and import it in one transaction.

    ``scenario_stages`` are stage names to match columns against besides the database's own.
    Raises :class:`ImportRejected` (nothing changed) on any problem.
    """
    name = _display_file_name(file_name)
    _check_options(options, name)
    if len(data) > max_bytes:
        size, limit = f"{len(data) / 2**20:,.1f} MB", f"{max_bytes / 2**20:,.0f} MB"
        if max_bytes < 2**20 or size == f"{max_bytes / 2**20:,.1f} MB":   # "0.0 MB over 0 MB"
            size, limit = f"{len(data):,} bytes", f"{max_bytes:,} bytes"
        raise ImportRejected(f"the file is {size}, over the limit of {limit}", name)
    text = _decode(data, name)
    digest = hashlib.sha256(data).hexdigest()
    options_json = options.to_json()
    with store.write_lock:
        cur = store.cursor()
        try:
            same = cur.execute(
                "SELECT id, imported_at FROM imports WHERE content_hash = ? AND options = ? "
                "AND undone_at IS NULL ORDER BY id LIMIT 1", [digest, options_json]).fetchone()
            if same:
                row = cur.execute("SELECT format, rows, stages, first_month, last_month FROM imports "
                                  "WHERE id = ?", [same[0]]).fetchone()
                msg = (f"{name}: the very same file was already imported as import #{same[0]} "
                       f"on {same[1]:%Y-%m-%d %H:%M}: nothing changed")
                return ImportResult(same[0], name, row[0], int(row[1]), tuple(row[2]), (),
                                    _month_label(row[3]), _month_label(row[4]), 0, 0, True, msg)
            batch = _Batch(cur, store, text, name, options, scenario_stages)
            try:
                batch.read()
                with store.transaction(cur) as tx:
                    return batch.write(tx, digest, options_json)
            finally:
                batch.drop()
        finally:
            cur.close()


def undo_import(store: Store, import_id: int) -> str:
    """Remove everything import ``import_id`` added; the values it replaced come back. Returns
    a sentence saying what was undone."""
    with store.transaction() as cur:
        row = cur.execute("SELECT file_name, undone_at FROM imports WHERE id = ?", [int(import_id)]).fetchone()
        if row is None:
            raise ImportRejected(f"there is no import #{import_id}")
        if row[1] is not None:
            raise ImportRejected(f"import #{import_id} ({row[0]}) was already undone on {row[1]:%Y-%m-%d %H:%M}")
        counts = {}
        for table in ("monthly_counts", "monthly_revenue", "record_stages", "record_amounts"):
            counts[table] = cur.execute(f"DELETE FROM {table} WHERE import_id = ?", [int(import_id)]).fetchone()[0]
        cur.execute("UPDATE imports SET undone_at = now()::TIMESTAMP WHERE id = ?", [int(import_id)])
        cur.execute("""DELETE FROM stages WHERE first_import = ?
                       AND key NOT IN (SELECT stage_key FROM monthly_counts)
                       AND key NOT IN (SELECT stage_key FROM record_stages)""", [int(import_id)])
    values = counts["monthly_counts"] + counts["monthly_revenue"]
    facts = counts["record_stages"] + counts["record_amounts"]
    what = f"{values:,} monthly values" if values else f"{facts:,} record facts"
    return f"Undid import #{import_id} ({row[0]}): removed {what}; earlier values are back."


def import_history(store: Store) -> list[ImportRecord]:
    """Every import, newest first, undone ones included."""
    rows = store.cursor().execute(
        "SELECT id, file_name, content_hash, format, imported_at, rows, stages, first_month, "
        "last_month, summary, undone_at FROM imports ORDER BY id DESC").fetchall()
    return [ImportRecord(r[0], r[1], r[2], r[3], r[4], int(r[5]), tuple(r[6]), _month_label(r[7]),
                         _month_label(r[8]), r[9], r[10]) for r in rows]


def known_stages(store: Store) -> tuple[str, ...]:
    """Stage names the database knows, in the order they were first imported."""
    return tuple(r[0] for r in store.cursor().execute("SELECT name FROM stages ORDER BY position").fetchall())


def preview(data: bytes, file_name: str, rows: int = 5) -> tuple[tuple[str, ...], list[list[str]]]:
    """The header and the first ``rows`` data rows of a CSV file, as text (for the app)."""
    name = _display_file_name(file_name)
    text = _decode(data, name)
    delimiter = _sniff_delimiter(text)
    header = tuple(_header(text, delimiter, name))
    reader = csv.reader(io.StringIO(text[:2_000_000]), delimiter=delimiter)
    out: list[list[str]] = []
    try:
        next(reader)
        for record in reader:
            if record:
                out.append((record + [""] * len(header))[:len(header)])
            if len(out) >= rows:
                break
    except csv.Error:
        pass
    return header, out


def read_header(data: bytes, file_name: str) -> tuple[str, ...]:
    """The column names of a CSV file (for the app's mapping form); raises ImportRejected."""
    text = _decode(data, _display_file_name(file_name))
    return tuple(_header(text, _sniff_delimiter(text), _display_file_name(file_name)))


# ------------------------------------------------------------------------------------------
# Reading a file
# ------------------------------------------------------------------------------------------

def _display_file_name(file_name: str) -> str:
    name = Path(str(file_name or "upload.csv")).name
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return name[:120] or "upload.csv"


def _check_options(options: ImportOptions, name: str) -> None:
    problems = []
    if options.format is not None and options.format not in FORMATS:
        problems.append(f"format must be one of {', '.join(FORMATS)}, not {options.format!r}")
    if options.decimal not in (None, ",", "."):
        problems.append(f"the decimal separator must be ',' or '.', not {options.decimal!r}")
    if options.date_format is not None and "%" not in options.date_format:
        problems.append(f"date format {options.date_format!r} has no % field (e.g. %d-%m-%Y)")
    for column, stage in options.mapping:
        if not str(column).strip() or not str(stage).strip():
            problems.append(f"mapping {column}={stage}: both a column and a stage are needed")
    if problems:
        raise ImportRejected(problems, name)


def _decode(data: bytes, name: str) -> str:
    if not data.strip():
        raise ImportRejected("the file is empty", name)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportRejected("the file starts like UTF-16 but is not valid UTF-16", name) from None
    elif data.startswith(b"\x1f\x8b") or data.startswith(b"PK\x03\x04"):
        raise ImportRejected("this is a compressed file (gzip or zip): unpack it and import the CSV", name)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace") if not _latin1_only(data) else data.decode("latin-1")
    text = text.lstrip("\ufeff")
    if not text or text.isspace():          # a byte-order mark and nothing else
        raise ImportRejected("the file is empty", name)
    if "\x00" in text:
        head = data[:400]
        if len(head) >= 8 and max(head[0::2].count(0), head[1::2].count(0)) >= 0.9 * (len(head) // 2):
            raise ImportRejected("the file contains NUL bytes: it looks like UTF-16 text without a byte-order "
                                 "mark; save it as UTF-8 (or UTF-16 with its byte-order mark)", name)
        raise ImportRejected("the file contains NUL bytes: it is binary, not a CSV text file", name)
    control = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\r\n\t")
    if control > 8:
        raise ImportRejected("the file contains control characters: it is binary, not a CSV text file", name)
    return text


def _latin1_only(data: bytes) -> bool:
    """True when no byte is in 0x80-0x9F (where Windows-1252 and Latin-1 differ)."""
    return not re.search(rb"[\x80-\x9f]", data)


def _sniff_delimiter(text: str) -> str:
    """The delimiter: of the candidates found in the header line (outside quotes), the one
    that splits the most of the next lines into as many fields as the header, then the one
    found most often in the header."""
    lines = [re.sub(r'"[^"]*"', "", line) for line in text[:200_000].splitlines()[:21] if line.strip()]
    if not lines:
        return ","
    header = {d: lines[0].count(d) for d in DELIMITERS}
    present = [d for d in DELIMITERS if header[d]]
    if not present:
        return ","
    consistent = {d: sum(1 for line in lines[1:] if line.count(d) == header[d]) for d in present}
    return max(present, key=lambda d: (consistent[d], header[d]))


def _header(text: str, delimiter: str, name: str) -> list[str]:
    try:
        header = next(csv.reader(io.StringIO(text[:1_000_000]), delimiter=delimiter))
    except csv.Error as exc:
        why = (f": a column name is longer than {csv.field_size_limit():,} characters"
               if "field limit" in str(exc) else "")
        raise ImportRejected(f"the header line cannot be read{why}", name) from None
    except StopIteration:
        raise ImportRejected("the header line cannot be read", name) from None
    # Invisible format characters (zero-width space, BOM, bidi overrides) are dropped, as in
    # file names: "Le\u200bads" would otherwise show as an unknown stage "Leads".
    header = [" ".join("".join(ch for ch in h if unicodedata.category(ch) != "Cf").split()) for h in header]
    if not any(header):
        raise ImportRejected("the first line is empty: it must hold the column names", name)
    if len(header) > MAX_COLUMNS:
        raise ImportRejected(f"the file has {len(header)} columns; at most {MAX_COLUMNS} are supported", name)
    return header


def _month_label(value) -> str | None:
    return None if value is None else f"{value.year:04d}-{value.month:02d}"


def _quote_list(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


class _Batch:
    """One file being imported: staged, read into temp tables on ``cur``, validated, written."""

    def __init__(self, cur, store: Store, text: str, name: str, options: ImportOptions,
                 scenario_stages: tuple[str, ...]):
        self.cur, self.store, self.text, self.name, self.options = cur, store, text, name, options
        self.tag = uuid.uuid4().hex[:12]
        self.path = store.staging_dir / f"import-{self.tag}.csv"
        self.tables: list[str] = []
        self.problems: list[str] = []
        self.extra = 0
        self.notes: list[str] = []
        self._rows: list[int] | None = None
        known = cur.execute("SELECT key, name FROM stages ORDER BY position").fetchall()
        self.db_stages = {k: n for k, n in known}
        self.known = dict(self.db_stages)
        for s in scenario_stages:
            self.known.setdefault(fold_name(s), tidy_name(s))

    # -- problems ----------------------------------------------------------------------------
    def rn(self, record: int) -> int:
        """The row number a spreadsheet shows (header = row 1) of DuckDB's record number
        ``record`` (header = 1), which skips blank lines."""
        if self._rows is None:
            if "\n\n" not in self.text and "\n\r\n" not in self.text and not self.text.startswith(("\n", "\r\n")):
                self._rows = []
            else:   # blank lines: number the records as csv does (a blank line is a row)
                reader = csv.reader(io.StringIO(self.text), delimiter=self.delimiter)
                try:
                    self._rows = [n for n, rec in enumerate(reader, start=1) if rec]
                except csv.Error:   # e.g. a field over csv's size limit: DuckDB's numbers
                    self._rows = []
        record = int(record)
        return self._rows[record - 1] if 0 < record <= len(self._rows) else record

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)
        else:
            self.extra += 1

    def stop_if_problems(self) -> None:
        if self.problems:
            problems = list(self.problems)
            if self.extra:
                problems.append(f"... and {self.extra:,} more problems")
            raise ImportRejected(problems, self.name)

    def temp(self, kind: str, view: bool = False) -> str:
        """A name for a temp table (or view) of this batch, dropped by :meth:`drop`."""
        table = f"{kind}_{self.tag}"
        self.tables.append(("VIEW" if view else "TABLE", table))
        return table

    def drop(self) -> None:
        for kind, table in reversed(self.tables):
            try:
                self.cur.execute(f"DROP {kind} IF EXISTS {table}")
            except Exception:  # noqa: BLE001 - best effort clean-up of a temp table
                pass
        self.path.unlink(missing_ok=True)

    # -- reading -----------------------------------------------------------------------------
    def read(self) -> None:
        # DuckDB's reader fails ("state machine reached an invalid state") on mixed CRLF and LF
        # line ends (a CRLF export with a line added in another editor): use LF throughout.
        self.text = self.text.replace("\r\n", "\n")
        self.delimiter = _sniff_delimiter(self.text)
        self.decimal = self.options.decimal or ("," if self.delimiter == ";" else ".")
        self.header = _header(self.text, self.delimiter, self.name)
        self.keys = [fold_name(h) for h in self.header]
        seen: dict[str, int] = {}
        for i, (h, k) in enumerate(zip(self.header, self.keys)):
            if not k:
                self.problem(f"column {i + 1} has no name in the header line")
            elif k in seen:
                self.problem(f"columns {seen[k] + 1} and {i + 1} have the same name '{h}'")
            else:
                seen[k] = i
        self.stop_if_problems()
        self.column = seen                    # normalised header -> index
        self.path.write_text(self.text, encoding="utf-8", newline="")
        self.raw = self.temp("raw")
        self.rejects, self.scans = self.temp("rejects"), self.temp("scans")
        columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(self.header))) + "}"
        try:
            self.cur.execute(
                f"CREATE TEMP TABLE {self.raw} AS SELECT * FROM read_csv(?, auto_detect = false, "
                f"header = false, skip = 1, columns = {columns}, delim = ?, quote = '\"', escape = '\"', "
                f"all_varchar = true, store_rejects = true, rejects_table = '{self.rejects}', "
                f"rejects_scan = '{self.scans}', max_line_size = 20000000)",
                [str(self.path), self.delimiter])
        except Exception as exc:  # noqa: BLE001 - DuckDB's reader: report, never crash
            raise ImportRejected(f"the file cannot be read as CSV: {str(exc).splitlines()[0][:200]}",
                                 self.name) from None
        # DuckDB logs one reject per missing / extra column of a line: report each line once,
        # with the reject whose "Found: N" is the line's real field count.
        rejected = self.cur.execute(
            f"SELECT line, error_type, CASE WHEN error_type = 'TOO MANY COLUMNS' "
            f"THEN arg_max(error_message, column_idx) ELSE arg_min(error_message, column_idx) END "
            f"FROM {self.rejects} GROUP BY line, error_type ORDER BY line LIMIT {MAX_PROBLEMS + 1}").fetchall()
        if rejected:
            total = self.cur.execute(f"SELECT count(DISTINCT (line, error_type)) FROM {self.rejects}").fetchone()[0]
            for line, kind, message in rejected[:MAX_PROBLEMS]:
                self.problem(f"row {self.rn(line)}: {_reject_text(kind, message, len(self.header))}")
            self.extra += max(0, total - MAX_PROBLEMS)
            self.stop_if_problems()
        self.rows = self.cur.execute(f"SELECT count(*) FROM {self.raw}").fetchone()[0]
        if self.rows == 0:
            raise ImportRejected("the file has a header but no data rows", self.name)
        self.format = self.options.format or ("monthly" if "month" in self.column else "records")
        if self.format == "monthly":
            self._read_monthly()
        else:
            self._read_records()

    # -- values ------------------------------------------------------------------------------
    def col(self, index: int) -> str:
        return f"c{index}"

    def label(self, index: int) -> str:
        return f"column '{self.header[index]}'"

    def blank_sql(self, c: str) -> str:
        return f"({c} IS NULL OR lower(trim({c})) IN ({_quote_list(NOT_STATED)}))"

    def number_sql(self, c: str, money: bool) -> str:
        """SQL parsing column ``c`` as a number (NULL when not a number)."""
        v = f"regexp_replace(trim({c}), '[\\s\u00a0\u202f''\u2019]', '', 'g')"
        if money:
            v = f"regexp_replace({v}, '^(-?)(?:[$\u20ac\u00a3]|EUR|USD|GBP)|(?:[$\u20ac\u00a3]|EUR|USD|GBP)$', '\\1')"
        if self.decimal == ",":
            pattern, plain = r"-?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?", f"replace(replace({v}, '.', ''), ',', '.')"
        else:
            pattern, plain = r"-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?", f"replace({v}, ',', '')"
        return f"(CASE WHEN regexp_full_match({v}, '{pattern}') THEN TRY_CAST({plain} AS DOUBLE) END)"

    def check_numbers(self, table: str, index: int, what: str, money: bool) -> None:
        """Problems for the cells of column ``index`` (parsed into ``v{index}`` of ``table``)."""
        c, v, label = self.col(index), f"v{index}", self.label(index)
        hint = (" (this file's numbers are read with a decimal comma: use --decimal . / the "
                "'decimal separator' setting if it uses a decimal point)" if self.decimal == ","
                else "")
        limit = MAX_AMOUNT if money else MAX_COUNT
        checks = [
            (f"{v} IS NULL AND NOT {self.blank_sql(c)}", f"is not a number{hint}"),
            (f"{v} < 0", "is negative"),
            (f"{v} > {limit}", f"is implausibly large (over {limit:,.0f})"),
        ]
        if not money:
            checks.append((f"{v} <> round({v})", "is not a whole number"))
        for condition, text in checks:
            self.report(table, c, condition, label, text, what)

    def report(self, table: str, c: str, condition: str, label: str, text: str, what: str) -> None:
        """Problems for the rows of ``table`` meeting ``condition``: one per row when there are
        a few, else one line for the column with the first rows as examples."""
        bad = self.cur.execute(f"SELECT row, {c} FROM {table} WHERE {condition} ORDER BY row "
                               f"LIMIT 4").fetchall()
        if len(bad) <= 3:
            for row, value in bad:
                self.problem(f"row {self.rn(row)}, {label}: {_show(value)} {text} ({what})")
            return
        total = self.cur.execute(f"SELECT count(*) FROM {table} WHERE {condition}").fetchone()[0]
        examples = ", ".join(f"row {self.rn(row)} {_show(value)}" for row, value in bad[:3])
        self.problem(f"{label}: {total:,} values {_plural_verb(text)} ({what}), e.g. {examples}")

    def month_sql(self, c: str) -> str:
        formats = "['%Y-%m', '%Y-%m-%d', '%Y/%m', '%Y/%m/%d', '%b %Y', '%B %Y', '%m/%Y']"
        return f"date_trunc('month', try_strptime(trim({c}), {formats}))::DATE"

    def date_sql(self, c: str) -> str:
        if self.options.date_format:
            return f"try_strptime(trim({c}), $fmt)::DATE"
        return f"try_cast(trim({c}) AS TIMESTAMP)::DATE"

    def check_dates(self, table: str, index: int, what: str) -> None:
        c, d, label = self.col(index), f"d{index}", self.label(index)
        fmt = self.options.date_format
        expected = (f"a date as {fmt}" if fmt else
                    "an ISO date (YYYY-MM-DD; for other layouts give the date format, such as %d-%m-%Y)")
        checks = [
            (f"{d} IS NULL AND NOT {self.blank_sql(c)}", f"is not {expected}"),
            (f"(NOT isfinite({d}) OR year({d}) < {FIRST_YEAR} OR year({d}) > {LAST_YEAR})",
             f"is outside the plausible years {FIRST_YEAR}-{LAST_YEAR}"),
        ]
        for condition, text in checks:
            self.report(table, c, condition, label, text, what)

    # -- stages ------------------------------------------------------------------------------
    def resolve_stage(self, name: str, where: str) -> tuple[str, str] | None:
        """(key, display name) of a stage named ``name``; a new stage when unknown."""
        display = tidy_name(name)
        key = fold_name(display)
        if key in RESERVED:
            self.problem(f"{where}: '{display}' is reserved and cannot be a stage name")
            return None
        if key in self.known:
            return key, self.known[key]
        if len(display) > MAX_STAGE_NAME or not _NEW_STAGE_RE.match(display):
            self.problem(f"{where}: '{display}' is not a known stage, and a new stage name must be at "
                         f"most {MAX_STAGE_NAME} characters of letters, digits, spaces and - & / ( ) . ' # +, "
                         f"starting with a letter or digit")
            return None
        self.known[key] = display
        return key, display

    def find_column(self, name: str, option: str) -> int | None:
        key = fold_name(name)
        if key not in self.column:
            self.problem(f"{option}: there is no column '{' '.join(str(name).split())}' in the file "
                         f"(columns: {', '.join(self.header)})")
            return None
        return self.column[key]

    def mapped_columns(self) -> dict[int, str]:
        """Column index -> the stage name it was mapped to by ``options.mapping``."""
        out: dict[int, str] = {}
        for column, stage in self.options.mapping:
            index = self.find_column(column, f"mapping {column}={stage}")
            if index is not None:
                if index in out:
                    self.problem(f"column '{self.header[index]}' is mapped twice")
                out[index] = stage
        return out

    # -- monthly -----------------------------------------------------------------------------
    def _read_monthly(self) -> None:
        if "month" not in self.column:
            self.problem(f"the monthly format needs a 'month' column (columns: {', '.join(self.header)})")
            self.stop_if_problems()
        if {"stage", "count"} <= set(self.column) and not self.options.mapping:
            return self._read_monthly_long()
        month_i = self.column["month"]
        revenue_i = self.column.get("revenue")
        ignored = set()
        for column in self.options.ignore:
            index = self.find_column(column, f"ignore {column}")
            if index is not None:
                ignored.add(index)
        mapped = self.mapped_columns()
        stage_cols: dict[int, tuple[str, str]] = {}
        for i, h in enumerate(self.header):
            if i in (month_i, revenue_i) or i in ignored:
                continue
            resolved = self.resolve_stage(mapped.get(i, h), f"column '{h}'")
            if resolved:
                stage_cols[i] = resolved
        seen: dict[str, int] = {}
        for i, (key, display) in stage_cols.items():
            if key in seen:
                self.problem(f"columns '{self.header[seen[key]]}' and '{self.header[i]}' are both stage '{display}'")
            seen[key] = i
        if not stage_cols and revenue_i is None:
            self.problem("the file has a month column but no stage or revenue columns")
        self.stop_if_problems()

        typed = self.temp("typed")
        value_cols = list(stage_cols) + ([revenue_i] if revenue_i is not None else [])
        parts = ["rowid + 2 AS row", f"c{month_i}", f"{self.month_sql(f'c{month_i}')} AS m"]
        parts += [f"c{i}" for i in value_cols]
        parts += [f"{self.number_sql(f'c{i}', money=(i == revenue_i))} AS v{i}" for i in value_cols]
        self.cur.execute(f"CREATE TEMP TABLE {typed} AS SELECT {', '.join(parts)} FROM {self.raw}")
        self.check_month_column(typed, month_i)
        dupes = self.cur.execute(
            f"SELECT strftime(m, '%Y-%m'), list(row ORDER BY row) FROM {typed} WHERE m IS NOT NULL "
            f"GROUP BY m HAVING count(*) > 1 ORDER BY m LIMIT 10").fetchall()
        for month, rows in dupes:
            self.problem(f"rows {', '.join(map(str, map(self.rn, rows[:5])))}, {self.label(month_i)}: month {month} "
                         f"appears more than once")
        for i in value_cols:
            self.check_numbers(typed, i, "revenue" if i == revenue_i else f"stage {stage_cols[i][1]}",
                               money=(i == revenue_i))
        self.stop_if_problems()

        self.counts, self.revenue = self.temp("counts"), self.temp("revenue")
        self.cur.execute(f"CREATE TEMP TABLE {self.counts} (month DATE, stage_key VARCHAR, count BIGINT)")
        for i, (key, _) in stage_cols.items():
            self.cur.execute(f"INSERT INTO {self.counts} SELECT m, ?, v{i}::BIGINT FROM {typed} "
                             f"WHERE v{i} IS NOT NULL", [key])
        self.cur.execute(f"CREATE TEMP TABLE {self.revenue} (month DATE, revenue DOUBLE)")
        if revenue_i is not None:
            self.cur.execute(f"INSERT INTO {self.revenue} SELECT m, v{revenue_i} FROM {typed} "
                             f"WHERE v{revenue_i} IS NOT NULL")
        self.stages = [s for s in stage_cols.values()]

    def check_month_column(self, typed: str, month_i: int) -> None:
        c, label = f"c{month_i}", self.label(month_i)
        bad = self.cur.execute(
            f"SELECT row, {c}, m FROM {typed} WHERE m IS NULL OR NOT isfinite(m) OR year(m) < {FIRST_YEAR} "
            f"OR year(m) > {LAST_YEAR} ORDER BY row LIMIT {MAX_PROBLEMS}").fetchall()
        for row, value, m in bad:
            if m is None:
                self.problem(f"row {self.rn(row)}, {label}: {_show(value)} is not a month (use YYYY-MM, e.g. 2027-01)")
            else:
                self.problem(f"row {self.rn(row)}, {label}: {_show(value)} is outside the plausible years "
                             f"{FIRST_YEAR}-{LAST_YEAR}")
        return bad

    def _read_monthly_long(self) -> None:
        month_i, stage_i, count_i = self.column["month"], self.column["stage"], self.column["count"]
        typed = self.temp("typed")
        self.cur.execute(
            f"CREATE TEMP TABLE {typed} AS SELECT rowid + 2 AS row, c{month_i}, "
            f"{self.month_sql(f'c{month_i}')} AS m, c{stage_i}, trim(c{stage_i}) AS stage_text, "
            f"c{count_i}, {self.number_sql(f'c{count_i}', money=False)} AS v{count_i}, "
            f"{self.number_sql(f'c{count_i}', money=True)} AS money FROM {self.raw}")
        self.check_month_column(typed, month_i)
        distinct = self.cur.execute(f"SELECT DISTINCT stage_text FROM {typed} WHERE stage_text IS NOT NULL "
                                    f"AND stage_text <> '' LIMIT 101").fetchall()
        if len(distinct) > 100:
            self.problem(f"{self.label(stage_i)} has more than 100 different stage names")
            self.stop_if_problems()
        blank = self.cur.execute(f"SELECT row FROM {typed} WHERE stage_text IS NULL OR stage_text = '' "
                                 f"ORDER BY row LIMIT 5").fetchall()
        for (row,) in blank:
            self.problem(f"row {self.rn(row)}, {self.label(stage_i)}: the stage is empty")
        names = self.temp("names")
        self.cur.execute(f"CREATE TEMP TABLE {names} (stage_text VARCHAR, stage_key VARCHAR)")
        self.stages = []
        for (text,) in distinct:
            key = fold_name(text)
            if key == "revenue":
                self.cur.execute(f"INSERT INTO {names} VALUES (?, ?)", [text, "revenue"])
                continue
            resolved = self.resolve_stage(text, f"{self.label(stage_i)}")
            if resolved:
                self.cur.execute(f"INSERT INTO {names} VALUES (?, ?)", [text, resolved[0]])
                if resolved not in self.stages:
                    self.stages.append(resolved)
        self.stop_if_problems()
        joined = self.temp("long")
        self.cur.execute(
            f"CREATE TEMP TABLE {joined} AS SELECT t.row, t.m, n.stage_key, t.c{count_i}, "
            f"CASE WHEN n.stage_key = 'revenue' THEN t.money ELSE t.v{count_i} END AS v{count_i}, "
            f"n.stage_key = 'revenue' AS is_revenue "
            f"FROM {typed} t JOIN {names} n USING (stage_text)")
        missing = self.cur.execute(f"SELECT row FROM {joined} WHERE {self.blank_sql(f'c{count_i}')} "
                                   f"ORDER BY row LIMIT 5").fetchall()
        for (row,) in missing:
            self.problem(f"row {self.rn(row)}, {self.label(count_i)}: the count is empty")
        for is_revenue in (False, True):
            sub = self.temp(f"part{int(is_revenue)}")
            self.cur.execute(f"CREATE TEMP TABLE {sub} AS SELECT * FROM {joined} WHERE is_revenue = ?", [is_revenue])
            self.check_numbers(sub, count_i, "revenue" if is_revenue else "stage count", money=is_revenue)
        dupes = self.cur.execute(
            f"SELECT strftime(m, '%Y-%m'), stage_key, list(row ORDER BY row) FROM {joined} "
            f"WHERE m IS NOT NULL GROUP BY ALL HAVING count(*) > 1 ORDER BY 1 LIMIT 10").fetchall()
        for month, key, rows in dupes:
            name = "revenue" if key == "revenue" else self.known[key]
            self.problem(f"rows {', '.join(map(str, map(self.rn, rows[:5])))}: {month} {name} is given more than once")
        self.stop_if_problems()
        self.counts, self.revenue = self.temp("counts"), self.temp("revenue")
        self.cur.execute(f"CREATE TEMP TABLE {self.counts} AS SELECT m AS month, stage_key, "
                         f"v{count_i}::BIGINT AS count FROM {joined} WHERE NOT is_revenue")
        self.cur.execute(f"CREATE TEMP TABLE {self.revenue} AS SELECT m AS month, v{count_i} AS revenue "
                         f"FROM {joined} WHERE is_revenue")

    # -- records -----------------------------------------------------------------------------
    def _read_records(self) -> None:
        o = self.options
        if o.date_format:
            try:
                self.cur.execute("SELECT try_strptime('2000-01-01', ?)", [o.date_format]).fetchall()
            except Exception:  # noqa: BLE001 - DuckDB rejects the format string
                self.problem(f"date format {o.date_format!r} is not valid (use strftime fields, e.g. %d-%m-%Y)")
        id_i = self.find_column(o.id_column, "id column") if o.id_column else self.column.get("id")
        if id_i is None and not o.id_column:
            self.problem(f"which column holds the record id? Name it (the id column; --id COLUMN on the command "
                         f"line); columns: {', '.join(self.header)}")
        amount_i = (self.find_column(o.amount_column, "amount column") if o.amount_column
                    else self.column.get("amount"))
        if o.mapping:
            mapped = self.mapped_columns()
        else:   # columns named like a known stage
            mapped = {i: self.header[i] for i, k in enumerate(self.keys) if k in self.known and i != id_i}
            if not mapped and id_i is not None:
                self.problem("no column is mapped to a stage: map each stage's date column "
                             f"(--map COLUMN=STAGE on the command line); columns: {', '.join(self.header)}")
        stage_cols: dict[int, tuple[str, str]] = {}
        for i, stage in mapped.items():
            if i in (id_i, amount_i):
                self.problem(f"column '{self.header[i]}' cannot be both a stage date and the id or amount")
                continue
            resolved = self.resolve_stage(stage, f"mapping of column '{self.header[i]}'")
            if resolved:
                if resolved[0] in {k for k, _ in stage_cols.values()}:
                    self.problem(f"two columns are mapped to stage '{resolved[1]}'")
                stage_cols[i] = resolved
        self.stop_if_problems()

        typed = self.temp("typed")
        parts = ["rowid + 2 AS row", f"c{id_i}", f"trim(c{id_i}) AS rid"]
        parts += [f"c{i}" for i in stage_cols] + [f"{self.date_sql(f'c{i}')} AS d{i}" for i in stage_cols]
        if amount_i is not None:
            parts += [f"c{amount_i}", f"{self.number_sql(f'c{amount_i}', money=True)} AS v{amount_i}"]
        params = {"fmt": o.date_format} if o.date_format else {}
        self.cur.execute(f"CREATE TEMP TABLE {typed} AS SELECT {', '.join(parts)} FROM {self.raw}", params)
        id_label = self.label(id_i)
        for row, in self.cur.execute(f"SELECT row FROM {typed} WHERE rid IS NULL OR rid = '' ORDER BY row "
                                     f"LIMIT {MAX_PROBLEMS}").fetchall():
            self.problem(f"row {self.rn(row)}, {id_label}: the id is empty")
        for row, in self.cur.execute(f"SELECT row FROM {typed} WHERE length(rid) > {MAX_ID} ORDER BY row "
                                     f"LIMIT 5").fetchall():
            self.problem(f"row {self.rn(row)}, {id_label}: the id is longer than {MAX_ID} characters")
        dupes = self.cur.execute(f"SELECT rid, list(row ORDER BY row) FROM {typed} WHERE rid <> '' "
                                 f"GROUP BY rid HAVING count(*) > 1 ORDER BY min(row) LIMIT 10").fetchall()
        for rid, rows in dupes:
            self.problem(f"rows {', '.join(map(str, map(self.rn, rows[:5])))}, {id_label}: id {_show(rid)} appears more than once")
        for i, (_, display) in stage_cols.items():
            self.check_dates(typed, i, f"date of stage {display}")
        if amount_i is not None:
            self.check_numbers(typed, amount_i, "amount", money=True)
        if amount_i is not None and not self.problems:
            any_date = " OR ".join(f"d{i} IS NOT NULL" for i in stage_cols) or "false"
            for row, value in self.cur.execute(
                    f"SELECT row, c{amount_i} FROM {typed} WHERE v{amount_i} IS NOT NULL AND NOT ({any_date}) "
                    f"ORDER BY row LIMIT 5").fetchall():
                self.problem(f"row {self.rn(row)}, {self.label(amount_i)}: amount {_show(value)} but no stage date, so "
                             f"no month to book it in")
        self.stop_if_problems()

        # Temp views, not tables: the rows are copied once, into the store, in write().
        keys = self.temp("stagekeys")
        self.cur.execute(f"CREATE TEMP TABLE {keys} (stage_no INTEGER, stage_key VARCHAR)")
        self.cur.executemany(f"INSERT INTO {keys} VALUES (?, ?)",
                             [[n, key] for n, (key, _) in enumerate(stage_cols.values())])
        parts = [f"SELECT rid, {n} AS stage_no, d{i} AS reached FROM {typed} WHERE d{i} IS NOT NULL"
                 for n, i in enumerate(stage_cols)]
        self.records, self.amounts = self.temp("records", view=True), self.temp("amounts", view=True)
        self.cur.execute(f"CREATE TEMP VIEW {self.records} AS SELECT t.rid AS record_id, k.stage_key, t.reached "
                         f"FROM ({' UNION ALL '.join(parts)}) t JOIN {keys} k USING (stage_no)")
        amounts = (f"SELECT rid AS record_id, v{amount_i} AS amount FROM {typed} WHERE v{amount_i} IS NOT NULL"
                   if amount_i is not None else "SELECT NULL::VARCHAR AS record_id, NULL::DOUBLE AS amount LIMIT 0")
        self.cur.execute(f"CREATE TEMP VIEW {self.amounts} AS {amounts}")
        no_date = self.cur.execute(f"SELECT count(*) FROM {typed} WHERE NOT ("
                                   + (" OR ".join(f"d{i} IS NOT NULL" for i in stage_cols)) + ")").fetchone()[0]
        if no_date:
            self.notes.append(f"{no_date:,} rows have no date in any mapped stage column")
        self.stages = list(stage_cols.values())

    # -- writing -----------------------------------------------------------------------------
    def write(self, tx, digest: str, options_json: str) -> ImportResult:
        import_id = tx.execute("SELECT coalesce(max(id), 0) + 1 FROM imports").fetchone()[0]
        position = tx.execute("SELECT coalesce(max(position), 0) FROM stages").fetchone()[0]
        new_stages = []
        for key, display in self.stages:
            if key not in self.db_stages:
                position += 1
                tx.execute("INSERT INTO stages VALUES (?, ?, ?, ?)", [key, display, position, import_id])
                new_stages.append(display)
        if self.format == "monthly":
            replaced = tx.execute(
                f"SELECT count(*) FROM {self.counts} b JOIN counts_from_monthly m USING (month, stage_key)"
            ).fetchone()[0] + tx.execute(
                f"SELECT count(*) FROM {self.revenue} b WHERE month IN (SELECT month FROM monthly_revenue)"
            ).fetchone()[0]
            tx.execute(f"INSERT INTO monthly_counts SELECT ?, month, stage_key, count FROM {self.counts}", [import_id])
            tx.execute(f"INSERT INTO monthly_revenue SELECT ?, month, revenue FROM {self.revenue}", [import_id])
            span = tx.execute(f"SELECT min(month), max(month) FROM (SELECT month FROM {self.counts} "
                              f"UNION ALL SELECT month FROM {self.revenue})").fetchone()
            revenue_months = tx.execute(f"SELECT count(*) FROM {self.revenue}").fetchone()[0]
        else:
            replaced = tx.execute(f"SELECT count(*) FROM {self.records} b "
                                  f"SEMI JOIN record_reached r USING (record_id, stage_key)").fetchone()[0]
            tx.execute(f"INSERT INTO record_stages SELECT ?, record_id, stage_key, reached FROM {self.records}",
                       [import_id])
            tx.execute(f"INSERT INTO record_amounts SELECT ?, record_id, amount FROM {self.amounts}", [import_id])
            span = tx.execute(f"SELECT min(date_trunc('month', reached)), max(date_trunc('month', reached)) "
                              f"FROM {self.records}").fetchone()
            revenue_months = tx.execute(
                f"SELECT count(DISTINCT date_trunc('month', r.booked)) FROM {self.amounts} a JOIN "
                f"(SELECT record_id, max(reached) AS booked FROM {self.records} GROUP BY ALL) r USING (record_id)"
            ).fetchone()[0]
        first, last = _month_label(span[0]), _month_label(span[1])
        names = tuple(d for _, d in self.stages)
        message = self.summary(import_id, names, new_stages, first, last, revenue_months, replaced)
        tx.execute("INSERT INTO imports VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, NULL)",
                   [import_id, self.name, digest, self.format, options_json, self.rows, list(names),
                    new_stages, span[0], span[1], message])
        return ImportResult(import_id, self.name, self.format, self.rows, names, tuple(new_stages),
                            first, last, int(revenue_months), int(replaced), False, message, tuple(self.notes))

    def summary(self, import_id, names, new_stages, first, last, revenue_months, replaced) -> str:
        span = f"{first} to {last}" if first and first != last else (first or "no months")
        parts = [f"Imported {self.name} as import #{import_id} ({self.format} format): "
                 f"{self.rows:,} rows, {span}"]
        if names:
            parts.append(f"stages {', '.join(names)}")
        if revenue_months:
            parts.append(f"revenue for {revenue_months} month{'s' if revenue_months != 1 else ''}")
        text = "; ".join(parts) + "."
        if new_stages:
            text += f" New stage{'s' if len(new_stages) > 1 else ''}: {', '.join(new_stages)}."
        if replaced and self.format == "monthly":
            text += f" Replaced {replaced:,} earlier value{'s' if replaced != 1 else ''}."
        elif replaced:
            text += (f" {replaced:,} (record, stage) pairs were already known from earlier imports and "
                     f"count once.")
        for note in self.notes:
            text += f" Note: {note}."
        return text


def _plural_verb(text: str) -> str:
    """``is not a number`` -> ``are not a number``: the verb of a problem for several values."""
    return "are" + text[2:] if text.startswith("is ") else text


def _show(value) -> str:
    text = "" if value is None else str(value)
    text = text if len(text) <= 40 else text[:37] + "..."
    return repr(text)


def _reject_text(kind: str, message: str, columns: int) -> str:
    kind = (kind or "").upper()
    found = re.search(r"Found: (\d+)", message or "")
    if kind == "MISSING COLUMNS" and found:
        return f"has {found.group(1)} fields but the header has {columns}"
    if kind == "TOO MANY COLUMNS" and found:
        return f"has {found.group(1)} fields but the header has {columns}"
    if kind == "UNQUOTED VALUE":
        return "a quoted field is not closed (a '\"' is missing)"
    if kind == "LINE SIZE OVER MAXIMUM":
        return "the line is too long"
    return (message or kind).splitlines()[0][:160]
