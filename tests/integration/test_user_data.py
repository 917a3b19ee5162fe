"""The user's data apart from the demo (issue 11): what the demo seeded is marked, removable in
one step (or in the transaction of the first import of one's own data), never seeded over real
data; a database of schema version 1 is migrated (its demo recognised); hostile workbooks are
refused with what to do; the demo's own files give what pandas computes from them."""

from __future__ import annotations

import zipfile

import duckdb
import pandas as pd
import pytest

from sim.data.actuals import load_actuals
from sim.data.demo_content import demo_state, remove_demo
from sim.data.demo_data import DEMO_PLAN_NAME, seed_demo
from sim.data.history import import_history
from sim.data.ingest import ImportOptions, import_csv
from sim.data.plans import list_plans
from sim.data.store import MIGRATIONS, SCHEMA_VERSION, Store
from sim.errors import ImportRejected, StoreError

from ..conftest import ACTUALS_DIR, DATA_DIR, snapshot
from ..crm_exports import raw_xlsx, workbook_bytes

OWN = b"id,Created,Won,amount\nA,2027-01-05,2027-02-10,500\nB,2027-01-20,,\n"
OWN_OPTIONS = ImportOptions(mapping=(("Created", "Leads"), ("Won", "Customers")))


@pytest.fixture
def seeded(demo_db_file):
    """The database the app seeds with the demo (made once per session; each test a copy)."""
    return demo_db_file


def test_the_demo_is_marked_and_removed_in_one_step(store_from, seeded):
    store = store_from(seeded)
    state = demo_state(store)
    assert (state.imports, state.plans, state.own_data) == (3, 1, False)
    message = remove_demo(store)
    assert message.startswith("Removed the demo: 3 imports, 1 plan of record and the stages Visits, Leads, MQLs")
    assert import_history(store) == [] and list_plans(store) == []
    assert load_actuals(store).empty
    assert demo_state(store).removed
    with pytest.raises(StoreError, match="the demo was removed"):
        seed_demo(store, DATA_DIR)
    assert remove_demo(store) == "There is no demo data in this database: nothing was removed."


def test_removing_the_demo_keeps_the_users_own_data(store_from, seeded):
    store = store_from(seeded)
    own = import_csv(store, OWN, "mine.csv", options=OWN_OPTIONS)
    mine = load_actuals(store)
    demo_months = {m for m, _, _ in mine.counts} - {"2027-01", "2027-02"}
    assert demo_months                                   # the demo's actuals are there too
    remove_demo(store)
    assert [h.import_id for h in import_history(store)] == [own.import_id]
    assert load_actuals(store).counts == (("2027-01", "Leads", 2), ("2027-02", "Customers", 1))
    assert load_actuals(store).revenue == (("2027-02", 500.0),)


def test_the_first_import_can_remove_the_demo_in_its_own_transaction(store_from, seeded):
    store = store_from(seeded)
    before = snapshot(store)
    with pytest.raises(ImportRejected):
        import_csv(store, b"id,Created\nA,not a date\n", "bad.csv", options=OWN_OPTIONS, remove_demo=True)
    assert snapshot(store) == before                     # refused: the demo is still there
    result = import_csv(store, OWN, "mine.csv", options=OWN_OPTIONS, remove_demo=True)
    assert result.message.startswith("Removed the demo: 3 imports, 1 plan of record")
    assert "Imported mine.csv as import #1" in result.message
    assert [h.file_name for h in import_history(store)] == ["mine.csv"]
    assert load_actuals(store).stages == ("Leads", "Customers")
    assert not demo_state(store).present and demo_state(store).own_data


def test_the_demo_is_never_seeded_over_real_data(store):
    import_csv(store, OWN, "mine.csv", options=OWN_OPTIONS)
    before = snapshot(store)
    with pytest.raises(StoreError, match="holds data of its own: the demo is never seeded over it"):
        seed_demo(store, DATA_DIR)
    assert snapshot(store) == before


def version_1_database(path):
    """An empty database file with the schema as version 1 left it; its open connection."""
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL)")
    for statement in MIGRATIONS[0][1]:
        con.execute(statement)
    con.execute("INSERT INTO schema_version VALUES (1, now()::TIMESTAMP)")
    return con


def test_a_version_1_database_is_migrated_and_its_demo_recognised(tmp_path):
    """A database a version-1 program seeded (the demo's visits import and plan) and filled
    (an import of the user's own): migration 2 marks the demo's, not the user's."""
    import hashlib
    path = tmp_path / "old.duckdb"
    con = version_1_database(path)
    visits = hashlib.sha256((ACTUALS_DIR / "northwind-visits.csv").read_bytes()).hexdigest()
    for import_id, name, digest in ((1, "northwind-visits.csv", visits), (2, "mine.csv", "abc")):
        con.execute("INSERT INTO imports VALUES (?, ?, ?, 'monthly', '{}', now()::TIMESTAMP, 1, [], [], NULL, NULL, "
                    "'', NULL)", [import_id, name, digest])
    for plan_id, name, note in ((1, DEMO_PLAN_NAME, "the demo's plan, saved with the demo actuals"), (2, "mine", "")):
        con.execute("INSERT INTO plans VALUES (?, ?, now()::TIMESTAMP, '{}', 1, 100, '{}', 0.5, NULL, NULL, ?)",
                    [plan_id, name, note])
    con.close()
    with Store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION == 2
        state = demo_state(store)
        assert (state.imports, state.plans, state.own_imports, state.own_plans) == (1, 1, 1, 1)
        assert store.cursor().execute("SELECT source FROM imports ORDER BY id").fetchall() == [
            ("northwind-visits.csv",), ("mine.csv",)]


