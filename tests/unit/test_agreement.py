"""The agreement section of a scenario: round trips (JSON, share link), validation messages
naming the field, old documents still valid, and stage edits carried into it."""

import copy
import json

import pytest

from sim.errors import ScenarioError
from sim.model import editing
from sim.model.agreement import (
    Agreement,
    HandoffRule,
    default_review,
    next_version,
    owner_changes,
    review_month,
    starting_agreement,
)
from sim.model.scenario_io import scenario_from_json, scenario_from_url_token
from sim.model.validation import scenario_from_dict


def problems_of(doc) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(doc)
    return list(info.value.problems)


@pytest.fixture
def doc(demo_dict):
    return copy.deepcopy(demo_dict)


def test_the_demo_carries_a_complete_agreement(demo):
    a = demo.agreement
    assert a is not None and a.version == 1 and a.review == "2027-06"
    assert [d for d, _ in a.definitions] == list(demo.stage_names)     # every stage, in the funnel's order
    assert [(h.from_stage, h.to_stage) for h in a.handoffs] == owner_changes(demo.stages) == [("MQLs", "SQLs")]
    assert dict(a.signatories).keys() == {"marketing", "sales"}


def test_agreement_round_trips_through_json_and_the_link(demo, doc):
    assert demo.to_dict()["agreement"] == doc["agreement"]
    assert scenario_from_json(demo.to_json()) == demo
    assert scenario_from_url_token(demo.to_url_token()).agreement == demo.agreement
    # every optional field set, and a contact stage outside the funnel
    doc["agreement"]["handoffs"].append({"from": "Leads", "to": "MQLs", "response_days": 0, "acceptance_days": 3,
                                         "contact_stage": "First call", "note": "Same day."})
    doc["agreement"]["changes"].append({"version": 2, "replaces": 1, "date": "2027-07-01", "note": "reset"})
    doc["agreement"]["version"] = 2
    sc = scenario_from_dict(doc)
    assert sc.to_dict()["agreement"] == doc["agreement"]
    assert scenario_from_url_token(sc.to_url_token()) == sc


def test_old_documents_without_an_agreement_stay_valid(doc):
    del doc["agreement"]
    sc = scenario_from_dict(doc)
    assert sc.agreement is None and "agreement" not in sc.to_dict()
    assert scenario_from_dict({**doc, "agreement": {}}).agreement == Agreement()


@pytest.mark.parametrize("edit, expected", [
    (lambda a: a["handoffs"][0].update(response_days=-1), "agreement.handoffs[0].response_days must be >= 0 (got -1)"),
    (lambda a: a["handoffs"][0].update(acceptance_days=-3), "agreement.handoffs[0].acceptance_days must be >= 0"),
    (lambda a: a["handoffs"][0].update(recycle_days=1.5), "agreement.handoffs[0].recycle_days must be a whole number"),
    (lambda a: a["handoffs"][0].update(to="Demos"), "agreement.handoffs[0].to names no stage ('Demos'; stages: Visits"),
    (lambda a: a["handoffs"][0].update({"from": "Webinars"}), "agreement.handoffs[0].from names no stage"),
    (lambda a: a["handoffs"][0].update({"from": "SQLs", "to": "MQLs"}), "agreement.handoffs[0].to must be a stage after 'SQLs'"),
    (lambda a: a["handoffs"][0].update(acceptance_days=1), "agreement.handoffs[0].acceptance_days must be at least response_days (2)"),
    (lambda a: a["handoffs"][0].update(within_share=1.5), "agreement.handoffs[0].within_share must be <= 1"),
    (lambda a: a["handoffs"][0].update(business_days="yes"), "agreement.handoffs[0].business_days must be true or false"),
    (lambda a: a["handoffs"][0].update(follow_up={"attempts": 0, "days": 5}), "agreement.handoffs[0].follow_up.attempts must be >= 1"),
    (lambda a: a["handoffs"][0].update(speed=3), "agreement.handoffs[0].speed is not a known field"),
    (lambda a: a["handoffs"][0].update(contact_stage="=cmd()"), "agreement.handoffs[0].contact_stage must be at most 40"),
    (lambda a: a["handoffs"].append(dict(a["handoffs"][0], to="sqls")), "agreement.handoffs[1] repeats the rule MQLs → SQLs"),
    (lambda a: a["handoffs"].append({"to": "SQLs", "response_days": 1}), "agreement.handoffs[1].from is missing"),
    (lambda a: a["definitions"].update(Demos="A demo call."), "agreement.definitions['Demos'] names no stage"),
    (lambda a: a["definitions"].update(MQLs="x" * 501), "agreement.definitions['MQLs'] must be at most 500 characters"),
    (lambda a: a["definitions"].update(MQLs="score\u200b60"), "agreement.definitions['MQLs'] contains control or invisible"),
    (lambda a: a.update(review="June"), "agreement.review must be a month written YYYY-MM"),
    (lambda a: a.update(version=0), "agreement.version must be >= 1"),
    (lambda a: a["signatories"].update(finance="Kim"), "agreement.signatories.finance is not a side"),
    (lambda a: a["changes"].append({"version": 2}), "agreement.changes[1].version must be at most the agreement's version (1)"),
    (lambda a: a["changes"][0].update(date="2027-02-30"), "agreement.changes[0].date must be a date written YYYY-MM-DD"),
    (lambda a: a.update(changes=[{"version": 1, "replaces": 1}]), "agreement.changes[0].replaces must be an earlier version"),
    (lambda a: a.update(handoffs={"from": "MQLs"}), "agreement.handoffs must be a list, not an object"),
    (lambda a: a.update(terms=1), "agreement.terms is not a known field"),
])
def test_invalid_agreements_are_refused_naming_the_field(doc, edit, expected):
    edit(doc["agreement"])
    found = problems_of(doc)
    assert any(p.startswith(expected) for p in found), found


