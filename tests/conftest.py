"""Shared fixtures and the test tiers.

Tiers: every test has exactly one of the markers ``unit``, ``integration``, ``app``, ``slow``,
``browser``. It is the folder's (``tests/unit``, ``tests/integration``, ``tests/app``,
``tests/slow``, ``tests/browser``) unless the test carries a tier marker itself (a slow
calibration test among unit tests, AppTests among the hostile inputs); a test with two tier
markers, or outside the tier folders, stops the run. ``make check`` runs the fast tiers
(unit, integration, app), ``make test`` all of them.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path

import pytest
from hypothesis import strategies as st

from sim.data.location import DB_ENV
from sim.data.store import Store
from sim.model.validation import scenario_from_dict

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
DEMO_PATH = DATA_DIR / "scenarios" / "demo.json"
ACTUALS_DIR = DATA_DIR / "actuals"
HOSTILE_DIR = Path(__file__).resolve().parent / "hostile"

TIERS = ("unit", "integration", "app", "slow", "browser")


def pytest_report_header(config):
    versions = []
    for package in ("numpy", "scipy", "duckdb", "pandas", "altair", "streamlit"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} missing")
    return "versions: " + ", ".join(versions)


def pytest_collection_finish(session):
    """With AppTests in the run: Streamlit scans every installed package's metadata for
    components at each new AppTest (0.1–0.3 s each, some 80 times); the installed packages do
    not change during a run, so the scan is made once per process and its result reused."""
    if not any(item.get_closest_marker("app") for item in session.items):
        return
    from streamlit.components.v2 import manifest_scanner
    scan = manifest_scanner.scan_component_manifests
    found = []

    def scan_once(max_workers=None):
        if not found:
            found.append(scan(max_workers))
        return list(found[0])
    manifest_scanner.scan_component_manifests = scan_once


def pytest_collection_modifyitems(config, items):
    tests = Path(__file__).resolve().parent
    for item in items:
        explicit = [m.name for m in item.iter_markers() if m.name in TIERS]
        folder = Path(str(item.path)).resolve().relative_to(tests).parts[0]
        if len(explicit) > 1:
            raise pytest.UsageError(f"{item.nodeid} has more than one tier: {', '.join(explicit)}")
        if not explicit:
            if folder not in TIERS:
                raise pytest.UsageError(f"{item.nodeid} is outside the tier folders ({', '.join(TIERS)})")
            item.add_marker(getattr(pytest.mark, folder))


@pytest.fixture(autouse=True)
def _fresh_app_guards():
    """Every test starts with no uploads held and no wrong passwords counted: the app's guards
    keep them per process (ui.uploads, ui.access), and every AppTest session has the same id."""
    uploads, access = sys.modules.get("ui.uploads"), sys.modules.get("ui.access")
    if uploads is not None:
        for session_id in list(uploads._SPOOL.files):
            uploads._SPOOL.drop(session_id)
        uploads._SPOOL.allowed.clear()
    if access is not None:
        access._LIMITER = type(access._LIMITER)()
    yield


# -- scenarios ---------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def demo_dict() -> dict:
    return json.loads(DEMO_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def demo(demo_dict):
    return scenario_from_dict(demo_dict)


#: Any JSON value (hypothesis): the fuzzing of the scenario loader and of the importer's options.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30)


# Scenario parts (hypothesis): the property tests of the model and of the monotone coupling.
@st.composite
def lags(draw_, entries=4):
    """A lag distribution of at most ``entries`` months."""
    weights = draw_(st.lists(st.integers(0, 5), min_size=1, max_size=entries).filter(any))
    return [w / sum(weights) for w in weights]


@st.composite
def rates(draw_):
    """A conversion rate in any of the four forms."""
    kind = draw_(st.sampled_from(["fixed", "mean", "counts", "range"]))
    if kind == "fixed":
        return {"fixed": draw_(st.sampled_from([0.0, 0.05, 0.3, 0.7, 1.0]))}
    if kind == "mean":
        return {"mean": draw_(st.floats(0.02, 0.98)), "strength": draw_(st.floats(1, 500))}
    if kind == "counts":
        trials = draw_(st.integers(0, 300))
        return {"successes": draw_(st.integers(0, trials)), "trials": trials}
    lo = draw_(st.floats(0.01, 0.8))
    return {"p10": lo, "p90": draw_(st.floats(lo + 0.02, 0.95))}


def worst_case_link(trials=2_000_000, months=36, stages=12, lag_entries=13) -> dict:
    """The scenario document of the share link that kept the server busy for 32 minutes (issue
    10): every limit at its maximum. The work budget refuses it before any work."""
    lag = [1 / lag_entries] * lag_entries
    return {"schema": 1, "name": "worst case", "start": "2027-01", "months": months, "goal": 1e13,
            "top": {"per_month": 1e9, "noise_cv": 2.0},
            "stages": [{"name": "S0"}] + [{"name": f"S{i}", "rate": {"mean": 0.5, "strength": 10}, "lag": lag}
                                          for i in range(1, stages)],
            "deal": {"median": 1000, "p90": 22000, "kind": "monthly_recurring"},
            "start_pipeline": {f"S{i}": 1_000_000_000 for i in range(stages - 1)},
            "trials": trials, "seed": 1}


def heaviest_link_within_budget(seed: int = 1) -> str:
    """The worst-case link with the most trials the budget allows (a seed of its own per repeat:
    never a cached answer)."""
    from sim.model.forecast import DETAIL_TRIALS
    from sim.model.work_budget import max_trials_within_budget
    sc = scenario_from_dict(worst_case_link())
    return replace(sc, trials=max_trials_within_budget(sc, detail_trials=DETAIL_TRIALS), seed=seed).to_url_token()


def small_scenario(**overrides):
    """A valid two-stage scenario (Top -> Won), overridden field by field."""
    base = {
        "schema": 1,
        "name": "test",
        "start": "2027-01",
        "months": 1,
        "goal": 1000.0,
        "top": {"monthly": [100], "noise_cv": 0},
        "stages": [
            {"name": "Top", "owner": "marketing"},
            {"name": "Won", "owner": "sales", "rate": {"fixed": 0.5}, "lag": [1.0]},
        ],
        "deal": {"median": 100, "p90": 100, "kind": "one_time"},
        "trials": 1000,
        "seed": 1,
    }
    data = copy.deepcopy(base)
    data.update(copy.deepcopy(overrides))
    return scenario_from_dict(data)


def unchecked(scenario, *, name: str | None = None, stage_names=None):
    """``scenario`` with another name and stage names, *not validated*: what a caller of the
    library, or a database written before today's name rules, can still hold. The defences
    downstream of validation (escaping, CSV neutralising, output cleaning) are tested on it."""
    from dataclasses import replace
    stages = scenario.stages if stage_names is None else tuple(
        replace(stage, name=new) for stage, new in zip(scenario.stages, stage_names, strict=True))
    renames = {old.name: new.name for old, new in zip(scenario.stages, stages)}
    return replace(scenario, name=scenario.name if name is None else name, stages=stages,
                   start_pipeline=tuple((renames.get(k, k), v) for k, v in scenario.start_pipeline),
                   pipeline_lags=tuple((renames.get(k, k), v) for k, v in scenario.pipeline_lags))


# -- databases ---------------------------------------------------------------------------------

@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "db" / "funnel.duckdb"


@pytest.fixture
def store(db_path):
    """An empty store of the test's own, closed after the test."""
    s = Store(db_path)
    yield s
    s.close()


