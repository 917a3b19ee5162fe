"""Helpers for Streamlit AppTest tests of the pages."""

from __future__ import annotations

from dataclasses import replace

from streamlit.testing.v1 import AppTest

from sim import Scenario, load_scenario
from ui.agreement_form import AGREEMENT_KEY
from ui.widgets import PLAN_TAB_KEY

from ..conftest import DEMO_PATH, ROOT

PROBABILITY = "Chance of hitting the goal"


def small_demo(**changes) -> Scenario:
    """The demo with few trials (fast pages), plus any field changes."""
    return replace(load_scenario(DEMO_PATH), trials=3000, **changes)


def open_app(page: str | None = None, scenario: Scenario | None = None, **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    if scenario is not None:
        at.query_params["s"] = scenario.to_url_token()
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_tab(at: AppTest, label: str) -> AppTest:
    """Open a tab of the Plan page's inputs and run the page (only the open tab's inputs run)."""
    at.session_state[PLAN_TAB_KEY] = label
    return at.run()


def open_agreement(at: AppTest) -> AppTest:
    """Open the Plan page's agreement part and run the page (its inputs run only while open)."""
    at.session_state[AGREEMENT_KEY] = True
    return at.run()


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def widget(elements, label: str):
    return next(w for w in elements if w.label == label)


LONG_NAMES = ("Engaged opportunities (first meeting held)", "Won deals (contract signed, first invoice)")


def export_funnel(names: tuple[str, str] = ("Engaged opportunities", "Won deals"), **changes) -> Scenario:
    """A two-stage funnel as a head of revenue operations sets it from a CRM export
    (tests.crm_exports' opportunity export): the win rate as the counts of won of closed deals,
    the deal value's median and P90 from the won deals' values, the engaged deals per month,
    the deals still open (Engaging) as the open pipeline of the top stage; few trials."""
    import numpy as np

    from sim.model.validation import scenario_from_dict

    from ..crm_exports import opportunity_export
    deals = opportunity_export()
    stage = deals["deal_stage"]
    won, closed = int((stage == "Won").sum()), int(stage.isin(["Won", "Lost"]).sum())
    values = deals.loc[stage == "Won", "close_value"].astype(float)
    engaged = int((deals["engage_date"] != "").sum())
    doc = {
        "schema": 1, "name": "Real export — FY2018", "start": "2018-01", "months": 12,
        "goal": 12_000_000.0, "baseline_revenue": 0.0,
        "top": {"per_month": round(engaged / 14.0), "growth": 0.0, "noise_cv": 0.1},
        "stages": [{"name": names[0], "owner": "sales"},
                   {"name": names[1], "owner": "sales", "rate": {"successes": won, "trials": closed},
                    "lag": [0.3, 0.4, 0.2, 0.1]}],
        "deal": {"median": float(np.median(values)), "p90": float(np.percentile(values, 90)),
                 "kind": "one_time"},
        "start_pipeline": {names[0]: int((stage == "Engaging").sum())},
        "trials": 3000, "seed": 2018,
    }
    return replace(scenario_from_dict(doc), **changes)
