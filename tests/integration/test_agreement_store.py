"""The agreement with the store: a saved plan keeps it, a reset saves its next version, and the
handoff rules measured on an imported lead export (MQL, SQL and first-call dates, won / lost /
open outcomes) equal an independent pandas computation; in `compare` and `checkin --json`."""

import copy
import json

import numpy as np
import pandas as pd
import pytest

from sim.data.handoff_actuals import measure_stored_handoffs
from sim.data.ingest import ImportOptions, import_csv
from sim.data.plan_checkin import reset_agreement, save_reset
from sim.data.plans import list_plans, load_plan, save_plan
from sim.errors import ScenarioError
from sim.model.checkin import check_in
from sim.model.monthly_actuals import Actuals
from sim.model.validation import scenario_from_dict
from tests.conftest import refused, run_cli, snapshot, succeeded
from tests.handoff_oracle import pandas_oracle

FUNNEL_DOC = {
    "schema": 1, "name": "Leads to customers", "start": "2027-01", "months": 12, "goal": 500000,
    "top": {"per_month": 300},
    "stages": [{"name": "MQLs", "owner": "marketing"},
               {"name": "SQLs", "owner": "sales", "rate": {"mean": 0.5, "strength": 50}},
               {"name": "Customers", "owner": "sales", "rate": {"mean": 0.3, "strength": 50}}],
    "deal": {"median": 20000, "p90": 40000}, "trials": 2000, "seed": 7,
    "agreement": {"version": 1, "handoffs": [
        {"from": "MQLs", "to": "SQLs", "response_days": 2, "business_days": True, "within_share": 0.8,
         "acceptance_days": 7, "max_never": 0.1, "contact_stage": "First call"}]},
}
LEADS_OPTIONS = ImportOptions(
    format="records", id_column="Lead ID", outcome_column="Status", won_values=("Won",), lost_values=("Lost",),
    won_stage="Customers",
    mapping=(("MQL date", "MQLs"), ("SQL date", "SQLs"), ("First call", "First call"), ("Closed", "Customers")))


