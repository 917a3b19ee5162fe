"""The From history page in a real browser: an opportunity export imported into a clean database,
the fit shown with its charts, "Use as plan" opening the Plan page on the fitted scenario with the
link carrying it. Screenshot: test-artifacts/screenshots/history-fit.png (the README's)."""

from __future__ import annotations

import pytest

from sim.data.ingest import import_csv
from sim.data.store import Store
from sim.model.scenario_io import scenario_from_url_token

from ..crm_exports import csv_bytes, opportunity_export
from ..integration.test_history_fit_store import OPPORTUNITIES
from .conftest import running_server
from .driver import ARTIFACTS, exceptions, full_screenshot, open_app, query_param, settle
from .server import TIMEOUT_MS

SHOTS = ARTIFACTS / "screenshots"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server on a database holding only an opportunity export (no demo data)."""
    folder = tmp_path_factory.mktemp("db-history")
    with Store(folder / "funnel.duckdb") as store:
        import_csv(store, csv_bytes(opportunity_export()), "sales_pipeline.csv", options=OPPORTUNITIES)
    with running_server("streamlit-history", folder) as srv:
        yield srv


def test_the_fit_is_shown_and_used_as_the_plan(server, page):
    open_app(page, server.url + "/history", expect_text="Plan from history")
    assert not exceptions(page)
    assert page.get_by_test_id("stVegaLiteChart").count() >= 1
    assert page.get_by_text("Customers").first.is_visible()
    full_screenshot(page, SHOTS / "history-fit.png")
    page.get_by_role("button", name="Use as plan").click()
    page.wait_for_function("() => !location.pathname.includes('history')", timeout=TIMEOUT_MS)
    settle(page)
    assert not exceptions(page)
    token = query_param(page, "s")
    scenario = scenario_from_url_token(token)
    assert scenario.name.startswith("Fitted from") and scenario.stage_names == ("Engaged", "Customers")
    assert page.get_by_text(scenario.name).first.is_visible()             # the Plan page, on the fit
