"""The DuckDB store: imported actuals, the import history and saved plans of record.

One database file per deployment (default ``data/funnel.duckdb``; the ``FUNNEL_DB``
environment variable or ``--db`` choose another). A :class:`Store` is one open connection
for one operation: open, lock down, work (reads, or one transaction), close. Nothing holds the
file between operations, so the app and the command line share it: DuckDB lets one process
write a file, or several read it; a :class:`Store` that finds the file taken waits (up to
``wait`` seconds, then :class:`~sim.errors.StoreBusy`). Reads open read-only
(``read_only=True``): they work on a read-only file system and beside other readers. Every
query runs on a fresh cursor, with parameters only: no user text (file, column or stage names)
is ever part of the SQL.

Right after connecting, the connection is locked down: file access only inside the upload
staging folder (``uploads/`` next to the database file), no extension installing or loading,
and the configuration locked so that no later statement can undo it. Opening again is always
possible: when DuckDB hands back the process's already locked-down database, its lock-down is
checked instead of set twice. The schema is created and migrated here (table
``schema_version``), by the first writer that opens the file.

Inside one process, stores of one file share a gate (:class:`_Gate`): writers take turns
(one write lock per file), readers open beside a writer on its database (DuckDB's snapshots:
they see whole transactions only), and a writer waits for read-only stores to close (DuckDB
cannot hold one file read-only and read-write in one process). Writes (imports, undo, saving a
plan) run in one transaction each.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import duckdb

from ..errors import StoreBusy, StoreError
from .location import DB_ENV, default_db_path

STAGING_DIR = "uploads"


# Each migration brings the schema from the previous version to its own; never edit one that
# has shipped, add the next instead.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (1, (
        """CREATE TABLE imports (
               id INTEGER PRIMARY KEY,
               file_name VARCHAR NOT NULL,
               content_hash VARCHAR NOT NULL,
               format VARCHAR NOT NULL,
               options VARCHAR NOT NULL,
               imported_at TIMESTAMP NOT NULL,
               rows BIGINT NOT NULL,
               stages VARCHAR[] NOT NULL,
               new_stages VARCHAR[] NOT NULL,
               first_month DATE,
               last_month DATE,
               summary VARCHAR NOT NULL,
               undone_at TIMESTAMP)""",
        """CREATE TABLE stages (
               key VARCHAR PRIMARY KEY,
               name VARCHAR NOT NULL,
               position INTEGER NOT NULL,
               first_import INTEGER)""",
        # Monthly-format values, as each import stated them (the latest import wins per cell).
        """CREATE TABLE monthly_counts (
               import_id INTEGER NOT NULL, month DATE NOT NULL,
               stage_key VARCHAR NOT NULL, count BIGINT NOT NULL)""",
        """CREATE TABLE monthly_revenue (
               import_id INTEGER NOT NULL, month DATE NOT NULL, revenue DOUBLE NOT NULL)""",
        # Records-format facts: record `record_id` reached stage `stage_key` on `reached`.
        """CREATE TABLE record_stages (
               import_id INTEGER NOT NULL, record_id VARCHAR NOT NULL,
               stage_key VARCHAR NOT NULL, reached DATE NOT NULL)""",
        """CREATE TABLE record_amounts (
               import_id INTEGER NOT NULL, record_id VARCHAR NOT NULL, amount DOUBLE NOT NULL)""",
        """CREATE TABLE plans (
               id INTEGER PRIMARY KEY,
               name VARCHAR NOT NULL UNIQUE,
               saved_at TIMESTAMP NOT NULL,
               scenario VARCHAR NOT NULL,
               seed BIGINT NOT NULL,
               trials INTEGER NOT NULL,
               versions VARCHAR NOT NULL,
               p_goal DOUBLE NOT NULL,
               parent_id INTEGER,
               as_of DATE,
               note VARCHAR NOT NULL DEFAULT '')""",
        # measure: arrivals | cumulative_arrivals (stage_key set), revenue | cumulative_revenue.
        """CREATE TABLE plan_bands (
               plan_id INTEGER NOT NULL, measure VARCHAR NOT NULL, stage_key VARCHAR,
               month DATE NOT NULL, mean DOUBLE NOT NULL, p10 DOUBLE NOT NULL,
               p25 DOUBLE NOT NULL, p50 DOUBLE NOT NULL, p75 DOUBLE NOT NULL,
               p90 DOUBLE NOT NULL)""",
        # The effective actuals. Monthly values: the latest import stating a cell wins.
        """CREATE VIEW counts_from_monthly AS
               SELECT month, stage_key, arg_max(count, import_id) AS count
               FROM monthly_counts GROUP BY month, stage_key""",
        # Records: each (record, stage) once; the latest import's date wins.
        """CREATE VIEW record_reached AS
               SELECT record_id, stage_key, arg_max(reached, import_id) AS reached
               FROM record_stages GROUP BY record_id, stage_key""",
        """CREATE VIEW counts_from_records AS
               SELECT date_trunc('month', reached)::DATE AS month, stage_key, count(*) AS count
               FROM record_reached GROUP BY ALL""",
        # A month and stage takes its count from the monthly imports when any states it.
        """CREATE VIEW actual_counts AS
               SELECT month, stage_key, count FROM counts_from_monthly
               UNION ALL
               SELECT r.month, r.stage_key, r.count FROM counts_from_records r
               ANTI JOIN counts_from_monthly m USING (month, stage_key)""",
        # A record's amount is booked in the month of the latest stage date it has.
        """CREATE VIEW revenue_from_records AS
               SELECT date_trunc('month', d.booked)::DATE AS month, sum(a.amount) AS revenue
               FROM (SELECT record_id, arg_max(amount, import_id) AS amount
                     FROM record_amounts GROUP BY record_id) a
               JOIN (SELECT record_id, max(reached) AS booked
                     FROM record_reached GROUP BY record_id) d USING (record_id)
               GROUP BY ALL""",
        """CREATE VIEW actual_revenue AS
               SELECT month, arg_max(revenue, import_id) AS revenue
               FROM monthly_revenue GROUP BY month
               UNION ALL
               SELECT r.month, r.revenue FROM revenue_from_records r
               WHERE r.month NOT IN (SELECT month FROM monthly_revenue)""",
    )),
    # 2 (issue 11): outcomes (won / lost / open) and segments per record, segments of monthly
    # values, the source of each import and the later import of the same source that replaced
    # it, and which imports and plans are the demo's. Additive: new tables and nullable
    # columns; the views are redefined over them (their columns unchanged).
    (2, (
        "ALTER TABLE imports ADD COLUMN source VARCHAR",
        "ALTER TABLE imports ADD COLUMN replaced_by INTEGER",
        "UPDATE imports SET source = file_name",
        "ALTER TABLE monthly_counts ADD COLUMN segment VARCHAR",
        "ALTER TABLE monthly_revenue ADD COLUMN segment VARCHAR",
        # Record `record_id` is won / lost / open per import `import_id`; `closed`: the day it
        # was won or lost; `won_stage`: the stage a win counts toward (a lost or open record
        # never counts there, whatever an earlier import said).
        """CREATE TABLE record_outcomes (
               import_id INTEGER NOT NULL, record_id VARCHAR NOT NULL, outcome VARCHAR NOT NULL,
               closed DATE, won_stage VARCHAR NOT NULL)""",
        """CREATE TABLE record_segments (
               import_id INTEGER NOT NULL, record_id VARCHAR NOT NULL, segment VARCHAR NOT NULL)""",
        # kind: import | plan. What the demo seeded (removable in one step).
        "CREATE TABLE demo_content (kind VARCHAR NOT NULL, item_id INTEGER NOT NULL)",
        # Databases seeded before version 2: the demo's imports (the shipped files' SHA-256)
        # and its plan of record.
        """INSERT INTO demo_content SELECT 'import', id FROM imports WHERE content_hash IN (
               'b236414715013a478f3acf48cc95ab1fcab59e0f3b0528d6ba6c8c4bc11a7ecf',
               '9a91e9fe03e973d088f4ee30eb6b82b8c69720ef32b8c31873dbdcb72ab63fda',
               '4fa0e66a93184b33a938b2513c1ba488ab4bb66bb802bcd6715766537d748eb7')""",
        """INSERT INTO demo_content SELECT 'plan', id FROM plans
               WHERE name = 'FY2027 plan of record' AND note = 'the demo''s plan, saved with the demo actuals'""",
        # The imports whose facts count: not replaced by a later import of the same source
        # (undone imports have no rows left).
        """CREATE VIEW replaced_imports AS
               SELECT id AS import_id FROM imports WHERE replaced_by IS NOT NULL""",
        # Monthly values: each (month, stage) takes the rows of the latest import stating it,
        # one per segment (or one without a segment).
        """CREATE VIEW monthly_cells AS
               SELECT month, stage_key, segment, count FROM (
                   SELECT *, max(import_id) OVER (PARTITION BY month, stage_key) AS latest
                   FROM monthly_counts ANTI JOIN replaced_imports USING (import_id))
               WHERE import_id = latest""",
        """CREATE OR REPLACE VIEW counts_from_monthly AS
               SELECT month, stage_key, sum(count)::BIGINT AS count FROM monthly_cells GROUP BY ALL""",
        """CREATE VIEW monthly_revenue_cells AS
               SELECT month, segment, revenue FROM (
                   SELECT *, max(import_id) OVER (PARTITION BY month) AS latest
                   FROM monthly_revenue ANTI JOIN replaced_imports USING (import_id))
               WHERE import_id = latest""",
        # Each record's latest outcome and segment.
        """CREATE VIEW record_outcome AS
               SELECT record_id, o.outcome, o.closed, o.won_stage FROM (
                   SELECT record_id, arg_max({'outcome': outcome, 'closed': closed, 'won_stage': won_stage},
                                             import_id) AS o
                   FROM record_outcomes ANTI JOIN replaced_imports USING (import_id) GROUP BY record_id)""",
        """CREATE VIEW record_segment AS
               SELECT record_id, arg_max(segment, import_id) AS segment
               FROM record_segments ANTI JOIN replaced_imports USING (import_id) GROUP BY record_id""",
        # Records: each (record, stage) once, the latest import's date; a record whose latest
        # outcome is lost or open never counts in its won stage.
        """CREATE OR REPLACE VIEW record_reached AS
               SELECT r.record_id, r.stage_key, r.reached FROM (
                   SELECT record_id, stage_key, arg_max(reached, import_id) AS reached
                   FROM record_stages ANTI JOIN replaced_imports USING (import_id) GROUP BY ALL) r
               ANTI JOIN (SELECT record_id, won_stage AS stage_key FROM record_outcome
                          WHERE outcome <> 'won') n USING (record_id, stage_key)""",
        """CREATE VIEW record_counts_by_segment AS
               SELECT date_trunc('month', r.reached)::DATE AS month, r.stage_key, g.segment, count(*) AS count
               FROM record_reached r LEFT JOIN record_segment g USING (record_id) GROUP BY ALL""",
        """CREATE OR REPLACE VIEW counts_from_records AS
               SELECT date_trunc('month', reached)::DATE AS month, stage_key, count(*) AS count
               FROM record_reached GROUP BY ALL""",
        """CREATE VIEW counts_by_segment AS
               SELECT month, stage_key, segment, count FROM monthly_cells
               UNION ALL
               SELECT r.month, r.stage_key, r.segment, r.count FROM record_counts_by_segment r
               ANTI JOIN counts_from_monthly m USING (month, stage_key)""",
        # A record's amount is revenue when it is won (booked in the month it was won) or when
        # its outcome is not known (booked in the month of its latest stage date); never when
        # it is lost or open.
        """CREATE VIEW record_revenue AS
               SELECT a.record_id, a.amount,
                      CASE WHEN o.outcome = 'won' THEN coalesce(o.closed, d.booked) ELSE d.booked END AS booked
               FROM (SELECT record_id, arg_max(amount, import_id) AS amount
                     FROM record_amounts ANTI JOIN replaced_imports USING (import_id) GROUP BY record_id) a
               LEFT JOIN record_outcome o USING (record_id)
               LEFT JOIN (SELECT record_id, max(reached) AS booked FROM record_reached GROUP BY record_id) d
                    USING (record_id)
               WHERE (o.outcome IS NULL OR o.outcome = 'won')""",
        """CREATE VIEW record_revenue_by_segment AS
               SELECT date_trunc('month', r.booked)::DATE AS month, g.segment, sum(r.amount) AS revenue
               FROM record_revenue r LEFT JOIN record_segment g USING (record_id)
               WHERE r.booked IS NOT NULL GROUP BY ALL""",
        """CREATE OR REPLACE VIEW revenue_from_records AS
               SELECT date_trunc('month', booked)::DATE AS month, sum(amount) AS revenue
               FROM record_revenue WHERE booked IS NOT NULL GROUP BY ALL""",
        """CREATE VIEW revenue_by_segment AS
               SELECT month, segment, revenue FROM monthly_revenue_cells
               UNION ALL
               SELECT r.month, r.segment, r.revenue FROM record_revenue_by_segment r
               WHERE r.month NOT IN (SELECT month FROM monthly_revenue_cells)""",
        """CREATE OR REPLACE VIEW actual_revenue AS
               SELECT month, sum(revenue) AS revenue FROM revenue_by_segment GROUP BY month""",
    )),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


#: Seconds a store waits for the file when another process (or, in this process, a writer)
#: holds it, before :class:`~sim.errors.StoreBusy`.
DEFAULT_WAIT = 10.0


class Store:
    """One connection to one database file, locked down and migrated, for one operation.

    ``Store(path)`` opens it for writing, creating the file (and its folder) when missing
    (``is_new`` tells whether it did) and migrating its schema; ``Store(path, read_only=True)``
    opens it for reading only (a missing or outdated file is first created or migrated by a
    writing open). ``wait``: seconds to wait while another process holds the file. Use
    :meth:`cursor` for reads and :meth:`transaction` for writes; close it (``with Store(...)
    as store:``) as soon as the operation is done.
    """

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False, wait: float = DEFAULT_WAIT):
        self.path = Path(path).expanduser().resolve() if path else default_db_path().resolve()
        self.staging_dir = self.path.parent / STAGING_DIR
        self.read_only = read_only
        self.is_new = False
        self._con = None
        deadline = time.monotonic() + max(0.0, wait)
        if read_only and (not self.path.exists() or _killed_at_creation(self.path)):
            Store(self.path, wait=_left(deadline)).close()          # create it (a writer's job)
        elif not read_only:
            self.is_new = not self.path.exists() or _killed_at_creation(self.path)
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.staging_dir.mkdir(exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the folder for the database {self.path}: "
                                 f"{exc.strerror or exc}") from None
        self._gate = _gate(self.path)
        self._write_lock = self._gate.write_lock
        self._entered = False
        if self._open(deadline):          # a file from an earlier version: migrate it, then read
            Store(self.path, wait=_left(deadline)).close()
            self._open(deadline)

    def _open(self, deadline: float) -> bool:
        """Connect, lock down, migrate (a writer); whether a reader found the schema outdated
        (then closed again)."""
        writable, first = self._gate.enter(self.read_only, deadline, self.path)
        self._entered = True
        try:
            # One connection at a time is made and locked down in this process: a second one to
            # the same database must find the first's lock-down complete, not half done.
            if not self._gate.setup_lock.acquire(timeout=_left(deadline)):
                raise StoreBusy(_busy_text(self.path))
            try:
                self._con = _connect(self.path, read_only=not writable, deadline=deadline)
                _lock_down(self._con, self.staging_dir)
            finally:
                self._gate.setup_lock.release()
            if not self.read_only:
                self._migrate()
            else:
                version = self.schema_version()
                if version > SCHEMA_VERSION:
                    raise StoreError(_newer_text(self.path, version))
                if version < SCHEMA_VERSION:
                    self.close()
                    return True
        except BaseException:
            self.close()
            raise
        if first and not self.read_only:
            _remove_staged_uploads(self.staging_dir, _staging_prefix(self.path))
        return False

    # -- access ------------------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A fresh cursor: one per query or per unit of work (cursors are not thread-safe)."""
        if self._con is None:
            raise StoreError(f"the database {self.path} is closed")
        return self._con.cursor()

    @contextmanager
    def transaction(self, cursor: duckdb.DuckDBPyConnection | None = None):
        """A cursor inside one transaction, holding the write lock: committed when the block
        ends, rolled back (and nothing changed) when it raises. ``cursor``: use this one (its
        temp tables are visible) instead of a fresh one; it is left open. A write the disk
        refuses (full, or a file size limit) is a :class:`~sim.errors.StoreError`, with
        nothing changed."""
        if self.read_only:
            raise StoreError(f"the database {self.path} was opened for reading only")
        with self._write_lock:
            cur = cursor or self.cursor()
            try:
                cur.begin()
                try:
                    yield cur
                except BaseException:
                    cur.rollback()
                    raise
                try:
                    cur.commit()
                except duckdb.Error as exc:       # e.g. the disk is full: DuckDB rolls back
                    _rollback_quietly(cur)
                    raise StoreError(f"cannot write the database {self.path}: {_first_line(exc)}; "
                                     f"nothing was changed") from None
            except duckdb.IOException as exc:
                _rollback_quietly(cur)
                raise StoreError(f"cannot write the database {self.path}: {_first_line(exc)}; "
                                 f"nothing was changed") from None
            finally:
                if cursor is None:
                    cur.close()

    @property
    def write_lock(self) -> threading.RLock:
        return self._write_lock

    def staging_path(self, tag: str) -> Path:
        """Where an import stages its file (``tag``: unique to the import): in the staging
        folder, named after this database, so that opening it removes only its own leftovers."""
        return self.staging_dir / f"import-{_staging_prefix(self.path)}-{tag}.csv"

    def close(self) -> None:
        """Close the connection (and let the next store of this file in; idempotent)."""
        con, self._con = self._con, None
        entered, self._entered = getattr(self, "_entered", False), False
        try:
            if con is not None:
                con.close()
        finally:
            if entered:
                self._gate.leave()

    def __enter__(self) -> Store:
        return self

    def __del__(self):              # a store left open by mistake still lets the next one in
        try:
            self.close()
        except Exception:  # noqa: BLE001 - nothing can be reported from a finaliser
            pass

    def __exit__(self, *exc) -> None:
        self.close()

    # -- schema ------------------------------------------------------------------------------
    def schema_version(self) -> int:
        """The schema's version (0: a database without one yet). Read from the table itself, not
        the catalogue (``duckdb_tables()`` costs more than the rest of an open)."""
        cur = self.cursor()
        try:
            return int(cur.execute("SELECT coalesce(max(version), 0) FROM main.schema_version").fetchone()[0])
        except duckdb.CatalogException:
            return 0
        finally:
            cur.close()

    def _migrate(self) -> None:
        with self._write_lock:
            version = self.schema_version()
            if version > SCHEMA_VERSION:
                raise StoreError(_newer_text(self.path, version))
            for target, statements in MIGRATIONS:
                if target <= version:
                    continue
                with self.transaction() as cur:
                    if target == 1:
                        cur.execute("CREATE TABLE IF NOT EXISTS schema_version ("
                                    "version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL)")
                    for statement in statements:
                        cur.execute(statement)
                    cur.execute("INSERT INTO schema_version VALUES (?, now()::TIMESTAMP)", [target])