def lead_export(seed: int = 11, n: int = 2_500) -> pd.DataFrame:
    """MQLs from January to mid-July 2027; 55% accepted as SQLs after 0-20 days (a third of
    those won later), a fifth of the others lost (rejected) after 0-12 days, the rest open;
    a first call for some."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2027-01-01")
    mql = start + pd.to_timedelta(rng.integers(0, 195, n), unit="D")
    sql = (mql + pd.to_timedelta(rng.integers(0, 21, n), unit="D")).where(rng.random(n) < 0.55)
    lost = sql.isna() & (rng.random(n) < 0.2)
    won = sql.notna() & (rng.random(n) < 0.33)
    closed = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    closed[lost] = (mql + pd.to_timedelta(rng.integers(0, 13, n), unit="D"))[lost]
    closed[won] = (sql + pd.to_timedelta(rng.integers(5, 40, n), unit="D"))[won]
    call = (mql + pd.to_timedelta(rng.integers(0, 5, n), unit="D")).where(rng.random(n) < 0.4)
    return pd.DataFrame({"Lead ID": [f"L-{i:05d}" for i in range(n)], "MQL date": mql, "SQL date": sql,
                         "First call": call, "Status": np.where(won, "Won", np.where(lost, "Lost", "Open")),
                         "Closed": closed})


def csv_bytes(frame: pd.DataFrame) -> bytes:
    out = frame.copy()
    for col in ("MQL date", "SQL date", "First call", "Closed"):
        if col in out:
            out[col] = out[col].dt.strftime("%Y-%m-%d").fillna("")
    return out.to_csv(index=False).encode()


@pytest.fixture(scope="module")
def leads() -> pd.DataFrame:
    return lead_export()


@pytest.fixture
def funnel():
    return scenario_from_dict(copy.deepcopy(FUNNEL_DOC))


@pytest.fixture
def lead_store(store, leads, funnel):
    import_csv(store, csv_bytes(leads), "leads.csv", options=LEADS_OPTIONS, scenario_stages=funnel.stage_names)
    return store


def oracle(leads: pd.DataFrame, funnel, as_of: pd.Timestamp, months: list[str]) -> pd.DataFrame:
    """The pandas oracle on the export itself: rejected = lost without an SQL date."""
    records = pd.DataFrame({"reached": leads["MQL date"], "handed": leads["SQL date"],
                            "rejected": leads["Closed"].where((leads["Status"] == "Lost") & leads["SQL date"].isna()),
                            "contacted": leads["First call"]})
    records = records[records["reached"].dt.strftime("%Y-%m").isin(months)]
    return pandas_oracle(records, funnel.agreement.handoffs[0], as_of, with_contacts=True)


def as_frame(report) -> pd.DataFrame:
    return pd.DataFrame([{k: getattr(m, k) for k in ("month", "records", "handed_on", "within_rule", "median_days",
                                                      "p90_days", "never", "in_window")} for m in report.months])


def test_handoff_on_imported_records_equals_pandas_at_a_checkin(lead_store, leads, funnel):
    report = measure_stored_handoffs(lead_store, funnel, as_of="2027-05")
    assert report.as_of.isoformat() == "2027-05-31" and not report.unmeasurable
    months = ["2027-01", "2027-02", "2027-03", "2027-04", "2027-05"]
    want = oracle(leads, funnel, pd.Timestamp("2027-05-31"), months)
    pd.testing.assert_frame_equal(as_frame(report), want, check_dtype=False, atol=1e-12, rtol=0)
    assert report.months[-1].in_window > 0           # late-May MQLs still inside their window
    assert report.notes == ()                        # outcomes imported: rejections are seen


def test_without_outcomes_a_note_says_rejections_are_not_seen(store, leads, funnel):
    plain = leads.drop(columns=["Status", "Closed"])
    options = ImportOptions(format="records", id_column="Lead ID",
                            mapping=(("MQL date", "MQLs"), ("SQL date", "SQLs"), ("First call", "First call")))
    import_csv(store, csv_bytes(plain), "leads.csv", options=options, scenario_stages=funnel.stage_names)
    report = measure_stored_handoffs(store, funnel, as_of="2027-05")
    assert len(report.months) == 5 and "cannot be seen" in report.notes[0]


def test_handoff_without_as_of_sees_up_to_the_latest_date(lead_store, leads, funnel):
    report = measure_stored_handoffs(lead_store, funnel)
    latest = max(leads[c].max() for c in ("MQL date", "SQL date", "Closed"))
    assert pd.Timestamp(report.as_of) == latest
    months = [f"2027-{m:02d}" for m in range(1, 8)]
    pd.testing.assert_frame_equal(as_frame(report), oracle(leads, funnel, latest, months),
                                  check_dtype=False, atol=1e-12, rtol=0)


def test_without_record_dates_the_report_names_the_columns(store, funnel):
    monthly = b"month,MQLs,SQLs\n2027-01,300,140\n2027-02,310,150\n"
    import_csv(store, monthly, "monthly.csv", options=ImportOptions(format="monthly"), scenario_stages=funnel.stage_names)
    report = measure_stored_handoffs(store, funnel, as_of="2027-02")
    assert report.months == () and len(report.unmeasurable) == 1
    message = report.unmeasurable[0].message
    assert "MQLs and SQLs" in message and "'MQLs date' and 'SQLs date'" in message
    assert report.to_dict()["handoff_not_measurable"][0]["missing"] == ["MQLs", "SQLs"]


def test_a_scenario_without_agreement_has_no_handoff(lead_store, funnel):
    doc = funnel.to_dict()
    del doc["agreement"]
    report = measure_stored_handoffs(lead_store, scenario_from_dict(doc))
    assert report.empty and report.to_dict() == {"handoff": [], "handoff_not_measurable": [], "handoff_notes": []}


def test_a_saved_plan_keeps_its_agreement(store, demo):
    saved = save_plan(store, demo, "FY27 with agreement")
    assert load_plan(store, saved.id).scenario.agreement == demo.agreement
    assert list_plans(store)[0].scenario == demo


def test_a_reset_saves_the_next_version_linked_to_the_plan(store, demo):
    plan = save_plan(store, demo, "FY27")
    months = demo.month_labels[:6]
    per_month = dict(zip(demo.stage_names, (12000, 250, 90, 30, 12, 3)))
    actuals = Actuals(demo.stage_names, tuple((m, s, n) for m in months for s, n in per_month.items()),
                      tuple((m, 70000.0) for m in months))
    check = check_in(demo, actuals, "2027-06", plan_name=plan.name, trials=500)
    before = snapshot(store)
    with pytest.raises(ScenarioError, match=r"agreement\.changes\[1\]\.note contains control or invisible"):
        save_reset(store, check, "FY27 reset", plan, note="why\u200b")
    assert snapshot(store) == before                 # nothing saved
    saved = save_reset(store, check, "FY27 reset", plan, note="Leads below plan: marketing adds a webinar series.")
    agreement = load_plan(store, saved.id).scenario.agreement
    assert saved.parent_id == plan.id and agreement.version == 2
    assert agreement.changes[-1].replaces == 1 and agreement.changes[-1].note.startswith("Leads below plan")
    assert agreement.review == "2027-09"             # the middle of July-December
    assert agreement.handoffs == demo.agreement.handoffs


def test_reset_agreement_leaves_a_scenario_without_one_alone(funnel):
    doc = funnel.to_dict()
    del doc["agreement"]
    plain = scenario_from_dict(doc)
    assert reset_agreement(plain, note="x") is plain


def test_compare_and_checkin_json_carry_the_handoff(lead_store, funnel, tmp_path):
    path = tmp_path / "funnel.json"
    path.write_text(funnel.to_json(), encoding="utf-8")
    db = str(lead_store.path)
    save_plan(lead_store, funnel, "leads plan")
    lead_store.close()
    doc = json.loads(succeeded(run_cli("compare", "--plan", "leads plan", "--json", "--db", db)).stdout)
    assert [h["month"] for h in doc["handoff"]] == [f"2027-{m:02d}" for m in range(1, 8)]
    first = doc["handoff"][0]
    assert {"from", "to", "month", "within_rule", "median_days", "p90_days", "never", "rule"} <= set(first)
    assert first["rule"]["response_days"] == 2 and first["from"] == "MQLs" and first["to"] == "SQLs"
    doc = json.loads(succeeded(run_cli("checkin", str(path), "--as-of", "2027-03", "--json", "--db", db,
                                       "--trials", "500")).stdout)
    assert [h["month"] for h in doc["handoff"]] == ["2027-01", "2027-02", "2027-03"]
    assert doc["agreement_review"] == {"month": "2027-06", "due": False, "version": 1}
    text = succeeded(run_cli("checkin", "--plan", "leads plan", "--as-of", "2027-06", "--db", db,
                             "--trials", "500")).stdout
    assert text.startswith("Time to review the agreement")
    assert "MQLs → SQLs" in text and ("missed by" in text or "met" in text)
    assert "--review must be a month" in refused(run_cli("checkin", str(path), "--as-of", "2027-06", "--db", db,
                                                         "--save", "x", "--review", "next"))
