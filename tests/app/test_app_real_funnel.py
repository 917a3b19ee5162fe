"""AppTests of issue 16 beyond the Plan page's inputs, on a two-stage funnel from a CRM export
("Engaged opportunities → Won deals") and on the demo: plan vs actual with months without a
revenue actual, the Summary's "Make the SLA the plan", the smaller points seen on screen, and
the housekeeping (deleting a plan of record; a check-in whose stages match no actuals)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from sim import required_volumes, simulate
from sim.present.describe import scale_text

from ..conftest import plain
from .apptest import export_funnel, open_app, small_demo

ACTUALS = "app_pages/actuals.py"


def texts(elements) -> list[str]:
    return [plain(e.value) for e in elements]


def save_plan(at, name: str):
    at.text_input(key="actuals-plan-name").set_value(name)
    at.button(key="actuals-save-plan").click().run()
    assert not at.exception and not at.error, texts(at.error)
    return at


def import_file(at, name: str, content: bytes):
    (uploader,) = [u for u in at.file_uploader if u.key and u.key.startswith("actuals-upload")]
    uploader.set_value((name, content, "text/csv")).run()
    at.button(key="actuals-import").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# -- plan vs actual: months without a revenue actual ---------------------------------------------

MONTHLY_NO_EARLY_REVENUE = (b"month,Engaged opportunities,Won deals,revenue\n"
                            b"2018-01,560,150,\n2018-02,580,310,\n2018-03,590,350,910000\n"
                            b"2018-04,600,355,930000.5\n")


@pytest.mark.parametrize("scenario", [export_funnel()], ids=["export"])
def test_plan_vs_actual_keeps_the_revenue_line_and_names_the_missing_months(empty_db, scenario):
    at = open_app(ACTUALS, scenario)
    save_plan(at, "FY2018 plan of record")
    import_file(at, "monthly.csv", MONTHLY_NO_EARLY_REVENUE)
    warning = " ".join(texts(at.warning))
    assert "No revenue actual for 2018-01, 2018-02: counted as 0" in warning
    revenue = next(m for m in at.metric if m.label.startswith("Revenue to date"))
    assert revenue.label == "Revenue to date (through 2018-04)"
    assert revenue.value == f"{910000 + 930000.5:,.0f}"
    fan = next(c for c in at.get("vega_lite_chart") if "Cumulative revenue: actual vs plan" in c.proto.spec)
    frames = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in fan.proto.datasets]
    line = next(f for f in frames if "actual" in f.columns).dropna(subset=["actual"])
    assert list(line["month"]) == ["2018-01", "2018-02", "2018-03", "2018-04"]     # the line from January
    assert list(line["actual"]) == pytest.approx([0, 0, 910000, 1840000.5])


# -- the Summary: the verdict speaks of both; "Make the SLA the plan" ---------------------------

SUMMARY = "app_pages/summary.py"


@pytest.mark.parametrize("scenario", [export_funnel(goal=13_000_000.0), small_demo()], ids=["export", "demo"])
def test_make_the_sla_the_plan(scenario):
    at = open_app(SUMMARY, scenario)
    targets = required_volumes(scenario, 0.8, trials=min(scenario.trials, 20_000))
    scale = targets.at_confidence.scale
    assert scale > 1.01, "precondition: the plan's inputs fall short of 80%"
    callout = " ".join(texts(at.error) + texts(at.warning) + texts(at.success))
    assert "simulated years reach the goal" in callout                      # the inputs' verdict ...
    assert f"The SLA asks for {scale_text(scale)} times the top-of-funnel plan" in callout   # ... and the SLA's
    assert "P(goal) ≥ 80%" in callout
    at.button(key="summary-adopt-sla").click().run()
    assert not at.exception
    adopted = at.session_state["scenario"]
    assert adopted == scenario.with_top_scaled(scale)
    assert at.query_params["s"] in (adopted.to_url_token(), [adopted.to_url_token()])     # the link follows
    assert any("The SLA is now the plan" in t for t in texts(at.success))
    assert simulate(adopted).p_goal >= 0.8 - 0.02                           # within the search's error
    assert "The plan already is the SLA" in " ".join(texts(at.success) + texts(at.warning) + texts(at.error))
    assert at.button(key="summary-adopt-sla").disabled


def test_the_sla_heading_never_says_times_zero():
    sc = export_funnel(goal=10_000.0)                                      # far ahead of the goal
    at = open_app(None, sc)
    heading = next(m for m in texts(at.markdown) if m.startswith("**The SLA**"))
    scale = required_volumes(sc, 0.8, trials=min(sc.trials, 20_000)).at_confidence.scale
    assert scale < 0.005 and "× 0.00)" not in heading
    assert f"× {scale_text(scale)})" in heading


# -- the smaller points seen on screen -----------------------------------------------------------

CHECKIN = "app_pages/checkin.py"
SCENARIOS = "app_pages/scenarios.py"


def test_the_check_in_shows_p_goal_as_the_cli_does(db):
    at = open_app(CHECKIN)
    now = next(m for m in at.metric if m.label == "Chance of hitting the goal now")
    assert now.value.endswith("%") and "." in now.value, now.value     # 0.2%, not 0%
    assert all(d.proto.placeholder == "" for d in at.dataframe), "empty cells would read 'None'"


def test_an_excel_file_on_the_scenarios_page_is_refused_in_the_page():
    at = open_app(SCENARIOS)
    assert any("Takes .json files up to 1 MB" in c for c in texts(at.caption))
    at.file_uploader(key="scenarios-upload").set_value(
        ("plan.xlsx", b"PK\x03\x04 not really a workbook", "application/vnd.ms-excel")).run()
    assert not at.exception
    (error,) = texts(at.error)
    assert "plan.xlsx is a .xlsx file: this takes only .json" in error and "Actuals page" in error


def test_the_import_states_its_limits_and_refuses_other_types_in_the_page(empty_db):
    at = open_app(ACTUALS, export_funnel())
    assert any("A larger file is refused by the uploader" in c and "MB" in c for c in texts(at.caption))
    (uploader,) = [u for u in at.file_uploader if u.key and u.key.startswith("actuals-upload")]
    uploader.set_value(("deals.numbers", b"\x00\x01", "application/octet-stream")).run()
    assert not at.exception
    assert any("deals.numbers is a .numbers file" in e and "Save it" in e for e in texts(at.error))
    assert not [b for b in at.button if b.key == "actuals-import"]


# -- housekeeping: deleting a plan of record; a check-in whose stages match no actuals -----------

def test_an_editor_deletes_a_plan_of_record_with_its_check_ins(empty_db):
    from sim.data.plans import list_plans, save_plan
    from sim.data.store import Store
    sc = export_funnel()
    at = open_app(ACTUALS, sc)
    at.text_input(key="actuals-plan-name").set_value("FY2018 plan of record")
    at.button(key="actuals-save-plan").click().run()
    with Store(empty_db) as store:
        first = list_plans(store)[0]
        save_plan(store, sc, "FY2018 reset after June", parent_id=first.id, as_of="2018-06")
        save_plan(store, sc, "Another plan")
    at.run()
    at.selectbox(key="actuals-plan").set_value("FY2018 plan of record").run()
    assert at.button(key="actuals-delete-plan").disabled                  # not before the confirmation
    at.checkbox(key="actuals-delete-confirm").check().run()
    at.button(key="actuals-delete-plan").click().run()
    assert not at.exception
    (done,) = texts(at.success)
    assert "Deleted the plan of record “FY2018 plan of record” and its check-in “FY2018 reset after June”" in done
    with Store(empty_db) as store:
        assert [p.name for p in list_plans(store)] == ["Another plan"]
    assert at.selectbox(key="actuals-plan").options == ["Another plan"]


def test_a_viewer_cannot_delete_a_plan(db):
    from streamlit.testing.v1 import AppTest

    from ..conftest import ROOT
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.secrets["access"] = {"password": "view-secret", "editor_password": "edit-secret"}
    at.run()
    at.text_input[0].set_value("view-secret")
    at.button[0].click().run()
    at.switch_page(ACTUALS).run()
    assert not at.exception
    assert not [b for b in at.button if b.key == "actuals-delete-plan"]


def test_a_check_in_whose_stages_match_no_actuals_says_so(empty_db):
    at = open_app(ACTUALS, export_funnel())
    import_file(at, "monthly.csv", b"month,Leads,MQLs,revenue\n2018-01,100,30,5000\n2018-02,120,35,6000\n")
    at.switch_page(CHECKIN).run()
    assert not at.exception
    (warning,) = texts(at.warning)
    assert "None of this plan's stages (“Engaged opportunities”, “Won deals”) has actuals" in warning
    assert "“Leads”, “MQLs”" in warning
    assert not at.metric and not at.get("vega_lite_chart")                 # no "no data" everywhere


def test_a_check_in_whose_stages_match_goes_on(empty_db):
    at = open_app(ACTUALS, export_funnel())
    import_file(at, "monthly.csv", MONTHLY_NO_EARLY_REVENUE)
    at.switch_page(CHECKIN).run()
    assert not at.exception
    assert not any("None of this plan's stages" in w for w in texts(at.warning))
    assert any(m.label == "Chance of hitting the goal now" for m in at.metric)
