"""The agreement in a real browser: written on the Plan page, carried by the link, read on the
Summary and in the one-page report. Screenshots: test-artifacts/screenshots/agreement-*.png."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sim import required_volumes, simulate
from sim.model.scenario_io import load_scenario, scenario_from_json, scenario_from_url_token
from sim.present.sla import sla_csv
from ui.compute import SEARCH_TRIALS

from .driver import ARTIFACTS, click_maybe_rerun, exceptions, full_screenshot, open_app, query_param, rerun_after, script_runs, wait_quiet
from .server import ROOT

SHOTS = ARTIFACTS / "screenshots"
MQL_DEFINITION = "A lead with a score of at least 60 and a company e-mail."


@pytest.fixture(scope="module")
def plain_demo():
    """The demo without its agreement (a plan as it was before issue 17), fewer trials."""
    return replace(load_scenario(ROOT / "data" / "scenarios" / "demo.json"), agreement=None, trials=2000)


def type_into(page, label: str, text: str, commit: str = "Enter") -> None:
    with rerun_after(page):
        field = page.get_by_label(label, exact=True)
        field.fill(text)
        field.press(commit)
    wait_quiet(page)


def test_an_agreement_written_on_the_plan_page_reads_as_one_on_the_summary_and_the_report(server, page, plain_demo,
                                                                                          tmp_path):
    open_app(page, f"{server.url}/?s={plain_demo.to_url_token()}", expect_text="Agreement")
    # the agreement's inputs run only while it is open: a rerun
    click_maybe_rerun(page, page.get_by_text("Agreement: definitions, handoff rules, review"), grace_ms=5000)
    with rerun_after(page):
        page.get_by_role("button", name="Write the agreement").click()
    wait_quiet(page)

    # Terms: who signs for each side
    page.get_by_role("tab", name="Terms").click()
    type_into(page, "Signs for marketing", "Dana Ruiz, VP Marketing")
    type_into(page, "Signs for sales", "Sam Okafor, VP Sales")
    # Definitions: what an MQL is
    page.get_by_role("tab", name="Definitions").click()
    type_into(page, "MQLs", MQL_DEFINITION, commit="Control+Enter")
    # The handoff rule the starting agreement put where the owner changes: respond within 2 days
    page.get_by_role("tab", name="Handoff rules").click()
    assert page.get_by_label("Respond within (days)", exact=True).input_value() == "1"    # the starting rule's
    type_into(page, "Respond within (days)", "2")
    full_screenshot(page, SHOTS / "agreement-plan.png")
    assert not exceptions(page)

    # The link carries the agreement
    agreement = scenario_from_url_token(query_param(page, "s")).agreement
    assert agreement is not None and agreement.version == 1 and agreement.review == "2027-06"
    assert dict(agreement.signatories) == {"marketing": "Dana Ruiz, VP Marketing", "sales": "Sam Okafor, VP Sales"}
    assert agreement.definition("MQLs") == MQL_DEFINITION
    (rule,) = agreement.handoffs
    assert (rule.from_stage, rule.to_stage, rule.response_days, rule.business_days) == ("MQLs", "SQLs", 2, True)

    # The Summary reads as the agreement
    token = query_param(page, "s")
    open_app(page, f"{server.url}/summary?s={token}", expect_text="The agreement")
    text = page.get_by_test_id("stMain").inner_text()
    for expected in ("The agreement (version 1) is reviewed after June 2027",
                     "Sales responds to all MQLs within 2 business days", "Signs for marketing: Dana Ruiz",
                     MQL_DEFINITION, "Period: January 2027 to December 2027"):
        assert expected in text, expected
    full_screenshot(page, SHOTS / "agreement-summary.png")

    # ... and so does the report, with lines to sign. A download does not rerun the page (a rerun
    # would give each button a new deferred file while the click's own request is on its way).
    runs = script_runs(page)
    with page.expect_download(timeout=120_000) as download:
        page.get_by_test_id("stDownloadButton").filter(has_text="Report").click()
    report = download.value.path().read_text(encoding="utf-8")
    for expected in ("Sales &amp; marketing agreement · version 1", "Reviewed after June 2027",
                     "The agreement: handoff rules", MQL_DEFINITION, "For marketing: Dana Ruiz, VP Marketing",
                     "For sales: Sam Okafor, VP Sales", "within 2 business days"):
        assert expected in report, expected
    # The SLA table and the scenario are made when their buttons are clicked (deferred): the
    # same files as the library's
    scenario = scenario_from_url_token(token)
    with page.expect_download(timeout=120_000) as download:
        page.get_by_test_id("stDownloadButton").filter(has_text="SLA table").click()
    targets = required_volumes(scenario, 0.8, trials=min(scenario.trials, SEARCH_TRIALS))
    assert download.value.suggested_filename.endswith("-sla.csv")
    assert download.value.path().read_text(encoding="utf-8") == sla_csv(targets, simulate(scenario))
    with page.expect_download(timeout=120_000) as download:
        page.get_by_test_id("stDownloadButton").filter(has_text="Scenario").click()
    assert download.value.suggested_filename.endswith(".json")
    assert scenario_from_json(download.value.path().read_bytes()) == scenario
    assert script_runs(page) == runs
    assert exceptions(page) == []

    path = tmp_path / "report.html"
    path.write_text(report, encoding="utf-8")
    page.goto(path.as_uri())
    page.screenshot(path=str(SHOTS / "agreement-report.png"), full_page=True)


def test_the_checkin_leads_with_the_review_and_measures_the_handoff(server, page):
    """The demo's plan of record carries the demo's agreement; its actuals run through June, the
    review month: the page leads with the review, and shows the MQL → SQL handoff against its rule."""
    open_app(page, f"{server.url}/checkin", expect_text="Time to review the agreement")
    alerts = page.get_by_test_id("stAlert").all_inner_texts()
    assert alerts and "Time to review the agreement. The review was set for after June 2027" in alerts[0]
    main = page.get_by_test_id("stMain")
    main.get_by_text("Handoff against the agreement").scroll_into_view_if_needed()
    assert "months missed the rule" in main.inner_text()
    full_screenshot(page, SHOTS / "agreement-checkin.png")
    assert not exceptions(page)
