"""Child process of tests/slow/test_durability.py, and the files both sides know.

``python -m tests.durability_child DB MODE [CHECKPOINT]`` opens a :class:`Store` on ``DB`` and
imports generated files ``f0000``, ``f0001``, ... in a loop, continuing after the highest file
number already in the database; with MODE ``undo`` every other import is followed by the undo
of an active import. MODE ``cli-import`` / ``cli-undo``: the same, but each write opens the
database for itself and closes it, as the command line does (so that a reader process, the
app, shares the file between writes). After each committed write it prints (and flushes) a
line: ``ready``, ``imported <import id> <file no>``, ``undone <import id>``. It runs until killed.

``CHECKPOINT`` (e.g. ``256KB``) lowers DuckDB's WAL checkpoint threshold for this process so
that automatic checkpoints happen often (and a kill can land inside one); the store's
lock-down is unchanged. The files are a pure function of their number (:func:`make_file`),
so the parent can rebuild each imported file's content and what it must have written.
"""

from __future__ import annotations

import csv
import io
import random
import re
import sys
from dataclasses import dataclass
from datetime import date, timedelta

from sim.data.ingest import ImportOptions

STAGE_COLUMNS = {"created": "Leads", "mql": "MQLs", "won": "Customers"}
POOL = 7000                         # record ids L00000..L06999, shared by all records files
FILE_RE = re.compile(r"^f(\d{4})-(monthly|records)\.csv$")


@dataclass(frozen=True)
class GeneratedFile:
    """A file and the facts its import must write (stage names are display names)."""

    number: int
    name: str
    data: bytes
    options: ImportOptions
    rows: int
    monthly_counts: frozenset      # (YYYY-MM, stage, count)
    monthly_revenue: frozenset     # (YYYY-MM, revenue)
    record_stages: frozenset       # (record id, stage, date)
    record_amounts: frozenset      # (record id, amount)


def _csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode("utf-8")


def _month(index: int) -> str:
    return f"{2027 + index // 12:04d}-{index % 12 + 1:02d}"


def make_file(n: int, records_rows: int = 2000) -> GeneratedFile:
    """File number ``n``: every third file is a monthly file (5 months, some cells empty),
    the others records exports of ``records_rows`` to twice as many rows whose ids overlap
    other exports. The content depends on ``n`` (so every file has a different hash) and
    ``records_rows`` only."""
    if n % 3 == 1:
        return _monthly(n)
    return _records(n, records_rows)


def _monthly(n: int) -> GeneratedFile:
    with_mqls = n % 4 == 1              # some files add (or bring back) the stage MQLs
    header = ["month", "Leads"] + (["MQLs"] if with_mqls else []) + ["Customers", "revenue"]
    rows, counts, money = [header], set(), set()
    start = n % 7
    for k in range(5):
        m = _month(start + k)
        leads = str(1000 * n + 10 * k + 1)
        mqls = str(500 * n + k)
        customers = "" if (n + k) % 4 == 0 else str(n + k)      # an empty cell states nothing
        revenue = "" if (n + k) % 5 == 0 else str(1000 * n + k)
        rows.append([m, leads] + ([mqls] if with_mqls else []) + [customers, revenue])
        counts.add((m, "Leads", int(leads)))
        if with_mqls:
            counts.add((m, "MQLs", int(mqls)))
        if customers:
            counts.add((m, "Customers", int(customers)))
        if revenue:
            money.add((m, float(revenue)))
    return GeneratedFile(n, f"f{n:04d}-monthly.csv", _csv(rows), ImportOptions(), len(rows) - 1,
                         frozenset(counts), frozenset(money), frozenset(), frozenset())