def test_every_problem_is_reported_at_once(doc):
    doc["agreement"]["handoffs"][0]["response_days"] = -1
    doc["agreement"]["definitions"]["Nope"] = "x"
    doc["goal"] = -5
    found = problems_of(doc)
    assert len(found) == 3 and any(p.startswith("goal") for p in found)


def test_the_agreement_is_not_a_list_or_text(doc):
    assert problems_of({**doc, "agreement": []}) == ["agreement must be an object, not a list"]


def test_review_defaults_to_the_middle_of_the_period(demo):
    assert default_review("2027-01", 12) == "2027-06"     # after six months
    assert default_review("2027-07", 6) == "2027-09"
    assert default_review("2027-12", 1) == "2027-12"
    assert review_month(Agreement(), "2026-11", 4) == "2026-12"
    assert review_month(demo.agreement, demo.start, demo.months) == "2027-06"


def test_a_starting_agreement_has_a_rule_at_every_change_of_owner(doc):
    doc["stages"][2]["owner"] = "sales"            # MQLs now sales: the handoff moves to Leads -> MQLs
    doc["stages"].append({"name": "Renewals", "owner": "marketing", "rate": {"fixed": 0.5}})
    sc = scenario_from_dict({k: v for k, v in doc.items() if k != "agreement"})
    first = starting_agreement(sc.stages, sc.start, sc.months)
    assert [(h.from_stage, h.to_stage) for h in first.handoffs] == [("Leads", "MQLs"), ("Customers", "Renewals")]
    assert first.review == "2027-06" and first.version == 1


def test_next_version_links_to_the_one_it_replaces(demo):
    new = next_version(demo.agreement, note="reset after June", date="2027-07-02", review="2027-09")
    assert new.version == 2 and new.review == "2027-09"
    assert new.changes[-1].to_dict() == {"version": 2, "replaces": 1, "date": "2027-07-02", "note": "reset after June"}
    assert new.handoffs == demo.agreement.handoffs and new.definitions == demo.agreement.definitions
    doc = demo.to_dict()
    doc["agreement"] = new.to_dict()
    assert scenario_from_dict(doc).agreement == new


def test_renaming_and_removing_a_stage_carries_into_the_agreement(demo):
    renamed = editing.rename_stage(demo, 3, "Sales accepted")
    assert renamed.agreement.handoffs[0].to_stage == "Sales accepted"
    assert renamed.agreement.definition("sales accepted") == demo.agreement.definition("SQLs")
    removed = editing.remove_stage(demo, 3)
    assert removed.agreement.handoffs == () and removed.agreement.definition("SQLs") == ""
    assert len(removed.agreement.definitions) == len(demo.agreement.definitions) - 1


def test_rule_terms_are_what_the_monitoring_reports():
    rule = HandoffRule("MQLs", "SQLs", 1)
    assert rule.terms() == {"response_days": 1, "business_days": False, "within_share": 1.0,
                            "acceptance_days": None, "max_never": 0.0, "contact_stage": None}
    assert json.loads(json.dumps(rule.to_dict())) == {"from": "MQLs", "to": "SQLs", "response_days": 1}


def test_the_review_is_due_once_its_months_actuals_are_in(demo):
    from sim.model.agreement import review_due, review_status
    a = demo.agreement
    assert [review_due(a, demo.start, demo.months, m) for m in ("2027-05", "2027-06", "2027-07")] == [False, True, True]
    due, text = review_status(a, demo.start, demo.months, "2027-05")
    assert not due and text == "The agreement (version 1) is reviewed after June 2027."
    due, text = review_status(a, demo.start, demo.months, "2027-06")
    assert due and text.startswith("Time to review the agreement: the review was set for after June 2027")
