"""The DuckDB store: imported actuals, the import history and saved plans of record.

One database file per deployment (default ``data/funnel.duckdb``; the ``FUNNEL_DB``
environment variable or ``--db`` choose another). :class:`Store` holds the process's one
connection; every query runs on a fresh cursor, with parameters only: no user text (file,
column or stage names) is ever part of the SQL.

Right after connecting, the connection is locked down: file access only inside the upload
staging folder (``uploads/`` next to the database file), no extension installing or loading,
and the configuration locked so that no later statement can undo it. The schema is created
and migrated here (table ``schema_version``).

Writes (imports, undo, saving a plan) take the store's write lock and run in one transaction
each, so concurrent sessions of the app never interleave two writes.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb

from ..errors import StoreError
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


class Store:
    """The process's connection to one database file, locked down and migrated.

    ``Store(path)`` creates the file (and its folder) when missing; ``is_new`` tells whether
    it did. Use :meth:`cursor` for reads and :meth:`transaction` for writes.
    """

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path).expanduser().resolve() if path else default_db_path().resolve()
        self.staging_dir = self.path.parent / STAGING_DIR
        self.is_new = not self.path.exists() or _killed_at_creation(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.staging_dir.mkdir(exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder for the database {self.path}: "
                             f"{exc.strerror or exc}") from None
        self._write_lock = threading.RLock()
        self._con = _connect(self.path)
        try:
            _lock_down(self._con, self.staging_dir)
            self._migrate()
        except BaseException:
            self._con.close()
            raise
        _remove_stale_uploads(self.staging_dir)

    # -- access ------------------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A fresh cursor: one per query or per unit of work (cursors are not thread-safe)."""
        return self._con.cursor()

    @contextmanager
    def transaction(self, cursor: duckdb.DuckDBPyConnection | None = None):
        """A cursor inside one transaction, holding the write lock: committed when the block
        ends, rolled back (and nothing changed) when it raises. ``cursor``: use this one (its
        temp tables are visible) instead of a fresh one; it is left open."""
        with self._write_lock:
            cur = cursor or self._con.cursor()
            try:
                cur.begin()
                try:
                    yield cur
                except BaseException:
                    cur.rollback()
                    raise
                cur.commit()
            finally:
                if cursor is None:
                    cur.close()

    @property
    def write_lock(self) -> threading.RLock:
        return self._write_lock

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- schema ------------------------------------------------------------------------------
    def schema_version(self) -> int:
        cur = self.cursor()
        exists = cur.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_version' "
                             "AND schema_name = 'main'").fetchone()[0]
        if not exists:
            return 0
        return int(cur.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0])

    def _migrate(self) -> None:
        with self._write_lock:
            version = self.schema_version()
            if version > SCHEMA_VERSION:
                raise StoreError(f"the database {self.path} has schema version {version}, newer than "
                                 f"this program's {SCHEMA_VERSION}: update the program")
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


def _killed_at_creation(path: Path) -> bool:
    """An empty file and no write-ahead log: what a process killed while DuckDB was creating
    the database (after creating the file, before writing its header) leaves. It holds
    nothing, but DuckDB refuses to open it."""
    try:
        return path.is_file() and path.stat().st_size == 0 and not Path(f"{path}.wal").exists()
    except OSError:
        return False


#: A staged upload older than this is left over from a process that was killed mid-import.
STALE_UPLOAD_SECONDS = 3600


def _remove_stale_uploads(staging_dir: Path) -> None:
    """Delete staged copies of uploads (``import-*.csv``) older than an hour: an import takes
    seconds, so these were left by a process killed mid-import (its transaction never
    committed, so nothing in the database refers to them)."""
    cutoff = time.time() - STALE_UPLOAD_SECONDS
    for staged in staging_dir.glob("import-*.csv"):
        try:
            if staged.stat().st_mtime < cutoff:
                staged.unlink()
        except OSError:
            pass


def _connect(path: Path, retry: bool = True) -> duckdb.DuckDBPyConnection:
    try:
        con = duckdb.connect(str(path))
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
            raise StoreError(f"the database {path} is in use by another process (is the app or "
                             f"another import running?): stop it, or use another --db / ${DB_ENV}") from None
        if not ("not a valid" in text.lower() and retry and _killed_at_creation(path)):
            if "not a valid" in text.lower() or "database file" in text.lower():
                raise StoreError(f"{path} is not a DuckDB database file") from None
            raise StoreError(f"cannot open the database {path}: {text.splitlines()[0]}") from None
    except duckdb.Error as exc:
        raise StoreError(f"cannot open the database {path}: {str(exc).splitlines()[0]}") from None
    # DuckDB held the file's lock when it found it empty: nobody else is creating it. Start a
    # new database in its place (once).
    path.unlink(missing_ok=True)
    return _connect(path, retry=False)


def _lock_down(con: duckdb.DuckDBPyConnection, staging_dir: Path) -> None:
    """Only the staging folder is readable by SQL; nothing can be installed or loaded; and the
    configuration is locked so that no statement on this connection can change it again."""
    staging = str(staging_dir.resolve()).rstrip("/") + "/"
    con.execute("SET allowed_directories = [?]", [staging])
    con.execute("SET enable_external_access = false")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET lock_configuration = true")
