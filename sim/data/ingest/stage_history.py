"""The stage-history format (long): one row per record and CRM stage it entered, with the
record id, the CRM stage, the date and optionally an amount and a segment, as HubSpot's and
Salesforce's stage-history reports give them.

CRM stages are mapped to funnel stages (``mapping``: (CRM stage, funnel stage); without a
mapping, the CRM stages named like a known funnel stage); the CRM stages in ``lost_stages``
mean lost; every other CRM stage is ignored and listed in the summary. A record reaches a
funnel stage on the first day it entered a CRM stage mapped to it. Its outcome (see
:mod:`.outcomes`): won when it reached the won stage (the last mapped stage in the funnel's
order), lost when it entered a lost stage (after its win, if any), else open; its amount is
the one on its latest row that has one, and its segment likewise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...model.names import fold_name, tidy_name
from .outcomes import LOST, OPEN, WON, note_lost_amounts
from .records import RecordRows, check_ids
from .segments import check_segments, segment_sql
from .values import blank_sql

if TYPE_CHECKING:
    from .batch import Batch

MAX_CRM_STAGES = 1000


def read_history(b: Batch) -> RecordRows:
    o = b.options
    b.check_date_format()
    id_i = b.id_column()
    stage_i = _column(b, o.stage_column, "stage", "stage column (--stage-column)")
    date_i = _column(b, o.date_column, "date", "date column (--date-column)")
    amount_i = (b.find_column(o.amount_column, "amount column") if o.amount_column
                else b.sheet.column.get("amount"))
    segment_i = b.find_column(o.segment_column, "segment column (--segment)") if o.segment_column else None
    b.stop_if_problems()

    # CRM stage names folded once per distinct name (a few), not once per row (a million).
    texts = b.temps.name("crmtexts")
    b.cur.execute(f"CREATE TEMP TABLE {texts} AS SELECT raw, "
                  f"lower(trim(regexp_replace(coalesce(raw, ''), '\\s+', ' ', 'g'))) AS crm "
                  f"FROM (SELECT DISTINCT c{stage_i} AS raw FROM {b.raw})")
    typed = b.temps.name("typed")
    parts = ["r.rowid + 2 AS row", f"c{id_i}", f"trim(c{id_i}) AS rid", f"c{stage_i}", "x.crm",
             f"c{date_i}", f"{b.date_sql(f'c{date_i}')} AS d{date_i}"]
    if amount_i is not None:
        parts += [f"c{amount_i}", f"{b.number_sql(f'c{amount_i}', money=True)} AS v{amount_i}"]
    joins = ""
    if segment_i is not None:            # likewise the segments
        segs = b.temps.name("segtexts")
        b.cur.execute(f"CREATE TEMP TABLE {segs} AS SELECT raw, {segment_sql('raw')} AS seg "
                      f"FROM (SELECT DISTINCT c{segment_i} AS raw FROM {b.raw})")
        parts += [f"c{segment_i}", "g.seg"]
        joins = f" LEFT JOIN {segs} g ON g.raw IS NOT DISTINCT FROM r.c{segment_i}"
    b.cur.execute(f"CREATE TEMP TABLE {typed} AS SELECT {', '.join(parts)} FROM {b.raw} r "
                  f"LEFT JOIN {texts} x ON x.raw IS NOT DISTINCT FROM r.c{stage_i}{joins}", b.sql_params())
    b.typed, b.history_columns = typed, (stage_i, date_i)
    check_ids(b, typed, id_i, unique=False)
    b.checks.report(typed, f"c{stage_i}", blank_sql(f"c{stage_i}"), b.sheet.label(stage_i), "is empty", "CRM stage")
    b.checks.check_dates(typed, date_i, "date the record entered the stage")
    b.checks.report(typed, f"c{date_i}", f"d{date_i} IS NULL AND {blank_sql(f'c{date_i}')}", b.sheet.label(date_i),
                    "is empty", "date the record entered the stage")
    if amount_i is not None:
        b.checks.check_numbers(typed, amount_i, "amount", money=True)
    if segment_i is not None:
        check_segments(b, typed, segment_i)

    found = b.cur.execute(f"SELECT crm, any_value(trim(c{stage_i})), count(*) FROM {typed} WHERE crm <> '' "
                          f"GROUP BY crm ORDER BY 3 DESC, 1 LIMIT {MAX_CRM_STAGES + 1}").fetchall()
    if len(found) > MAX_CRM_STAGES:
        b.problems.add(f"{b.sheet.label(stage_i)} has more than {MAX_CRM_STAGES:,} different stages: is it the "
                       f"stage column?")
    in_file = {crm: (shown, n) for crm, shown, n in found}
    listing = ", ".join(f"'{shown}'" for _, (shown, _) in list(in_file.items())[:12])
    crm_map: dict[str, tuple[str, str]] = {}
    if o.mapping:
        for crm, stage in o.mapping:
            key = fold_name(crm)
            if key not in in_file:
                b.problems.add(f"mapping {tidy_name(crm)}={tidy_name(stage)}: no row of {b.sheet.label(stage_i)} is "
                               f"'{tidy_name(crm)}' (its stages: {listing}): map the stage names as the file spells them")
                continue
            resolved = b.stages.resolve(stage, f"mapping {tidy_name(crm)}={tidy_name(stage)}")
            if resolved:
                crm_map[key] = resolved
    else:
        crm_map = {crm: (crm, b.stages.known[crm]) for crm in in_file if crm in b.stages.known}
    lost = {fold_name(s) for s in o.lost_stages}
    for key in lost & set(crm_map):
        b.problems.add(f"CRM stage '{in_file[key][0]}' cannot be both a funnel stage and lost")
    if not crm_map and not b.problems:
        b.problems.add(f"no CRM stage is mapped to a funnel stage: map them (--map \"CRM STAGE=FUNNEL STAGE\", e.g. "
                       f"--map \"Closed Won=Customers\"); the file's stages: {listing}")
    b.stop_if_problems()

    funnel = list(dict.fromkeys(crm_map.values()))
    won_key = b.won_stage(funnel)
    if won_key not in {k for k, _ in funnel}:
        b.problems.add(f"the won stage '{o.won_stage}' is not one of the mapped stages "
                       f"({', '.join(d for _, d in funnel)})")
        b.stop_if_problems()
    missing_lost = [s for s in o.lost_stages if fold_name(s) not in in_file]
    if missing_lost:
        b.notes.append(f"no row is in the lost stage{'s' if len(missing_lost) > 1 else ''} "
                       f"{', '.join(repr(tidy_name(s)) for s in missing_lost)}")
    ignored = [(shown, n) for crm, (shown, n) in in_file.items() if crm not in crm_map and crm not in lost]
    if ignored:
        b.notes.append("CRM stages not mapped, ignored: " + ", ".join(f"'{s}' ({n:,} rows)" for s, n in ignored[:15])
                       + (f" and {len(ignored) - 15} more" if len(ignored) > 15 else ""))
    if not o.lost_stages:
        won_name = dict(funnel)[won_key]
        b.notes.append(f"no lost stage given (--lost-stage): records that did not reach {won_name} count as open")

    crm = b.temps.name("crmstages")
    b.cur.execute(f"CREATE TEMP TABLE {crm} (crm VARCHAR, stage_key VARCHAR, lost BOOLEAN)")
    rows = [[k, key, False] for k, (key, _) in crm_map.items()] + [[k, None, True] for k in lost]
    b.cur.executemany(f"INSERT INTO {crm} VALUES (?, ?, ?)", rows)
    b.crm_table = crm
    won = b.temps.name("wonstage")
    b.cur.execute(f"CREATE TEMP TABLE {won} AS SELECT ?::VARCHAR AS stage_key", [won_key])

    d = f"d{date_i}"
    firsts = b.temps.name("firsts")
    b.cur.execute(f"CREATE TEMP TABLE {firsts} AS SELECT t.rid AS record_id, m.stage_key, min(t.{d}) AS reached, "
                  f"count(*) AS times FROM {typed} t JOIN {crm} m ON m.crm = t.crm AND NOT m.lost GROUP BY ALL")
    # One pass per record: when it was lost, when won, its latest amount and segment.
    amount_sql = f"arg_max(t.v{amount_i}, t.{d}) FILTER (WHERE t.v{amount_i} IS NOT NULL)" if amount_i is not None \
        else "NULL::DOUBLE"
    segment_sql_ = f"arg_max(t.seg, t.{d}) FILTER (WHERE t.seg IS NOT NULL)" if segment_i is not None \
        else "NULL::VARCHAR"
    per_record = b.temps.name("perrecord")
    b.cur.execute(
        f"""CREATE TEMP TABLE {per_record} AS
            WITH e AS (
                SELECT t.rid, max(CASE WHEN m.lost THEN t.{d} END) AS lost_on,
                       min(CASE WHEN m.stage_key = w.stage_key THEN t.{d} END) AS won_on,
                       {amount_sql} AS amount, {segment_sql_} AS segment
                FROM {typed} t LEFT JOIN {crm} m ON m.crm = t.crm CROSS JOIN {won} w GROUP BY t.rid)
            SELECT rid AS record_id,
                   CASE WHEN lost_on IS NOT NULL AND (won_on IS NULL OR lost_on > won_on) THEN '{LOST}'
                        WHEN won_on IS NOT NULL THEN '{WON}' ELSE '{OPEN}' END AS outcome,
                   CASE WHEN lost_on IS NOT NULL AND (won_on IS NULL OR lost_on > won_on) THEN lost_on
                        ELSE won_on END AS closed,
                   (SELECT stage_key FROM {won}) AS won_stage, amount, segment
            FROM e""")
    outcomes = b.temps.name("outcomes", view=True)
    b.cur.execute(f"CREATE TEMP VIEW {outcomes} AS SELECT record_id, outcome, closed, won_stage FROM {per_record}")
    records = b.temps.name("records", view=True)
    b.cur.execute(f"CREATE TEMP VIEW {records} AS SELECT f.record_id, f.stage_key, f.reached FROM {firsts} f "
                  f"JOIN {per_record} o USING (record_id) WHERE f.stage_key <> o.won_stage OR o.outcome = '{WON}'")
    amounts = b.temps.name("amounts", view=True)
    b.cur.execute(f"CREATE TEMP VIEW {amounts} AS SELECT record_id, amount FROM {per_record} WHERE amount IS NOT NULL")
    segments = None
    if segment_i is not None:
        segments = b.temps.name("segments", view=True)
        b.cur.execute(f"CREATE TEMP VIEW {segments} AS SELECT record_id, segment FROM {per_record} "
                      f"WHERE segment IS NOT NULL")
    b.stop_if_problems()

    repeated = b.cur.execute(f"SELECT count(*) FROM {firsts} WHERE times > 1").fetchone()[0]
    if repeated:
        b.notes.append(f"{repeated:,} times a record entered a funnel stage more than once: the first date counts")
    counts = dict(b.cur.execute(f"SELECT outcome, count(*) FROM {outcomes} GROUP BY ALL").fetchall())
    b.outcome_counts = {k: int(counts.get(k, 0)) for k in (WON, LOST, OPEN)}
    if amount_i is not None:
        note_lost_amounts(b, f"SELECT amount, outcome FROM {per_record}", "records")
    return RecordRows(records, amounts, funnel, outcomes, segments, won_key)


def _column(b: Batch, option: str | None, default: str, what: str) -> int | None:
    if option:
        return b.find_column(option, what)
    if default in b.sheet.column:
        return b.sheet.column[default]
    b.problems.add(f"which column holds the {default}? Name it (the {what}); columns: {', '.join(b.sheet.header)}")
    return None