def test_a_fresh_version_1_file_migrates_with_its_rows(tmp_path):
    """The whole of migration 2 on a version-1 database holding rows: every view answers."""
    path = tmp_path / "v1.duckdb"
    con = version_1_database(path)
    con.execute("INSERT INTO stages VALUES ('leads', 'Leads', 1, 1), ('customers', 'Customers', 2, 1)")
    con.execute("""INSERT INTO imports VALUES (1, 'x.csv', 'h', 'records', '{}', now()::TIMESTAMP, 2, ['Leads'], [],
                   DATE '2027-01-01', DATE '2027-02-01', 's', NULL)""")
    con.execute("INSERT INTO record_stages VALUES (1, 'A', 'leads', DATE '2027-01-05'), "
                "(1, 'A', 'customers', DATE '2027-02-03')")
    con.execute("INSERT INTO record_amounts VALUES (1, 'A', 250)")
    con.execute("INSERT INTO monthly_counts VALUES (1, DATE '2027-03-01', 'leads', 9)")
    con.close()
    with Store(path) as store:
        assert store.schema_version() == 2
        found = load_actuals(store)
        assert found.counts == (("2027-01", "Leads", 1), ("2027-02", "Customers", 1), ("2027-03", "Leads", 9))
        assert found.revenue == (("2027-02", 250.0),)
        assert store.cursor().execute("SELECT source FROM imports").fetchall() == [("x.csv",)]


# -- the demo's own files ------------------------------------------------------------------------

def test_the_demo_deal_export_gives_what_pandas_computes(store_from, seeded):
    deals = pd.read_csv(ACTUALS_DIR / "northwind-deals-export.csv", sep=";", dtype=str).fillna("")
    won = deals[deals["Won date"] != ""]
    month = pd.to_datetime(won["Won date"], format="%d.%m.%Y").dt.strftime("%Y-%m")
    amount = pd.to_numeric(won["Amount"].str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    store = store_from(seeded)
    found = load_actuals(store)
    customers = {m: c for m, s, c in found.counts if s == "Customers"}
    monthly = pd.read_csv(ACTUALS_DIR / "northwind-monthly.csv", dtype={"month": str})
    assert customers == {m: int(n) for m, n in month.value_counts().items()}
    revenue = amount.groupby(month).sum()
    assert dict(found.revenue) == pytest.approx({m: float(r) for m, r in revenue.items()})
    # And the demo's monthly file says the same for the plan's months.
    assert {m: int(c) for m, c in zip(monthly["month"], monthly["Customers"]) if c} == \
        {m: c for m, c in customers.items() if m in set(monthly["month"])}


def test_the_demo_plan_is_the_demos(store_from, seeded):
    store = store_from(seeded)
    assert [p.name for p in list_plans(store)] == [DEMO_PLAN_NAME]
    assert demo_state(store).plans == 1


# -- hostile workbooks ---------------------------------------------------------------------------

def encrypted_workbook() -> bytes:
    """What Excel writes for a password-protected workbook: an OLE compound file whose streams
    include ``EncryptedPackage`` (the encrypted .xlsx) and ``EncryptionInfo``."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    directory = "EncryptionInfo".encode("utf-16-le") + b"\x00" * 40 + "EncryptedPackage".encode("utf-16-le")
    return header + directory + b"\x00" * 4096


def zip_bomb() -> bytes:
    import io
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            chunk = b"\x00" * 2**20
            for _ in range(1100):                     # 1.1 GB of zeros, a megabyte or two packed
                part.write(chunk)
    return buf.getvalue()


SHEET = '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{}</sheetData></worksheet>'
HOSTILE = [
    ("password-protected", encrypted_workbook, "password-protected (encrypted): open it in Excel, remove the password"),
    ("zip bomb", zip_bomb, "unpacks to 1,100 MB, over the limit of 1,024 MB"),
    ("cells a sheet apart", lambda: raw_xlsx(SHEET.format(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c></row>'
        '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')), "could not be read safely"),
    ("a million rows", lambda: raw_xlsx(SHEET.format(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c><c r="AZ1"><v>1</v></c></row>'
        '<row r="1048576"><c r="A1048576"><v>1</v></c></row>')), "more than 30,000,000 cells"),
    ("not a workbook inside", lambda: raw_xlsx("<not xml"), "cannot be read as a workbook"),
]


@pytest.mark.parametrize(("case", "make", "message"), HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_workbooks_are_refused_with_what_to_do(store, case, make, message):
    before = snapshot(store)
    with pytest.raises(ImportRejected) as info:
        import_csv(store, make(), "book.xlsx", options=OWN_OPTIONS)
    (problem,) = info.value.problems
    assert message in problem, problem
    assert snapshot(store) == before
    assert not list(store.staging_dir.iterdir())          # nothing left in the staging folder


def test_a_formula_cell_is_read_by_its_cached_value_and_never_run(store):
    df = pd.DataFrame({"id": ["A"], "Created": ["2027-01-05"], "amount": ["123.5"]})
    data = workbook_bytes({"S": df}, formula_columns=("amount",), macros=True)
    result = import_csv(store, data, "book.xlsm", options=ImportOptions(mapping=(("Created", "Leads"),)))
    assert load_actuals(store).revenue == (("2027-01", 123.5),)
    assert "the workbook has macros: they were not run" in result.message
