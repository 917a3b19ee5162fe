"""The DuckDB store: schema migration, lock-down, single-process locking, transactions.

Every test opens its own database under ``tmp_path`` (never the project's data/funnel.duckdb).
"""

from __future__ import annotations

import subprocess
import sys
import threading

import duckdb
import pytest

from sim.data.store import MIGRATIONS, SCHEMA_VERSION, STAGING_DIR, Store, StoreError, file_state
from sim.errors import StoreBusy

from ..conftest import ROOT, holding_process

# Tables the first migration creates (the views are checked through them elsewhere).
CORE_TABLES = {"imports", "stages", "monthly_counts", "monthly_revenue", "record_stages",
               "record_amounts", "plans", "plan_bands", "schema_version"}


def _tables(cur) -> set[str]:
    return {r[0] for r in cur.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT temporary").fetchall()}


def _version_rows(cur) -> list[tuple]:
    return cur.execute("SELECT version, applied_at FROM schema_version ORDER BY version").fetchall()


# ------------------------------------------------------------------------------------------
# Schema and migrations
# ------------------------------------------------------------------------------------------

def test_new_database_gets_the_current_schema(db_path):
    assert not db_path.exists()
    with Store(db_path) as s:
        assert s.is_new
        assert db_path.exists()
        assert s.staging_dir == db_path.parent.resolve() / STAGING_DIR and s.staging_dir.is_dir()
        assert s.schema_version() == SCHEMA_VERSION == max(v for v, _ in MIGRATIONS)
        cur = s.cursor()
        assert [v for v, _ in _version_rows(cur)] == [v for v, _ in MIGRATIONS]
        assert CORE_TABLES <= _tables(cur)


def test_reopening_does_not_migrate_again_and_keeps_data(db_path):
    with Store(db_path) as s:
        before = _version_rows(s.cursor())
        with s.transaction() as cur:
            cur.execute("INSERT INTO stages VALUES ('leads', 'Leads', 1, NULL)")
    with Store(db_path) as s:
        assert not s.is_new
        assert s.schema_version() == SCHEMA_VERSION
        # Same rows, same applied_at: no migration ran a second time.
        assert _version_rows(s.cursor()) == before
        assert s.cursor().execute("SELECT key, name FROM stages").fetchall() == [("leads", "Leads")]


def test_database_from_a_newer_version_is_refused(db_path):
    db_path.parent.mkdir(parents=True)
    con = duckdb.connect(str(db_path))
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL)")
    con.execute("INSERT INTO schema_version VALUES (?, now()::TIMESTAMP)", [SCHEMA_VERSION + 1])
    con.close()
    with pytest.raises(StoreError, match="newer"):
        Store(db_path)
    # The refused store released the file and migrated nothing.
    con = duckdb.connect(str(db_path))
    try:
        assert _tables(con) == {"schema_version"}
        assert [v for v, _ in _version_rows(con)] == [SCHEMA_VERSION + 1]
    finally:
        con.close()


# ------------------------------------------------------------------------------------------
# Lock-down
# ------------------------------------------------------------------------------------------

