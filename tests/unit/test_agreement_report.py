"""The agreement in the one-page report and in plain words: what both heads sign, escaped."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sim import required_volumes, simulate
from sim.model.agreement import FollowUp, HandoffRule
from sim.present.agreement_text import handoff_table, report_context, rule_sentence, terms_lines
from sim.present.report import report_html


@pytest.fixture(scope="module")
def small(demo):
    return replace(demo, trials=1000)


def test_a_rule_in_plain_words(small):
    rule = HandoffRule("MQLs", "SQLs", 1, business_days=True, acceptance_days=5)
    assert rule_sentence(small, rule) == ("Sales responds to all MQLs within 1 business day (accepts or rejects them; "
                                          "accepted ones become SQLs); every one is accepted or rejected within 5 "
                                          "business days (none left unanswered).")
    rule = replace(rule, within_share=0.9, max_never=0.05, follow_up=FollowUp(1, 3), recycle_days=30,
                   contact_stage="Contacted", note="Reasons in the CRM.")
    assert rule_sentence(small, rule) == (
        "Sales responds to 90% of MQLs within 1 business day (contacts, accepts or rejects them; accepted ones "
        "become SQLs); every one is accepted or rejected within 5 business days (at most 5% left unanswered); at "
        "least 1 follow-up attempt within 3 days; rejected MQLs go back to marketing after 30 days. Reasons in "
        "the CRM.")


def test_terms_name_the_period_review_version_and_signatories(small):
    assert terms_lines(small, small.agreement) == [
        "Period: January 2027 to December 2027.",
        "Review: after June 2027, once its actuals are in; the agreement is then reset for the rest of the period "
        "(a new version).",
        "Version 1 (2026-12-15): First version, signed at the FY2027 planning day.",
        "Signs for marketing: Dana Ruiz, VP Marketing.", "Signs for sales: Sam Okafor, VP Sales."]


def test_the_report_reads_as_the_agreement_and_escapes_its_text(small):
    hostile = "<script>alert(1)</script> & <b>score</b> ≥ 60"
    sc = replace(small, agreement=replace(small.agreement, definitions=(("MQLs", hostile),)))
    page = report_html(simulate(sc), required_volumes(sc, 0.8, trials=1000))
    assert "Sales &amp; marketing agreement · version 1 · Reviewed after June 2027" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;score&lt;/b&gt; ≥ 60" in page
    assert "<script>" not in page
    assert page.count("class=\"signature\"") == 2 and "For sales: Sam Okafor, VP Sales" in page
    context = report_context(sc)
    assert [d["text"] for d in context["definitions"]] == ["—", "—", hostile, "—", "—", "—"]


def test_a_report_without_agreement_is_as_before(small):
    sc = replace(small, agreement=None)
    page = report_html(simulate(sc), required_volumes(sc, 0.8, trials=1000))
    assert "Are we on track?" in page
    assert "The agreement" not in page and "signature" not in page.split("</style>")[1]
    assert report_context(sc) is None


def test_the_handoff_table_says_met_or_missed_by_how_much():
    import numpy as np

    from sim.model.handoff import measure_handoff
    rule = HandoffRule("MQLs", "SQLs", response_days=2, acceptance_days=4, within_share=0.5, max_never=0.5)
    reached = np.array(["2027-01-04"] * 4, dtype="datetime64[D]")
    handed = np.array(["2027-01-05", "2027-01-05", "2027-01-05", "NaT"], dtype="datetime64[D]")
    months = measure_handoff(rule, reached, handed, np.full(4, "NaT", dtype="datetime64[D]"),
                             np.datetime64("2027-01-31"), np.array(["2027-01"] * 4, dtype=object))
    (row,) = handoff_table(months).to_dict("records")
    assert row["In time"] == 0.75 and row["In time vs rule"] == "met (25 pts above)"
    assert row["Never picked up"] == 0.25 and row["Never vs rule"] == "met (25 pts below)"
    assert row["Rule: in time"] == "≥ 50% within 2 days" and row["Median days"] == "1"
