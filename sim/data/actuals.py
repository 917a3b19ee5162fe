"""The effective actuals in the store: monthly stage counts and revenue, for every segment or
one, and their breakdown by segment.

What counts is defined by the store's views (see :mod:`sim.data.store`): per month and stage the
latest monthly import stating it, else the count of records that reached the stage in that
month (each record and stage once; a lost or open record never in its won stage); revenue per
month likewise (a record's amount only when it is won, or when its outcome is not known).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model.monthly_actuals import Actuals
from ..model.months import MONTH_FORMAT
from ..model.names import fold_name
from .store import Store

#: How a missing segment (a record or monthly row without one) is shown.
NO_SEGMENT = "(no segment)"


def load_actuals(store: Store, *, stage_order: tuple[str, ...] = (), segment: str | None = None) -> Actuals:
    """The effective actuals; stages ordered as ``stage_order`` (e.g. the scenario's), then
    in the order the database first saw them. ``segment``: only that segment's counts and
    revenue (records and monthly rows of that segment); None: all."""
    cur = store.cursor()
    cur.begin()       # one snapshot: an import committing meanwhile is seen whole or not at all
    try:
        stages = cur.execute("SELECT key, name, position FROM stages ORDER BY position").fetchall()
        if segment is None:
            rows = cur.execute(f"SELECT strftime(month, '{MONTH_FORMAT}'), stage_key, count FROM actual_counts").fetchall()
            revenue = cur.execute(f"SELECT strftime(month, '{MONTH_FORMAT}'), revenue FROM actual_revenue "
                                  f"ORDER BY month").fetchall()
        else:
            rows = cur.execute(f"SELECT strftime(month, '{MONTH_FORMAT}'), stage_key, sum(count)::BIGINT "
                               f"FROM counts_by_segment WHERE segment = ? GROUP BY ALL", [segment]).fetchall()
            revenue = cur.execute(f"SELECT strftime(month, '{MONTH_FORMAT}'), sum(revenue) FROM revenue_by_segment "
                                  f"WHERE segment = ? GROUP BY month ORDER BY month", [segment]).fetchall()
    finally:
        cur.rollback()
        cur.close()
    order = {fold_name(s): i for i, s in enumerate(stage_order)}
    ranked = sorted(stages, key=lambda r: (order.get(r[0], len(order)), r[2]))
    rank = {key: i for i, (key, _, _) in enumerate(ranked)}
    names = {key: name for key, name, _ in stages}
    counts = sorted(((m, k, int(c)) for m, k, c in rows if k in names), key=lambda r: (r[0], rank[r[1]]))
    return Actuals(tuple(names[k] for k, _, _ in ranked),
                   tuple((m, names[k], c) for m, k, c in counts),
                   tuple((m, float(r)) for m, r in revenue))


@dataclass(frozen=True)
class SegmentBreakdown:
    """The actuals by segment: ``counts`` (month, stage, segment, count) and ``revenue`` (month,
    segment, revenue), a missing segment shown as :data:`NO_SEGMENT`; ``segments``: every
    segment with its number of records or monthly rows, most first."""

    segments: tuple[tuple[str, int], ...]
    counts: tuple[tuple[str, str, str, int], ...]
    revenue: tuple[tuple[str, str, float], ...]

    @property
    def empty(self) -> bool:
        return not self.segments

    def to_dict(self) -> list[dict]:
        """The JSON of ``python -m sim actuals --by-segment --json``."""
        return ([{"month": m, "stage": s, "segment": g, "count": c} for m, s, g, c in self.counts]
                + [{"month": m, "segment": g, "revenue": r} for m, g, r in self.revenue])


_SEGMENTS = ("SELECT segment, sum(n)::BIGINT FROM (SELECT segment, count(*) AS n FROM record_segment GROUP BY ALL "
             "UNION ALL SELECT segment, count(*) FROM monthly_cells WHERE segment IS NOT NULL GROUP BY ALL) "
             "GROUP BY ALL ORDER BY 2 DESC, 1")


def segment_breakdown(store: Store, *, stage_order: tuple[str, ...] = ()) -> SegmentBreakdown:
    """The effective actuals split by segment (empty when nothing has a segment)."""
    cur = store.cursor()
    cur.begin()
    try:
        segments = cur.execute(_SEGMENTS).fetchall()
        stages = cur.execute("SELECT key, name, position FROM stages ORDER BY position").fetchall()
        rows = cur.execute(f"SELECT strftime(month, '{MONTH_FORMAT}'), stage_key, segment, sum(count)::BIGINT "
                           f"FROM counts_by_segment GROUP BY ALL").fetchall() if segments else []
        revenue = cur.execute(f"SELECT strftime(month, '{MONTH_FORMAT}'), segment, sum(revenue) FROM revenue_by_segment "
                              f"GROUP BY ALL ORDER BY 1, 2 NULLS LAST").fetchall() if segments else []
    finally:
        cur.rollback()
        cur.close()
    order = {fold_name(s): i for i, s in enumerate(stage_order)}
    rank = {k: (order.get(k, len(order)), p) for k, _, p in stages}
    names = {k: n for k, n, _ in stages}
    seg_rank = {s: i for i, (s, _) in enumerate(segments)}
    rows = sorted((r for r in rows if r[1] in names),
                  key=lambda r: (r[0], rank[r[1]], seg_rank.get(r[2], len(seg_rank))))
    return SegmentBreakdown(tuple((s, int(n)) for s, n in segments),
                            tuple((m, names[k], g or NO_SEGMENT, int(c)) for m, k, g, c in rows),
                            tuple((m, g or NO_SEGMENT, float(r)) for m, g, r in revenue))


def segments(store: Store) -> tuple[str, ...]:
    """The segments the actuals have, most records first."""
    return tuple(r[0] for r in store.cursor().execute(_SEGMENTS).fetchall())


def data_version(store: Store) -> tuple[int, ...]:
    """Changes whenever an import, an undo, a saved or deleted plan or removing the demo changes what the
    store holds (a cache key for what is read from it)."""
    row = store.cursor().execute(
        "SELECT (SELECT count(*) FROM imports), (SELECT count(undone_at) FROM imports), "
        "(SELECT count(*) FROM plans), (SELECT count(replaced_by) FROM imports), "
        "(SELECT count(*) FROM demo_content), "
        # a plan deleted and another saved under its id and name: the plans' content tells them apart
        "(SELECT coalesce(hash(string_agg(id::VARCHAR || name || saved_at::VARCHAR || scenario, '|' ORDER BY id)), 0) "
        "FROM plans)").fetchone()
    return tuple(int(x) for x in row)
