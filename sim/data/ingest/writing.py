"""Writing an import: its rows into the store, its line in the import history, and the
sentence that says what it did. Runs inside the import's one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ...model.months import label_of
from ...model.names import tidy_name

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
    source: str = ""
    outcomes: dict[str, int] | None = None          # won / lost / open records (None: no outcomes)
    replaced_imports: tuple[int, ...] = ()           # earlier imports of the source it replaced

    def to_dict(self) -> dict:
        return {"import_id": self.import_id, "file_name": self.file_name, "format": self.format,
                "rows": self.rows, "stages": list(self.stages), "new_stages": list(self.new_stages),
                "first_month": self.first_month, "last_month": self.last_month,
                "revenue_months": self.revenue_months, "replaced": self.replaced,
                "already_imported": self.already_imported, "message": self.message,
                "notes": list(self.notes), "source": self.source, "outcomes": self.outcomes,
                "replaced_imports": list(self.replaced_imports)}


def write(tx, b: Batch, rows, digest: str, options_json: str) -> ImportResult:
    """Write the batch's rows (:class:`MonthlyRows` or :class:`RecordRows`) in the open transaction
    ``tx``, and the import's line in the history; what it did."""
    import_id = tx.execute("SELECT coalesce(max(id), 0) + 1 FROM imports").fetchone()[0]
    position = tx.execute("SELECT coalesce(max(position), 0) FROM stages").fetchone()[0]
    existing = {r[0] for r in tx.execute("SELECT key FROM stages").fetchall()}
    new_stages = []
    for key, display in rows.stages:
        if key not in existing:
            position += 1
            tx.execute("INSERT INTO stages VALUES (?, ?, ?, ?)", [key, display, position, import_id])
            new_stages.append(display)
    source = source_name(b)
    superseded = _replace_source(tx, b, rows, source, import_id) if b.options.replace else None
    if b.format == "monthly":
        replaced = tx.execute(
            f"SELECT count(*) FROM {rows.counts} b JOIN counts_from_monthly m USING (month, stage_key)"
        ).fetchone()[0] + tx.execute(
            f"SELECT count(*) FROM {rows.revenue} b WHERE month IN (SELECT month FROM monthly_revenue_cells)"
        ).fetchone()[0]
        tx.execute(f"INSERT INTO monthly_counts (import_id, month, stage_key, count, segment) "
                   f"SELECT ?, month, stage_key, count, segment FROM {rows.counts}", [import_id])
        tx.execute(f"INSERT INTO monthly_revenue (import_id, month, revenue, segment) "
                   f"SELECT ?, month, revenue, segment FROM {rows.revenue}", [import_id])
        span = tx.execute(f"SELECT min(month), max(month) FROM (SELECT month FROM {rows.counts} "
                          f"UNION ALL SELECT month FROM {rows.revenue})").fetchone()
        revenue_months = tx.execute(f"SELECT count(DISTINCT month) FROM {rows.revenue}").fetchone()[0]
    else:
        facts = b.temps.name("facts")                 # the file's facts, computed once
        tx.execute(f"CREATE TEMP TABLE {facts} AS SELECT * FROM {rows.records}")
        replaced = tx.execute(f"SELECT count(*) FROM {facts} b SEMI JOIN (SELECT record_id, stage_key FROM record_stages "
                              f"ANTI JOIN replaced_imports USING (import_id)) r USING (record_id, stage_key)"
                              ).fetchone()[0]
        tx.execute(f"INSERT INTO record_stages SELECT ?, record_id, stage_key, reached FROM {facts}", [import_id])
        tx.execute(f"INSERT INTO record_amounts SELECT ?, record_id, amount FROM {rows.amounts}", [import_id])
        if rows.outcomes:
            tx.execute(f"INSERT INTO record_outcomes SELECT ?, record_id, outcome, closed, won_stage "
                       f"FROM {rows.outcomes}", [import_id])
        if rows.segments:
            tx.execute(f"INSERT INTO record_segments SELECT ?, record_id, segment FROM {rows.segments}", [import_id])
        if superseded:
            still = tx.execute(f"SELECT count(*), list(DISTINCT s.import_id ORDER BY s.import_id) FROM record_stages s "
                               f"ANTI JOIN replaced_imports USING (import_id) WHERE s.import_id <> ? "
                               f"AND s.record_id IN (SELECT rid FROM {b.typed})", [import_id]).fetchone()
            superseded = replace(superseded, still=(int(still[0]), tuple(still[1] or ())))
        span = tx.execute(f"SELECT min(date_trunc('month', reached)), max(date_trunc('month', reached)) "
                          f"FROM {facts}").fetchone()
        revenue_months = tx.execute(f"SELECT count(DISTINCT month) FROM ({file_revenue_sql(facts, rows)})").fetchone()[0]
    first, last = label_of(span[0]), label_of(span[1])
    names = tuple(d for _, d in rows.stages)
    won_name = dict(rows.stages).get(getattr(rows, "won_stage", None))
    message = summary(b, import_id, names, new_stages, first, last, revenue_months, replaced, superseded, won_name)
    tx.execute("INSERT INTO imports (id, file_name, content_hash, format, options, imported_at, rows, stages, "
               "new_stages, first_month, last_month, summary, undone_at, source, replaced_by) "
               "VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, NULL, ?, NULL)",
               [import_id, b.sheet.name, digest, b.format, options_json, b.rows, list(names),
                new_stages, span[0], span[1], message, source])
    return ImportResult(import_id, b.sheet.name, b.format, b.rows, names, tuple(new_stages),
                        first, last, int(revenue_months), int(replaced), False, message, tuple(b.notes),
                        source, b.outcome_counts, tuple(i for i, _ in superseded.imports) if superseded else ())


