"""AppTest of the agreement on the pages: written on the Plan page (refused when invalid),
shown on the Summary with the review date, leading the Check-in page at the review month, its
reset saving the next version, and the handoff on the Check-in and Actuals pages."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from streamlit.testing.v1 import AppTest

from sim.data.plans import list_plans
from sim.data.store import Store
from sim.model.agreement import default_review
from sim.model.scenario_io import scenario_from_url_token

from ..conftest import plain
from .apptest import open_agreement, open_app, small_demo

PLAN, SUMMARY, CHECKIN, ACTUALS = ("app_pages/plan.py", "app_pages/summary.py", "app_pages/checkin.py",
                                   "app_pages/actuals.py")


def texts(at: AppTest) -> str:
    """Every text shown, as written (markdown escapes removed)."""
    return plain("\n".join(e.value for kind in ("markdown", "caption", "info", "warning", "success")
                           for e in getattr(at, kind)))


def fine(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_writing_an_agreement_on_the_plan_page(db):
    plain = small_demo(agreement=None)
    at = open_agreement(open_app(PLAN, plain))
    assert at.session_state["scenario"].agreement is None
    fine(at.button(key=next(b.key for b in at.button if b.label == "Write the agreement")).click().run())
    agreement = at.session_state["scenario"].agreement
    assert agreement.version == 1 and agreement.review == default_review(plain.start, plain.months)
    assert [(h.from_stage, h.to_stage) for h in agreement.handoffs] == [("MQLs", "SQLs")]

    # a definition and the response time, typed in
    fine(next(w for w in at.text_area if w.label == "MQLs").set_value("Score at least 60.").run())
    fine(next(w for w in at.number_input if w.label == "Respond within (days)").set_value(3).run())
    agreement = at.session_state["scenario"].agreement
    assert agreement.definition("MQLs") == "Score at least 60." and agreement.handoffs[0].response_days == 3
    assert scenario_from_url_token(at.session_state["token"]).agreement == agreement      # the share link has it

    # an acceptance window shorter than the response time: refused with the field's message, nothing changes
    before = at.session_state["scenario"]
    fine(next(w for w in at.number_input if w.label == "Accept or reject within (days)").set_value(1).run())
    assert any("agreement.handoffs[0].acceptance_days must be at least response_days (3)" in e.value for e in at.error)
    assert at.session_state["scenario"] == before


def test_the_summary_reads_as_the_agreement(db):
    at = fine(open_app(SUMMARY, small_demo()))
    shown = texts(at)
    review_due = date.today().strftime("%Y-%m") >= "2027-06"
    assert ("review was set for after June 2027" if review_due else
            "The agreement (version 1) is reviewed after June 2027") in shown
    for expected in ("Sales responds to 90% of MQLs within 2 business days", "Signs for marketing: Dana Ruiz",
                     "A lead with a score of at least 60", "Period: January 2027 to December 2027"):
        assert expected in shown, expected


def test_a_summary_without_agreement_says_where_to_write_one(db):
    at = fine(open_app(SUMMARY, small_demo(agreement=None)))
    assert "No agreement is written for this plan yet" in texts(at)


def test_the_checkin_leads_with_the_review_and_shows_the_handoff(db):
    at = fine(open_app(CHECKIN, small_demo()))
    assert at.session_state["checkin-as-of"] == "2027-06"       # the demo's actuals run through June
    first = at.info[0].value
    assert first.startswith("**Time to review the agreement.**")
    shown = texts(at)
    assert "MQLs → SQLs" in shown and "months missed the rule" in shown
    assert "the records carry no outcome" in shown               # the demo's lead export has no status column
    assert any("In time" in df.value.columns for df in at.dataframe)

    at.selectbox(key="checkin-as-of").set_value("2027-03")
    fine(at.run())
    assert not any(i.value.startswith("**Time to review") for i in at.info)
    assert "is reviewed after June 2027" in texts(at)


def test_the_reset_saves_the_next_version_of_the_agreement(db):
    at = fine(open_app(CHECKIN, small_demo()))
    at.text_input(key="checkin-save-name").set_value("FY2027 reset")
    at.text_input(key="checkin-save-agreement-note").set_value("Leads below plan: a webinar series.")
    at.selectbox(key="checkin-save-agreement-review").set_value("2027-10")
    fine(at.button(key="checkin-save").click().run())
    assert not at.error, [e.value for e in at.error]
    with Store(db, read_only=True) as store:
        saved = {p.name: p for p in list_plans(store)}["FY2027 reset"]
    agreement = saved.scenario.agreement
    assert (agreement.version, agreement.review) == (2, "2027-10")
    assert agreement.changes[-1].replaces == 1 and agreement.changes[-1].note == "Leads below plan: a webinar series."


def test_the_actuals_page_shows_the_handoff_of_the_plan_of_record(db):
    at = fine(open_app(ACTUALS, small_demo(agreement=None)))
    shown = texts(at)
    # the demo's plan of record carries the demo's agreement, whatever the scenario being edited
    assert "Handoff against the agreement" in shown and "MQLs → SQLs" in shown


def test_a_rule_without_record_dates_says_which_columns_would_measure_it(db):
    sc = small_demo()
    rule = replace(sc.agreement.handoffs[0], from_stage="Visits", to_stage="Leads")
    sc = replace(sc, agreement=replace(sc.agreement, handoffs=(rule,)))
    at = open_app(CHECKIN, sc)
    at.selectbox(key="checkin-plan").set_value("The current scenario (not saved)")
    fine(at.run())
    shown = plain("\n".join(i.value for i in at.info))
    assert "Visits → Leads: not measurable yet" in shown and "'Visits date' and 'Leads date'" in shown
