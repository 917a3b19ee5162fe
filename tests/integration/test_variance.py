"""Plan versus actual (sim.data.variance.compare_plan).

The expected rows are computed here from the CSV the test writes and from
``simulate(scenario)`` (whose numbers a saved plan stores, see test_plans.py), by plain
arithmetic. Each test opens its own database under ``tmp_path``.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from sim.data.ingest import ImportOptions, import_csv
from sim.data.plans import save_plan
from sim.data.store import Store
from sim.data.variance import compare_plan
from sim.model.bands import ABOVE, BELOW, INSIDE
from sim.model.forecast import simulate
from sim.model.validation import scenario_from_dict

from ..conftest import DEMO_PATH

BASELINE = 150_000.0


@pytest.fixture(scope="module")
def scenario():
    """The demo with fewer trials, a baseline, and customers never closing in their proposal's
    month (so Customers in 2027-01 has a band of exactly 0, P50 0)."""
    data = json.loads(DEMO_PATH.read_text(encoding="utf-8"))
    data["trials"] = 2000
    data["seed"] = 5
    data["baseline_revenue"] = BASELINE
    data["stages"][-1]["lag"] = [0.0, 0.5, 0.5]
    return scenario_from_dict(data)


@pytest.fixture(scope="module")
def forecast(scenario):
    return simulate(scenario)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "variance.duckdb")
    yield s
    s.close()


def _status(value, p10, p90):
    return BELOW if value < p10 else ABOVE if value > p90 else INSIDE


def _csv_bytes(header, rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def _parse(data: bytes):
    """{(month, column): text} of the non-empty cells of a wide monthly CSV, via the csv module."""
    cells = {}
    for row in csv.DictReader(io.StringIO(data.decode())):
        for column, text in row.items():
            if column != "month" and text != "":
                cells[(row["month"], column)] = text
    return cells


def _band(forecast, stage, month):
    k = forecast.scenario.stage_names.index(stage)
    t = forecast.scenario.month_labels.index(month)
    return forecast.stages[k].monthly[t]


def _actuals_csv(scenario, forecast) -> bytes:
    """Months 2026-12 (before the plan) to 2027-04, with gaps; one value far below its band,
    one far above, the others at their P50 or on an edge of the band; a stage the plan lacks."""
    stages = scenario.stage_names
    months = ["2026-12", "2027-01", "2027-02", "2027-03", "2027-04"]
    values = {}
    for month in months[1:3]:
        for stage in stages:
            values[(month, stage)] = round(_band(forecast, stage, month).p50)
    for month in months[3:]:
        values[(month, "Visits")] = round(_band(forecast, "Visits", month).p50)
    values[("2026-12", "Visits")] = 5000                                  # before the plan
    values[("2027-01", "Visits")] = 0                                     # far below
    values[("2027-01", "Leads")] = int(10 * _band(forecast, "Leads", "2027-01").p90) + 1   # far above
    values[("2027-01", "Customers")] = 0                                  # band 0..0: inside
    del values[("2027-02", "Leads")]                                      # not stated
    mql = _band(forecast, "MQLs", "2027-02")
    assert mql.p10 == int(mql.p10), "precondition: an integral P10 to put a value on"
    values[("2027-02", "MQLs")] = int(mql.p10)                            # on the lower edge
    values[("2027-02", "Customers")] = int(_band(forecast, "Customers", "2027-02").p90) + 1  # just above
    values[("2027-01", "Webinars")] = 40                                  # not in the plan
    cum0 = forecast.months[0].cumulative
    revenue = {"2027-01": f"{cum0.p50 - BASELINE:.2f}",                   # cumulative at its P50
               "2027-02": "0",                                            # nothing booked
               "2027-04": "50000.50"}                                     # 2027-03 is missing
    header = ["month", *stages, "Webinars", "revenue"]
    rows = [[m, *(values.get((m, s), "") for s in header[1:-1]), revenue.get(m, "")] for m in months]
    return _csv_bytes(header, rows)


def _expected_stage_rows(scenario, forecast, cells):
    plan_months = set(scenario.month_labels)
    out = []
    for stage in scenario.stages:
        for month in scenario.month_labels:
            text = cells.get((month, stage.name))
            if text is None or month not in plan_months:
                continue
            band = _band(forecast, stage.name, month)
            actual = int(text)
            variance = actual - band.p50
            out.append({"month": month, "stage": stage.name, "owner": stage.owner, "actual": actual,
                        "p10": band.p10, "p50": band.p50, "p90": band.p90, "variance": variance,
                        "variance_pct": None if band.p50 == 0 else variance / band.p50,
                        "status": _status(actual, band.p10, band.p90)})
    return out


def _expected_revenue_rows(scenario, forecast, cells):
    """Cumulative through the last month with any actual (a missing revenue counted as 0)."""
    planned = set(scenario.stage_names) | {"revenue"}
    last = max(m for m, column in cells if column in planned and m in scenario.month_labels)
    out, running = [], scenario.baseline_revenue
    for m in forecast.months:
        text = cells.get((m.month, "revenue"))
        actual = None if text is None else float(text)
        running += actual or 0.0
        cumulative = running if m.month <= last else None
        c = m.cumulative
        out.append({"month": m.month, "actual": actual,
                    "p10": m.revenue.p10, "p50": m.revenue.p50, "p90": m.revenue.p90,
                    "cumulative_actual": cumulative, "cumulative_p10": c.p10, "cumulative_p25": c.p25,
                    "cumulative_p50": c.p50, "cumulative_p75": c.p75, "cumulative_p90": c.p90,
                    "status": None if cumulative is None else _status(cumulative, c.p10, c.p90)})
    return out


def _rows_match(got, expected):
    assert [(r["month"], r.get("stage")) for r in got] == [(r["month"], r.get("stage")) for r in expected]
    for g, e in zip(got, expected):
        assert g.keys() == e.keys()
        for key, value in e.items():
            if isinstance(value, float):
                assert g[key] == pytest.approx(value, rel=1e-12, abs=1e-9), (e["month"], e.get("stage"), key)
            else:
                assert g[key] == value, (e["month"], e.get("stage"), key)


@pytest.fixture
def compared(store, scenario, forecast):
    plan = save_plan(store, scenario, "plan of record")
    data = _actuals_csv(scenario, forecast)
    import_csv(store, data, "actuals.csv", options=ImportOptions(format="monthly"), scenario_stages=scenario.stage_names)
    return plan, data, compare_plan(store, plan)


def test_stage_rows(compared, scenario, forecast):
    plan, data, comparison = compared
    cells = _parse(data)
    expected = _expected_stage_rows(scenario, forecast, cells)
    got = [r.to_dict() for r in comparison.stages]
    _rows_match(got, expected)
    # Coverage of the cases this file was written for.
    by_cell = {(r["month"], r["stage"]): r for r in got}
    assert by_cell[("2027-01", "Visits")]["status"] == BELOW
    assert by_cell[("2027-01", "Leads")]["status"] == ABOVE
    assert by_cell[("2027-02", "Customers")]["status"] == ABOVE
    low_edge = by_cell[("2027-02", "MQLs")]
    assert low_edge["actual"] == low_edge["p10"] and low_edge["status"] == INSIDE
    zero = by_cell[("2027-01", "Customers")]
    assert (zero["p10"], zero["p50"], zero["p90"]) == (0, 0, 0)
    assert zero["variance"] == 0 and zero["variance_pct"] is None and zero["status"] == INSIDE
    assert sum(r["status"] == INSIDE for r in got) >= 10
    # Months without actuals (and cells left empty) give no rows; nor does a month before the plan.
    assert ("2027-02", "Leads") not in by_cell
    assert {r["month"] for r in got} == {"2027-01", "2027-02", "2027-03", "2027-04"}
    assert {r["stage"] for r in got if r["month"] in ("2027-03", "2027-04")} == {"Visits"}
    assert len(got) == len(scenario.stages) * 2 - 1 + 2
    # Funnel order, then month.
    order = [(scenario.stage_names.index(r["stage"]), r["month"]) for r in got]
    assert order == sorted(order)
    assert comparison.unplanned_stages == ("Webinars",)
    assert comparison.months_with_actuals == ("2027-01", "2027-02", "2027-03", "2027-04")
    assert not comparison.empty


def test_revenue_rows(compared, scenario, forecast):
    plan, data, comparison = compared
    cells = _parse(data)
    got = [r.to_dict() for r in comparison.revenue]
    expected = _expected_revenue_rows(scenario, forecast, cells)
    _rows_match(got, expected)
    assert len(got) == scenario.months
    first, second, third, fourth = got[:4]
    assert first["cumulative_actual"] == pytest.approx(BASELINE + float(cells[("2027-01", "revenue")]))
    assert first["status"] == INSIDE
    assert second["actual"] == 0 and second["cumulative_actual"] == first["cumulative_actual"]
    assert second["status"] == BELOW, "precondition: the cumulative P10 grows in month 2"
    # A month without a revenue actual counts as 0 and is named; the line goes on after it.
    assert third["actual"] is None and third["cumulative_actual"] == second["cumulative_actual"]
    assert third["status"] is not None
    assert fourth["actual"] == 50000.5
    assert fourth["cumulative_actual"] == pytest.approx(third["cumulative_actual"] + 50000.5)
    assert comparison.missing_revenue_months == ("2027-03",)
    assert comparison.to_dict()["missing_revenue_months"] == ["2027-03"]
    # After the last month with actuals: no cumulative.
    assert all(r["actual"] is None and r["cumulative_actual"] is None for r in got[4:])


def test_a_later_import_changes_the_comparison(compared, store, scenario, forecast):
    plan, data, _ = compared
    cum = forecast.months[1].cumulative
    big = 10 * cum.p90
    import_csv(store, _csv_bytes(["month", "revenue"], [["2027-02", f"{big:.2f}"]]), "fix.csv",
               options=ImportOptions(format="monthly"), scenario_stages=scenario.stage_names)
    comparison = compare_plan(store, plan)
    cells = _parse(data)
    cells[("2027-02", "revenue")] = f"{big:.2f}"
    _rows_match([r.to_dict() for r in comparison.revenue], _expected_revenue_rows(scenario, forecast, cells))
    assert comparison.revenue[1].status == ABOVE


def test_compare_on_an_empty_database(store, scenario, forecast):
    plan = save_plan(store, scenario, "empty")
    comparison = compare_plan(store, plan)
    assert comparison.empty
    assert comparison.stages == () and comparison.unplanned_stages == ()
    assert comparison.months_with_actuals == ()
    assert len(comparison.revenue) == scenario.months
    assert all(r.actual is None and r.cumulative_actual is None and r.status is None
               for r in comparison.revenue)
    doc = comparison.to_dict()
    assert doc["plan"] == "empty" and doc["plan_id"] == plan.id and doc["goal"] == scenario.goal
    assert doc["stages"] == [] and doc["months_with_actuals"] == [] and doc["unplanned_stages"] == []


def test_actuals_outside_the_plan_give_an_empty_comparison(store, scenario):
    plan = save_plan(store, scenario, "p")
    import_csv(store, _csv_bytes(["month", "Visits", "Webinars", "revenue"],
                                 [["2026-11", "100", "3", "900"], ["2028-01", "200", "4", "800"]]),
               "outside.csv", options=ImportOptions(format="monthly"), scenario_stages=scenario.stage_names)
    comparison = compare_plan(store, plan)
    assert comparison.empty and comparison.stages == ()
    assert comparison.unplanned_stages == ()     # Webinars has actuals, but not in the plan's months


def test_one_band_status_rule_in_python_and_in_sql(tmp_path):
    """sim.model.bands.band_status and the SQL the variance runs agree, the edges inside."""
    from sim.data.variance import band_status_sql
    from sim.model.bands import band_status
    cases = [(1, 2, 3, BELOW), (2, 2, 3, INSIDE), (2.5, 2, 3, INSIDE), (3, 2, 3, INSIDE), (3.5, 2, 3, ABOVE)]
    with Store(tmp_path / "db.duckdb") as store:
        for value, p10, p90, expected in cases:
            sql = store.cursor().execute(f"SELECT {band_status_sql('$v', '$lo', '$hi')}",
                                         {"v": value, "lo": p10, "hi": p90}).fetchone()[0]
            assert band_status(value, p10, p90) == sql == expected
