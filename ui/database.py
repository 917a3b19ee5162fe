"""The process's one DuckDB store for the pages (``$FUNNEL_DB`` or data/funnel.duckdb).

Shared by every session and thread (``st.cache_resource``); every query uses a fresh cursor
and writes take the store's lock (see sim.data.store). A database the app creates is seeded with
the demo's actuals and plan of record unless ``FUNNEL_DEMO_DATA=0``.
"""

from __future__ import annotations

import os

import streamlit as st

from sim.data.actuals import load_actuals
from sim.data.demo_data import seed_demo
from sim.data.location import default_db_path
from sim.data.plan_checkin import check_in_stored
from sim.data.plans import load_plan, stored_bands
from sim.data.store import Store
from sim.data.variance import PlanComparison, compare_plan
from sim.errors import PlannerError
from sim.model.checkin import CheckIn
from sim.model.monthly_actuals import Actuals
from sim.model.scenario_io import scenario_from_url_token
from ui import APP_DIR, DATA_DIR

DEMO_ENV = "FUNNEL_DEMO_DATA"


@st.cache_resource(max_entries=4, show_spinner="Opening the database…")
def _open(path: str) -> Store:
    store = Store(path)
    if store.is_new and os.environ.get(DEMO_ENV, "1").strip() not in ("0", "false", "no"):
        seed_demo(store, DATA_DIR)
    return store


def store() -> Store | None:
    """The store, or None after showing why it cannot be opened (no traceback)."""
    try:
        return _open(str(default_db_path(APP_DIR).resolve()))
    except PlannerError as exc:
        st.error(f"The actuals database cannot be opened: {exc}", icon=":material/database:")
        return None


# Reads, cached by the database's data version (an import, undo or saved plan changes it):
# with a million imported records the views take about half a second to compute.

@st.cache_data(max_entries=16, show_spinner=False)
def actuals(path: str, version: tuple, stage_order: tuple[str, ...]) -> Actuals:
    return load_actuals(_open(path), stage_order=stage_order)


@st.cache_data(max_entries=16, show_spinner=False)
def comparison(path: str, version: tuple, plan_id: int) -> tuple[PlanComparison, list]:
    """The plan-vs-actual comparison and the plan's stored monthly arrival bands."""
    store = _open(path)
    plan = load_plan(store, plan_id)
    return compare_plan(store, plan), stored_bands(store, plan, "arrivals")


@st.cache_data(max_entries=16, show_spinner=False)
def checkin(path: str, version: tuple, plan_id: int | None, token: str, as_of: str, confidence: float,
            prior_weight: float, pipeline: tuple[tuple[str, int], ...], conflict_rule: bool = True) -> CheckIn:
    """The check-in of a saved plan (``plan_id``) or of the scenario in ``token``."""
    store = _open(path)
    plan = load_plan(store, plan_id) if plan_id is not None else None
    return check_in_stored(store, plan=plan, scenario=None if plan else scenario_from_url_token(token),
                           as_of=as_of, confidence=confidence, prior_weight=prior_weight,
                           pipeline=dict(pipeline), conflict_rule=conflict_rule)