class _Gate:
    """The stores of one database file in this process: how many are open and how (``mode``:
    None, "read" (read-only connections) or "write" (a read-write database, which readers
    share)), and the file's write lock. A writer waits while read-only stores are open, and
    read-only stores wait while a writer waits (no writer starves)."""

    def __init__(self):
        self.cond = threading.Condition()
        self.mode: str | None = None
        self.users = 0
        self.writers_waiting = 0
        self.write_lock = threading.RLock()
        self.setup_lock = threading.Lock()

    def enter(self, read_only: bool, deadline: float, path: Path) -> tuple[bool, bool]:
        """Wait for a turn; (whether the connection is read-write, whether this store is the
        only one of the file in this process)."""
        with self.cond:
            if not read_only:
                self.writers_waiting += 1
            try:
                while not self._admits(read_only):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise StoreBusy(_busy_text(path))
                    self.cond.wait(left)
            finally:
                if not read_only:
                    self.writers_waiting -= 1
            if self.mode is None:
                self.mode = "read" if read_only else "write"
            self.users += 1
            return self.mode == "write", self.users == 1

    def _admits(self, read_only: bool) -> bool:
        if self.mode is None or self.mode == "write":
            return True
        # read-only connections are open: readers join unless a writer waits; a writer waits
        return read_only and self.writers_waiting == 0

    def leave(self) -> None:
        with self.cond:
            self.users -= 1
            if self.users == 0:
                self.mode = None
            self.cond.notify_all()


