"""Record-level facts in the store, for a history fit and for the check-in's open pipeline.

The outcome model (:mod:`sim.data.ingest.outcomes`): a **won** record counts in its won stage
on the day it was won, and its amount is revenue; a **lost** record reached its stages up to
where it stopped, is never a customer, brings no revenue, and ``closed`` says when it was lost;
an **open** record is neither yet ("not yet", where lost is "never"). A record imported without
an outcome has ``outcome`` None (not known).

What counts is what the store's views count: each (record, stage) once, from the latest import
stating it; imports replaced by a later import of the same source, and undone ones, no longer
count; a lost or open record never in its won stage.

* :func:`stage_facts` — one row per record and stage reached (record id, stage, date, outcome,
  closed, amount, segment, the import and its source): the long form a fit reads.
* :func:`record_outcomes` — one row per record with an outcome or an amount.
* :func:`open_pipeline` — the records open at the end of a month, per stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..model.months import first_day
from ..model.names import fold_name
from .store import Store

WON, LOST, OPEN = "won", "lost", "open"


@dataclass(frozen=True)
class StageFact:
    """Record ``record_id`` reached ``stage`` on ``reached`` (as import ``import_id`` of
    ``source`` said). ``outcome``: won / lost / open, or None when no import stated one;
    ``closed``: the day it was won or lost; ``amount``: its amount as stated (revenue only when
    won, or when the outcome is not known); ``segment``: its segment, or None."""

    record_id: str
    stage: str
    reached: date
    outcome: str | None
    closed: date | None
    amount: float | None
    segment: str | None
    import_id: int
    source: str


@dataclass(frozen=True)
class RecordOutcome:
    """One record's outcome: ``outcome`` (won / lost / open or None), ``closed``, ``won_stage``
    (the stage a win counts toward), ``amount``, ``segment``, and ``last_stage``: the last stage
    it reached in the funnel's order (None if none)."""

    record_id: str
    outcome: str | None
    closed: date | None
    won_stage: str | None
    amount: float | None
    segment: str | None
    last_stage: str | None


_FACTS = """
    WITH reached AS (
        SELECT s.record_id, s.stage_key, s.reached, max(s.import_id) AS import_id
        FROM record_stages s
        JOIN record_reached r USING (record_id, stage_key, reached)
        ANTI JOIN replaced_imports USING (import_id)
        GROUP BY ALL)
    SELECT r.record_id, st.name, r.reached, o.outcome, o.closed, a.amount, g.segment, r.import_id, i.source
    FROM reached r
    JOIN stages st ON st.key = r.stage_key
    JOIN imports i ON i.id = r.import_id
    LEFT JOIN record_outcome o USING (record_id)
    LEFT JOIN record_segment g USING (record_id)
    LEFT JOIN (SELECT record_id, arg_max(amount, import_id) AS amount
               FROM record_amounts ANTI JOIN replaced_imports USING (import_id) GROUP BY ALL) a USING (record_id)
"""


def stage_facts(store: Store, *, segment: str | None = None) -> tuple[StageFact, ...]:
    """Every (record, stage) that counts, with the record's outcome, amount and segment, by
    record id then date reached; ``segment``: only that segment's records."""
    where, params = ("WHERE g.segment = ?", [segment]) if segment is not None else ("", [])
    rows = store.cursor().execute(f"{_FACTS} {where} ORDER BY r.record_id, r.reached, st.position",
                                  params).fetchall()
    return tuple(StageFact(r[0], r[1], r[2], r[3], r[4], None if r[5] is None else float(r[5]), r[6], int(r[7]), r[8])
                 for r in rows)


