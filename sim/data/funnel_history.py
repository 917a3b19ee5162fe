"""The funnel's history read from the store into arrays (:class:`~sim.model.funnel_history.FunnelHistory`),
for a history fit and a backtest: what counts is what the store's views count (see
:mod:`sim.data.record_facts` and :mod:`sim.data.actuals`).

One pass over the records (their stage months, outcome, and the amount that counts as revenue
with its month), returned as columns, and the monthly imports' values; the monthly counts and
revenue are then the records' own (as :mod:`sim.data.actuals` counts them: a month and stage a
monthly import states takes the monthly value). A record with an amount but no stage date is
not read (its revenue would need the day it was won and no stage).
"""

from __future__ import annotations

import calendar

import numpy as np

from ..errors import ScenarioError
from ..model.funnel_history import LOST, OPEN, UNKNOWN, WON, FunnelHistory
from ..model.names import fold_name
from .actuals import segments
from .store import Store

#: A month whose first-stage records start after this day (or end this many days before its end)
#: is partial: three days are a tenth of a month, enough to make a whole month look like a fall.
PARTIAL_DAYS = 3
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
    if not names:
        raise ScenarioError("the database holds no actuals: import a CRM export or monthly counts first")
    keys = [fold_name(s) for s in names]
    K = len(keys)
    cur = store.cursor()
    cur.begin()                # one snapshot: an import committing meanwhile is seen whole or not at all
    try:
        seg_join, params = ("JOIN record_segment g USING (record_id) WHERE g.segment = ?", [segment]) \
            if segment is not None else ("", [])
        firsts = ", ".join(f"coalesce(min(m) FILTER (WHERE rank = {k}), -1)::INTEGER AS s{k}" for k in range(K))
        # One pass over the records: their stage months, outcome, the first stage's days (partial
        # months) and the amount that counts as revenue with its month (as record_revenue says).
        cols = cur.execute(f"""
            WITH ranks AS (SELECT unnest(?::VARCHAR[]) AS stage_key, unnest(?::INTEGER[]) AS rank),
                 r AS (SELECT r.record_id, k.rank, r.reached, {_MONTH.format('r.reached')} AS m
                       FROM record_reached r LEFT JOIN ranks k USING (stage_key) {seg_join}),
                 per AS (SELECT record_id, {firsts}, min(reached) FILTER (WHERE rank = 0) AS first_day,
                                max(reached) AS last_day
                         FROM r GROUP BY record_id),
                 amounts AS (SELECT record_id, arg_max(amount, import_id) AS amount
                             FROM record_amounts ANTI JOIN replaced_imports USING (import_id) GROUP BY record_id)
            SELECT per.* EXCLUDE (record_id, first_day, last_day),
                   (CASE o.outcome WHEN 'won' THEN {WON} WHEN 'lost' THEN {LOST} WHEN 'open' THEN {OPEN}
                    ELSE {UNKNOWN} END)::TINYINT AS outcome,
                   coalesce({_MONTH.format('o.closed')}, -1)::INTEGER AS closed,
                   CASE WHEN o.outcome IS NULL OR o.outcome = 'won' THEN a.amount::DOUBLE END AS amount,
                   coalesce({_MONTH.format("CASE WHEN o.outcome = 'won' THEN coalesce(o.closed, per.last_day) "
                                           "ELSE per.last_day END")}, -1)::INTEGER AS booked,
                   per.first_day
            FROM per LEFT JOIN record_outcome o USING (record_id) LEFT JOIN amounts a USING (record_id)""",
                           [keys, list(range(K)), *params]).fetchnumpy()
        seg_where = "WHERE segment = ?" if segment is not None else ""
        monthly = cur.execute(f"""
            WITH ranks AS (SELECT unnest(?::VARCHAR[]) AS stage_key, unnest(?::INTEGER[]) AS rank),
                 stated AS (SELECT DISTINCT month, stage_key FROM monthly_cells)
            SELECT {_MONTH.format('s.month')}, k.rank, v.count::BIGINT
            FROM stated s JOIN ranks k USING (stage_key)
            LEFT JOIN (SELECT month, stage_key, sum(count) AS count FROM monthly_cells {seg_where} GROUP BY ALL) v
                 USING (month, stage_key)""", [keys, list(range(K)), *params]).fetchall()
        monthly_revenue = cur.execute(f"""
            WITH stated AS (SELECT DISTINCT month FROM monthly_revenue_cells)
            SELECT {_MONTH.format('s.month')}, v.revenue::DOUBLE
            FROM stated s LEFT JOIN (SELECT month, sum(revenue) AS revenue FROM monthly_revenue_cells {seg_where}
                                     GROUP BY ALL) v USING (month)""", params).fetchall()
    finally:
        cur.rollback()
        cur.close()
    reached = np.column_stack([np.asarray(cols[f"s{k}"], dtype=np.int32) for k in range(K)])
    amount = np.ma.filled(np.ma.asarray(cols["amount"], dtype=np.float64), np.nan)
    revenue_rows = ~np.isnan(amount) & (np.asarray(cols["booked"]) >= 0)
    amounts = amount[revenue_rows]
    amount_months = np.asarray(cols["booked"], dtype=np.int32)[revenue_rows]
    days = np.ma.asarray(cols["first_day"]).compressed().astype("datetime64[D]")
    span = (days.min().item(), days.max().item()) if days.size else (None, None)
    counts, counted, revenue, known, first = _monthly(reached, amounts, amount_months, monthly, monthly_revenue, K)
    return FunnelHistory(names, reached, np.asarray(cols["outcome"], dtype=np.int8),
                         np.asarray(cols["closed"], dtype=np.int32), first, counts, counted, revenue, known,
                         amounts, amount_months, _partial(*span))