_GATES: dict[Path, _Gate] = {}
_GATES_LOCK = threading.Lock()


def _gate(path: Path) -> _Gate:
    with _GATES_LOCK:
        return _GATES.setdefault(path, _Gate())


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def _first_line(exc: BaseException) -> str:
    line = (str(exc).splitlines() or [type(exc).__name__])[0]
    for prefix in ("IO Error: ", "TransactionContext Error: ", "Failed to commit: "):
        line = line.removeprefix(prefix)
    return line


def _rollback_quietly(cur) -> None:
    try:
        cur.rollback()
    except duckdb.Error:
        pass


def _newer_text(path: Path, version: int) -> str:
    return (f"the database {path} has schema version {version}, newer than this program's "
            f"{SCHEMA_VERSION}: update the program")


def _busy_text(path: Path) -> str:
    return (f"the database {path} is in use by another process (an import or the app writing to it): "
            f"try again in a moment, or use another --db / ${DB_ENV}")


def _killed_at_creation(path: Path) -> bool:
    """An empty file and no write-ahead log: what a process killed while DuckDB was creating
    the database (after creating the file, before writing its header) leaves. It holds
    nothing, but DuckDB refuses to open it."""
    try:
        return path.is_file() and path.stat().st_size == 0 and not Path(f"{path}.wal").exists()
    except OSError:
        return False


