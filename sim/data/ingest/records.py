"""The records format: one row per lead or deal, an id column, a date column per stage it
reached and optionally an amount. Read into two temp views: (record, stage, date reached)
and (record, amount); every problem names its row and column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .checks import MAX_PROBLEMS, show

if TYPE_CHECKING:
    from .batch import Batch

MAX_ID = 200                              # characters of a record id


@dataclass(frozen=True)
class RecordRows:
    """The temp views of a records file: ``records`` (record_id, stage_key, reached) and
    ``amounts`` (record_id, amount); ``stages``: (key, display name) of its mapped columns."""

    records: str
    amounts: str
    stages: list[tuple[str, str]]


def read_records(b: Batch) -> RecordRows:
    o = b.options
    if o.date_format:
        try:
            b.cur.execute("SELECT try_strptime('2000-01-01', ?)", [o.date_format]).fetchall()
        except Exception:  # noqa: BLE001 - DuckDB rejects the format string
            b.problems.add(f"date format {o.date_format!r} is not valid (use strftime fields, e.g. %d-%m-%Y)")
    id_i = b.find_column(o.id_column, "id column") if o.id_column else b.sheet.column.get("id")
    if id_i is None and not o.id_column:
        b.problems.add(f"which column holds the record id? Name it (the id column; --id COLUMN on the command "
                       f"line); columns: {', '.join(b.sheet.header)}")
    amount_i = (b.find_column(o.amount_column, "amount column") if o.amount_column
                else b.sheet.column.get("amount"))
    if o.mapping:
        mapped = b.mapped_columns()
    else:   # columns named like a known stage
        mapped = {i: b.sheet.header[i] for i, k in enumerate(b.sheet.keys) if k in b.stages.known and i != id_i}
        if not mapped and id_i is not None:
            b.problems.add("no column is mapped to a stage: map each stage's date column "
                           f"(--map COLUMN=STAGE on the command line); columns: {', '.join(b.sheet.header)}")
    stage_cols: dict[int, tuple[str, str]] = {}
    for i, stage in mapped.items():
        if i in (id_i, amount_i):
            b.problems.add(f"column '{b.sheet.header[i]}' cannot be both a stage date and the id or amount")
            continue
        resolved = b.stages.resolve(stage, f"mapping of column '{b.sheet.header[i]}'")
        if resolved:
            if resolved[0] in {k for k, _ in stage_cols.values()}:
                b.problems.add(f"two columns are mapped to stage '{resolved[1]}'")
            stage_cols[i] = resolved
    b.stop_if_problems()

    typed = b.temps.name("typed")
    parts = ["rowid + 2 AS row", f"c{id_i}", f"trim(c{id_i}) AS rid"]
    parts += [f"c{i}" for i in stage_cols] + [f"{b.date_sql(f'c{i}')} AS d{i}" for i in stage_cols]
    if amount_i is not None:
        parts += [f"c{amount_i}", f"{b.number_sql(f'c{amount_i}', money=True)} AS v{amount_i}"]
    params = {"fmt": o.date_format} if o.date_format else {}
    b.cur.execute(f"CREATE TEMP TABLE {typed} AS SELECT {', '.join(parts)} FROM {b.raw}", params)
    id_label = b.sheet.label(id_i)
    for row, in b.cur.execute(f"SELECT row FROM {typed} WHERE rid IS NULL OR rid = '' ORDER BY row "
                              f"LIMIT {MAX_PROBLEMS}").fetchall():
        b.problems.add(f"row {b.sheet.row_number(row)}, {id_label}: the id is empty")
    for row, in b.cur.execute(f"SELECT row FROM {typed} WHERE length(rid) > {MAX_ID} ORDER BY row "
                              f"LIMIT 5").fetchall():
        b.problems.add(f"row {b.sheet.row_number(row)}, {id_label}: the id is longer than {MAX_ID} characters")
    dupes = b.cur.execute(f"SELECT rid, list(row ORDER BY row) FROM {typed} WHERE rid <> '' "
                          f"GROUP BY rid HAVING count(*) > 1 ORDER BY min(row) LIMIT 10").fetchall()
    for rid, rows in dupes:
        b.problems.add(f"rows {', '.join(map(str, map(b.sheet.row_number, rows[:5])))}, {id_label}: id {show(rid)} appears more than once")
    for i, (_, display) in stage_cols.items():
        b.checks.check_dates(typed, i, f"date of stage {display}")
    if amount_i is not None:
        b.checks.check_numbers(typed, amount_i, "amount", money=True)
    if amount_i is not None and not b.problems:
        any_date = " OR ".join(f"d{i} IS NOT NULL" for i in stage_cols) or "false"
        for row, value in b.cur.execute(
                f"SELECT row, c{amount_i} FROM {typed} WHERE v{amount_i} IS NOT NULL AND NOT ({any_date}) "
                f"ORDER BY row LIMIT 5").fetchall():
            b.problems.add(f"row {b.sheet.row_number(row)}, {b.sheet.label(amount_i)}: amount {show(value)} but no stage date, so "
                           f"no month to book it in")
    b.stop_if_problems()

    # Temp views, not tables: the rows are copied once, into the store, in write().
    keys = b.temps.name("stagekeys")
    b.cur.execute(f"CREATE TEMP TABLE {keys} (stage_no INTEGER, stage_key VARCHAR)")
    b.cur.executemany(f"INSERT INTO {keys} VALUES (?, ?)",
                      [[n, key] for n, (key, _) in enumerate(stage_cols.values())])
    parts = [f"SELECT rid, {n} AS stage_no, d{i} AS reached FROM {typed} WHERE d{i} IS NOT NULL"
             for n, i in enumerate(stage_cols)]
    records, amounts = b.temps.name("records", view=True), b.temps.name("amounts", view=True)
    b.cur.execute(f"CREATE TEMP VIEW {records} AS SELECT t.rid AS record_id, k.stage_key, t.reached "
                  f"FROM ({' UNION ALL '.join(parts)}) t JOIN {keys} k USING (stage_no)")
    amounts_sql = (f"SELECT rid AS record_id, v{amount_i} AS amount FROM {typed} WHERE v{amount_i} IS NOT NULL"
                   if amount_i is not None else "SELECT NULL::VARCHAR AS record_id, NULL::DOUBLE AS amount LIMIT 0")
    b.cur.execute(f"CREATE TEMP VIEW {amounts} AS {amounts_sql}")
    no_date = b.cur.execute(f"SELECT count(*) FROM {typed} WHERE NOT ("
                            + (" OR ".join(f"d{i} IS NOT NULL" for i in stage_cols)) + ")").fetchone()[0]
    if no_date:
        b.notes.append(f"{no_date:,} rows have no date in any mapped stage column")
    return RecordRows(records, amounts, list(stage_cols.values()))
