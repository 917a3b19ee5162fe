"""AppTest of the Actuals page: plan vs actual, the actuals table, CSV import, history, undo.

Every test gets its own temporary database (``FUNNEL_DB`` in ``tmp_path``): the page's store
is cached per path (``st.cache_resource``), so a new path is a new, freshly seeded (or, with
``FUNNEL_DEMO_DATA=0``, empty) database. The project's data/funnel.duckdb is never touched.
"""

from __future__ import annotations

import csv
from itertools import accumulate

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from sim.data.demo_data import DEMO_PLAN_NAME
from sim.data.ingest import import_csv
from sim.data.store import Store
from sim.present import spreadsheet
from ui import database as stores

from ..conftest import ROOT, holding_process, plain
from .apptest import open_app, small_demo

PAGE = "app_pages/actuals.py"
UPLOAD = "actuals-upload"
MONTHLY_DEMO = ROOT / "data" / "actuals" / "northwind-monthly.csv"
REVENUE_METRIC = "Revenue to date"

GOOD_MONTHLY = b"month,Leads,MQLs,revenue\n2027-01,120,30,5000\n2027-02,140,35,7500.5\n"
BAD_MONTHLY = b"month,Leads,MQLs\n2027-01,10,5\n2027-13,-3,4\n"
RECORDS = (b"id,Created,Won,amount\n"
           b"A,2027-01-05,2027-02-10,500\n"
           b"B,2027-01-20,,\n"
           b"C,2027-02-03,2027-02-20,700\n"
           b"D,2027-03-01,2027-03-15,1000\n")


# -- helpers ------------------------------------------------------------------------------------

def open_page(db) -> AppTest:
    at = open_app(PAGE, small_demo())
    assert db.exists(), "the page did not open the test's temporary database"
    assert_fine(at)
    return at