# {tmp}: the test's folder (holding secret.csv); {staging}: the store's staging folder in it.
REFUSED = {
    "read_csv /etc/passwd": "SELECT * FROM read_csv('/etc/passwd')",
    "read_text outside": "SELECT * FROM read_text('{tmp}/secret.csv')",
    "read_csv outside": "SELECT * FROM read_csv('{tmp}/secret.csv')",
    "read_csv staging/..": "SELECT * FROM read_csv('{staging}/../secret.csv')",
    "read_text staging/..": "SELECT * FROM read_text('{staging}/../secret.csv')",
    "file:// url": "SELECT * FROM read_csv('file://{tmp}/secret.csv')",
    "glob outside": "SELECT * FROM glob('{tmp}/*')",
    "COPY TO outside": "COPY (SELECT 42 AS x) TO '{tmp}/out.csv'",
    "COPY TO staging/..": "COPY (SELECT 42 AS x) TO '{staging}/../out.csv'",
    "EXPORT DATABASE": "EXPORT DATABASE '{tmp}/export'",
    "ATTACH file": "ATTACH '{tmp}/other.duckdb' AS other",
    "INSTALL": "INSTALL httpfs",
    "LOAD": "LOAD httpfs",
    "LOAD file": "LOAD '{tmp}/evil.duckdb_extension'",
    "remote url": "SELECT * FROM read_csv('https://example.com/x.csv')",
    "SET enable_external_access": "SET enable_external_access = true",
    "SET allowed_directories": "SET allowed_directories = ['/']",
    "RESET allowed_directories": "RESET allowed_directories",
    "SET lock_configuration": "SET lock_configuration = false",
    "SET autoinstall": "SET autoinstall_known_extensions = true",
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_lock_down_refuses(tmp_path, name):
    with Store(tmp_path / "funnel.duckdb") as s:
        (tmp_path / "secret.csv").write_text("a,b\n1,2\n", encoding="utf-8")
        statement = REFUSED[name].format(tmp=tmp_path, staging=s.staging_dir)
        with pytest.raises(duckdb.Error):
            s.cursor().execute(statement).fetchall()
        assert not (tmp_path / "out.csv").exists()
        assert not (tmp_path / "export").exists() and not (tmp_path / "other.duckdb").exists()
        # The lock-down is still in force afterwards, on any new cursor.
        settings = dict(s.cursor().execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN "
            "('enable_external_access', 'lock_configuration')").fetchall())
        assert settings == {"enable_external_access": "false", "lock_configuration": "true"}
        with pytest.raises(duckdb.Error):
            s.cursor().execute(f"SELECT * FROM read_text('{tmp_path}/secret.csv')").fetchall()


def test_staging_folder_is_readable(store):
    (store.staging_dir / "ok.csv").write_text("a,b\n1,2\n3,4\n", encoding="utf-8")
    rows = store.cursor().execute(
        "SELECT a, b FROM read_csv(?) ORDER BY a", [str(store.staging_dir / "ok.csv")]).fetchall()
    assert rows == [(1, 2), (3, 4)]