class FileStamp(NamedTuple):
    """What the file system says of one file (times in nanoseconds since the epoch)."""
    inode: int
    size: int
    modified_ns: int
    changed_ns: int

    @property
    def last_change_ns(self) -> int:
        """The later of its modification and change times."""
        return max(self.modified_ns, self.changed_ns)


def file_state(path: str | Path) -> tuple[FileStamp | None, FileStamp | None]:
    """What the file system says of a database file and of its write-ahead log (a
    :class:`FileStamp` each; None for a file that is not there). Every write changes it
    (a transaction ends in the log or, checkpointed, in the file); reading, and a writer's open
    that writes nothing, leave it as it was. So it tells, with a ``stat`` per file, whether the
    data may have changed since it was last read: an open costs 25-45 ms of CPU, most of it
    DuckDB's own start."""
    found = []
    for name in (str(path), f"{path}.wal"):
        try:
            stat = Path(name).stat()
        except FileNotFoundError:
            found.append(None)
        else:
            found.append(FileStamp(stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns))
    return tuple(found)


def _staging_prefix(path: Path) -> str:
    """A short tag of the database file, in the names of its staged uploads (databases in one
    folder share the staging folder)."""
    return hashlib.sha256(str(path).encode("utf-8")).hexdigest()[:10]


