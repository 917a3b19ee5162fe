"""The Plan page's typed beliefs in a real browser (issue 16): on a two-stage funnel from a CRM
export, a win rate typed as 63.15% or as 4,238 of 6,711 takes one entry and one rerun; the
belief inputs' screenshots (test-artifacts/screenshots/beliefs-*.png) are looked at."""

from __future__ import annotations

import pytest

from sim.model.beliefs import RateBelief
from sim.model.scenario_io import scenario_from_url_token

from ..app.apptest import export_funnel
from .driver import ARTIFACTS, exceptions, full_screenshot, open_app, open_plan_tab, query_param, rerun_after, script_runs

SHOTS = ARTIFACTS / "screenshots"
BOX = "Engaged opportunities → Won deals"


def stage_box(page):
    return (page.get_by_test_id("stVerticalBlock").filter(has_text=BOX)
            .filter(has=page.get_by_test_id("stRadio")).last)


def open_funnel(page, server):
    sc = export_funnel()
    open_app(page, f"{server.url}/?s={sc.to_url_token()}", expect_text="Chance of hitting the goal")
    open_plan_tab(page, "Sales")
    return sc


def test_n_of_m_takes_one_entry_and_one_rerun(server, page):
    open_funnel(page, server)
    box = stage_box(page)
    full_screenshot(page, SHOTS / "beliefs-counts-before.png")
    with rerun_after(page):
        before = script_runs(page)
        converted = box.get_by_label("Converted (N)")
        converted.fill("4238")          # a number field: digits (Chromium refuses "4,238" in one)
        tried = box.get_by_label("Tried (M)")
        tried.fill("6711")
        tried.press("Enter")
    assert script_runs(page) == before + 1
    rate = scenario_from_url_token(query_param(page, "s")).stages[1].rate
    assert rate == RateBelief.from_counts(4238, 6711)
    assert "63.15%" in box.inner_text()
    full_screenshot(page, SHOTS / "beliefs-counts-typed.png")
    assert not exceptions(page)


def test_a_rate_typed_as_a_number_takes_one_entry_and_one_rerun(server, page):
    open_funnel(page, server)
    box = stage_box(page)
    with rerun_after(page):
        box.get_by_test_id("stRadio").get_by_text("Fixed", exact=True).click()
    with rerun_after(page):
        before = script_runs(page)
        field = box.get_by_label("Rate (%)")
        field.fill("63.15")
        field.press("Enter")
    assert script_runs(page) == before + 1
    rate = scenario_from_url_token(query_param(page, "s")).stages[1].rate
    assert rate.fixed_value == pytest.approx(0.6315, abs=1e-12)
    full_screenshot(page, SHOTS / "beliefs-fixed-typed.png")
    for form in ("P10–P90", "Mean & strength"):
        with rerun_after(page):
            box.get_by_test_id("stRadio").get_by_text(form, exact=True).click()
        full_screenshot(page, SHOTS / f"beliefs-{form[:4].lower().replace('–', '-')}.png")
    assert scenario_from_url_token(query_param(page, "s")).stages[1].rate == rate   # switching kept it
    assert not exceptions(page)


def test_the_top_stage_gets_its_open_pipeline(server, page):
    sc = open_funnel(page, server)
    open_plan_tab(page, "Stages")
    field = page.get_by_label("Open Engaged opportunities")
    assert field.input_value() == str(sc.pipeline_counts()[0])
    with rerun_after(page):
        field.fill("1589")
        field.press("Enter")
    got = scenario_from_url_token(query_param(page, "s"))
    assert got.pipeline_counts()[0] == 1589
    full_screenshot(page, SHOTS / "beliefs-open-pipeline.png")
    assert not exceptions(page)