def file_revenue_sql(facts: str, rows) -> str:
    """SQL of the revenue a records file gives on its own, (month, amount) per record: the
    amount of a won record in the month it was won; of a record without an outcome, in the
    month of its latest stage date; never of a lost or open one. ``facts``: its (record, stage,
    reached) rows."""
    outcomes = rows.outcomes or ("(SELECT NULL::VARCHAR AS record_id, NULL::VARCHAR AS outcome, NULL::DATE AS closed "
                                 "LIMIT 0)")
    return (f"SELECT date_trunc('month', CASE WHEN o.outcome = 'won' THEN coalesce(o.closed, d.booked) "
            f"ELSE d.booked END)::DATE AS month, a.amount "
            f"FROM {rows.amounts} a LEFT JOIN {outcomes} o USING (record_id) "
            f"JOIN (SELECT record_id, max(reached) AS booked FROM {facts} GROUP BY ALL) d USING (record_id) "
            f"WHERE o.outcome IS NULL OR o.outcome = 'won'")


def source_name(b: Batch) -> str:
    """What the file is an export of: the source option, else the file name."""
    return tidy_name(b.options.source) if b.options.source else b.sheet.name


@dataclass(frozen=True)
class Superseded:
    """The earlier imports of the same source that an import replaces, and what they stated:
    ``facts`` (record, stage) facts or monthly values, ``dropped`` of them that the new file
    does not state again, ``amounts``."""

    imports: tuple[tuple[int, str], ...]
    facts: int
    dropped: int
    amounts: int
    still: tuple[int, tuple[int, ...]] = (0, ())     # facts of other imports about these records, and which


def _replace_source(tx, b: Batch, rows, source: str, import_id: int) -> Superseded | None:
    """Stop counting what the earlier (active) imports of ``source`` stated: they are marked as
    replaced by ``import_id`` (set when its history line is written; undoing it brings them
    back). Their facts leave the views now, so the rest of :func:`write` sees the others only."""
    earlier = tx.execute("SELECT id, file_name FROM imports WHERE source = ? AND undone_at IS NULL "
                         "AND replaced_by IS NULL ORDER BY id", [source]).fetchall()
    if not earlier:
        return None
    ids = [i for i, _ in earlier]
    facts_table, keys, amounts_table, new_rows = (
        ("monthly_counts", "month, stage_key", "monthly_revenue", rows.counts) if b.format == "monthly" else
        ("record_stages", "record_id, stage_key", "record_amounts", rows.records))
    of_earlier = "WHERE import_id IN (SELECT unnest(?::INTEGER[]))"
    facts = tx.execute(f"SELECT count(*) FROM {facts_table} {of_earlier}", [ids]).fetchone()[0]
    dropped = tx.execute(f"SELECT count(*) FROM (SELECT DISTINCT {keys} FROM {facts_table} {of_earlier}) e "
                         f"ANTI JOIN {new_rows} n USING ({keys})", [ids]).fetchone()[0]
    amounts = tx.execute(f"SELECT count(*) FROM {amounts_table} {of_earlier}", [ids]).fetchone()[0]
    # Marked now (the view of replaced imports): the new import's id is not in the history yet.
    tx.execute("UPDATE imports SET replaced_by = ? WHERE id IN (SELECT unnest(?::INTEGER[]))", [import_id, ids])
    return Superseded(tuple(earlier), int(facts), int(dropped), int(amounts))


def summary(b: Batch, import_id, names, new_stages, first, last, revenue_months, replaced,
            superseded: Superseded | None = None, won_name: str | None = None) -> str:
    """The sentence that says what an import did."""
    span = f"{first} to {last}" if first and first != last else (first or "no months")
    kind = {"history": "stage-history"}.get(b.format, b.format)
    parts = [f"Imported {b.sheet.name} as import #{import_id} ({kind} format): "
             f"{b.rows:,} rows, {span}"]
    if names:
        parts.append(f"stages {', '.join(names)}")
    if revenue_months:
        parts.append(f"revenue for {revenue_months} month{'s' if revenue_months != 1 else ''}")
    text = "; ".join(parts) + "."
    if new_stages:
        text += f" New stage{'s' if len(new_stages) > 1 else ''}: {', '.join(new_stages)}."
    if b.outcome_counts is not None:
        won, lost, still = (b.outcome_counts[k] for k in ("won", "lost", "open"))
        text += (f" Outcomes: {won:,} won (counted as {won_name}), {lost:,} lost (never {won_name}, no revenue), "
                 f"{still:,} open.")
    if superseded:
        which = ", ".join(f"#{i} ({name})" for i, name in superseded.imports)
        what = "monthly values" if b.format == "monthly" else "(record, stage) facts"
        text += (f" Replaced what earlier import{'s' if len(superseded.imports) > 1 else ''} {which} of the same "
                 f"source said: its {superseded.facts:,} {what}"
                 + (f" and {superseded.amounts:,} {'revenue values' if b.format == 'monthly' else 'amounts'}"
                    if superseded.amounts else "")
                 + f" no longer count ({superseded.dropped:,} of them are not in this file).")
        if superseded.still[0]:
            which = ", ".join(f"#{i}" for i in superseded.still[1][:6])
            text += (f" Still counting: {superseded.still[0]:,} (record, stage) facts about these records from "
                     f"other imports ({which}).")
    if replaced and b.format == "monthly":
        text += f" Replaced {replaced:,} earlier value{'s' if replaced != 1 else ''}" + (
            " of other sources." if superseded else ".")
    elif replaced:
        text += (f" {replaced:,} (record, stage) pairs were already known from earlier imports"
                 + (" of other sources (they still count)" if superseded else "") + " and count once.")
    for note in b.notes:
        text += f" Note: {note}."
    return text