def _partial(first_day, last_day) -> tuple[tuple[int, str], ...]:
    """The first stage's first and last months when its records cover them only in part."""
    out = []
    if first_day is not None and first_day.day > PARTIAL_DAYS:
        out.append((first_day.year * 12 + first_day.month - 1, f"its data start on {first_day.isoformat()}"))
    if last_day is not None:
        end = calendar.monthrange(last_day.year, last_day.month)[1]
        if end - last_day.day >= PARTIAL_DAYS:
            out.append((last_day.year * 12 + last_day.month - 1, f"its data end on {last_day.isoformat()}"))
    return tuple(out)


def _monthly(reached, amounts, amount_months, monthly, monthly_revenue, K):
    """The monthly counts and revenue the actuals count (:mod:`sim.data.actuals`): the records'
    counts and amounts per month, except for the months (and stages) a monthly import states,
    which take the monthly values."""
    dated = reached[reached >= 0]
    months = [dated.min(), dated.max()] if dated.size else []
    months += [amount_months.min(), amount_months.max()] if amount_months.size else []
    months += [m for m, _, _ in monthly] + [m for m, _ in monthly_revenue]
    if not months:
        return np.zeros((K, 0)), np.zeros((K, 0), dtype=bool), np.zeros(0), np.zeros(0, dtype=bool), 0
    first = int(min(months))
    M = int(max(months)) - first + 1
    counts = np.zeros((K, M))
    counted = np.zeros((K, M), dtype=bool)
    for k in range(K):
        col = reached[:, k]
        col = col[col >= 0] - first
        counts[k] = np.bincount(col, minlength=M)
        counted[k] = np.bincount(col, minlength=M) > 0
    for m, k, c in monthly:            # stated by a monthly import (None: only for another segment)
        counts[k, m - first] = c or 0
        counted[k, m - first] = c is not None
    revenue = np.bincount(amount_months - first, weights=amounts, minlength=M) if amounts.size else np.zeros(M)
    known = np.bincount(amount_months - first, minlength=M) > 0 if amounts.size else np.zeros(M, dtype=bool)
    for m, r in monthly_revenue:
        revenue[m - first] = r or 0.0
        known[m - first] = r is not None
    return counts, counted, revenue, known, first
