"""The pages' access to the DuckDB store (``$FUNNEL_DB`` or data/funnel.duckdb).

Nothing holds the database between operations: each read opens it read-only for that read,
each write opens it for writing, runs one transaction and closes it (:mod:`sim.data.store`).
So the command line can import while the app serves its viewers, and nothing a client can
clear breaks it: any client may send ``clear_cache`` over the WebSocket, without logging in,
which empties ``st.cache_resource`` and ``st.cache_data`` (Streamlit 1.67 has no setting that
turns this off); the connection was never there. What is cached is results, keyed by the
database's data version (an import, an undo or a saved plan changes it): with a million
imported records the views take about half a second to compute. The version itself is read
again only when the database's files changed (:func:`_data_version`).

A database the app creates is seeded with the demo's actuals and plan of record unless
``FUNNEL_DEMO_DATA=0`` (once per process, before the first read or write).

Viewers never see the server's path or the command line's options: when the database is
busy (a command-line import writing) or cannot be opened, the page says so in words for
them, and the details go to the server log.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass

import streamlit as st

from sim.data.actuals import SegmentBreakdown, data_version, load_actuals, segment_breakdown
from sim.data.demo_content import DemoState, demo_imports, demo_state
from sim.data.demo_data import seed_demo
from sim.data.handoff_actuals import HandoffReport, measure_stored_handoffs
from sim.data.history import ImportRecord, import_history, known_stages
from sim.data.ingest import ImportOptions, ImportPreview, preview_import
from sim.data.ingest.decoding import decode
from sim.data.ingest.suggestion import Suggestion, suggest_options
from sim.data.ingest.workbook import SheetText, read_sheet, workbook_kind
from sim.data.location import default_db_path
from sim.data.plan_checkin import CheckInInputs, load_checkin_inputs, run_checkin
from sim.data.plans import SavedPlan, list_plans, load_plan, stored_bands, unreadable_plans
from sim.data.store import Store, file_state
from sim.data.variance import PlanComparison, compare_plan
from sim.errors import ImportRejected, PlannerError, StoreBusy, StoreError
from sim.model.checkin import CheckIn
from sim.model.monthly_actuals import Actuals
from sim.model.scenario_io import scenario_from_url_token
from ui import APP_DIR, DATA_DIR

DEMO_ENV = "FUNNEL_DEMO_DATA"
#: Seconds an operation waits while another process (a command-line import) writes.
WAIT = 15.0
BUSY = ("The actuals database is busy: an import is being written to it right now. "
        "Try again in a moment.")
UNAVAILABLE = ("The actuals database cannot be opened right now. The planning pages work without it; "
               "the server's log says why.")
_log = logging.getLogger("funnel.database")
_prepared: set[str] = set()
_prepare_lock = threading.Lock()
#: Seconds after its last write that a file's times are not trusted to tell the next write
#: apart: file systems that keep them coarsely (to the second) would give both the same.
SETTLED = 2.0
_versions: dict[str, tuple[tuple, tuple]] = {}   # database -> (its file state, its data version)


def path() -> str:
    """The database file of this app."""
    return str(default_db_path(APP_DIR).resolve())


def _prepare(db: str) -> None:
    """Create, migrate and (when new) seed the database, once per process."""
    if db in _prepared:
        return
    with _prepare_lock:
        if db in _prepared:
            return
        with Store(db, wait=WAIT) as store:
            if store.is_new and os.environ.get(DEMO_ENV, "1").strip() not in ("0", "false", "no"):
                seed_demo(store, DATA_DIR)
        _prepared.add(db)


def _reading(db: str, read, *args, **kwargs):
    """``read(store, *args, **kwargs)`` on the database opened read-only, closed at once."""
    _prepare(db)
    with Store(db, read_only=True, wait=WAIT) as store:
        return read(store, *args, **kwargs)


def _data_version(db: str) -> tuple:
    """The database's data version, read from the database only when its files changed since
    it was last read (:func:`~sim.data.store.file_state`); else the one read then. Each page
    run of Actuals, Check-in and From history asks for it: an open costs 25-45 ms of CPU, a
    ``stat`` of the two files a few microseconds."""
    _prepare(db)
    state = file_state(db)         # before the read: a write in between makes the next run read again
    known = _versions.get(db)
    if known is not None and known[0] == state:
        return known[1]
    version = _reading(db, data_version)
    settled = time.time_ns() - int(SETTLED * 1e9)
    if all(stamp is None or stamp.last_change_ns < settled for stamp in state):
        _versions[db] = (state, version)
    return version


def _for_viewers(exc: StoreError) -> str:
    """What the page says instead of ``exc`` (which names the server's path); the log has it."""
    _log.warning("actuals database: %s", exc)
    return BUSY if isinstance(exc, StoreBusy) else UNAVAILABLE


def read_or_stop(read, *args, **kwargs):
    """``read(store, ...)`` on the database (read-only), or a message for viewers and the page
    stops here."""
    return _guarded(_reading, path(), read, *args, **kwargs)


def write(action, *args, **kwargs):
    """``action(store, ...)`` on the database opened for writing (one operation, closed at
    once). Raises :class:`~sim.errors.PlannerError` (what the caller shows): the action's own
    (an import rejected, a name taken, ...) or, when the database is busy or cannot be
    written, one in words for the page."""
    db = path()
    try:
        _prepare(db)
        with Store(db, wait=WAIT) as store:
            return action(store, *args, **kwargs)
    except StoreError as exc:
        raise PlannerError(_for_viewers(exc)) from None
    finally:
        _versions.pop(db, None)    # whatever its file times say, read the version again


# -- reads, cached by the data version -----------------------------------------------------------

@dataclass(frozen=True)
class Overview:
    """What the Actuals and Check-in pages list: the data version (the key of every cached
    read), the saved plans (newest first), the import history, the stages known, what cannot
    be read (plans saved under rules this version has tightened), how much of the demo is
    there and the ids of its imports."""

    version: tuple
    plans: tuple[SavedPlan, ...]
    history: tuple[ImportRecord, ...]
    stages: tuple[str, ...]
    unreadable: tuple[str, ...]
    demo: DemoState
    demo_imports: frozenset[int]


@st.cache_data(max_entries=16, show_spinner=False)
def _overview(db: str, version: tuple) -> Overview:
    def read(store):
        return Overview(version, tuple(list_plans(store)), tuple(import_history(store)), known_stages(store),
                        tuple(unreadable_plans(store)), demo_state(store), demo_imports(store))
    return _reading(db, read)


def overview() -> Overview:
    """The :class:`Overview` (or a message and the page stops)."""
    db = path()
    return _guarded(_overview, db, _guarded(_data_version, db))


@st.cache_data(max_entries=16, show_spinner=False)
def _actuals(db: str, version: tuple, stage_order: tuple[str, ...], segment: str | None) -> Actuals:
    return _reading(db, load_actuals, stage_order=stage_order, segment=segment)


def actuals(version: tuple, stage_order: tuple[str, ...], segment: str | None = None) -> Actuals:
    """The effective actuals (``segment``: only that segment's), stages in ``stage_order`` first."""
    return _guarded(_actuals, path(), version, stage_order, segment)


@st.cache_data(max_entries=16, show_spinner=False)
def _comparison(db: str, version: tuple, plan_id: int, segment: str | None) -> tuple[PlanComparison, list]:
    def read(store):
        plan = load_plan(store, plan_id)
        return compare_plan(store, plan, segment=segment), stored_bands(store, plan, "arrivals")
    return _reading(db, read)


def comparison(version: tuple, plan_id: int, segment: str | None = None) -> tuple[PlanComparison, list]:
    """The plan-vs-actual comparison (``segment``: against that segment's actuals) and the
    plan's stored monthly arrival bands."""
    return _guarded(_comparison, path(), version, plan_id, segment)


@st.cache_data(max_entries=8, show_spinner=False)
def _segments(db: str, version: tuple, stage_order: tuple[str, ...]) -> SegmentBreakdown:
    return _reading(db, segment_breakdown, stage_order=stage_order)


def segments(version: tuple, stage_order: tuple[str, ...]) -> SegmentBreakdown:
    """The actuals by segment."""
    return _guarded(_segments, path(), version, stage_order)


# -- the import form: an upload read (a workbook's sheet in a process of its own), the guessed
# options and the preview, each kept for the few last uploads (keyed by their bytes). They use
# the database opened for writing (staged files, temporary tables) but write nothing to it.

def _file_text(store: Store, data: bytes, name: str, sheet: str | None) -> str | SheetText | list[str]:
    try:
        if workbook_kind(data, name):
            return read_sheet(data, name, store.staging_dir, sheet=sheet)
        return decode(data, name)
    except ImportRejected as exc:
        return list(exc.problems)


@st.cache_data(max_entries=4, show_spinner="Reading the file…")
def file_text(data: bytes, name: str, sheet: str | None) -> str | SheetText | list[str]:
    """The upload as text: a CSV file's, or a workbook's sheet (``sheet``, else the first
    visible one) with the workbook's sheets; or its problems. Raises
    :class:`~sim.errors.PlannerError` when the database is busy or cannot be opened."""
    return write(_file_text, data, name, sheet)


@st.cache_data(max_entries=4, show_spinner=False)
def suggestion(text: str, stages: tuple[str, ...], delimiter: str | None, sheet: str | None) -> Suggestion:
    return suggest_options(text, stages, delimiter=delimiter, sheet=sheet)


def _preview(store: Store, data: bytes, name: str, options: ImportOptions,
             stages: tuple[str, ...]) -> ImportPreview | list[str]:
    try:
        return preview_import(store, data, name, options=options, scenario_stages=stages)
    except ImportRejected as exc:
        return list(exc.problems)


@st.cache_data(max_entries=8, show_spinner="Checking what the import would give…")
def import_preview(version: tuple, data: bytes, name: str, options: ImportOptions,
                   stages: tuple[str, ...]) -> ImportPreview | list[str]:
    """What importing the upload with ``options`` would give (against the data of
    ``version``), or the problems it would be refused for. Raises
    :class:`~sim.errors.PlannerError` when the database is busy or cannot be opened."""
    return write(_preview, data, name, options, stages)


@st.cache_data(max_entries=16, show_spinner=False)
def _checkin(db: str, version: tuple, plan_id: int | None, token: str, as_of: str, confidence: float,
             prior_weight: float, pipeline: tuple[tuple[str, int], ...], conflict_rule: bool) -> CheckIn:
    scenario = None if plan_id is not None else scenario_from_url_token(token)

    def read(store) -> CheckInInputs:
        plan = load_plan(store, plan_id) if plan_id is not None else None
        return load_checkin_inputs(store, plan=plan, scenario=scenario, as_of=as_of)
    inputs = _reading(db, read)                     # the database is closed while it simulates
    return run_checkin(inputs, confidence=confidence, prior_weight=prior_weight, pipeline=dict(pipeline),
                       conflict_rule=conflict_rule)


def checkin(version: tuple, plan_id: int | None, token: str, as_of: str, confidence: float, prior_weight: float,
            pipeline: tuple[tuple[str, int], ...], conflict_rule: bool = True) -> CheckIn:
    """The check-in of a saved plan (``plan_id``) or of the scenario in ``token``
    (``conflict_rule``: lower the prior's weight where the data conflict with it)."""
    return _guarded(_checkin, path(), version, plan_id, token, as_of, confidence, prior_weight, pipeline,
                    conflict_rule)


@st.cache_data(max_entries=16, show_spinner=False)
def _handoff(db: str, version: tuple, token: str, as_of: str | None, segment: str | None) -> HandoffReport:
    return _reading(db, measure_stored_handoffs, scenario_from_url_token(token), as_of=as_of, segment=segment)


def handoff(version: tuple, token: str, as_of: str | None = None, segment: str | None = None) -> HandoffReport:
    """The handoff rules of the scenario in ``token`` measured on the stored records, up to
    ``as_of`` (None: all), of ``segment`` (None: all)."""
    return _guarded(_handoff, path(), version, token, as_of, segment)


def _guarded(read, *args, **kwargs):
    """``read(...)``, or a message for viewers and the page stops when the database cannot be read."""
    try:
        return read(*args, **kwargs)
    except StoreError as exc:
        text = _for_viewers(exc)
        (st.warning if text is BUSY else st.error)(text, icon=":material/database:")
        st.stop()
