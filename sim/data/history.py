"""The import history: every import with what it did, and undo.

Undo removes what one import added; the values it replaced come back, because the store's
views take each month and stage (or record and stage) from the latest import still active.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ..errors import ImportRejected
from ..model.months import label_of

if TYPE_CHECKING:
    from .store import Store


@dataclass(frozen=True)
class ImportRecord:
    """A row of the import history."""

    import_id: int
    file_name: str
    content_hash: str
    format: str
    imported_at: datetime
    rows: int
    stages: tuple[str, ...]
    first_month: str | None
    last_month: str | None
    summary: str
    undone_at: datetime | None

    @property
    def active(self) -> bool:
        return self.undone_at is None

    def to_dict(self) -> dict:
        return {"import_id": self.import_id, "file_name": self.file_name,
                "content_hash": self.content_hash, "format": self.format,
                "imported_at": self.imported_at.isoformat(timespec="seconds"), "rows": self.rows,
                "stages": list(self.stages), "first_month": self.first_month,
                "last_month": self.last_month, "summary": self.summary,
                "undone_at": self.undone_at.isoformat(timespec="seconds") if self.undone_at else None}


def undo_import(store: Store, import_id: int) -> str:
    """Remove everything import ``import_id`` added; the values it replaced come back, and so do
    the earlier imports of the same source it replaced. Returns a sentence saying what was
    undone."""
    with store.transaction() as cur:
        row = cur.execute("SELECT file_name, undone_at FROM imports WHERE id = ?", [int(import_id)]).fetchone()
        if row is None:
            raise ImportRejected(f"there is no import #{import_id}")
        if row[1] is not None:
            raise ImportRejected(f"import #{import_id} ({row[0]}) was already undone on {row[1]:%Y-%m-%d %H:%M}")
        counts = {}
        for table in ("monthly_counts", "monthly_revenue", "record_stages", "record_amounts", "record_outcomes",
                      "record_segments"):
            counts[table] = cur.execute(f"DELETE FROM {table} WHERE import_id = ?", [int(import_id)]).fetchone()[0]
        cur.execute("UPDATE imports SET undone_at = now()::TIMESTAMP WHERE id = ?", [int(import_id)])
        back = [r[0] for r in cur.execute("UPDATE imports SET replaced_by = NULL WHERE replaced_by = ? RETURNING id",
                                          [int(import_id)]).fetchall()]
        cur.execute("""DELETE FROM stages WHERE first_import = ?
                       AND key NOT IN (SELECT stage_key FROM monthly_counts)
                       AND key NOT IN (SELECT stage_key FROM record_stages)""", [int(import_id)])
    values = counts["monthly_counts"] + counts["monthly_revenue"]
    facts = counts["record_stages"] + counts["record_amounts"]
    what = f"{values:,} monthly values" if values else f"{facts:,} record facts"
    restored = (f" Import{'s' if len(back) > 1 else ''} {', '.join(f'#{i}' for i in sorted(back))}, which it "
                f"replaced, count{'' if len(back) > 1 else 's'} again." if back else "")
    return f"Undid import #{import_id} ({row[0]}): removed {what}; earlier values are back.{restored}"


def import_history(store: Store) -> list[ImportRecord]:
    """Every import, newest first, undone ones included."""
    rows = store.cursor().execute(
        "SELECT id, file_name, content_hash, format, imported_at, rows, stages, first_month, "
        "last_month, summary, undone_at FROM imports ORDER BY id DESC").fetchall()
    return [ImportRecord(r[0], r[1], r[2], r[3], r[4], int(r[5]), tuple(r[6]), label_of(r[7]),
                         label_of(r[8]), r[9], r[10]) for r in rows]


def known_stages(store: Store) -> tuple[str, ...]:
    """Stage names the database knows, in the order they were first imported."""
    return tuple(r[0] for r in store.cursor().execute("SELECT name FROM stages ORDER BY position").fetchall())
