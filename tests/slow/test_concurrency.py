"""Concurrency: several sessions of one server, as threads: each opening a :class:`Store` per
operation (the app now: read-only for reads; the stores of one file share its write lock), or
all sharing one store (a cursor per unit of work, the write lock around every write). Threads import
distinct files (overlapping records exports, monthly corrections, duplicates and invalid
files), one thread undoes imports, and readers load the actuals and the history in a loop.

Readers never see half an import or half an undo: every state a reader observes is the
state after a whole number of the writes, in the order the write lock admitted them. At the
end the database equals a fresh one into which the same writes are replayed one by one.

The file's write lock is wrapped (delegating to the real one) to learn the order in which
writers held it: the order of their commits. ``load_actuals`` reads its three statements in one
transaction (one snapshot): ``test_load_actuals_reads_one_snapshot`` commits an import between
them and checks it is shown whole or not at all. Expected actuals are computed in Python from
the generated files (``tests/durability_child.py``), never read back from the program.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import random
import threading
import traceback
from pathlib import Path

import pytest

from sim.data.actuals import load_actuals
from sim.data.history import import_history, undo_import
from sim.data.ingest import import_csv
from sim.data.store import Store, _gate
from sim.errors import ImportRejected
from sim.model.names import fold_name
from tests import durability_child
from tests.durability_child import GeneratedFile, expected_actuals

SEED = 424242
WRITERS = 3
FILES = 30                  # valid files f0000..f0029: records exports and monthly files
RECORDS_ROWS = 300          # records files of 300-600 rows
UNDOS = 8
FACT_TABLES = ("monthly_counts", "monthly_revenue", "record_stages", "record_amounts")


@functools.cache
def make_file(n: int) -> GeneratedFile:
    return durability_child.make_file(n, RECORDS_ROWS)


class RecordingLock:
    """The store's write lock, delegating to the real one, counting outermost acquisitions
    (``acquired``) and releases (``released``); each thread's ``last_seq`` is the number of
    its latest outermost acquisition. Acquisitions are serialised by the real lock, so the
    k-th release ends the k-th acquisition."""

    def __init__(self, inner):
        self.inner = inner
        self.local = threading.local()
        self.acquired = 0
        self.released = 0
        self.holder: int | None = None
        self.overlaps = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        ok = self.inner.acquire(blocking, timeout)
        if ok:
            depth = getattr(self.local, "depth", 0)
            if depth == 0:
                if self.holder is not None:
                    self.overlaps += 1
                self.holder = threading.get_ident()
                self.local.last_seq = self.acquired
                self.acquired += 1
            self.local.depth = depth + 1
        return ok

    def release(self) -> None:
        self.local.depth -= 1
        if self.local.depth == 0:
            self.holder = None
            self.released += 1
        self.inner.release()

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def seq(self) -> int | None:
        return getattr(self.local, "last_seq", None)


def _invalid_files(rng: random.Random) -> list[tuple[bytes, str, object]]:
    """Files that must be rejected: (data, name, options). Each breaks late in the file, so
    validation does real work before refusing."""
    records = make_file(0)
    lines = records.data.decode().split("\n")
    fields = lines[-2].split(",")
    fields[1] = "2027-02-30"                                       # not a date
    bad_date = "\n".join(lines[:-2] + [",".join(fields), ""]).encode()
    dup_id = "\n".join(lines[:-1] + [lines[1], ""]).encode()       # an id twice
    monthly = make_file(1)
    mlines = monthly.data.decode().split("\n")
    dup_month = "\n".join(mlines[:-1] + [mlines[1], ""]).encode()  # a month twice
    cells = mlines[2].split(",")
    cells[1] = "-5"
    negative = "\n".join(mlines[:2] + [",".join(cells)] + mlines[3:]).encode()
    bad = [(bad_date, "bad-date.csv", records.options), (dup_id, "dup-id.csv", records.options),
           (dup_month, "dup-month.csv", monthly.options), (negative, "negative.csv", monthly.options),
           (b"\x00\x01\x02binary" * 100, "binary.csv", monthly.options),
           (b"month,Leads\n", "header-only.csv", monthly.options)]
    rng.shuffle(bad)
    return bad


def _snapshot(store) -> tuple:
    """(imports, fact counts per import, actual counts, actual revenue), read in one transaction."""
    cur = store.cursor()
    try:
        cur.begin()
        imports = tuple(cur.execute("SELECT id, content_hash, undone_at IS NULL FROM imports "
                                    "ORDER BY id").fetchall())
        facts = tuple(tuple(sorted(cur.execute(f"SELECT import_id, count(*) FROM {t} "
                                               f"GROUP BY import_id").fetchall()))
                      for t in FACT_TABLES)
        counts = frozenset(cur.execute("SELECT strftime(month, '%Y-%m'), stage_key, count "
                                       "FROM actual_counts").fetchall())
        revenue = frozenset(cur.execute("SELECT strftime(month, '%Y-%m'), revenue "
                                        "FROM actual_revenue").fetchall())
        cur.commit()
    finally:
        cur.close()
    return imports, facts, counts, revenue


def _stage_keys(counts: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
    return {(m, fold_name(s)): c for (m, s), c in counts.items()}


@pytest.mark.parametrize("per_operation", [False, True], ids=["one shared store", "a store per operation"])
def test_concurrent_imports_undos_and_reads(tmp_path, per_operation):
    """``per_operation``: as the app works now, every write opens its own store and every read
    its own read-only one (the stores of one file share a gate: readers join an open writer,
    a writer waits for read-only stores to close); else one store shared by every thread."""
    rng = random.Random(SEED)
    path = (tmp_path / "db" / "funnel.duckdb").resolve()
    gate = _gate(path)
    lock = RecordingLock(gate.write_lock)
    gate.write_lock = lock                # every store of this file writes under it
    store = None if per_operation else Store(path)

    def opened(read_only: bool = False):
        return Store(path, read_only=read_only) if per_operation else contextlib.nullcontext(store)

    # -- the work ------------------------------------------------------------------------------
    numbers = list(range(FILES))
    rng.shuffle(numbers)
    invalid = _invalid_files(rng)
    plans: list[list[tuple]] = [[] for _ in range(WRITERS)]
    for i, n in enumerate(numbers):
        plans[i % WRITERS].append(("valid", n))
    for i, bad in enumerate(invalid):
        plans[i % WRITERS].insert(rng.randrange(len(plans[i % WRITERS]) + 1), ("invalid", bad))
    for w in range(WRITERS):              # the same bytes as another writer's file
        other = plans[(w + 1) % WRITERS]
        n = next(item[1] for item in other if item[0] == "valid")
        plans[w].insert(rng.randrange(len(plans[w]) + 1), ("valid", n))

    log: list[tuple] = []                 # (seq, "import", id, n) | (seq, "undo", id)
    rejected: list[str] = []
    already: list[tuple[int, int]] = []   # (import id it pointed to, n)
    errors: list[str] = []
    writers_done = threading.Event()
    stop = threading.Event()

    def guarded(body):
        def run():
            try:
                body()
            except BaseException:  # noqa: BLE001 - reported by the test
                errors.append(traceback.format_exc())
                stop.set()
        return run

    def writer(plan):
        for kind, item in plan:
            if stop.is_set():
                return
            if kind == "invalid":
                data, name, options = item
                with pytest.raises(ImportRejected), opened() as s:
                    import_csv(s, data, name, options=options)
                rejected.append(name)
                continue
            f = make_file(item)
            before = lock.seq()
            with opened() as s:
                result = import_csv(s, f.data, f.name, options=f.options)
            assert lock.seq() is not None and lock.seq() != before   # it took the write lock
            if result.already_imported:
                already.append((result.import_id, item))
            else:
                log.append((lock.seq(), "import", result.import_id, item))

    def undoer():
        local = random.Random(SEED + 1)
        undone: set[int] = set()
        done = 0
        while done < UNDOS and not stop.is_set():
            stop.wait(local.uniform(0.05, 0.3))
            imported = [e[2] for e in list(log) if e[1] == "import" and e[2] not in undone]
            if not imported:
                continue
            victim = local.choice(imported)
            before = lock.seq()
            with opened() as s:
                undo_import(s, victim)
            assert lock.seq() is not None and lock.seq() != before
            log.append((lock.seq(), "undo", victim))
            undone.add(victim)
            done += 1
            if done == 2:     # refused writes change nothing
                with pytest.raises(ImportRejected, match="already undone"), opened() as s:
                    undo_import(s, victim)
                with pytest.raises(ImportRejected, match="no import"), opened() as s:
                    undo_import(s, 10_000)

    snapshots: set[tuple] = set()
    loaded: list[tuple] = []              # (released before, acquired after, counts, revenue, stages)
    histories: list[tuple] = []           # (released before, acquired after, ((id, active), ...))

    def snapshot_reader():
        while True:
            last = writers_done.is_set()
            with opened(read_only=True) as s:
                snapshots.add(_snapshot(s))
            if last or stop.is_set():       # one more read after the last write
                return

    def actuals_reader():
        while not writers_done.is_set() and not stop.is_set():
            r0 = lock.released
            with opened(read_only=True) as s:
                a = load_actuals(s)
            loaded.append((r0, lock.acquired, {(m, s): c for m, s, c in a.counts}, dict(a.revenue),
                           a.stages))

    def history_reader():
        while not writers_done.is_set() and not stop.is_set():
            r0 = lock.released
            with opened(read_only=True) as s:
                h = import_history(s)
            histories.append((r0, lock.acquired, tuple((r.import_id, r.active) for r in reversed(h))))

    writer_threads = [threading.Thread(target=guarded(lambda p=p: writer(p))) for p in plans]
    writer_threads.append(threading.Thread(target=guarded(undoer)))
    readers = [threading.Thread(target=guarded(snapshot_reader)) for _ in range(2)]
    readers += [threading.Thread(target=guarded(actuals_reader)),
                threading.Thread(target=guarded(history_reader))]
    for t in readers + writer_threads:
        t.start()
    for t in writer_threads:
        t.join(timeout=600)
    writers_done.set()
    for t in readers:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in readers + writer_threads)
    assert errors == [], "\n".join(errors)   # no "Transaction conflict", nothing unexpected
    assert lock.overlaps == 0 and lock.acquired == lock.released

    # -- what happened, in the order the write lock admitted it ---------------------------------
    log.sort()
    assert sorted(rejected) == sorted(name for _, name, _ in invalid)
    imports = [e for e in log if e[1] == "import"]
    undos = [e for e in log if e[1] == "undo"]
    assert [e[2] for e in imports] == list(range(1, len(imports) + 1))   # ids in commit order
    assert len(undos) == UNDOS
    # Every valid file was imported; a second import of the same bytes either found the first
    # (already imported: nothing changed) or came after its undo.
    file_of = {e[2]: e[3] for e in imports}
    assert set(file_of.values()) == set(range(FILES))
    assert len(imports) + len(already) == FILES + WRITERS
    assert all(file_of[i] == n for i, n in already)
    undo_seq = {e[2]: e[0] for e in undos}
    first_of: dict[int, tuple] = {}
    for e in imports:
        if e[3] in first_of:
            assert undo_seq.get(first_of[e[3]][2], e[0]) < e[0], (first_of[e[3]], e)
        first_of[e[3]] = e

    # states[j]: (ids imported, ids undone) after the writes with seq < j (rejected ones count
    # as writes that changed nothing).
    states = []
    imported_ids: tuple[int, ...] = ()
    undone_ids: frozenset[int] = frozenset()
    by_seq = {e[0]: e for e in log}
    for j in range(lock.acquired + 1):
        states.append((imported_ids, undone_ids))
        e = by_seq.get(j)
        if e and e[1] == "import":
            imported_ids += (e[2],)
        elif e:
            undone_ids |= {e[2]}

    @functools.cache
    def model(state):
        ids, undone = state
        counts, revenue = expected_actuals([make_file(file_of[i]) for i in ids if i not in undone])
        return counts, revenue

    def same_revenue(a: dict, b: dict) -> bool:
        return set(a) == set(b) and all(abs(a[k] - b[k]) < 1e-6 for k in a)

    # -- every snapshot is the state after a whole number of writes -----------------------------
    state_index = {(s[0], s[1]): j for j, s in enumerate(states)}
    seen_states = set()
    for imports_rows, facts, counts, revenue in snapshots:
        ids = tuple(r[0] for r in imports_rows)
        undone = frozenset(r[0] for r in imports_rows if not r[2])
        assert (ids, undone) in state_index, (ids, undone)
        seen_states.add((ids, undone))
        for import_id, digest, _ in imports_rows:
            assert digest == hashlib.sha256(make_file(file_of[import_id]).data).hexdigest()
        expected_counts, expected_revenue = model((ids, undone))
        assert dict(((m, k), c) for m, k, c in counts) == _stage_keys(expected_counts)
        assert same_revenue(dict(revenue), expected_revenue)
        for table, rows in zip(FACT_TABLES, facts):
            got = dict(rows)
            for import_id in ids:
                f = make_file(file_of[import_id])
                size = 0 if import_id in undone else len(getattr(f, table))
                assert got.get(import_id, 0) == size, (table, import_id)
            assert set(got) <= set(ids)
    assert len(seen_states) >= 3          # the readers did run during the writes

    # -- load_actuals and import_history show a state between their start and end ---------------
    # load_actuals reads the stages, the counts and the revenue in one transaction (see
    # test_load_actuals_reads_one_snapshot): each part, and the whole result, shows one state.
    for r0, a1, counts, revenue, stages in loaded:
        candidates = [states[j] for j in range(r0, min(a1, len(states) - 1) + 1)]
        keys = {fold_name(s) for s in stages}
        assert any(_stage_keys(counts) == {k: c for k, c in _stage_keys(model(s)[0]).items() if k[1] in keys}
                   for s in candidates), (r0, a1)
        assert any(same_revenue(revenue, model(s)[1]) for s in candidates), (r0, a1)
        assert {s for _, s in counts} <= set(stages)
    mixed = sum(1 for r0, a1, counts, revenue, _ in loaded
                if not any(_stage_keys(counts) == _stage_keys(model(states[j])[0])
                           and same_revenue(revenue, model(states[j])[1])
                           for j in range(r0, min(a1, len(states) - 1) + 1)))
    assert mixed == 0                 # load_actuals reads one snapshot: never two states mixed
    print(f"{lock.acquired} writes ({len(imports)} imports, {len(undos)} undos); {len(snapshots)} "
          f"snapshots of {len(seen_states)} states; {len(loaded)} load_actuals ({mixed} mixing two "
          f"states); {len(histories)} histories")          # shown with -s or -rP
    for r0, a1, rows in histories:
        candidates = [states[j] for j in range(r0, min(a1, len(states) - 1) + 1)]
        assert any(rows == tuple((i, i not in s[1]) for i in s[0]) for s in candidates), (r0, a1)
    assert loaded and histories

    # -- the end state equals a sequential replay of the same writes -----------------------------
    final = states[-1]
    counts, revenue = model(final)
    store = store or Store(path)
    actuals = load_actuals(store)
    assert _stage_keys({(m, s): c for m, s, c in actuals.counts}) == _stage_keys(counts)
    assert same_revenue(dict(actuals.revenue), revenue)
    with Store(tmp_path / "replay" / "funnel.duckdb") as replay:
        for e in log:
            if e[1] == "import":
                f = make_file(e[3])
                result = import_csv(replay, f.data, f.name, options=f.options)
                assert result.import_id == e[2] and not result.already_imported
            else:
                undo_import(replay, e[2])
        assert load_actuals(replay) == actuals
        for table in FACT_TABLES + ("stages",):
            sql = f"SELECT * FROM {table} ORDER BY ALL"
            assert store.cursor().execute(sql).fetchall() == replay.cursor().execute(sql).fetchall(), table
        sql = ("SELECT id, file_name, content_hash, format, options, rows, stages, new_stages, "
               "first_month, last_month, summary, undone_at IS NULL FROM imports ORDER BY id")
        assert store.cursor().execute(sql).fetchall() == replay.cursor().execute(sql).fetchall()
    assert list(store.staging_dir.iterdir()) == []
    store.close()


class _CommitAfterFirstRead:
    """A cursor that runs ``write`` (on another cursor) right after its first fetch: a write
    committed by another session between two statements of the reader."""

    def __init__(self, cur, write):
        self._cur, self._write = cur, write

    def execute(self, *args, **kwargs):
        self._cur.execute(*args, **kwargs)
        return self

    def _fetched(self, rows):
        if self._write is not None:
            write, self._write = self._write, None
            write()
        return rows

    def fetchall(self):
        return self._fetched(self._cur.fetchall())

    def fetchone(self):
        return self._fetched(self._cur.fetchone())

    def __getattr__(self, name):
        return getattr(self._cur, name)


def _load_actuals_shows_half_a_write(folder: Path) -> bool:
    """Whether load_actuals, with an import committed by another cursor right after its first
    read, returns something that is neither the state before nor the state after it."""
    with Store(folder / "funnel.duckdb") as store:
        first = make_file(0)
        import_csv(store, first.data, first.name, options=first.options)
        before = load_actuals(store)
        correction = b"month,Leads,Demos,revenue\n2027-02,1,2,3\n2027-03,4,5,6\n"

        def write():
            del store.cursor                      # the real method again
            import_csv(store, correction, "correction.csv")

        real_cursor = store.cursor
        store.cursor = lambda: _CommitAfterFirstRead(real_cursor(), write)
        try:
            during = load_actuals(store)
        finally:
            store.__dict__.pop("cursor", None)
        after = load_actuals(store)
        assert len(import_history(store)) == 2, "the interleaved import did not run"
        assert after != before and after.stages == before.stages + ("Demos",)
        return during not in (before, after)


def test_load_actuals_reads_one_snapshot(tmp_path):
    """An import committed while load_actuals runs is shown completely or not at all."""
    assert not _load_actuals_shows_half_a_write(tmp_path)