#: A staged upload of the naming before per-database tags, older than this, was left by a
#: process killed mid-import.
STALE_UPLOAD_SECONDS = 3600
_UNTAGGED_UPLOAD = re.compile(r"import-[0-9a-f]{12}\.csv")


def _remove_staged_uploads(staging_dir: Path, prefix: str) -> None:
    """Delete this database's staged copies of uploads: called when a writer opens the file
    and no other store of it is open (DuckDB's file lock keeps other processes out), so no
    import of it is running and every copy was left by a process killed mid-import (its
    transaction never committed: nothing refers to it). Copies named before the per-database
    tags are deleted when older than an hour."""
    cutoff = time.time() - STALE_UPLOAD_SECONDS
    for staged in staging_dir.glob("import-*.csv"):
        try:
            if staged.name.startswith(f"import-{prefix}-") or (
                    _UNTAGGED_UPLOAD.fullmatch(staged.name) and staged.stat().st_mtime < cutoff):
                staged.unlink()
        except OSError:
            pass


#: Pauses between attempts to open a file another process holds (seconds), the last repeated.
_RETRY_PAUSES = (0.01, 0.02, 0.05, 0.1, 0.2)


def _connect(path: Path, *, read_only: bool, deadline: float, retry: bool = True) -> duckdb.DuckDBPyConnection:
    """A connection to ``path``, waiting until ``deadline`` while another process holds the
    file (then :class:`~sim.errors.StoreBusy`)."""
    attempt = 0
    while True:
        try:
            return _connect_once(path, read_only, retry)
        except _Locked:
            left = deadline - time.monotonic()
            if left <= 0:
                raise StoreBusy(_busy_text(path)) from None
            time.sleep(min(left, _RETRY_PAUSES[min(attempt, len(_RETRY_PAUSES) - 1)]))
            attempt += 1


