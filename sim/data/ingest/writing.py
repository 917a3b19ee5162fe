"""Writing an import: its rows into the store, its line in the import history, and the
sentence that says what it did. Runs inside the import's one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ...model.months import label_of

if TYPE_CHECKING:
    from .batch import Batch


@dataclass(frozen=True)
class ImportResult:
    """What an import did (or, with ``already_imported``, that it did nothing)."""

    import_id: int
    file_name: str
    format: str
    rows: int
    stages: tuple[str, ...]
    new_stages: tuple[str, ...]
    first_month: str | None
    last_month: str | None
    revenue_months: int
    replaced: int
    already_imported: bool
    message: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {"import_id": self.import_id, "file_name": self.file_name, "format": self.format,
                "rows": self.rows, "stages": list(self.stages), "new_stages": list(self.new_stages),
                "first_month": self.first_month, "last_month": self.last_month,
                "revenue_months": self.revenue_months, "replaced": self.replaced,
                "already_imported": self.already_imported, "message": self.message,
                "notes": list(self.notes)}


def write(tx, b: Batch, rows, digest: str, options_json: str) -> ImportResult:
    """Write the batch's rows (:class:`MonthlyRows` or :class:`RecordRows`) in the open transaction
    ``tx``, and the import's line in the history; what it did."""
    import_id = tx.execute("SELECT coalesce(max(id), 0) + 1 FROM imports").fetchone()[0]
    position = tx.execute("SELECT coalesce(max(position), 0) FROM stages").fetchone()[0]
    new_stages = []
    for key, display in rows.stages:
        if key not in b.stages.db_stages:
            position += 1
            tx.execute("INSERT INTO stages VALUES (?, ?, ?, ?)", [key, display, position, import_id])
            new_stages.append(display)
    if b.format == "monthly":
        replaced = tx.execute(
            f"SELECT count(*) FROM {rows.counts} b JOIN counts_from_monthly m USING (month, stage_key)"
        ).fetchone()[0] + tx.execute(
            f"SELECT count(*) FROM {rows.revenue} b WHERE month IN (SELECT month FROM monthly_revenue)"
        ).fetchone()[0]
        tx.execute(f"INSERT INTO monthly_counts SELECT ?, month, stage_key, count FROM {rows.counts}", [import_id])
        tx.execute(f"INSERT INTO monthly_revenue SELECT ?, month, revenue FROM {rows.revenue}", [import_id])
        span = tx.execute(f"SELECT min(month), max(month) FROM (SELECT month FROM {rows.counts} "
                          f"UNION ALL SELECT month FROM {rows.revenue})").fetchone()
        revenue_months = tx.execute(f"SELECT count(*) FROM {rows.revenue}").fetchone()[0]
    else:
        replaced = tx.execute(f"SELECT count(*) FROM {rows.records} b "
                              f"SEMI JOIN record_reached r USING (record_id, stage_key)").fetchone()[0]
        tx.execute(f"INSERT INTO record_stages SELECT ?, record_id, stage_key, reached FROM {rows.records}",
                   [import_id])
        tx.execute(f"INSERT INTO record_amounts SELECT ?, record_id, amount FROM {rows.amounts}", [import_id])
        span = tx.execute(f"SELECT min(date_trunc('month', reached)), max(date_trunc('month', reached)) "
                          f"FROM {rows.records}").fetchone()
        revenue_months = tx.execute(
            f"SELECT count(DISTINCT date_trunc('month', r.booked)) FROM {rows.amounts} a JOIN "
            f"(SELECT record_id, max(reached) AS booked FROM {rows.records} GROUP BY ALL) r USING (record_id)"
        ).fetchone()[0]
    first, last = label_of(span[0]), label_of(span[1])
    names = tuple(d for _, d in rows.stages)
    message = summary(b, import_id, names, new_stages, first, last, revenue_months, replaced)
    tx.execute("INSERT INTO imports VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, NULL)",
               [import_id, b.sheet.name, digest, b.format, options_json, b.rows, list(names),
                new_stages, span[0], span[1], message])
    return ImportResult(import_id, b.sheet.name, b.format, b.rows, names, tuple(new_stages),
                        first, last, int(revenue_months), int(replaced), False, message, tuple(b.notes))

def summary(b: Batch, import_id, names, new_stages, first, last, revenue_months, replaced) -> str:
    """The sentence that says what an import did."""
    span = f"{first} to {last}" if first and first != last else (first or "no months")
    parts = [f"Imported {b.sheet.name} as import #{import_id} ({b.format} format): "
             f"{b.rows:,} rows, {span}"]
    if names:
        parts.append(f"stages {', '.join(names)}")
    if revenue_months:
        parts.append(f"revenue for {revenue_months} month{'s' if revenue_months != 1 else ''}")
    text = "; ".join(parts) + "."
    if new_stages:
        text += f" New stage{'s' if len(new_stages) > 1 else ''}: {', '.join(new_stages)}."
    if replaced and b.format == "monthly":
        text += f" Replaced {replaced:,} earlier value{'s' if replaced != 1 else ''}."
    elif replaced:
        text += (f" {replaced:,} (record, stage) pairs were already known from earlier imports and "
                 f"count once.")
    for note in b.notes:
        text += f" Note: {note}."
    return text