def assert_fine(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def texts(elements) -> list[str]:
    return [plain(e.value) for e in elements]


def tab(at: AppTest, label: str):
    """The tab whose label starts with ``label`` ("History" matches "History (3)")."""
    return next(t for t in at.tabs if t.label.startswith(label))


def history_label(at: AppTest) -> str:
    return tab(at, "History").label


def actuals_table(at: AppTest) -> pd.DataFrame:
    frames = tab(at, "Actuals").dataframe
    assert len(frames) == 1, texts(tab(at, "Actuals").info)
    return frames[0].value.set_index("month")


def upload(at: AppTest, file_name: str, content: bytes) -> AppTest:
    """Put a file in the uploader (the page gives it a new key after each import: take the one
    that is there)."""
    (uploader,) = [u for u in at.file_uploader if u.key and u.key.startswith(UPLOAD)]
    uploader.set_value((file_name, content, "text/csv")).run()
    assert_fine(at)
    return at


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert_fine(at)
    return at


def import_file(at: AppTest, file_name: str, content: bytes) -> AppTest:
    return click(upload(at, file_name, content), "actuals-import")


def chart_frames(chart) -> list[pd.DataFrame]:
    """The datasets of an Altair chart as sent to the browser."""
    return [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets]


def fan_actuals(at: AppTest) -> list[float]:
    """The cumulative revenue actuals of the plan-vs-actual chart, month by month."""
    fan = next(c for c in at.get("vega_lite_chart") if "Cumulative revenue" in c.proto.spec)
    frames = [f.dropna(subset=["actual"]) for f in chart_frames(fan) if "actual" in f.columns]
    return list(frames[0]["actual"])


def demo_monthly() -> list[dict]:
    with open(MONTHLY_DEMO, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# -- with the demo data -------------------------------------------------------------------------

def test_seeded_database_compares_the_demo_plan_with_the_actuals(new_db):
    at = open_page(new_db)
    assert not at.error
    assert [t.label for t in at.tabs] == ["Plan vs actual", "Actuals", "Import", "History (3)"]
    assert at.selectbox(key="actuals-plan").value == DEMO_PLAN_NAME

    # The demo's records and visits add up to the monthly summary file in data/actuals/.
    rows = demo_monthly()
    revenue = [float(r["revenue"]) for r in rows]
    (label, value), = [(m.label, m.value) for m in at.metric if m.label.startswith(REVENUE_METRIC)]
    assert label == f"{REVENUE_METRIC} (through {rows[-1]['month']})"
    assert value == f"{sum(revenue):,.0f}"
    assert next(m.value for m in at.metric if m.label == "Months with actuals") == str(len(rows))

    charts = at.get("vega_lite_chart")
    assert len(charts) == 3                          # fan chart, heat map, one stage vs plan
    fan = charts[0]
    assert "Cumulative revenue" in fan.proto.spec
    with_actuals = [f for f in chart_frames(fan) if "actual" in f.columns]
    assert with_actuals
    for frame in with_actuals:
        shown = frame.dropna(subset=["actual"])
        assert list(shown["month"]) == [r["month"] for r in rows]
        assert list(shown["actual"]) == pytest.approx(list(accumulate(revenue)))

    # The Actuals tab has the same months and revenue.
    table = actuals_table(at)
    for r in rows:
        assert table.loc[r["month"], "revenue"] == pytest.approx(float(r["revenue"]))
        for stage in ("Visits", "Leads", "MQLs", "SQLs", "Proposals", "Customers"):
            assert table.loc[r["month"], stage] == int(r[stage]), (r["month"], stage)


# -- an empty database --------------------------------------------------------------------------

def test_empty_database_shows_empty_states_and_saves_a_plan(empty_db):
    at = open_page(empty_db)
    assert not at.error
    info = " ".join(texts(at.info))
    assert "No plan of record yet" in info
    assert "No actuals yet" in info
    assert "No imports yet" in info
    assert history_label(at) == "History (0)"
    assert not at.get("vega_lite_chart")
    assert "actuals-plan" not in [s.key for s in at.selectbox]

    at.text_input(key="actuals-plan-name").set_value("Test plan of record")
    click(at, "actuals-save-plan")
    assert not at.error
    (success,) = texts(at.success)
    assert "Saved the current scenario as plan of record “Test plan of record”" in success
    picker = at.selectbox(key="actuals-plan")
    assert picker.options == ["Test plan of record"] and picker.value == "Test plan of record"
    assert at.text_input(key="actuals-plan-name").value == ""          # ready for the next one
    assert any("No actuals fall in the plan's months" in t for t in texts(at.info))
    assert "1 saved plan" in plain(at.caption[0].value)


# -- importing ----------------------------------------------------------------------------------

def test_importing_a_monthly_file_shows_its_values_and_a_second_import_is_a_no_op(empty_db):
    at = open_page(empty_db)
    upload(at, "monthly-test.csv", GOOD_MONTHLY)
    assert at.segmented_control(key="actuals-format").value == "monthly"
    # Known stages are matched by name; `month` and `revenue` need no mapping.
    assert {s.label: s.value for s in at.selectbox if s.key.startswith("actuals-map-")} == {
        "Leads": "Leads", "MQLs": "MQLs"}
    click(at, "actuals-import")
    (success,) = texts(at.success)
    assert success.startswith("Imported monthly-test.csv as import #1 (monthly format)"), success
    assert not at.error

    table = actuals_table(at)
    assert list(table.index) == ["2027-01", "2027-02"]
    assert list(table["Leads"]) == [120, 140]
    assert list(table["MQLs"]) == [30, 35]
    assert list(table["revenue"]) == pytest.approx([5000, 7500.5])
    assert history_label(at) == "History (1)"

    import_file(at, "monthly-test.csv", GOOD_MONTHLY)             # the very same file again
    assert not at.success and not at.error
    (info,) = [t for t in texts(at.info) if "already imported" in t]
    assert "monthly-test.csv: the very same file was already imported as import #1" in info
    assert "nothing changed" in info
    assert history_label(at) == "History (1)"
    history = tab(at, "History")
    assert [b.key for b in history.button] == ["actuals-undo-1"]
    assert any(m.startswith("**#1 · monthly-test.csv**") for m in texts(history.markdown))
    assert actuals_table(at).equals(table)


def test_a_bad_file_is_rejected_naming_row_and_column_and_changes_nothing(db):
    at = open_page(db)
    before, label = actuals_table(at), history_label(at)
    import_file(at, "bad.csv", BAD_MONTHLY)
    assert not at.success
    (error,) = texts(at.error)
    assert "bad.csv: not imported — the database is unchanged" in error
    assert "row 3, column 'month'" in error and "2027-13" in error
    assert "row 3, column 'Leads'" in error and "negative" in error
    assert history_label(at) == label == "History (3)"
    assert actuals_table(at).equals(before)

    # An empty file cannot even be mapped: no Import button.
    upload(at, "empty.csv", b"")
    assert any("empty.csv" in e and "the file is empty" in e for e in texts(at.error))
    assert "actuals-import" not in [b.key for b in at.button]


def test_a_records_export_is_imported_with_the_chosen_mapping(empty_db):
    at = open_page(empty_db)
    upload(at, "crm-export.csv", RECORDS)
    assert at.segmented_control(key="actuals-format").value == "records"
    assert at.selectbox(key="actuals-id").value == "id"
    assert at.selectbox(key="actuals-amount").value == "amount"
    mapping = {s.label: s for s in at.selectbox if s.key.startswith("actuals-map-")}
    assert set(mapping) == {"Created", "Won"}
    # Guessed from the names ("created" a lead, "won" the last stage), shown before the import.
    assert {k: s.value for k, s in mapping.items()} == {"Created": "Leads", "Won": "Customers"}
    mapping["Created"].set_value("(skip this column)")
    at.run()
    assert_fine(at)
    mapping = {s.label: s for s in at.selectbox if s.key.startswith("actuals-map-")}
    mapping["Created"].set_value("Leads")
    at.run()
    assert_fine(at)
    click(at, "actuals-import")
    assert not at.error, texts(at.error)
    (success,) = texts(at.success)
    assert success.startswith("Imported crm-export.csv as import #1 (records format): 4 rows"), success

    table = actuals_table(at)
    assert list(table.index) == ["2027-01", "2027-02", "2027-03"]
    assert list(table.columns) == ["Leads", "Customers", "revenue"]
    assert list(table["Leads"]) == [2, 1, 1]                  # A, B in Jan; C in Feb; D in Mar
    assert table["Customers"].tolist()[1:] == [2, 1]          # A, C won in Feb; D in Mar
    assert pd.isna(table.loc["2027-01", "Customers"])
    # An amount is booked in the month of the record's latest stage date.
    assert table.loc["2027-02", "revenue"] == pytest.approx(1200)
    assert table.loc["2027-03", "revenue"] == pytest.approx(1000)
    assert history_label(at) == "History (1)"


def test_undo_brings_back_the_earlier_values(db):
    at = open_page(db)
    before = actuals_table(at)
    assert before.loc["2027-01", "Leads"] != 999
    fan = fan_actuals(at)
    upload(at, "leads-fix.csv", b"month,Leads,revenue\n2027-01,999,1\n")
    at.radio(key="actuals-demo-choice").set_value("beside").run()     # mixed with the demo's, on purpose
    click(at, "actuals-import")
    assert texts(at.success)[0].startswith("Imported leads-fix.csv as import #4")
    changed = actuals_table(at)
    assert changed.loc["2027-01", "Leads"] == 999 and changed.loc["2027-01", "revenue"] == 1
    # The plan-vs-actual chart (shared by the sessions under the data version) shows the import.
    assert fan_actuals(at)[0] == 1 and fan_actuals(at)[1:] == pytest.approx([v - fan[0] + 1 for v in fan[1:]])
    assert history_label(at) == "History (4)"

    click(at, "actuals-undo-4")
    (success,) = texts(at.success)
    assert success.startswith("Undid import #4 (leads-fix.csv)"), success
    assert actuals_table(at).equals(before)
    assert fan_actuals(at) == fan
    assert history_label(at) == "History (4)"                 # still listed, marked undone
    history = tab(at, "History")
    assert "actuals-undo-4" not in [b.key for b in history.button]
    assert any("#4 · leads-fix.csv" in m and "undone" in m for m in texts(history.markdown))
    revenue = next(m.value for m in at.metric if m.label.startswith(REVENUE_METRIC))
    assert revenue == f"{sum(float(r['revenue']) for r in demo_monthly()):,.0f}"


# -- real CRM exports (issue 11) ------------------------------------------------------------------

def test_an_opportunity_export_is_guessed_previewed_and_imported_into_a_clean_database(db):
    from ..crm_exports import csv_bytes, opportunity_export
    df = opportunity_export(600)
    at = open_page(db)
    upload(at, "sales_pipeline.csv", csv_bytes(df))
    assert at.selectbox(key="actuals-id").value == "opportunity_id"
    assert at.selectbox(key="actuals-amount").value == "close_value"
    assert at.selectbox(key="actuals-outcome").value == "deal_stage"
    assert at.multiselect(key="actuals-won").value == ["Won"]
    assert at.multiselect(key="actuals-lost").value == ["Lost"]
    assert at.text_input(key="actuals-date-format").value == "%m/%d/%Y"
    mapping = {s.label: s.value for s in at.selectbox if s.key.startswith("actuals-map-")}
    assert mapping["close_date"] == "Customers" and mapping["engage_date"] == "SQLs"
    assert at.radio(key="actuals-demo-choice").value == "clean"      # the demo offered to go
    # The preview: the outcomes and the monthly counts this file gives, before anything is written.
    n = df["deal_stage"].value_counts()
    preview = next(m for m in texts(at.markdown) if "rows in the records format" in m)
    assert f"**{n['Won']:,} won** (counted as Customers)" in preview and f"**{n['Lost']:,} lost**" in preview
    first_rows, counted, months = (d.value for d in tab(at, "Import").dataframe)
    assert list(counted.columns) == ["row", "record", "counts toward", "date"]
    assert list(counted["record"]) == list(df["opportunity_id"][:len(counted)])
    won = df[df["deal_stage"] == "Won"]
    want = pd.to_datetime(won["close_date"], format="%m/%d/%Y").dt.strftime("%Y-%m").value_counts()
    got = months.set_index("month")["Customers"].dropna()
    assert {m: int(c) for m, c in got.items()} == {m: int(c) for m, c in want.items()}
    assert history_label(at) == "History (3)"                         # nothing written yet
    click(at, "actuals-import")
    (success,) = texts(at.success)
    assert success.startswith("Removed the demo: 3 imports, 1 plan of record"), success
    assert history_label(at) == "History (1)"
    table = actuals_table(at)
    assert {m: int(c) for m, c in table["Customers"].dropna().items()} == {m: int(c) for m, c in want.items()}
    # Empty cells are empty, never the text "None".
    assert not (table.astype(str) == "None").any().any()
    # The export's months (2016-2018) are all before the plan's (2027): said so, with where to use them.
    assert table.index.max() < "2027-01"
    assert any("None of these months is in the period of the plan on the Plan page (2027-01 to 2027-12): the “From "
               "history” page fits a plan from them." in t for t in texts(tab(at, "Actuals").caption))
    # A segment filter and the breakdown chart.
    assert at.selectbox(key="actuals-segment-filter").value == "All segments"
    product = df["product"].iloc[0]
    at.selectbox(key="actuals-segment-filter").set_value(product).run()
    assert_fine(at)
    part = won[won["product"] == product]
    part_months = pd.to_datetime(part["close_date"], format="%m/%d/%Y").dt.strftime("%Y-%m").value_counts()
    assert {m: int(c) for m, c in actuals_table(at)["Customers"].dropna().items()} == \
        {m: int(c) for m, c in part_months.items()}
    assert at.selectbox(key="actuals-segment-stage").value == "SQLs"
    titles = [c.proto.spec for c in tab(at, "Actuals").get("vega_lite_chart")]
    assert any("SQLs by segment, per month" in t for t in titles)


def test_a_workbook_is_imported_from_the_chosen_sheet(empty_db):
    from ..crm_exports import workbook_bytes
    sheet = pd.DataFrame({"id": ["A", "B"], "Created": ["1/5/2027", "2/7/2027"], "amount": ["", ""]})
    data = workbook_bytes({"Notes": pd.DataFrame({"x": ["y"]}), "Leads": sheet}, date_columns={"Created": "%m/%d/%Y"})
    at = open_page(empty_db)
    (uploader,) = [u for u in at.file_uploader if u.key and u.key.startswith(UPLOAD)]
    uploader.set_value(("leads.xlsx", data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")).run()
    assert_fine(at)
    assert at.selectbox(key="actuals-sheet").options == ["Notes", "Leads"]
    at.selectbox(key="actuals-sheet").set_value("Leads").run()
    assert_fine(at)
    mapping = {s.label: s for s in at.selectbox if s.key.startswith("actuals-map-")}
    assert mapping["Created"].value == "Leads"
    click(at, "actuals-import")
    (success,) = texts(at.success)
    assert success.startswith("Imported leads.xlsx as import #1 (records format): 2 rows"), success
    assert "read sheet 'Leads'" in success
    assert list(actuals_table(at)["Leads"]) == [1, 1]


def test_the_demo_is_removed_in_one_click(db):
    at = open_page(db)
    click(at, "actuals-remove-demo")
    (success,) = texts(at.success)
    assert success.startswith("Removed the demo: 3 imports, 1 plan of record")
    assert history_label(at) == "History (0)"
    assert "actuals-remove-demo" not in [b.key for b in at.button]


def test_a_stage_history_is_mapped_from_its_crm_stages(empty_db):
    from ..crm_exports import csv_bytes, stage_history
    df = stage_history(200)
    at = open_page(empty_db)
    upload(at, "deal-stage-history.csv", csv_bytes(df))
    assert at.segmented_control(key="actuals-format").value == "history"
    crm = {s.label: s for s in at.selectbox if s.key.startswith("actuals-crm-")}
    assert set(crm) == set(df["stage"])
    assert crm["closedwon"].value == "Customers"
    assert crm["closedlost"].value == "lost (never a customer)"
    crm["appointmentscheduled"].set_value("Leads").run()
    assert_fine(at)
    preview = next(m for m in texts(at.markdown) if "rows in the stage history format" in m)
    won = df[df["stage"] == "closedwon"]["deal_id"].nunique()
    assert f"**{won:,} won** (counted as Customers)" in preview
    click(at, "actuals-import")
    (success,) = texts(at.success)
    assert success.startswith("Imported deal-stage-history.csv as import #1 (stage-history format)"), success
    table = actuals_table(at)
    assert int(table["Customers"].sum()) == won


def test_the_demo_imports_are_marked_in_the_history(db):
    at = open_page(db)
    marked = [m for m in texts(tab(at, "History").markdown) if m.startswith("**#")]
    assert len(marked) == 3 and all("the demo's" in m for m in marked)


@pytest.mark.parametrize("settled", [0.0, 3600.0])
def test_a_page_run_opens_the_database_only_when_its_files_changed(db, monkeypatch, settled):
    """An open costs 25-45 ms of CPU: a page run reads the data version (the key of its cached
    reads) only when the database's files changed since the last read, or were written less
    than ``SETTLED`` seconds before it (a file system keeping coarse times could give two writes
    the same). Another process's import is seen on the next run either way."""
    monkeypatch.setattr(stores, "SETTLED", settled)
    opened = []

    class Counted(Store):
        def __init__(self, *args, **kwargs):
            opened.append(kwargs.get("read_only", False))
            super().__init__(*args, **kwargs)
    monkeypatch.setattr(stores, "Store", Counted)
    at = open_page(db)
    assert history_label(at) == "History (3)"
    opened.clear()
    at.run()
    assert_fine(at)
    assert opened == ([] if settled == 0 else [True]), "the data version, read again only when not settled"
    with Store(db) as other:          # as the command line would, in its own process
        import_csv(other, GOOD_MONTHLY, "more.csv")
    at.run()
    assert_fine(at)
    assert history_label(at) == "History (4)"
    assert opened.count(True) >= 2, opened


@pytest.mark.parametrize("page, labels", [
    ("app_pages/actuals.py", {"Download the comparison (CSV)", "Download the actuals (CSV)"}),
    ("app_pages/checkin.py", {"Download the reset SLA (CSV)"})])
def test_the_csv_downloads_are_made_when_clicked_not_in_every_run(db, monkeypatch, page, labels):
    """Like the SLA files: a run only registers the download (the file is made if it is
    clicked: tests/integration/test_hostile_inputs.py makes and checks each one)."""
    made = []
    real = spreadsheet.spreadsheet_csv
    monkeypatch.setattr(spreadsheet, "spreadsheet_csv", lambda table: made.append(len(table)) or real(table))
    at = open_app(page, small_demo())
    assert_fine(at)
    at.run()
    assert_fine(at)
    assert labels <= {b.label for b in at.get("download_button")}
    assert made == []


@pytest.mark.parametrize("page", ["app_pages/actuals.py", "app_pages/checkin.py"])
def test_a_busy_database_gets_a_message_for_viewers(db, monkeypatch, page):
    """Finding 11: while another process wrote the database, viewers read "the database
    /srv/…/funnel.duckdb is in use by another process … use another --db / $FUNNEL_DB". They
    read that the database is busy; the details (the path) go to the server's log only."""
    monkeypatch.setattr(stores, "WAIT", 0.3)
    at = open_app()
    holder = holding_process(db, read_only=False, seconds=120)
    try:
        at.switch_page(page).run()
    finally:
        holder.kill()
        holder.wait()
    assert not at.exception and not at.error
    (warning,) = [w.value for w in at.warning]
    assert warning == stores.BUSY
    shown = " ".join(e.value for e in [*at.warning, *at.info, *at.caption, *at.markdown])
    assert str(db) not in shown and db.name not in shown and "--db" not in shown and "FUNNEL_DB" not in shown
    at.run()
    assert not at.warning and not at.exception, "served again once the writer is gone"
