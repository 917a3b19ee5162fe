"""The Check-in page in a real browser: metrics, the three charts, phone width, the as-of month.

The module has its own server (the `server` fixture below overrides the suite's): a freshly
seeded temporary database (the demo's actuals 2027-01..06 and plan of record). Expected revenue
comes from data/actuals/northwind-monthly.csv (csv module), not from the page.
Screenshots go to test-artifacts/screenshots/checkin*.png.
"""

from __future__ import annotations

import csv
from dataclasses import replace

import pytest

from sim.model.beliefs import RateBelief
from sim.model.scenario_io import load_scenario

from .conftest import running_server
from .driver import ARTIFACTS, PHONE, exceptions, full_screenshot, open_app, rerun_after
from .server import ROOT, TIMEOUT_MS

SHOTS = ARTIFACTS / "screenshots"
LOGS = ARTIFACTS / "logs"
URL = "/checkin"
MONTHLY_DEMO = ROOT / "data" / "actuals" / "northwind-monthly.csv"
REVENUE = "Revenue to date"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of this module's own, on a new temporary database (seeded on the first visit)."""
    with running_server("streamlit-checkin", tmp_path_factory.mktemp("db-checkin")) as srv:
        yield srv


def demo_revenue(through: str) -> float:
    with open(MONTHLY_DEMO, newline="", encoding="utf-8") as f:
        return sum(float(r["revenue"]) for r in csv.DictReader(f) if r["month"] <= through)


def assert_no_exception(page):
    found = exceptions(page)
    assert not found, f"stException on {page.url}: {found}"


def open_checkin(page, server):
    open_app(page, server.url + URL, expect_text="Reset SLA")
    assert_no_exception(page)


def revenue_metric(page):
    return page.get_by_test_id("stMetric").filter(has_text=REVENUE)


def revenue_value(page) -> float:
    text = revenue_metric(page).get_by_test_id("stMetricValue").inner_text(timeout=TIMEOUT_MS)
    return float(text.strip().replace(",", ""))


def test_checkin_shows_metrics_and_three_charts(server, page):
    open_checkin(page, server)
    assert page.get_by_test_id("stTopNav").count() == 1
    assert page.get_by_test_id("stVegaLiteChart").count() == 3
    metrics = page.get_by_test_id("stMetric")
    assert metrics.count() == 3
    for i in range(3):
        assert metrics.nth(i).is_visible()
    labels = [t.strip() for t in page.get_by_test_id("stMetricLabel").all_inner_texts()]
    assert labels[0].startswith("Chance of hitting the goal now")
    assert labels[1] == f"{REVENUE} (through 2027-06)" and labels[2] == "Largest shortfall"
    assert revenue_value(page) == pytest.approx(demo_revenue("2027-06"), abs=0.5)
    assert page.get_by_test_id("stDataFrame").count() >= 1              # the reset SLA table
    assert page.get_by_test_id("stDownloadButton").count() == 1
    full_screenshot(page, SHOTS / "checkin.png")


def test_phone_width(server, new_page):
    page = new_page(PHONE)
    open_checkin(page, server)
    assert page.get_by_test_id("stVegaLiteChart").count() == 3
    assert revenue_metric(page).is_visible()
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    full_screenshot(page, SHOTS / "checkin-phone.png")
    assert overflow <= 0, f"the check-in page is {overflow}px wider than a 390px phone screen"


def test_an_earlier_as_of_month_changes_revenue_to_date(server, page):
    open_checkin(page, server)
    before = revenue_value(page)
    page.locator(".st-key-checkin-as-of").get_by_role("combobox").click()   # opens the list
    option = page.get_by_role("option", name="2027-03", exact=True)
    option.wait_for(state="visible")
    with rerun_after(page):
        option.click()
    assert_no_exception(page)
    label = revenue_metric(page).get_by_test_id("stMetricLabel").inner_text().strip()
    assert label == f"{REVENUE} (through 2027-03)"
    after = revenue_value(page)
    assert after != before
    assert after == pytest.approx(demo_revenue("2027-03"), abs=0.5)
    assert page.get_by_test_id("stVegaLiteChart").count() == 3
    full_screenshot(page, SHOTS / "checkin-2027-03.png")


def test_a_plan_the_actuals_contradict_is_named_in_a_warning(server, page):
    # The demo with a firm, optimistic belief about SQLs (55% at strength 600), in the link: the
    # demo's actuals (157 SQLs from 458 MQLs) contradict it.
    demo = load_scenario(ROOT / "data" / "scenarios" / "demo.json")
    stages = tuple(replace(s, rate=RateBelief.from_mean_strength(0.55, 600)) if s.name == "SQLs" else s
                   for s in demo.stages)
    token = replace(demo, stages=stages, trials=3_000).to_url_token()
    open_app(page, f"{server.url}{URL}?s={token}", expect_text="Reset SLA")
    page.locator(".st-key-checkin-plan").get_by_role("combobox").click()
    option = page.get_by_role("option", name="The current scenario (not saved)", exact=True)
    option.wait_for(state="visible")
    with rerun_after(page):
        option.click()
    assert_no_exception(page)
    warning = page.get_by_test_id("stAlert").filter(has_text="contradict")
    assert warning.count() == 1
    text = warning.inner_text(timeout=TIMEOUT_MS)
    assert "The actuals contradict the plan at SQLs (from MQLs)" in text and "count for less" in text
    toggle = page.locator(".st-key-checkin-conflict-rule")
    assert toggle.is_visible()
    full_screenshot(page, SHOTS / "checkin-conflict.png")