def test_symlink_in_the_staging_folder_does_not_lead_outside(store, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("a,b\n1,2\n", encoding="utf-8")
    (store.staging_dir / "link.csv").symlink_to(secret)
    with pytest.raises(duckdb.Error):
        store.cursor().execute("SELECT * FROM read_csv(?)", [str(store.staging_dir / "link.csv")]).fetchall()


def test_lock_down_holds_inside_a_transaction(store, tmp_path):
    (tmp_path / "db" / "secret.txt").write_text("top secret", encoding="utf-8")
    with pytest.raises(duckdb.Error):
        with store.transaction() as cur:
            cur.execute(f"SELECT * FROM read_text('{tmp_path}/db/secret.txt')").fetchall()


# ------------------------------------------------------------------------------------------
# Opening problems
# ------------------------------------------------------------------------------------------

def test_second_process_waits_then_is_refused_with_a_store_error(store, db_path):
    code = f"from sim.data.store import Store; Store({str(db_path)!r}, wait=0.5)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("sim.errors.StoreBusy"), proc.stderr
    assert "in use by another process" in last
    # The holder is unaffected.
    assert store.schema_version() == SCHEMA_VERSION


def test_second_process_may_open_after_close(db_path):
    Store(db_path).close()
    code = f"from sim.data.store import Store; print(Store({str(db_path)!r}).schema_version())"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(SCHEMA_VERSION)


@pytest.mark.parametrize("name", ["actuals.csv", "actuals.tsv", "notes.txt", "funnel.duckdb",
                                  "data.json", "data.parquet"])
def test_text_file_is_not_a_database(tmp_path, name):
    # DuckDB itself opens an existing .csv as an in-memory database: the store must refuse it.
    path = tmp_path / name
    content = "month,Leads\n2027-01,10\n" * 500
    path.write_text(content, encoding="utf-8")
    with pytest.raises(StoreError, match="not a DuckDB database"):
        Store(path)
    assert path.read_text(encoding="utf-8") == content      # left as it was


def test_directory_as_database_path(tmp_path):
    (tmp_path / "dir.duckdb").mkdir()
    with pytest.raises(StoreError):
        Store(tmp_path / "dir.duckdb")


# ------------------------------------------------------------------------------------------
# Transactions
# ------------------------------------------------------------------------------------------

def test_transaction_commits(store):
    with store.transaction() as cur:
        cur.execute("INSERT INTO stages VALUES ('leads', 'Leads', 1, NULL)")
    assert store.cursor().execute("SELECT count(*) FROM stages").fetchone()[0] == 1


def test_transaction_rolls_back_on_exception(store):
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with store.transaction() as cur:
            cur.execute("INSERT INTO stages VALUES ('leads', 'Leads', 1, NULL)")
            cur.execute("INSERT INTO monthly_counts (import_id, month, stage_key, count) VALUES (1, DATE '2027-01-01', 'leads', 5)")
            assert cur.execute("SELECT count(*) FROM stages").fetchone()[0] == 1   # visible inside
            raise Boom()
    cur = store.cursor()
    assert cur.execute("SELECT count(*) FROM stages").fetchone()[0] == 0
    assert cur.execute("SELECT count(*) FROM monthly_counts").fetchone()[0] == 0
    # The write lock was released: another thread can take it.
    got = []
    t = threading.Thread(target=lambda: got.append(store.write_lock.acquire(timeout=5)))
    t.start()
    t.join()
    assert got == [True]


def test_transaction_rolls_back_a_failing_statement(store):
    with pytest.raises(duckdb.Error):
        with store.transaction() as cur:
            cur.execute("INSERT INTO stages VALUES ('leads', 'Leads', 1, NULL)")
            cur.execute("INSERT INTO stages VALUES ('leads', 'Again', 2, NULL)")   # primary key
    assert store.cursor().execute("SELECT count(*) FROM stages").fetchone()[0] == 0


def test_staged_uploads_left_by_a_killed_import_are_removed_when_a_writer_opens(tmp_path):
    """Finding 9: a process killed mid-import leaves its staged copy behind. When a writer
    opens the database and no other store of it is open (DuckDB's lock keeps other processes
    out, so no import of it is running), every copy of this database is removed, however
    recent; another database's copies in the same folder, and other files, are left alone;
    copies named before the per-database tags go when older than an hour."""
    import os
    import time as clock

    from sim.data.store import STALE_UPLOAD_SECONDS
    db, other_db = tmp_path / "funnel.duckdb", tmp_path / "other.duckdb"
    with Store(db) as store:
        mine = store.staging_path("a1b2c3")
    with Store(other_db) as store:
        theirs = store.staging_path("d4e5f6")
    staging = tmp_path / "uploads"
    old_untagged, new_untagged, notes = (staging / "import-0123456789ab.csv", staging / "import-ba9876543210.csv",
                                         staging / "notes.csv")
    for f in (mine, theirs, old_untagged, new_untagged, notes):
        f.write_text("month,Leads\n")
    past = clock.time() - STALE_UPLOAD_SECONDS - 60
    for f in (old_untagged, notes):
        os.utime(f, (past, past))
    with Store(db, read_only=True):
        assert mine.exists()                            # a reader removes nothing
    with Store(db) as store:
        assert not mine.exists() and theirs.exists() and not old_untagged.exists()
        assert new_untagged.exists() and notes.exists()
        again = store.staging_path("0f0f0f")
        again.write_text("x")
        with Store(db):                                 # another store of it is open: an import may run
            assert again.exists()


def test_every_planner_error_has_one_root():
    from sim.errors import ImportRejected, PlannerError, ScenarioError, StoreError
    assert StoreError.__module__ == ImportRejected.__module__ == "sim.errors"
    for kind in (ScenarioError, ImportRejected, StoreError):
        assert issubclass(kind, PlannerError)
        error = kind(["a is wrong", "b is missing"], source="f.csv")
        assert str(error) == "f.csv: a is wrong; b is missing" and error.problems == ("a is wrong", "b is missing")
    assert not issubclass(ImportRejected, ScenarioError) and not issubclass(StoreError, ScenarioError)


# ------------------------------------------------------------------------------------------
# One operation per store: opening again, reading only, sharing the file
# ------------------------------------------------------------------------------------------

def test_opening_again_in_one_process_is_idempotent(db_path):
    """Finding 2: a client's ``clear_cache`` dropped the app's cached store and it was opened
    again while the first connection lived: DuckDB handed back the same, locked-down database
    and ``SET allowed_directories`` failed ("the configuration has been locked"). The lock-down
    is now checked instead of set twice, for writers and readers alike."""
    first = Store(db_path)
    try:
        with Store(db_path) as second, Store(db_path, read_only=True) as reader:
            with second.transaction() as cur:
                cur.execute("INSERT INTO stages VALUES ('leads', 'Leads', 1, NULL)")
            assert reader.cursor().execute("SELECT count(*) FROM stages").fetchone()[0] == 1
            with pytest.raises(duckdb.Error):
                reader.cursor().execute("SELECT * FROM read_text('/etc/hostname')").fetchall()
    finally:
        first.close()


def test_a_reader_changes_nothing_on_disk_and_cannot_write(db_path):
    Store(db_path).close()
    before = db_path.read_bytes(), db_path.stat().st_mtime_ns
    with Store(db_path, read_only=True) as reader:
        assert reader.read_only and not reader.is_new
        with pytest.raises(StoreError, match="reading only"):
            with reader.transaction():
                pass
        with pytest.raises(duckdb.Error):
            reader.cursor().execute("INSERT INTO stages VALUES ('x', 'X', 1, NULL)")
    assert (db_path.read_bytes(), db_path.stat().st_mtime_ns) == before
    assert not db_path.with_name(db_path.name + ".wal").exists()


def test_the_file_state_changes_with_every_write_and_only_then(db_path):
    """The app trusts an unchanged :func:`file_state` to mean unchanged data (and skips the
    open that reads the data version): reads and a writer's open that writes nothing leave it
    as it was; each write, even one right after another of the same size, changes it."""
    Store(db_path).close()
    before = file_state(db_path)
    with Store(db_path, read_only=True) as reader:
        reader.cursor().execute("SELECT count(*) FROM imports").fetchall()
    Store(db_path).close()
    assert file_state(db_path) == before
    seen = [before]
    for name in ("a", "b"):
        with Store(db_path) as writer, writer.transaction() as cur:
            cur.execute("INSERT INTO stages VALUES (?, ?, 1, NULL)", [name, name.upper()])
        seen.append(file_state(db_path))
    assert len(set(seen)) == 3, seen
    db_path.unlink()
    assert file_state(db_path) == (None, None)


def test_a_reader_of_a_missing_database_gets_a_new_empty_one(db_path):
    with Store(db_path, read_only=True) as reader:
        assert reader.schema_version() == SCHEMA_VERSION
        assert reader.cursor().execute("SELECT count(*) FROM imports").fetchone()[0] == 0


def test_a_writer_waits_for_readers_of_this_process_and_readers_join_a_writer(db_path):
    Store(db_path).close()
    order = []
    reader = Store(db_path, read_only=True)

    def write():
        with Store(db_path) as writer:
            order.append("writer in")
            with writer.transaction() as cur:
                cur.execute("INSERT INTO stages VALUES ('leads', 'Leads', 1, NULL)")
    thread = threading.Thread(target=write)
    thread.start()
    thread.join(0.5)
    assert order == [] and thread.is_alive(), "a read-write open waits while a read-only one is open"
    order.append("reader out")
    reader.close()
    thread.join(30)
    assert order == ["reader out", "writer in"]
    with Store(db_path) as writer, Store(db_path, read_only=True) as joined:
        with writer.transaction() as cur:
            cur.execute("INSERT INTO stages VALUES ('mqls', 'MQLs', 2, NULL)")
            assert joined.cursor().execute("SELECT count(*) FROM stages").fetchone()[0] == 1, "whole transactions"
        assert joined.cursor().execute("SELECT count(*) FROM stages").fetchone()[0] == 2


def test_a_reader_waits_for_another_process_writing_then_reads(db_path):
    Store(db_path).close()
    holder = holding_process(db_path, read_only=False, seconds=1.0)
    try:
        with Store(db_path, read_only=True, wait=30) as reader:
            assert reader.schema_version() == SCHEMA_VERSION
    finally:
        holder.wait(30)


def test_readers_of_two_processes_share_the_file_and_a_writer_waits_for_them(db_path):
    Store(db_path).close()
    holder = holding_process(db_path, read_only=True, seconds=1.0)
    try:
        with Store(db_path, read_only=True, wait=0) as reader:       # at once: readers share
            assert reader.schema_version() == SCHEMA_VERSION
        with pytest.raises(StoreBusy, match="in use by another process"):
            Store(db_path, wait=0.2)
        with Store(db_path, wait=30) as writer:                       # after the other reader
            assert not writer.read_only
    finally:
        holder.wait(30)
