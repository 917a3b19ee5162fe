"""The effective actuals in the store: monthly stage counts and revenue.

What counts is defined by the store's views (see :mod:`sim.data.store`): per month and stage the
latest monthly import stating it, else the count of records that reached the stage in that
month (each record and stage once); revenue per month likewise.
"""

from __future__ import annotations

from ..model.monthly_actuals import Actuals
from ..model.months import MONTH_FORMAT
from ..model.names import fold_name
from .store import Store


def load_actuals(store: Store, *, stage_order: tuple[str, ...] = ()) -> Actuals:
    """The effective actuals; stages ordered as ``stage_order`` (e.g. the scenario's), then
    in the order the database first saw them."""
    cur = store.cursor()
    cur.begin()       # one snapshot: an import committing meanwhile is seen whole or not at all
    try:
        stages = cur.execute("SELECT key, name, position FROM stages ORDER BY position").fetchall()
        rows = cur.execute(f"SELECT strftime(month, '{MONTH_FORMAT}'), stage_key, count FROM actual_counts").fetchall()
        revenue = cur.execute(f"SELECT strftime(month, '{MONTH_FORMAT}'), revenue FROM actual_revenue ORDER BY month").fetchall()
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


def data_version(store: Store) -> tuple[int, int, int]:
    """Changes whenever an import, an undo or a saved plan changes what the store holds (a
    cache key for what is read from it)."""
    row = store.cursor().execute(
        "SELECT (SELECT count(*) FROM imports), (SELECT count(undone_at) FROM imports), "
        "(SELECT count(*) FROM plans)").fetchone()
    return int(row[0]), int(row[1]), int(row[2])
