"""The monthly format: a ``month`` column and one column per stage (plus ``revenue``), or the
long form ``month,stage,count``; either may carry a segment column (one row per month and
segment). Read into two temp tables: counts per (month, stage, segment) and revenue per
(month, segment); every problem names its row and column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...model.months import MONTH_FORMAT
from ...model.names import fold_name
from .segments import check_segments, segment_sql
from .values import blank_sql, month_sql

if TYPE_CHECKING:
    from .batch import Batch


@dataclass(frozen=True)
class MonthlyRows:
    """The temp tables of a monthly file: ``counts`` (month, stage_key, count, segment) and
    ``revenue`` (month, revenue, segment); ``stages``: (key, display name) of its stage columns."""

    counts: str
    revenue: str
    stages: list[tuple[str, str]]


def read_monthly(b: Batch) -> MonthlyRows:
    if "month" not in b.sheet.column:
        b.problems.add(f"the monthly format needs a 'month' column (columns: {', '.join(b.sheet.header)})")
        b.stop_if_problems()
    segment_i = (b.find_column(b.options.segment_column, "segment column (--segment)")
                 if b.options.segment_column else None)
    b.stop_if_problems()
    if {"stage", "count"} <= set(b.sheet.column) and not b.options.mapping:
        return _read_long(b, segment_i)
    month_i = b.sheet.column["month"]
    revenue_i = b.sheet.column.get("revenue")
    ignored = {segment_i} if segment_i is not None else set()
    for column in b.options.ignore:
        index = b.find_column(column, f"ignore {column}")
        if index is not None:
            ignored.add(index)
    mapped = b.mapped_columns()
    stage_cols: dict[int, tuple[str, str]] = {}
    for i, h in enumerate(b.sheet.header):
        if i in (month_i, revenue_i) or i in ignored:
            continue
        resolved = b.stages.resolve(mapped.get(i, h), f"column '{h}'")
        if resolved:
            stage_cols[i] = resolved
    seen: dict[str, int] = {}
    for i, (key, display) in stage_cols.items():
        if key in seen:
            b.problems.add(f"columns '{b.sheet.header[seen[key]]}' and '{b.sheet.header[i]}' are both stage '{display}'")
        seen[key] = i
    if not stage_cols and revenue_i is None:
        b.problems.add("the file has a month column but no stage or revenue columns")
    b.stop_if_problems()

    typed = b.temps.name("typed")
    value_cols = list(stage_cols) + ([revenue_i] if revenue_i is not None else [])
    parts = ["rowid + 2 AS row", f"c{month_i}", f"{month_sql(f'c{month_i}')} AS m"]
    parts += [f"c{i}" for i in value_cols]
    parts += [f"{b.number_sql(f'c{i}', money=(i == revenue_i))} AS v{i}" for i in value_cols]
    parts += [f"c{segment_i}", f"{segment_sql(f'c{segment_i}')} AS seg"] if segment_i is not None else ["NULL::VARCHAR AS seg"]
    b.cur.execute(f"CREATE TEMP TABLE {typed} AS SELECT {', '.join(parts)} FROM {b.raw}")
    b.checks.check_month_column(typed, month_i)
    if segment_i is not None:
        check_segments(b, typed, segment_i)
    dupes = b.cur.execute(
        f"SELECT strftime(m, '{MONTH_FORMAT}'), seg, list(row ORDER BY row) FROM {typed} WHERE m IS NOT NULL "
        f"GROUP BY m, seg HAVING count(*) > 1 ORDER BY m LIMIT 10").fetchall()
    for month, seg, rows in dupes:
        which = f"month {month}" + (f" with segment '{seg}'" if segment_i is not None else "")
        b.problems.add(f"rows {', '.join(map(str, map(b.sheet.row_number, rows[:5])))}, {b.sheet.label(month_i)}: {which} "
                       f"appears more than once")
    for i in value_cols:
        b.checks.check_numbers(typed, i, "revenue" if i == revenue_i else f"stage {stage_cols[i][1]}",
                               money=(i == revenue_i))
    b.stop_if_problems()

    counts, revenue = b.temps.name("counts"), b.temps.name("revenue")
    b.cur.execute(f"CREATE TEMP TABLE {counts} (month DATE, stage_key VARCHAR, count BIGINT, segment VARCHAR)")
    for i, (key, _) in stage_cols.items():
        b.cur.execute(f"INSERT INTO {counts} SELECT m, ?, v{i}::BIGINT, seg FROM {typed} "
                      f"WHERE v{i} IS NOT NULL", [key])
    b.cur.execute(f"CREATE TEMP TABLE {revenue} (month DATE, revenue DOUBLE, segment VARCHAR)")
    if revenue_i is not None:
        b.cur.execute(f"INSERT INTO {revenue} SELECT m, v{revenue_i}, seg FROM {typed} "
                      f"WHERE v{revenue_i} IS NOT NULL")
    return MonthlyRows(counts, revenue, list(stage_cols.values()))


def _read_long(b: Batch, segment_i: int | None) -> MonthlyRows:
    month_i, stage_i, count_i = b.sheet.column["month"], b.sheet.column["stage"], b.sheet.column["count"]
    typed = b.temps.name("typed")
    seg = f"c{segment_i}, {segment_sql(f'c{segment_i}')} AS seg" if segment_i is not None else "NULL::VARCHAR AS seg"
    b.cur.execute(
        f"CREATE TEMP TABLE {typed} AS SELECT rowid + 2 AS row, c{month_i}, "
        f"{month_sql(f'c{month_i}')} AS m, c{stage_i}, trim(c{stage_i}) AS stage_text, "
        f"c{count_i}, {b.number_sql(f'c{count_i}', money=False)} AS v{count_i}, "
        f"{b.number_sql(f'c{count_i}', money=True)} AS money, {seg} FROM {b.raw}")
    b.checks.check_month_column(typed, month_i)
    if segment_i is not None:
        check_segments(b, typed, segment_i)
    distinct = b.cur.execute(f"SELECT DISTINCT stage_text FROM {typed} WHERE stage_text IS NOT NULL "
                             f"AND stage_text <> '' LIMIT 101").fetchall()
    if len(distinct) > 100:
        b.problems.add(f"{b.sheet.label(stage_i)} has more than 100 different stage names")
        b.stop_if_problems()
    blank = b.cur.execute(f"SELECT row FROM {typed} WHERE stage_text IS NULL OR stage_text = '' "
                          f"ORDER BY row LIMIT 5").fetchall()
    for (row,) in blank:
        b.problems.add(f"row {b.sheet.row_number(row)}, {b.sheet.label(stage_i)}: the stage is empty")
    names = b.temps.name("names")
    b.cur.execute(f"CREATE TEMP TABLE {names} (stage_text VARCHAR, stage_key VARCHAR)")
    stages = []
    for (text,) in distinct:
        key = fold_name(text)
        if key == "revenue":
            b.cur.execute(f"INSERT INTO {names} VALUES (?, ?)", [text, "revenue"])
            continue
        resolved = b.stages.resolve(text, f"{b.sheet.label(stage_i)}")
        if resolved:
            b.cur.execute(f"INSERT INTO {names} VALUES (?, ?)", [text, resolved[0]])
            if resolved not in stages:
                stages.append(resolved)
    b.stop_if_problems()
    joined = b.temps.name("long")
    b.cur.execute(
        f"CREATE TEMP TABLE {joined} AS SELECT t.row, t.m, t.seg, n.stage_key, t.c{count_i}, "
        f"CASE WHEN n.stage_key = 'revenue' THEN t.money ELSE t.v{count_i} END AS v{count_i}, "
        f"n.stage_key = 'revenue' AS is_revenue "
        f"FROM {typed} t JOIN {names} n USING (stage_text)")
    missing = b.cur.execute(f"SELECT row FROM {joined} WHERE {blank_sql(f'c{count_i}')} "
                            f"ORDER BY row LIMIT 5").fetchall()
    for (row,) in missing:
        b.problems.add(f"row {b.sheet.row_number(row)}, {b.sheet.label(count_i)}: the count is empty")
    for is_revenue in (False, True):
        sub = b.temps.name(f"part{int(is_revenue)}")
        b.cur.execute(f"CREATE TEMP TABLE {sub} AS SELECT * FROM {joined} WHERE is_revenue = ?", [is_revenue])
        b.checks.check_numbers(sub, count_i, "revenue" if is_revenue else "stage count", money=is_revenue)
    dupes = b.cur.execute(
        f"SELECT strftime(m, '{MONTH_FORMAT}'), stage_key, seg, list(row ORDER BY row) FROM {joined} "
        f"WHERE m IS NOT NULL GROUP BY m, stage_key, seg HAVING count(*) > 1 ORDER BY 1 LIMIT 10").fetchall()
    for month, key, seg, rows in dupes:
        name = "revenue" if key == "revenue" else b.stages.known[key]
        which = f" (segment '{seg}')" if seg is not None else ""
        b.problems.add(f"rows {', '.join(map(str, map(b.sheet.row_number, rows[:5])))}: {month} {name}{which} is given "
                       f"more than once")
    b.stop_if_problems()
    counts, revenue = b.temps.name("counts"), b.temps.name("revenue")
    b.cur.execute(f"CREATE TEMP TABLE {counts} AS SELECT m AS month, stage_key, "
                  f"v{count_i}::BIGINT AS count, seg AS segment FROM {joined} WHERE NOT is_revenue")
    b.cur.execute(f"CREATE TEMP TABLE {revenue} AS SELECT m AS month, v{count_i} AS revenue, seg AS segment "
                  f"FROM {joined} WHERE is_revenue")
    return MonthlyRows(counts, revenue, stages)
