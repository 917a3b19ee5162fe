"""The command line with real CRM exports (issue 11): import's outcome, history, segment,
sheet, replace, preview and guess options; actuals, compare and checkin by segment; removing
the demo. In-process (run_cli); expected values from pandas on the same files."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from sim.data.demo_data import DEMO_PLAN_NAME

from ..conftest import DEMO_PATH, run_cli, succeeded
from ..crm_exports import csv_bytes, opportunity_export, stage_history, workbook_bytes

OPTIONS = ["--id", "opportunity_id", "--amount", "close_value", "--date-format", "%m/%d/%Y",
           "--map", "engage_date=Engaged", "--map", "close_date=Customers", "--outcome", "deal_stage",
           "--won", "Won", "--lost", "Lost", "--segment", "sales_agent"]


@pytest.fixture(scope="module")
def opportunities():
    return opportunity_export(1500)


@pytest.fixture
def export(tmp_path, opportunities):
    path = tmp_path / "sales_pipeline.csv"
    path.write_bytes(csv_bytes(opportunities))
    return path


def won_by_month(df: pd.DataFrame) -> tuple[dict, dict]:
    won = df[df["deal_stage"] == "Won"]
    month = pd.to_datetime(won["close_date"], format="%m/%d/%Y").dt.strftime("%Y-%m")
    return ({m: int(n) for m, n in month.value_counts().items()},
            {m: float(r) for m, r in pd.to_numeric(won["close_value"]).groupby(month).sum().items()})


def test_import_with_outcomes_then_actuals_by_segment(tmp_path, export, opportunities):
    db = tmp_path / "f.duckdb"
    out = succeeded(run_cli("import", export, "--db", db, *OPTIONS, "--json"))
    doc = json.loads(out.stdout)
    n = opportunities["deal_stage"].value_counts()
    assert doc["outcomes"] == {"won": n["Won"], "lost": n["Lost"], "open": n["Engaging"] + n["Prospecting"]}
    assert doc["source"] == "sales_pipeline.csv" and doc["replaced_imports"] == []
    rows = json.loads(succeeded(run_cli("actuals", "--db", db, "--json")).stdout)
    counts, revenue = won_by_month(opportunities)
    assert {r["month"]: r["count"] for r in rows if r.get("stage") == "Customers"} == counts
    assert {r["month"]: r["revenue"] for r in rows if "revenue" in r} == pytest.approx(revenue)

    agent = "Zane Levy"
    rows = json.loads(succeeded(run_cli("actuals", "--db", db, "--segment", agent, "--json")).stdout)
    counts, revenue = won_by_month(opportunities[opportunities["sales_agent"] == agent])
    assert {r["month"]: r["count"] for r in rows if r.get("stage") == "Customers"} == counts
    split = json.loads(succeeded(run_cli("actuals", "--db", db, "--by-segment", "--json")).stdout)
    assert {r["segment"] for r in split if "count" in r} == set(opportunities["sales_agent"])
    text = succeeded(run_cli("actuals", "--db", db, "--by-segment")).stdout
    assert "Customers by segment" in text and "Revenue by segment" in text and agent in text


def test_preview_writes_nothing_and_guess_finds_the_options(tmp_path, export, opportunities):
    db = tmp_path / "f.duckdb"
    out = succeeded(run_cli("import", export, "--db", db, "--scenario", DEMO_PATH, "--guess", "--preview"))
    first = out.stdout.splitlines()[0]
    assert first.startswith("Guessed: --format records --map engage_date=SQLs --map close_date=Customers "
                            "--id opportunity_id --amount close_value --date-format %m/%d/%Y --outcome deal_stage "
                            "--won Won --lost Lost"), first
    assert "Nothing was written." in out.stdout
    assert "The monthly counts this file gives:" in out.stdout
    assert json.loads(succeeded(run_cli("history", "--db", db, "--json")).stdout) == []
    doc = json.loads(succeeded(run_cli("import", export, "--db", db, *OPTIONS, "--preview", "--json")).stdout)
    counts, revenue = won_by_month(opportunities)
    assert {r["month"]: r["count"] for r in doc["counts"] if r["stage"] == "Customers"} == counts
    assert json.loads(succeeded(run_cli("history", "--db", db, "--json")).stdout) == []


def test_refusals_name_the_fix_and_change_nothing(tmp_path, export):
    db = tmp_path / "f.duckdb"
    without_won = [a for a in OPTIONS if a not in ("--won", "Won")]
    out = run_cli("import", export, "--db", db, *without_won, "--won", "Closed Won")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "the won value 'Closed Won' never occurs" in out.stderr
    assert "give the values that mean won (--won VALUE[,VALUE...])" in out.stderr
    out = run_cli("import", export, "--db", db, "--outcome", "Status", "--won", "Won", "--id", "opportunity_id",
                  "--map", "close_date=Customers", "--date-format", "%m/%d/%Y")
    assert out.returncode == 2 and "there is no column 'Status' in the file" in out.stderr
    out = run_cli("import", export, "--db", db, "--won", "Won")
    assert out.returncode == 2 and "need the outcome column: name it (--outcome COLUMN)" in out.stderr
    assert json.loads(succeeded(run_cli("history", "--db", db, "--json")).stdout) == []


def test_a_workbook_sheet_and_replace(tmp_path, opportunities):
    db = tmp_path / "f.duckdb"
    book = tmp_path / "pipeline.xlsx"
    book.write_bytes(workbook_bytes({"Read me": pd.DataFrame({"x": ["y"]}), "Deals": opportunities},
                                    date_columns={"engage_date": "%m/%d/%Y", "close_date": "%m/%d/%Y"}))
    out = run_cli("import", book, "--db", db, *OPTIONS, "--sheet", "Pipeline")
    assert out.returncode == 2 and out.stdout == ""
    assert "there is no sheet 'Pipeline' in the workbook (its sheets: 'Read me', 'Deals')" in out.stderr
    first = json.loads(succeeded(run_cli("import", book, "--db", db, *OPTIONS, "--sheet", "Deals", "--json")).stdout)
    fewer = opportunities.head(700)
    book.write_bytes(workbook_bytes({"Deals": fewer}, date_columns={"engage_date": "%m/%d/%Y",
                                                                    "close_date": "%m/%d/%Y"}))
    second = json.loads(succeeded(run_cli("import", book, "--db", db, *OPTIONS, "--sheet", "Deals", "--replace",
                                          "--json")).stdout)
    assert second["replaced_imports"] == [first["import_id"]]
    rows = json.loads(succeeded(run_cli("actuals", "--db", db, "--json")).stdout)
    counts, _ = won_by_month(fewer)
    assert {r["month"]: r["count"] for r in rows if r.get("stage") == "Customers"} == counts


def test_a_stage_history_import(tmp_path):
    db, path = tmp_path / "f.duckdb", tmp_path / "history.csv"
    df = stage_history(300)
    path.write_bytes(csv_bytes(df))
    out = succeeded(run_cli("import", path, "--db", db, "--id", "deal_id", "--map", "appointmentscheduled=Leads",
                            "--map", "closedwon=Customers", "--lost-stage", "closedlost"))
    assert "(stage-history format)" in out.stdout
    assert "CRM stages not mapped, ignored: " in out.stdout
    rows = json.loads(succeeded(run_cli("actuals", "--db", db, "--json")).stdout)
    won = df[df["stage"] == "closedwon"]
    assert {r["month"]: r["count"] for r in rows if r.get("stage") == "Customers"} == \
        {m: int(n) for m, n in won["date"].str[:7].value_counts().items()}


def test_demo_remove(tmp_path, demo_db_file):
    db = tmp_path / "funnel.duckdb"
    shutil.copyfile(demo_db_file, db)
    out = succeeded(run_cli("demo", "remove", "--db", db))
    assert out.stdout.startswith("Removed the demo: 3 imports, 1 plan of record")
    assert json.loads(succeeded(run_cli("history", "--db", db, "--json")).stdout) == []
    assert "nothing was removed" in succeeded(run_cli("demo", "remove", "--db", db)).stdout


def test_compare_and_checkin_for_one_segment(tmp_path, demo_db_file):
    """The demo's plan against one segment's actuals: a monthly file with a segment column."""
    db = tmp_path / "funnel.duckdb"
    shutil.copyfile(demo_db_file, db)
    monthly = tmp_path / "by-source.csv"
    monthly.write_text("month,source,Visits,revenue\n2027-01,Paid,5000,10000\n2027-01,Organic,7000,30000\n"
                       "2027-02,Paid,6000,20000\n2027-02,Organic,8000,25000\n", encoding="utf-8")
    succeeded(run_cli("import", monthly, "--db", db, "--segment", "source"))
    doc = json.loads(succeeded(run_cli("compare", "--plan", DEMO_PLAN_NAME, "--db", db, "--segment", "Paid",
                                       "--json")).stdout)
    assert [(r["month"], r["actual"]) for r in doc["stages"]] == [("2027-01", 5000), ("2027-02", 6000)]
    assert [r["actual"] for r in doc["revenue"] if r["actual"] is not None] == [10000, 20000]
    whole = json.loads(succeeded(run_cli("compare", "--plan", DEMO_PLAN_NAME, "--db", db, "--json")).stdout)
    assert [r["actual"] for r in whole["stages"] if r["stage"] == "Visits"][:2] == [12000, 14000]
    text = succeeded(run_cli("compare", "--plan", DEMO_PLAN_NAME, "--db", db, "--segment", "Paid")).stdout
    assert "against the actuals of segment 'Paid'" in text
    check = json.loads(succeeded(run_cli("checkin", "--plan", DEMO_PLAN_NAME, "--db", db, "--as-of", "2027-02",
                                         "--segment", "Organic", "--trials", "500", "--json")).stdout)
    assert check["segment"] == "Organic"
    assert check["revenue_to_date"] == pytest.approx(55000)
    assert next(s for s in check["stages"] if s["name"] == "Visits")["actual"] == 15000


def test_checkin_says_which_open_pipeline_comes_from_the_outcomes(tmp_path, export):
    db, scenario = tmp_path / "f.duckdb", tmp_path / "plan.json"
    succeeded(run_cli("import", export, "--db", db, *OPTIONS))
    scenario.write_text(json.dumps({
        "schema": 1, "name": "deals", "start": "2017-01", "months": 12, "goal": 900000,
        "top": {"per_month": 200, "noise_cv": 0},
        "stages": [{"name": "Engaged", "owner": "sales"},
                   {"name": "Customers", "owner": "sales", "rate": {"mean": 0.6, "strength": 40}, "lag": [0.3, 0.4, 0.3]}],
        "deal": {"median": 2000, "p90": 4000}, "trials": 500, "seed": 3}), encoding="utf-8")
    doc = json.loads(succeeded(run_cli("checkin", scenario, "--db", db, "--as-of", "2017-03", "--json")).stdout)
    assert doc["open_pipeline_from_outcomes"] == ["Engaged"]
    assert "segment" not in doc
    text = succeeded(run_cli("checkin", scenario, "--db", db, "--as-of", "2017-03")).stdout
    assert "Open pipeline of Engaged: the records still open at the end of 2017-03 (from their outcomes)" in text
