"""The funnel's history read from the store into arrays (:class:`~sim.model.funnel_history.FunnelHistory`),
for a history fit and a backtest: what counts is what the store's views count (see
:mod:`sim.data.record_facts` and :mod:`sim.data.actuals`).

One query per kind (records with their stage months and outcome; monthly counts and revenue;
the amounts that count as revenue), each returned as columns: a 1,000,000-row stage history
is read in a fraction of a second.
"""

from __future__ import annotations

import numpy as np

from ..errors import ScenarioError
from ..model.funnel_history import LOST, OPEN, UNKNOWN, WON, FunnelHistory, month_index
from ..model.names import fold_name
from .actuals import load_actuals, segments
from .store import Store

_MONTH = "(year({0}) * 12 + month({0}) - 1)::INTEGER"


def history_stages(store: Store, stages: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The funnel's stages: ``stages`` (as given, e.g. a scenario's), else every stage the
    database has seen, in its order."""
    if stages:
        return tuple(stages)
    return tuple(r[0] for r in store.cursor().execute("SELECT name FROM stages ORDER BY position").fetchall())


def load_funnel_history(store: Store, *, stages: tuple[str, ...] = (), segment: str | None = None) -> FunnelHistory:
    """The history of ``stages`` (default: all the database's, in its order); ``segment``: only
    that segment's records and monthly values (a segment the data does not have is refused)."""
    if segment is not None and segment not in segments(store):
        known = ", ".join(segments(store)) or "none"
        raise ScenarioError(f"segment '{segment}' is not in the actuals (segments: {known})")
    names = history_stages(store, stages)
    keys = [fold_name(s) for s in names]
    K = len(keys)
    cur = store.cursor()
    cur.begin()                # one snapshot: an import committing meanwhile is seen whole or not at all
    try:
        seg_join, params = ("JOIN record_segment g USING (record_id) WHERE g.segment = ?", [segment]) \
            if segment is not None else ("", [])
        firsts = ", ".join(f"coalesce(min(m) FILTER (WHERE rank = {k}), -1)::INTEGER AS s{k}" for k in range(K))
        cols = cur.execute(f"""
            WITH ranks AS (SELECT unnest(?::VARCHAR[]) AS stage_key, unnest(?::INTEGER[]) AS rank),
                 r AS (SELECT r.record_id, k.rank, {_MONTH.format('r.reached')} AS m
                       FROM record_reached r JOIN ranks k USING (stage_key) {seg_join}),
                 per AS (SELECT record_id, {firsts} FROM r GROUP BY record_id)
            SELECT per.* EXCLUDE (record_id),
                   (CASE o.outcome WHEN 'won' THEN {WON} WHEN 'lost' THEN {LOST} WHEN 'open' THEN {OPEN}
                    ELSE {UNKNOWN} END)::TINYINT AS outcome,
                   coalesce({_MONTH.format('o.closed')}, -1)::INTEGER AS closed
            FROM per LEFT JOIN record_outcome o USING (record_id)""",
                           [keys, list(range(K)), *params]).fetchnumpy()
        amount_cols = cur.execute(f"""
            SELECT r.amount::DOUBLE AS amount, {_MONTH.format('r.booked')} AS m
            FROM record_revenue r {seg_join.replace('WHERE', 'WHERE r.booked IS NOT NULL AND') if segment is not None
                                   else 'WHERE r.booked IS NOT NULL'}""", params).fetchnumpy()
    finally:
        cur.rollback()
        cur.close()
    reached = np.column_stack([np.asarray(cols[f"s{k}"], dtype=np.int32) for k in range(K)]) if K else \
        np.zeros((0, 0), dtype=np.int32)
    actuals = load_actuals(store, stage_order=names, segment=segment)
    index = {fold_name(s): k for k, s in enumerate(names)}
    rows = [(month_index(m), index[fold_name(s)], c) for m, s, c in actuals.counts if fold_name(s) in index]
    revenue_rows = [(month_index(m), r) for m, r in actuals.revenue]
    amounts = np.asarray(amount_cols["amount"], dtype=np.float64)
    amount_months = np.asarray(amount_cols["m"], dtype=np.int32)
    months = [m for m, _, _ in rows] + [m for m, _ in revenue_rows]
    if not months:
        first, M = 0, 0
    else:
        first = min(months)
        M = max(months) - first + 1
    counts, counted = np.zeros((K, M)), np.zeros((K, M), dtype=bool)
    for m, k, c in rows:
        counts[k, m - first] = c
        counted[k, m - first] = True
    revenue, known = np.zeros(M), np.zeros(M, dtype=bool)
    for m, r in revenue_rows:
        revenue[m - first] = r
        known[m - first] = True
    return FunnelHistory(names, reached, np.asarray(cols["outcome"], dtype=np.int8),
                         np.asarray(cols["closed"], dtype=np.int32), first, counts, counted, revenue, known,
                         amounts, amount_months)
