"""The Actuals page in a real browser: plan vs actual, import (a CSV file and a CRM export with
its guessed mapping and preview), the import history, segments.

The module has its own server (the `server` fixture below overrides the suite's): a freshly
seeded temporary database (demo actuals and plan of record), used by these tests in order.
Screenshots go to test-artifacts/screenshots/actuals-*.png.
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from .conftest import running_server
from .driver import ARTIFACTS, PHONE, exceptions, full_screenshot, open_app, rerun_after, script_runs

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


def upload(page, file_name: str, content: bytes):
    with rerun_after(page):
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
            files=[{"name": file_name, "mimeType": "text/csv", "buffer": content}])
    page.locator(".st-key-actuals-import button").wait_for(state="visible")


def keep_the_demo(page):
    """At the first import of one's own data: keep the demo's data beside it."""
    choice = page.locator("label", has_text="Keep the demo's data and import mine beside it")
    if choice.count() and not choice.locator("input").is_checked():
        with rerun_after(page):
            choice.click()


def click_import(page):
    with rerun_after(page):
        page.locator(".st-key-actuals-import button").click()
    assert_no_exception(page)


def upload_and_import(page, file_name: str, content: bytes):
    upload(page, file_name, content)
    keep_the_demo(page)
    click_import(page)


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


def test_the_csv_downloads_are_made_when_clicked(server, page):
    """The comparison and the actuals tables download as CSV files made on the click (deferred),
    without a rerun of the page."""
    open_actuals(page, server)
    runs = script_runs(page)
    with page.expect_download(timeout=120_000) as download:
        page.get_by_test_id("stDownloadButton").filter(has_text="Download the comparison (CSV)").click()
    assert download.value.suggested_filename == "plan-vs-actual.csv"
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert {"stage", "month", "p50", "actual", "status"} <= set(rows[0]), rows[0]
    assert {r["stage"] for r in rows} >= {"Leads", "Customers"}
    open_tab(page, "Actuals")
    with page.expect_download(timeout=120_000) as download:
        page.get_by_test_id("stDownloadButton").filter(has_text="Download the actuals (CSV)").click()
    assert download.value.suggested_filename == "actuals.csv"
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    months = [r["month"] for r in rows]
    assert [f"2027-{m:02d}" for m in range(1, 7)] == [m for m in months if m.startswith("2027")]
    assert {"Visits", "Leads", "Customers", "revenue"} <= set(rows[0])
    assert script_runs(page) == runs
    assert_no_exception(page)


def test_import_rejects_a_bad_file_then_imports_a_good_one(server, page):
    open_actuals(page, server)
    open_tab(page, "Import")
    history = page.get_by_role("tab", name=re.compile(r"^History")).inner_text().strip()

    upload_and_import(page, "bad.csv", BAD_CSV)
    error = page.get_by_test_id("stAlert").filter(has_text="not imported")
    assert error.count() == 1, alerts(page)
    text = error.inner_text()
    assert "bad.csv" in text and "the database is unchanged" in text
    assert "row 3" in text and "'month'" in text and "'Leads'" in text
    assert selected_tab(page) == "Import", "the import sent the user to another tab"
    assert page.get_by_role("tab", name=re.compile(r"^History")).inner_text().strip() == history

    upload_and_import(page, "good.csv", GOOD_CSV)
    success = page.get_by_test_id("stAlert").filter(has_text="Imported good.csv")
    assert success.count() == 1, alerts(page)
    assert page.get_by_test_id("stAlert").filter(has_text="not imported").count() == 0
    assert selected_tab(page) == "Import", "the import sent the user to another tab"
    assert page.get_by_role("tab", name=re.compile(r"^History")).inner_text().strip() == "History (4)"
    full_screenshot(page, SHOTS / "actuals-import.png")


def test_history_lists_the_imports_and_undoes_one(server, page):
    open_actuals(page, server)
    open_tab(page, "History (4)")
    panel = page.get_by_role("tabpanel", name="History (4)")
    assert panel.get_by_text("good.csv", exact=False).count() >= 1
    full_screenshot(page, SHOTS / "actuals-history.png")

    panel.get_by_test_id("stPopover").filter(has_text="Undo").first.click()   # the newest import: good.csv
    confirm = page.get_by_role("button", name="Yes, undo it")
    confirm.wait_for(state="visible")
    with rerun_after(page):
        confirm.click()
    assert_no_exception(page)
    assert page.get_by_test_id("stAlert").filter(has_text="Undid import #4 (good.csv)").count() == 1, alerts(page)
    assert selected_tab(page) == "History (4)", "the undo sent the user to another tab"


def test_a_crm_export_is_mapped_previewed_and_imported_into_a_clean_database(server, page):
    """The opportunity export of issue 11: the mapping guessed from names and values, the
    preview before anything is written, the demo removed at the first import of one's own data
    (good.csv, the earlier tests' own import, was undone); then the actuals by segment."""
    from ..crm_exports import csv_bytes, opportunity_export
    df = opportunity_export(3000)
    open_actuals(page, server)
    open_tab(page, "Import")
    upload(page, "sales_pipeline.csv", csv_bytes(df))
    panel = page.get_by_role("tabpanel", name="Import")
    assert panel.get_by_text("rows in the records format").count() == 1
    assert panel.get_by_text("Remove the demo company's data, then import mine").count() == 1
    n = df["deal_stage"].value_counts()
    assert panel.get_by_text(f"{n['Won']:,} won").count() >= 1
    panel.get_by_text("Preview (nothing is written until you import)").scroll_into_view_if_needed()
    full_screenshot(page, SHOTS / "actuals-mapping.png")
    click_import(page)
    success = page.get_by_test_id("stAlert").filter(has_text="Removed the demo")
    assert success.count() == 1, alerts(page)
    assert "Imported sales_pipeline.csv as import #5" in success.inner_text()
    assert page.get_by_role("tab", name=re.compile(r"^History")).inner_text().strip() == "History (2)"
    open_tab(page, "Actuals")
    panel = page.get_by_role("tabpanel", name="Actuals")
    assert panel.get_by_test_id("stVegaLiteChart").count() == 1
    assert panel.get_by_test_id("stDataFrame").count() == 1
    full_screenshot(page, SHOTS / "actuals-segments.png")
