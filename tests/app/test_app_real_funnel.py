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