@pytest.fixture(scope="session")
def demo_db_file(tmp_path_factory) -> Path:
    """A database with the demo's actuals and plan of record, as the app seeds a new one
    (:func:`seed_demo`), made once per test session: :func:`db` copies it."""
    from sim.data.demo_data import seed_demo
    path = tmp_path_factory.mktemp("demo-db") / "funnel.duckdb"
    with Store(path) as store:
        seed_demo(store, DATA_DIR)
    return path


@pytest.fixture
def new_db(tmp_path, monkeypatch):
    """A database path for the app's pages (``FUNNEL_DB``) where no database is yet: the app
    creates it and seeds it with the demo's actuals and plan of record."""
    path = tmp_path / "funnel.duckdb"
    monkeypatch.setenv("FUNNEL_DB", str(path))
    monkeypatch.delenv("FUNNEL_DEMO_DATA", raising=False)
    return path


@pytest.fixture
def db(new_db, demo_db_file):
    """The pages' database (``FUNNEL_DB``), holding the demo's actuals and plan of record: a
    copy of the seeded database (the tests on ``new_db`` watch the app seed it itself)."""
    shutil.copyfile(demo_db_file, new_db)
    return new_db


@pytest.fixture
def empty_db(new_db, monkeypatch):
    """A temporary database for the pages that starts empty (no demo actuals, no plan)."""
    monkeypatch.setenv("FUNNEL_DEMO_DATA", "0")
    return new_db


