"""The Actuals page in a real browser: plan vs actual, CSV import, the import history.

The module has its own server (the `server` fixture below overrides the suite's): a freshly
seeded temporary database (demo actuals and plan of record), used by these tests in order.
Screenshots go to test-artifacts/screenshots/actuals-*.png.
"""

from __future__ import annotations

import re

import pytest

from .conftest import running_server
from .driver import ARTIFACTS, PHONE, exceptions, full_screenshot, open_app, rerun_after

SHOTS = ARTIFACTS / "screenshots"
LOGS = ARTIFACTS / "logs"
URL = "/actuals"
BAD_CSV = b"month,Leads,MQLs\n2027-01,10,5\n2027-13,-3,4\n"
GOOD_CSV = b"month,Leads,MQLs\n2027-07,260,80\n2027-08,270,85\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of this module's own, on a new temporary database (seeded on the first visit)."""
    with running_server("streamlit-actuals", tmp_path_factory.mktemp("db-actuals")) as srv:
        yield srv


def assert_no_exception(page):
    found = exceptions(page)
    assert not found, f"stException on {page.url}: {found}"


def open_actuals(page, server):
    open_app(page, server.url + URL, expect_text="Plan vs actual")
    assert_no_exception(page)


def open_tab(page, name):
    """Tabs switch in the browser (no rerun)."""
    tab = page.get_by_role("tab", name=name)
    tab.click()
    page.get_by_role("tabpanel", name=name).wait_for(state="visible")


def selected_tab(page) -> str:
    return page.get_by_role("tab", selected=True).inner_text().strip()


def upload_and_import(page, file_name: str, content: bytes):
    with rerun_after(page):
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
            files=[{"name": file_name, "mimeType": "text/csv", "buffer": content}])
    page.locator(".st-key-actuals-import button").wait_for(state="visible")
    with rerun_after(page):
        page.locator(".st-key-actuals-import button").click()
    assert_no_exception(page)


def alerts(page) -> list[str]:
    return page.get_by_test_id("stAlert").all_inner_texts()


def test_plan_vs_actual_shows_three_charts(server, page):
    open_actuals(page, server)
    assert page.get_by_test_id("stTopNav").count() == 1
    assert selected_tab(page) == "Plan vs actual"
    panel = page.get_by_role("tabpanel", name="Plan vs actual")
    assert panel.get_by_test_id("stVegaLiteChart").count() == 3
    assert panel.get_by_test_id("stMetric").filter(has_text="Revenue to date").count() == 1
    assert alerts(page) == [], alerts(page)
    full_screenshot(page, SHOTS / "actuals-compare.png")


def test_phone_width(server, new_page):
    page = new_page(PHONE)
    open_actuals(page, server)
    assert page.get_by_role("tabpanel", name="Plan vs actual").get_by_test_id("stVegaLiteChart").count() == 3
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    full_screenshot(page, SHOTS / "actuals-phone.png")
    assert overflow <= 0, f"the actuals page is {overflow}px wider than a 390px phone screen"


def test_import_rejects_a_bad_file_then_imports_a_good_one(server, page):
    open_actuals(page, server)
    open_tab(page, "Import CSV")
    history = page.get_by_role("tab", name=re.compile(r"^History")).inner_text().strip()

    upload_and_import(page, "bad.csv", BAD_CSV)
    error = page.get_by_test_id("stAlert").filter(has_text="not imported")
    assert error.count() == 1, alerts(page)
    text = error.inner_text()
    assert "bad.csv" in text and "the database is unchanged" in text
    assert "row 3" in text and "'month'" in text and "'Leads'" in text
    assert selected_tab(page) == "Import CSV", "the import sent the user to another tab"
    assert page.get_by_role("tab", name=re.compile(r"^History")).inner_text().strip() == history

    upload_and_import(page, "good.csv", GOOD_CSV)
    success = page.get_by_test_id("stAlert").filter(has_text="Imported good.csv")
    assert success.count() == 1, alerts(page)
    assert page.get_by_test_id("stAlert").filter(has_text="not imported").count() == 0
    assert selected_tab(page) == "Import CSV", "the import sent the user to another tab"
    assert page.get_by_role("tab", name=re.compile(r"^History")).inner_text().strip() == "History (4)"
    full_screenshot(page, SHOTS / "actuals-import.png")


def test_history_lists_the_imports_and_undoes_one(server, page):
    open_actuals(page, server)
    open_tab(page, "History (4)")
    panel = page.get_by_role("tabpanel", name="History (4)")
    assert panel.get_by_text("good.csv", exact=False).count() >= 1
    full_screenshot(page, SHOTS / "actuals-history.png")

    panel.get_by_test_id("stPopover").first.click()                # the newest import: good.csv
    confirm = page.get_by_role("button", name="Yes, undo it")
    confirm.wait_for(state="visible")
    with rerun_after(page):
        confirm.click()
    assert_no_exception(page)
    assert page.get_by_test_id("stAlert").filter(has_text="Undid import #4 (good.csv)").count() == 1, alerts(page)
    assert selected_tab(page) == "History (4)", "the undo sent the user to another tab"
