"""The file in DuckDB: written to the store's staging folder, read by DuckDB's CSV reader as
text into a temp table (``c0, c1, ...``), its malformed lines reported; and the names of the
import's temp tables, dropped when it ends."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from ...errors import ImportRejected, StoreError
from ...model.problems import Problems
from .checks import MAX_PROBLEMS
from .layout import Sheet


class TempTables:
    """Names for the temp tables and views of one import (unique to it), dropped by :meth:`drop`."""

    def __init__(self, cur):
        self.cur = cur
        self.tag = uuid.uuid4().hex[:12]
        self.made: list[tuple[str, str]] = []

    def name(self, kind: str, view: bool = False) -> str:
        table = f"{kind}_{self.tag}"
        self.made.append(("VIEW" if view else "TABLE", table))
        return table

    def drop(self) -> None:
        for kind, table in reversed(self.made):
            try:
                self.cur.execute(f"DROP {kind} IF EXISTS {table}")
            except Exception:  # noqa: BLE001 - best effort: the connection may be closing
                pass


def load_raw(cur, sheet: Sheet, staging_file: Path, temps: TempTables, problems: Problems) -> tuple[str, int]:
    """Stage ``sheet`` as UTF-8 and read it into a temp table of text columns; (its name, its
    number of rows). Malformed lines and a file without data rows reject the import."""
    try:
        staging_file.write_text(sheet.text, encoding="utf-8", newline="")
    except OSError as exc:          # e.g. the disk is full: nothing is written to the database
        staging_file.unlink(missing_ok=True)
        raise StoreError(f"cannot stage the file for the import in {staging_file.parent}: "
                         f"{exc.strerror or exc}; nothing was changed") from None
    raw, rejects, scans = temps.name("raw"), temps.name("rejects"), temps.name("scans")
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(sheet.header))) + "}"
    try:
        cur.execute(
            f"CREATE TEMP TABLE {raw} AS SELECT * FROM read_csv(?, auto_detect = false, "
            f"header = false, skip = 1, columns = {columns}, delim = ?, quote = '\"', escape = '\"', "
            f"all_varchar = true, store_rejects = true, rejects_table = '{rejects}', "
            f"rejects_scan = '{scans}', max_line_size = 20000000)",
            [str(staging_file), sheet.delimiter])
    except Exception as exc:  # noqa: BLE001 - any error of DuckDB's reader is the file's: report it
        raise ImportRejected(f"the file cannot be read as CSV: {str(exc).splitlines()[0][:200]}",
                             sheet.name) from None
    # DuckDB logs one reject per missing / extra column of a line: report each line once,
    # with the reject whose "Found: N" is the line's real field count.
    rejected = cur.execute(
        f"SELECT line, error_type, CASE WHEN error_type = 'TOO MANY COLUMNS' "
        f"THEN arg_max(error_message, column_idx) ELSE arg_min(error_message, column_idx) END "
        f"FROM {rejects} GROUP BY line, error_type ORDER BY line LIMIT {MAX_PROBLEMS + 1}").fetchall()
    if rejected:
        total = cur.execute(f"SELECT count(DISTINCT (line, error_type)) FROM {rejects}").fetchone()[0]
        for line, kind, message in rejected[:MAX_PROBLEMS]:
            problems.add(f"row {sheet.row_number(line)}: {_reject_text(kind, message, len(sheet.header))}")
        problems.extra += max(0, total - MAX_PROBLEMS)
        problems.raise_if_any(ImportRejected, sheet.name)
    rows = cur.execute(f"SELECT count(*) FROM {raw}").fetchone()[0]
    if rows == 0:
        raise ImportRejected("the file has a header but no data rows", sheet.name)
    return raw, rows


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