def copied_store(template: Path, folder: Path) -> Store:
    """A store on a copy of the database file ``template`` (closed), in ``folder``."""
    path = folder / template.name
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, path)
    return Store(path)


@pytest.fixture
def store_from(tmp_path):
    """``store_from(template)``: a store on a copy of the database file ``template`` (a module's
    seeded database, made once), closed after the test."""
    opened = []

    def open_copy(template: Path) -> Store:
        opened.append(copied_store(template, tmp_path))
        return opened[-1]
    yield open_copy
    for s in opened:
        s.close()


def snapshot(store) -> dict[str, list[tuple]]:
    """Every row of every table of a store's database (the schema version, the import history
    and the plans too), ordered: equal snapshots mean nothing stored has changed."""
    cur = store.cursor()
    tables = [r[0] for r in cur.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY table_name").fetchall()]
    assert {"imports", "stages", "monthly_counts", "monthly_revenue", "record_stages", "record_amounts",
            "plans", "plan_bands", "schema_version"} <= set(tables)
    return {t: cur.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}


def holding_process(path: Path, *, read_only: bool, seconds: float) -> subprocess.Popen:
    """Another process holding the database ``path`` (read-only, or for writing) for
    ``seconds``, as the app or a command does during one operation; started and holding when
    this returns."""
    code = (f"import time; from sim.data.store import Store; s = Store({str(path)!r}, read_only={read_only}); "
            f"print('held', flush=True); time.sleep({seconds}); s.close()")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def snapshot_file(path: Path) -> dict[str, list[tuple]]:
    """:func:`snapshot` of the database file ``path``, opened read-only and closed again (as
    the app opens it: nothing holds the file between operations)."""
    with Store(path, read_only=True) as store:
        return snapshot(store)


# -- what the pages show ----------------------------------------------------------------------

def plain(text: str) -> str:
    """Markdown-escaped user text (sim.present.markdown.escape_markdown) back as written."""
    return re.sub(r"\\(.)", r"\1", text).replace("\u2060", "")


# -- the command line --------------------------------------------------------------------------

@dataclass(frozen=True)
class CliRun:
    """What ``python -m sim ...`` did: its exit code and its output."""

    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def _environment(env: dict | None):
    """``os.environ`` without ``FUNNEL_DB`` and with ``env``, restored afterwards (when ``env``
    is given); as it is otherwise."""
    if env is None:
        yield
        return
    saved = dict(os.environ)
    os.environ.pop(DB_ENV, None)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_cli(*args, env: dict | None = None) -> CliRun:
    """``python -m sim ARGS`` in this process: :func:`sim.cli.main` with stdout and stderr
    captured (the exit code of argparse's own exits too)."""
    from sim.cli import main
    out, err = io.StringIO(), io.StringIO()
    with _environment(env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return CliRun(code, out.getvalue(), err.getvalue())


def run_cli_process(*args, env: dict | None = None) -> CliRun:
    """``python -m sim ARGS`` in a new process (the smoke tests: start-up, exit status, a second
    process on a database in use)."""
    full_env = None
    if env is not None:
        full_env = {k: v for k, v in os.environ.items() if k != DB_ENV}
        full_env.update(env)
    proc = subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env=full_env)
    return CliRun(proc.returncode, proc.stdout, proc.stderr)


def succeeded(out: CliRun) -> CliRun:
    """Exit 0 and no traceback."""
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    return out


def refused(out: CliRun) -> str:
    """Exit 2, nothing on stdout, one line on stderr; returns that line."""
    assert out.returncode == 2, (out.returncode, out.stdout[:500], out.stderr)
    assert out.stdout == ""
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    return lines[0]