def record_outcomes(store: Store, *, stage_order: tuple[str, ...] = (),
                    segment: str | None = None) -> tuple[RecordOutcome, ...]:
    """Every record with an outcome, an amount or a stage reached, by record id; the last stage
    reached in the order of ``stage_order`` (e.g. the scenario's), then the database's."""
    keys, ranks = _ranks(store, stage_order)
    where, params = ("WHERE g.segment = ?", [segment]) if segment is not None else ("", [])
    rows = store.cursor().execute(f"""
        WITH ids AS (SELECT record_id FROM record_reached UNION SELECT record_id FROM record_outcome
                     UNION SELECT record_id FROM record_amounts ANTI JOIN replaced_imports USING (import_id)),
             ranks AS (SELECT unnest(?::VARCHAR[]) AS stage_key, unnest(?::INTEGER[]) AS rank),
             last AS (SELECT record_id, arg_max(r.stage_key, k.rank) AS stage_key
                      FROM record_reached r JOIN ranks k USING (stage_key) GROUP BY ALL)
        SELECT ids.record_id, o.outcome, o.closed, ws.name, a.amount, g.segment, ls.name
        FROM ids
        LEFT JOIN record_outcome o USING (record_id)
        LEFT JOIN stages ws ON ws.key = o.won_stage
        LEFT JOIN record_segment g USING (record_id)
        LEFT JOIN (SELECT record_id, arg_max(amount, import_id) AS amount
                   FROM record_amounts ANTI JOIN replaced_imports USING (import_id) GROUP BY ALL) a USING (record_id)
        LEFT JOIN last USING (record_id)
        LEFT JOIN stages ls ON ls.key = last.stage_key
        {where} ORDER BY ids.record_id""", [keys, ranks, *params]).fetchall()
    return tuple(RecordOutcome(r[0], r[1], r[2], r[3], None if r[4] is None else float(r[4]), r[5], r[6])
                 for r in rows)


@dataclass(frozen=True)
class OpenPipeline:
    """The records open at the end of ``as_of``, per stage they last reached by then: ``counts``
    (stage -> records) for the ``stages`` whose records all have an outcome (so an open one is
    known to be still open, a lost one known to be gone); ``unknown``: the stages with records
    of no known outcome (their open pipeline must be estimated otherwise)."""

    as_of: str
    counts: tuple[tuple[str, int], ...]
    unknown: tuple[str, ...]

    @property
    def stages(self) -> tuple[str, ...]:
        return tuple(s for s, _ in self.counts)


def open_pipeline(store: Store, stages: tuple[str, ...], as_of: str, *, segment: str | None = None) -> OpenPipeline:
    """The records open at the end of month ``as_of`` ("YYYY-MM") in each of ``stages`` (the
    funnel's, in order; the last, the customers, has no open pipeline): those whose last stage
    reached by then is that stage, not won by then, and not lost by then (lost later, or
    open). A stage is counted from the outcomes only when every record in it has one."""
    end = first_day(as_of)
    keys = [fold_name(s) for s in stages]
    seg_join, params = ("JOIN record_segment g USING (record_id) WHERE g.segment = ?", [segment]) \
        if segment is not None else ("", [])
    rows = store.cursor().execute(f"""
        WITH ranks AS (SELECT unnest(?::VARCHAR[]) AS stage_key, unnest(?::INTEGER[]) AS rank),
             upto AS (SELECT r.record_id, r.stage_key, k.rank FROM record_reached r JOIN ranks k USING (stage_key)
                      WHERE r.reached < (?::DATE + INTERVAL 1 MONTH)),
             last AS (SELECT record_id, arg_max(stage_key, rank) AS stage_key, max(rank) AS rank
                      FROM upto GROUP BY ALL)
        SELECT l.stage_key,
               count(*) FILTER (WHERE o.outcome IS NULL) AS unknown,
               count(*) FILTER (WHERE o.outcome = '{OPEN}'
                                   OR (o.outcome IN ('{WON}', '{LOST}') AND o.closed >= (?::DATE + INTERVAL 1 MONTH)))
        FROM last l LEFT JOIN record_outcome o USING (record_id) {seg_join}
        GROUP BY ALL""", [keys, list(range(len(keys))), end, end, *params]).fetchall()
    found = {k: (int(u), int(n)) for k, u, n in rows}
    counts, unknown = [], []
    for name, key in list(zip(stages, keys))[:-1]:
        u, n = found.get(key, (0, 0))
        if u:
            unknown.append(name)
        elif key in found:
            counts.append((name, n))
    return OpenPipeline(as_of, tuple(counts), tuple(unknown))


def _ranks(store: Store, stage_order: tuple[str, ...]) -> tuple[list[str], list[int]]:
    """Stage keys and their rank in the funnel: ``stage_order`` first, then the database's order."""
    db = [r[0] for r in store.cursor().execute("SELECT key FROM stages ORDER BY position").fetchall()]
    keys = list(dict.fromkeys([fold_name(s) for s in stage_order] + db))
    return keys, list(range(len(keys)))