def _records(n: int, records_rows: int) -> GeneratedFile:
    rng = random.Random(n)
    size = records_rows + (n * 389) % (records_rows + 1)
    offset = (n * 1543) % POOL
    with_mql = n % 2 == 0
    columns = ["created"] + (["mql"] if with_mql else []) + ["won"]
    header = ["id"] + columns + ["amount"]
    rows, stages, amounts = [header], set(), set()
    base = date(2027, 1, 1)
    for i in range(size):
        rid = f"L{(offset + i) % POOL:05d}"
        created = base + timedelta(days=rng.randrange(0, 360))
        mql = created + timedelta(days=rng.randrange(1, 40)) if with_mql and rng.random() < 0.5 else None
        won = created + timedelta(days=rng.randrange(10, 90)) if rng.random() < 0.2 else None
        amount = 100 * n + rng.randrange(1, 100) if won else None
        dates = {"created": created, "mql": mql, "won": won}
        rows.append([rid] + [dates[c].isoformat() if dates[c] else "" for c in columns]
                    + [str(amount) if amount else ""])
        for c in columns:
            if dates[c]:
                stages.add((rid, STAGE_COLUMNS[c], dates[c]))
        if amount:
            amounts.add((rid, float(amount)))
    options = ImportOptions(id_column="id", amount_column="amount",
                            mapping=tuple((c, STAGE_COLUMNS[c]) for c in columns))
    return GeneratedFile(n, f"f{n:04d}-records.csv", _csv(rows), options, size,
                         frozenset(), frozenset(), frozenset(stages), frozenset(amounts))


def expected_actuals(files) -> tuple[dict[tuple[str, str], int], dict[str, float]]:
    """(counts by (month, stage), revenue by month) that the store's views must give for the
    active imports of ``files``, in import order: per month and stage the latest monthly
    value, else the records reaching the stage that month (each record and stage once, the
    latest import's date wins); revenue likewise, a record's latest amount booked in the
    month of its latest stage date."""
    monthly: dict[tuple[str, str], int] = {}
    money: dict[str, float] = {}
    reached: dict[tuple[str, str], date] = {}
    amounts: dict[str, float] = {}
    for f in files:
        for month, stage, count in f.monthly_counts:
            monthly[(month, stage)] = count
        for month, value in f.monthly_revenue:
            money[month] = value
        for rid, stage, day in f.record_stages:
            reached[(rid, stage)] = day
        for rid, amount in f.record_amounts:
            amounts[rid] = amount
    counts = dict(monthly)
    for (_record, stage), day in reached.items():
        key = (day.strftime("%Y-%m"), stage)
        if key not in monthly:
            counts[key] = counts.get(key, 0) + 1
    latest: dict[str, date] = {}
    for (rid, _), day in reached.items():
        latest[rid] = max(day, latest.get(rid, day))
    from_records: dict[str, float] = {}
    for rid, amount in amounts.items():
        month = latest[rid].strftime("%Y-%m")
        from_records[month] = from_records.get(month, 0.0) + amount
    revenue = dict(money)
    for month, value in from_records.items():
        revenue.setdefault(month, value)
    return counts, revenue


def file_number(file_name: str) -> int:
    match = FILE_RE.match(file_name)
    if not match:
        raise ValueError(f"not a generated file: {file_name!r}")
    return int(match.group(1))


def _lower_checkpoint_threshold(threshold: str) -> None:
    """Wrap the store's connect so the connection gets a small checkpoint threshold (set
    before the store locks its configuration)."""
    import sim.data.store as store_module

    connect = store_module._connect

    def patched(path, **kwargs):
        con = connect(path, **kwargs)
        con.execute("SET checkpoint_threshold = ?", [threshold])
        return con

    store_module._connect = patched


def main(argv: list[str]) -> None:
    db, mode = argv[0], argv[1]
    if len(argv) > 2:
        _lower_checkpoint_threshold(argv[2])
    from contextlib import nullcontext

    from sim.data.history import undo_import
    from sim.data.ingest import import_csv
    from sim.data.store import Store

    per_operation = mode.startswith("cli-")
    held = None if per_operation else Store(db)

    def opened():
        return Store(db, wait=120) if per_operation else nullcontext(held)
    with opened() as store:
        names = [r[0] for r in store.cursor().execute("SELECT file_name FROM imports").fetchall()]
    print("ready", flush=True)
    n = max((file_number(name) for name in names), default=-1) + 1
    while True:
        f = make_file(n)
        with opened() as store:
            result = import_csv(store, f.data, f.name, options=f.options)
        assert not result.already_imported, result
        print(f"imported {result.import_id} {n}", flush=True)
        if mode.endswith("undo") and n % 2 == 1:
            with opened() as store:
                active = [r[0] for r in store.cursor().execute(
                    "SELECT id FROM imports WHERE undone_at IS NULL ORDER BY id").fetchall()]
                victim = random.Random(n).choice(active)
                undo_import(store, victim)
            print(f"undone {victim}", flush=True)
        n += 1


if __name__ == "__main__":
    main(sys.argv[1:])