class _Locked(Exception):
    """Another process holds the file."""


def _connect_once(path: Path, read_only: bool, retry: bool) -> duckdb.DuckDBPyConnection:
    try:
        con = duckdb.connect(str(path), read_only=read_only)
        # DuckDB opens an existing .csv/.tsv/... file as an in-memory database with a view on
        # it (no error): everything written would be lost on close.
        if con.execute("SELECT path FROM duckdb_databases() "
                       "WHERE database_name = current_database()").fetchone()[0] is None:
            con.close()
            raise StoreError(f"{path} is not a DuckDB database file")
        return con
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            raise _Locked() from None
        if not ("not a valid" in text.lower() and retry and not read_only and _killed_at_creation(path)):
            if "not a valid" in text.lower() or "database file" in text.lower():
                raise StoreError(f"{path} is not a DuckDB database file") from None
            raise StoreError(f"cannot open the database {path}: {_first_line(exc)}") from None
    except duckdb.Error as exc:
        raise StoreError(f"cannot open the database {path}: {_first_line(exc)}") from None
    # DuckDB held the file's lock when it found it empty: nobody else is creating it. Start a
    # new database in its place (once).
    path.unlink(missing_ok=True)
    return _connect_once(path, read_only, retry=False)


_LOCK_DOWN = {"enable_external_access": "false", "autoinstall_known_extensions": "false",
              "autoload_known_extensions": "false", "lock_configuration": "true"}


def _lock_down(con: duckdb.DuckDBPyConnection, staging_dir: Path) -> None:
    """Only the staging folder is readable by SQL; nothing can be installed or loaded; and the
    configuration is locked so that no statement on this connection can change it again.
    When DuckDB handed back a database this process has open already (locked down, since every
    connection is), its settings are checked instead: a locked configuration cannot be set
    again, and need not be."""
    staging = str(staging_dir.resolve()).rstrip("/") + "/"
    settings = dict(con.execute("SELECT name, value FROM duckdb_settings() WHERE name IN (?, ?, ?, ?)",
                                list(_LOCK_DOWN)).fetchall())
    if settings.get("lock_configuration") == "true":
        allowed = con.execute("SELECT current_setting('allowed_directories')").fetchone()[0] or []
        if settings != _LOCK_DOWN or staging not in allowed:
            con.close()
            raise StoreError("the database is open in this process with another configuration")
        return
    con.execute("SET allowed_directories = [?]", [staging])
    con.execute("SET enable_external_access = false")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET lock_configuration = true")
