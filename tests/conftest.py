"""Shared fixtures: the demo scenario and a builder for small test scenarios."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from sim.model.validation import scenario_from_dict

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
DEMO_PATH = DATA_DIR / "scenarios" / "demo.json"
ACTUALS_DIR = DATA_DIR / "actuals"


@pytest.fixture(scope="session")
def demo_dict() -> dict:
    return json.loads(DEMO_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def demo(demo_dict):
    return scenario_from_dict(demo_dict)


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


@pytest.fixture
def db(tmp_path, monkeypatch):
    """A temporary database path for the app's pages (``FUNNEL_DB``); seeded with the demo's
    actuals and plan of record when a page first opens it."""
    path = tmp_path / "funnel.duckdb"
    monkeypatch.setenv("FUNNEL_DB", str(path))
    monkeypatch.delenv("FUNNEL_DEMO_DATA", raising=False)
    return path


@pytest.fixture
def empty_db(db, monkeypatch):
    """A temporary database for the pages that starts empty (no demo actuals, no plan)."""
    monkeypatch.setenv("FUNNEL_DEMO_DATA", "0")
    return db


def snapshot(store) -> dict[str, list[tuple]]:
    """Every row of every table of a store's database (the schema version, the import history
    and the plans too), ordered: equal snapshots mean nothing stored has changed."""
    cur = store.cursor()
    tables = [r[0] for r in cur.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY table_name").fetchall()]
    assert {"imports", "stages", "monthly_counts", "monthly_revenue", "record_stages", "record_amounts",
            "plans", "plan_bands", "schema_version"} <= set(tables)
    return {t: cur.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
