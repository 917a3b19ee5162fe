"""AppTests of issue 16 beyond the Plan page's inputs, on a two-stage funnel from a CRM export
("Engaged opportunities → Won deals") and on the demo: plan vs actual with months without a
revenue actual, the Summary's "Make the SLA the plan", the smaller points seen on screen, and
the housekeeping (deleting a plan of record; a check-in whose stages match no actuals)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from ..conftest import plain
from .apptest import export_funnel, open_app

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
