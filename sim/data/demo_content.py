"""What the demo seeded in a database (table ``demo_content``: its imports and its plan of
record), told apart from the user's own data, and removed in one transaction.

Removing the demo removes its imports (their facts and their lines in the import history),
its plan of record and the plans saved from it (resets), and the stages only the demo used.
The user's own imports and plans stay exactly as they are. A database from which the demo was
removed, or that holds data of its own, is never seeded with the demo again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import StoreError

if TYPE_CHECKING:
    from .store import Store

#: The tables holding an import's rows.
IMPORT_TABLES = ("monthly_counts", "monthly_revenue", "record_stages", "record_amounts", "record_outcomes",
                 "record_segments")


@dataclass(frozen=True)
class DemoState:
    """``imports`` and ``plans``: how many of the demo's are in the database; ``own_imports``
    and ``own_plans``: how many of the user's own (active imports, plans); ``removed``: the
    demo was removed from this database once."""

    imports: int
    plans: int
    own_imports: int
    own_plans: int
    removed: bool

    @property
    def present(self) -> bool:
        return bool(self.imports or self.plans)

    @property
    def own_data(self) -> bool:
        return bool(self.own_imports or self.own_plans)


def demo_state(store: Store) -> DemoState:
    row = store.cursor().execute(
        """SELECT (SELECT count(*) FROM demo_content WHERE kind = 'import'),
                  (SELECT count(*) FROM demo_content WHERE kind = 'plan'),
                  (SELECT count(*) FROM imports WHERE undone_at IS NULL
                      AND id NOT IN (SELECT item_id FROM demo_content WHERE kind = 'import')),
                  (SELECT count(*) FROM plans WHERE id NOT IN (SELECT item_id FROM demo_content WHERE kind = 'plan')),
                  (SELECT count(*) FROM demo_content WHERE kind = 'removed')""").fetchone()
    return DemoState(*(int(x) for x in row[:4]), bool(row[4]))


def demo_imports(store: Store) -> frozenset[int]:
    """The ids of the demo's imports."""
    return frozenset(r[0] for r in store.cursor().execute(
        "SELECT item_id FROM demo_content WHERE kind = 'import'").fetchall())


def mark_demo(cur, kind: str, item_id: int) -> None:
    """Record that import or plan ``item_id`` is the demo's."""
    cur.execute("INSERT INTO demo_content VALUES (?, ?)", [kind, int(item_id)])


def check_seedable(store: Store) -> None:
    """:class:`StoreError` when the demo must not be seeded: the database holds data of its own,
    or the demo was removed from it."""
    state = demo_state(store)
    if state.own_data:
        raise StoreError(f"the database {store.path} holds data of its own: the demo is never seeded over it "
                         f"(use a new database file for the demo)")
    if state.removed:
        raise StoreError(f"the demo was removed from the database {store.path}: it is not seeded again")
    if state.present:
        raise StoreError(f"the database {store.path} already holds the demo")


def remove_demo_in(tx) -> str:
    """Remove the demo's imports, plans and stages inside the open transaction ``tx``; a
    sentence saying what was removed ("" when there was no demo)."""
    imports = [r[0] for r in tx.execute("SELECT item_id FROM demo_content WHERE kind = 'import'").fetchall()]
    plans = [r[0] for r in tx.execute(
        """WITH RECURSIVE tree(id) AS (
               SELECT item_id FROM demo_content WHERE kind = 'plan'
               UNION SELECT p.id FROM plans p JOIN tree t ON p.parent_id = t.id)
           SELECT id FROM tree""").fetchall()]
    if not imports and not plans:
        return ""
    for table in IMPORT_TABLES:
        tx.execute(f"DELETE FROM {table} WHERE import_id IN (SELECT unnest(?::INTEGER[]))", [imports])
    tx.execute("UPDATE imports SET replaced_by = NULL WHERE replaced_by IN (SELECT unnest(?::INTEGER[]))", [imports])
    tx.execute("DELETE FROM imports WHERE id IN (SELECT unnest(?::INTEGER[]))", [imports])
    tx.execute("DELETE FROM plan_bands WHERE plan_id IN (SELECT unnest(?::INTEGER[]))", [plans])
    tx.execute("DELETE FROM plans WHERE id IN (SELECT unnest(?::INTEGER[]))", [plans])
    stages = tx.execute("""DELETE FROM stages WHERE key NOT IN (SELECT stage_key FROM monthly_counts)
                           AND key NOT IN (SELECT stage_key FROM record_stages) RETURNING name""").fetchall()
    tx.execute("UPDATE stages SET first_import = NULL WHERE first_import IN (SELECT unnest(?::INTEGER[]))", [imports])
    tx.execute("DELETE FROM demo_content")
    tx.execute("INSERT INTO demo_content VALUES ('removed', 0)")
    return (f"Removed the demo: {len(imports)} import{'s' if len(imports) != 1 else ''}, {len(plans)} "
            f"plan{'s' if len(plans) != 1 else ''} of record"
            + (f" and the stage{'s' if len(stages) != 1 else ''} {', '.join(r[0] for r in stages)}" if stages else "")
            + ". Your own data is as it was.")


def remove_demo(store: Store) -> str:
    """Remove the demo from ``store`` in one transaction; what was removed."""
    with store.transaction() as tx:
        said = remove_demo_in(tx)
    return said or "There is no demo data in this database: nothing was removed."
