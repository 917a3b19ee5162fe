"""The records format: one row per lead or deal, an id column, a date column per stage it
reached and optionally an amount, an outcome (won / lost / open, see :mod:`.outcomes`) and a
segment. Read into temp views: (record, stage, date reached), (record, amount), (record,
outcome, closed, won stage) and (record, segment); every problem names its row and column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .checks import MAX_PROBLEMS, show
from .outcomes import LOST, WON, OutcomeColumns
from .segments import check_segments, segment_sql

if TYPE_CHECKING:
    from .batch import Batch

MAX_ID = 200                              # characters of a record id


@dataclass(frozen=True)
class RecordRows:
    """The temp views of a records (or stage-history) file: ``records`` (record_id, stage_key,
    reached), ``amounts`` (record_id, amount), ``outcomes`` (record_id, outcome, closed,
    won_stage) and ``segments`` (record_id, segment), each possibly empty; ``stages``: (key,
    display name) of its stages; ``won_stage``: the key of the stage a win counts toward
    (None without outcomes)."""

    records: str
    amounts: str
    stages: list[tuple[str, str]]
    outcomes: str | None = None
    segments: str | None = None
    won_stage: str | None = None


def read_records(b: Batch) -> RecordRows:
    o = b.options
    b.check_date_format()
    id_i = b.id_column()
    amount_i = (b.find_column(o.amount_column, "amount column") if o.amount_column
                else b.sheet.column.get("amount"))
    outcome_i = b.find_column(o.outcome_column, "outcome column (--outcome)") if o.outcome_column else None
    closed_i = b.find_column(o.closed_column, "closed column (--closed)") if o.closed_column else None
    segment_i = b.find_column(o.segment_column, "segment column (--segment)") if o.segment_column else None
    special = {i for i in (id_i, amount_i, outcome_i, closed_i, segment_i) if i is not None}
    if o.mapping:
        mapped = b.mapped_columns()
    else:   # columns named like a known stage
        mapped = {i: b.sheet.header[i] for i, k in enumerate(b.sheet.keys) if k in b.stages.known and i not in special}
        if not mapped and id_i is not None:
            b.problems.add("no column is mapped to a stage: map each stage's date column "
                           f"(--map COLUMN=STAGE on the command line); columns: {', '.join(b.sheet.header)}")
    stage_cols: dict[int, tuple[str, str]] = {}
    for i, stage in mapped.items():
        if i in special:
            b.problems.add(f"column '{b.sheet.header[i]}' cannot be both a stage date and the id, amount, outcome "
                           f"or segment")
            continue
        resolved = b.stages.resolve(stage, f"mapping of column '{b.sheet.header[i]}'")
        if resolved:
            first = next((j for j, (k, _) in stage_cols.items() if k == resolved[0]), None)
            if first is not None:
                b.problems.add(f"two columns are mapped to stage '{resolved[1]}': '{b.sheet.header[first]}' and "
                               f"'{b.sheet.header[i]}' (map one of them to another stage, or to none)")
            stage_cols[i] = resolved
    won_i = None
    if outcome_i is not None and stage_cols:
        won_key = b.won_stage([s for s in stage_cols.values()])
        won_i = next((i for i, (k, _) in stage_cols.items() if k == won_key), None)
        if won_i is None:
            b.problems.add(f"the won stage '{o.won_stage}' is not one of the mapped stages "
                           f"({', '.join(d for _, d in stage_cols.values())})")
    b.stop_if_problems()

    typed = b.temps.name("typed")
    parts = ["rowid + 2 AS row", f"c{id_i}", f"trim(c{id_i}) AS rid"]
    parts += [f"c{i}" for i in stage_cols] + [f"{b.date_sql(f'c{i}')} AS d{i}" for i in stage_cols]
    if amount_i is not None:
        parts += [f"c{amount_i}", f"{b.number_sql(f'c{amount_i}', money=True)} AS v{amount_i}"]
    outcomes = OutcomeColumns(b, outcome_i, closed_i) if outcome_i is not None else None
    if outcomes is not None:
        parts += outcomes.columns()
    if segment_i is not None:
        parts += [f"c{segment_i}", f"{segment_sql(f'c{segment_i}')} AS seg"]
    b.cur.execute(f"CREATE TEMP TABLE {typed} AS SELECT {', '.join(parts)} FROM {b.raw}", b.sql_params())
    b.typed = typed
    check_ids(b, typed, id_i)
    for i, (_, display) in stage_cols.items():
        b.checks.check_dates(typed, i, f"date of stage {display}")
    if amount_i is not None:
        b.checks.check_numbers(typed, amount_i, "amount", money=True)
    if segment_i is not None:
        check_segments(b, typed, segment_i)
    if outcomes is not None:
        outcomes.check(typed, f"d{won_i}" if won_i is not None else None,
                       b.sheet.label(won_i) if won_i is not None else "", f"v{amount_i}" if amount_i is not None else None)
    if amount_i is not None and not b.problems:
        any_date = " OR ".join(f"d{i} IS NOT NULL" for i in stage_cols) or "false"
        if outcomes is not None:       # open and lost records may carry an amount without a date
            any_date += f" OR outcome <> '{WON}'"
        for row, value in b.cur.execute(
                f"SELECT row, c{amount_i} FROM {typed} WHERE v{amount_i} IS NOT NULL AND NOT ({any_date}) "
                f"ORDER BY row LIMIT 5").fetchall():
            b.problems.add(f"row {b.sheet.row_number(row)}, {b.sheet.label(amount_i)}: amount {show(value)} but no stage "
                           f"date, so no month to book it in")
    b.stop_if_problems()

    # Temp views, not tables: the rows are copied once, into the store, in write().
    keys = b.temps.name("stagekeys")
    b.cur.execute(f"CREATE TEMP TABLE {keys} (stage_no INTEGER, stage_key VARCHAR)")
    b.cur.executemany(f"INSERT INTO {keys} VALUES (?, ?)",
                      [[n, key] for n, (key, _) in enumerate(stage_cols.values())])
    parts = [f"SELECT rid, {n} AS stage_no, d{i} AS reached FROM {typed} WHERE d{i} IS NOT NULL"
             + (f" AND outcome = '{WON}'" if i == won_i else "")
             for n, i in enumerate(stage_cols)]
    records, amounts = b.temps.name("records", view=True), b.temps.name("amounts", view=True)
    b.cur.execute(f"CREATE TEMP VIEW {records} AS SELECT t.rid AS record_id, k.stage_key, t.reached "
                  f"FROM ({' UNION ALL '.join(parts)}) t JOIN {keys} k USING (stage_no)")
    amounts_sql = (f"SELECT rid AS record_id, v{amount_i} AS amount FROM {typed} WHERE v{amount_i} IS NOT NULL"
                   if amount_i is not None else "SELECT NULL::VARCHAR AS record_id, NULL::DOUBLE AS amount LIMIT 0")
    b.cur.execute(f"CREATE TEMP VIEW {amounts} AS {amounts_sql}")
    outcome_view = segment_view = won_key = None
    if outcomes is not None:
        won_key = stage_cols[won_i][0]
        outcome_view = b.temps.name("outcomes", view=True)
        won_no = list(stage_cols).index(won_i)
        b.cur.execute(f"CREATE TEMP VIEW {outcome_view} AS SELECT rid AS record_id, outcome, "
                      f"CASE WHEN outcome IN ('{WON}', '{LOST}') THEN d{won_i} END AS closed, "
                      f"k.stage_key AS won_stage FROM {typed} JOIN {keys} k ON k.stage_no = {won_no}")
    if segment_i is not None:
        segment_view = b.temps.name("segments", view=True)
        b.cur.execute(f"CREATE TEMP VIEW {segment_view} AS SELECT rid AS record_id, seg AS segment FROM {typed} "
                      f"WHERE seg IS NOT NULL")
    no_date = b.cur.execute(f"SELECT count(*) FROM {typed} WHERE NOT ("
                            + (" OR ".join(f"d{i} IS NOT NULL" for i in stage_cols)) + ")").fetchone()[0]
    if no_date:
        b.notes.append(f"{no_date:,} rows have no date in any mapped stage column")
    return RecordRows(records, amounts, list(stage_cols.values()), outcome_view, segment_view, won_key)


def check_ids(b: Batch, typed: str, id_i: int, *, unique: bool = True) -> None:
    """Problems for empty, too long and (``unique``: one row per record) repeated record ids
    (``rid`` of ``typed``)."""
    id_label = b.sheet.label(id_i)
    for row, in b.cur.execute(f"SELECT row FROM {typed} WHERE rid IS NULL OR rid = '' ORDER BY row "
                              f"LIMIT {MAX_PROBLEMS}").fetchall():
        b.problems.add(f"row {b.sheet.row_number(row)}, {id_label}: the id is empty")
    for row, in b.cur.execute(f"SELECT row FROM {typed} WHERE length(rid) > {MAX_ID} ORDER BY row "
                              f"LIMIT 5").fetchall():
        b.problems.add(f"row {b.sheet.row_number(row)}, {id_label}: the id is longer than {MAX_ID} characters")
    if not unique:
        return
    dupes = b.cur.execute(f"SELECT rid, list(row ORDER BY row) FROM {typed} WHERE rid <> '' "
                          f"GROUP BY rid HAVING count(*) > 1 ORDER BY min(row) LIMIT 10").fetchall()
    for rid, rows in dupes:
        b.problems.add(f"rows {', '.join(map(str, map(b.sheet.row_number, rows[:5])))}, {id_label}: id {show(rid)} "
                       f"appears more than once")
