"""Helpers for Streamlit AppTest tests of the pages."""

from __future__ import annotations

from dataclasses import replace

from streamlit.testing.v1 import AppTest

from sim import Scenario, load_scenario

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


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def widget(elements, label: str):
    return next(w for w in elements if w.label == label)
