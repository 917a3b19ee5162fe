"""The main journeys in a real browser: headless Chromium against `streamlit run`.

Run with `.venv/bin/python -m pytest -q -p no:cacheprovider tests/browser` (or `-m browser`).
Screenshots go to test-artifacts/screenshots/, server logs to test-artifacts/logs/.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from sim.model.scenario_io import load_scenario, scenario_from_url_token

from .driver import (
    ARTIFACTS,
    PHONE,
    PROBABILITY,
    exceptions,
    full_screenshot,
    open_app,
    open_plan_tab,
    percent,
    probability_metric,
    probability_text,
    query_param,
    rerun_after,
    wait_probability_change,
    wait_query_param_change,
    wait_quiet,
)
from .server import ROOT

DEMO_PATH = ROOT / "data" / "scenarios" / "demo.json"
SHOTS = ARTIFACTS / "screenshots"
#: Page name -> URL path (Plan is the default page).
PAGES = {"plan": "/", "forecast": "/forecast", "summary": "/summary", "scenarios": "/scenarios"}
NAV_TITLES = {"plan": "Plan", "forecast": "Forecast", "summary": "Summary", "scenarios": "Scenarios"}


@pytest.fixture(scope="module")
def demo():
    return load_scenario(DEMO_PATH)


def cli_p_goal(path) -> float:
    """P(goal) of a scenario file from the command line, `python -m sim forecast FILE --json`."""
    done = subprocess.run([sys.executable, "-m", "sim", "forecast", str(path), "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["p_goal"]


def assert_no_exception(page):
    found = exceptions(page)
    assert not found, f"stException on {page.url}: {found}"


def rate_slider(page, stage_label: str):
    """The "Conversion rate" range slider in the bordered box of ``stage_label`` (its belief
    switched to the slider form, when it is typed)."""
    form_box = (page.get_by_test_id("stVerticalBlock")
                .filter(has_text=stage_label)
                .filter(has=page.get_by_test_id("stRadio"))
                .last)
    if not form_box.get_by_test_id("stSlider").filter(has_text="Conversion rate").count():
        with rerun_after(page):
            form_box.get_by_test_id("stRadio").get_by_text("Slider", exact=True).click()
    box = (page.get_by_test_id("stVerticalBlock")
           .filter(has_text=stage_label)
           .filter(has=page.get_by_test_id("stSlider"))
           .last)  # the innermost block: the stage's own box
    slider = box.get_by_test_id("stSlider").filter(has_text="Conversion rate")
    assert slider.count() == 1, f"expected one rate slider for {stage_label}, found {slider.count()}"
    return slider


# -- a. the default page ------------------------------------------------------------------------

def test_default_page_shows_the_probability(server, page):
    open_app(page, server.url, expect_text=PROBABILITY)
    metric = probability_metric(page)
    assert metric.count() == 1
    assert metric.get_by_test_id("stMetricLabel").inner_text().strip().startswith(PROBABILITY)
    value = probability_text(page)
    assert value.endswith("%") and 0 <= percent(value) <= 100, value
    assert query_param(page, "s"), "the scenario is not in the URL"
    assert_no_exception(page)


# -- b. a slider moves the probability ----------------------------------------------------------

def test_moving_a_rate_slider_changes_the_probability_and_the_link(server, page):
    open_app(page, server.url, expect_text=PROBABILITY)
    open_plan_tab(page, "Marketing")                   # only the open tab's inputs run
    slider = rate_slider(page, "Visits → Leads")
    upper = slider.get_by_role("slider", name="end")
    lower = slider.get_by_role("slider", name="start")
    start_value = float(upper.get_attribute("value"))
    before, token_before = probability_text(page), query_param(page, "s")

    # The P90 of the leads rate up to the slider's maximum: more leads, a better chance.
    # The page shows a first answer, then the whole run's in its place: read it once the run ends.
    with rerun_after(page):
        upper.focus()
        upper.press("End")
        wait_probability_change(page, before)
    higher = probability_text(page)
    token_up = wait_query_param_change(page, "s", token_before)
    assert float(upper.get_attribute("value")) > start_value
    assert percent(higher) > percent(before), (before, higher)
    leads = scenario_from_url_token(token_up).stages[1]
    assert leads.name == "Leads"
    assert float(leads.rate.ppf([0.9])[0]) == pytest.approx(float(upper.get_attribute("value")) / 100, abs=1e-3)

    # Both ends at the old P10: a fixed, lower rate than the demo's range: a worse chance.
    with rerun_after(page):
        upper.focus()
        upper.press("Home")
        wait_probability_change(page, higher)
    lower_text = probability_text(page)
    token_down = wait_query_param_change(page, "s", token_up)
    assert upper.get_attribute("value") == lower.get_attribute("value")
    assert percent(lower_text) < percent(before), (before, lower_text)
    assert token_down not in (token_before, token_up)
    assert_no_exception(page)


# -- c. a deep link on a fresh server gives the CLI's number -------------------------------------

def test_deep_link_to_forecast_matches_the_cli_on_a_fresh_server(fresh_server, page, demo, tmp_path):
    scenario = replace(demo, name="Browser test — deep link", goal=1_050_000.0, seed=4242)
    path = tmp_path / "deep-link.json"
    path.write_text(scenario.to_json(), encoding="utf-8")
    expected = f"{cli_p_goal(path):.1%}"

    # The very first page request this server gets.
    open_app(page, f"{fresh_server.url}/forecast?s={scenario.to_url_token()}", expect_text=PROBABILITY)
    assert probability_text(page) == expected
    assert page.get_by_text(scenario.name).count() >= 1, "the linked scenario's name is not shown"
    assert page.get_by_test_id("stTopNav").count() == 1, "the page came without the navigation frame"
    assert page.get_by_test_id("stAlert").count() == 0, page.get_by_test_id("stAlert").all_inner_texts()
    assert query_param(page, "s") == scenario.to_url_token()
    assert_no_exception(page)


# -- d. a damaged link falls back to the demo with a warning -------------------------------------

def _truncated(token: str) -> str:
    return token[: len(token) // 2]


def _tampered(token: str) -> str:
    middle = len(token) // 2
    swap = {c: d for c, d in zip("ABCDEFGHabcdefgh0123", "BCDEFGHAbcdefgha1230")}
    chars = list(token)
    for i in range(middle, middle + 6):
        chars[i] = swap.get(chars[i], "A")
    return "".join(chars)


@pytest.mark.parametrize("damage", [_truncated, _tampered], ids=["truncated", "tampered"])
def test_damaged_link_opens_the_demo_with_a_warning(server, page, demo, damage):
    token = replace(demo, goal=900_000.0).to_url_token()
    bad = damage(token)
    assert bad != token
    open_app(page, f"{server.url}/?s={bad}", expect_text=PROBABILITY)
    alerts = page.get_by_test_id("stAlert")
    assert alerts.count() >= 1, "no warning for a damaged link"
    assert "could not be opened" in " ".join(alerts.all_inner_texts())
    assert page.get_by_text(demo.name).count() >= 1, "the demo scenario is not shown"
    assert query_param(page, "s") == demo.to_url_token(), "the URL does not share the demo now"
    assert_no_exception(page)


# -- e. every page renders; screenshots ---------------------------------------------------------

@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_renders_by_url(server, page, name):
    open_app(page, server.url + PAGES[name])
    assert page.get_by_test_id("stTopNav").count() == 1
    assert_no_exception(page)
    full_screenshot(page, SHOTS / f"{name}.png")
    if name == "plan":  # the inputs of the other tabs, for the review (each tab a rerun)
        for tab in ("Marketing", "Sales", "Stages"):
            open_plan_tab(page, tab)
            page.get_by_role("tabpanel", name=tab).wait_for(state="visible")
            full_screenshot(page, SHOTS / f"plan-{tab.lower()}.png")
        assert_no_exception(page)


@pytest.mark.parametrize("name", ["plan", "summary"])
def test_phone_width_screenshots(server, new_page, name):
    page = new_page(PHONE)
    open_app(page, server.url + PAGES[name])
    assert_no_exception(page)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    full_screenshot(page, SHOTS / f"{name}-phone.png")
    assert overflow <= 0, f"the {name} page is {overflow}px wider than a 390px phone screen"


def test_navigation_keeps_the_scenario_on_every_page(server, page):
    """Change a rate on Plan, then visit each page with the top navigation links."""
    open_app(page, server.url, expect_text=PROBABILITY)
    open_plan_tab(page, "Marketing")                   # only the open tab's inputs run
    before, token_before = probability_text(page), query_param(page, "s")
    upper = rate_slider(page, "Visits → Leads").get_by_role("slider", name="end")
    with rerun_after(page):
        upper.focus()
        upper.press("End")
        wait_probability_change(page, before)
    token = wait_query_param_change(page, "s", token_before)
    on_plan = probability_text(page)

    for name in ["forecast", "summary", "scenarios", "plan"]:
        link = page.get_by_test_id("stTopNavLink").filter(has_text=NAV_TITLES[name])
        with rerun_after(page):
            link.click()
        page.wait_for_url(lambda url, p=PAGES[name]: url.startswith(server.url + p) and
                          (p != "/" or "/forecast" not in url), timeout=60_000)
        assert_no_exception(page)
        assert query_param(page, "s") == token, f"{name}: the link lost the changed scenario"
        if name in ("plan", "forecast"):
            assert probability_text(page) == on_plan, f"{name} shows another probability than Plan"


def test_rapid_key_presses_keep_every_change(server, page):
    """Ten quick presses (a held arrow key): the slider keeps every one, the link agrees."""
    open_app(page, server.url, expect_text=PROBABILITY)
    open_plan_tab(page, "Marketing")
    upper = rate_slider(page, "Visits → Leads").get_by_role("slider", name="end")
    start = float(upper.get_attribute("value"))
    with rerun_after(page):
        upper.focus()
        for _ in range(10):
            page.keyboard.press("ArrowRight")
    wait_quiet(page)  # the presses may cause several reruns: wait for the last one
    shown = float(upper.get_attribute("value"))
    url_p90 = float(scenario_from_url_token(query_param(page, "s")).stages[1].rate.ppf([0.9])[0])
    assert shown == pytest.approx(start + 0.10), f"key presses lost or reverted: {start} → {shown}"
    assert url_p90 == pytest.approx(shown / 100, abs=1e-4), "the link and the slider disagree"
