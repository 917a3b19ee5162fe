"""CSV import of actuals (sim.data.ingest) and the effective actuals (sim.data.actuals).

Every test opens its own database under ``tmp_path``. Expected values are computed from the
fixture itself (Python's csv module and plain arithmetic), never copied from the program.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from sim.data.actuals import load_actuals
from sim.data.history import import_history, known_stages, undo_import
from sim.data.ingest import ImportOptions, import_csv, read_header
from sim.data.store import Store
from sim.errors import ImportRejected

from ..conftest import ACTUALS_DIR, snapshot

DEMO = ACTUALS_DIR

LEADS_MAP = {"Created": "Leads", "MQL date": "MQLs", "SQL date": "SQLs"}
DEALS_MAP = {"Proposal date": "Proposals", "Won date": "Customers"}
LEADS_OPTIONS = ImportOptions(id_column="Lead ID", mapping=tuple(LEADS_MAP.items()))
DEALS_OPTIONS = ImportOptions(id_column="Lead ID", mapping=tuple(DEALS_MAP.items()),
                              amount_column="Amount", date_format="%d.%m.%Y")


# ------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------

def open_store(tmp_path: Path, name: str) -> Store:
    return Store(tmp_path / name / "funnel.duckdb")


def csv_text(rows, *, delimiter: str = ",", newline: str = "\n") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return buf.getvalue()


def csv_bytes(rows, *, delimiter: str = ",", newline: str = "\n", encoding: str = "utf-8") -> bytes:
    return csv_text(rows, delimiter=delimiter, newline=newline).encode(encoding)


def data_rows(store: Store) -> dict[str, list[tuple]]:
    """The snapshot without the import history (which records undos)."""
    return {t: rows for t, rows in snapshot(store).items() if t != "imports"}


def staged_files(store: Store) -> list[Path]:
    return sorted(store.staging_dir.iterdir())


def cells(actuals) -> dict[tuple[str, str], int]:
    return {(m, s): c for m, s, c in actuals.counts}


def revenue(actuals) -> dict[str, float]:
    return dict(actuals.revenue)


def assert_revenue(actual: dict[str, float], expected: dict[str, float]) -> None:
    assert set(actual) == set(expected)
    for month, value in expected.items():
        assert actual[month] == pytest.approx(value, abs=1e-6), month


def line_of(data: bytes | str, needle: bytes | str) -> int:
    """1-based physical line of the first occurrence of ``needle``."""
    if isinstance(data, bytes):
        data, needle = data.decode("latin-1"), needle.decode("latin-1")
    index = data.index(needle)
    return data.count("\n", 0, index) + 1


def names_row(problem: str, n: int) -> bool:
    """The problem names row / line ``n`` (``row 3,``, ``rows 2, 4,``, ``line 3:``)."""
    return re.search(rf"\b(?:rows?|line) (?:\d+, )*{n}\b", problem) is not None


def monthly_expected(rows: list[list[str]]):
    """(counts, revenue) of a plain wide monthly file given as csv rows (header first)."""
    header, body = rows[0], rows[1:]
    counts, money = {}, {}
    for row in body:
        month = row[0]
        for name, value in zip(header[1:], row[1:]):
            if value.strip() == "":
                continue
            if name == "revenue":
                money[month] = float(value)
            else:
                counts[(month, name)] = int(value)
    return counts, money


def records_expected(files):
    """(counts, revenue) of records files imported in this order.

    ``files``: (rows as dicts, id column, {date column: stage}, parse_date, amount column or
    None, parse_amount). Each (id, stage) once, the later file's date wins; an amount (the later
    file's wins) is booked in the month of the latest stage date the record has."""
    reached: dict[tuple[str, str], date] = {}
    amounts: dict[str, float] = {}
    for rows, id_col, mapping, parse_date, amount_col, parse_amount in files:
        for row in rows:
            rid = row[id_col].strip()
            for col, stage in mapping.items():
                if row[col].strip():
                    reached[(rid, stage)] = parse_date(row[col].strip())
            if amount_col and row[amount_col].strip():
                amounts[rid] = parse_amount(row[amount_col].strip())
    counts = Counter((d.strftime("%Y-%m"), stage) for (_, stage), d in reached.items())
    latest: dict[str, date] = {}
    for (rid, _), d in reached.items():
        latest[rid] = max(d, latest.get(rid, d))
    money: dict[str, float] = defaultdict(float)
    for rid, amount in amounts.items():
        money[latest[rid].strftime("%Y-%m")] += amount
    return dict(counts), dict(money)


def iso(text: str) -> date:
    return date.fromisoformat(text)


def dotted(text: str) -> date:
    return datetime.strptime(text, "%d.%m.%Y").date()


def decimal_comma(text: str) -> float:
    return float(text.replace(".", "").replace(",", "."))


def read_dicts(path: Path, delimiter: str = ",") -> tuple[list[str], list[dict]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        return list(reader.fieldnames), list(reader)


def dicts_bytes(header: list[str], rows: list[dict], delimiter: str = ",") -> bytes:
    return csv_bytes([header] + [[r[h] for h in header] for r in rows], delimiter=delimiter)


# ------------------------------------------------------------------------------------------
# Monthly format
# ------------------------------------------------------------------------------------------

WIDE = [["month", "Visits", "Leads", "SQLs", "revenue"],
        ["2027-01", "12000", "200", "17", "84294.50"],
        ["2027-02", "13000", "", "27", "52019"],
        ["2027-03", "0", "255", "", ""]]


def test_monthly_wide_counts_and_revenue(store):
    result = import_csv(store, csv_bytes(WIDE), "wide.csv")
    counts, money = monthly_expected(WIDE)
    assert not result.already_imported and result.format == "monthly"
    assert result.rows == len(WIDE) - 1
    assert result.stages == result.new_stages == tuple(WIDE[0][1:-1])
    assert (result.first_month, result.last_month) == (WIDE[1][0], WIDE[-1][0])
    assert result.revenue_months == len(money)
    actuals = load_actuals(store)
    assert actuals.stages == tuple(WIDE[0][1:-1])
    assert cells(actuals) == counts
    assert_revenue(revenue(actuals), money)
    assert known_stages(store) == tuple(WIDE[0][1:-1])
    assert staged_files(store) == []


def test_header_variants_match_existing_stages(store):
    import_csv(store, csv_bytes([["month", "Leads", "SQLs"], ["2027-01", "1", "2"]]), "a.csv")
    variant = [["Month", "LEADS", " sqls "], ["2027-02", "3", "4"]]
    result = import_csv(store, csv_bytes(variant), "b.csv")
    assert result.new_stages == ()
    assert result.stages == ("Leads", "SQLs")
    assert known_stages(store) == ("Leads", "SQLs")
    assert cells(load_actuals(store)) == {("2027-01", "Leads"): 1, ("2027-01", "SQLs"): 2,
                                          ("2027-02", "Leads"): 3, ("2027-02", "SQLs"): 4}


def test_header_variants_match_scenario_stages(store):
    scenario = ("Leads", "Marketing Qualified", "SQLs")
    data = csv_bytes([[" MONTH ", "marketing   qualified", " leads "], ["2027-01", "7", "30"]])
    result = import_csv(store, data, "a.csv", scenario_stages=scenario)
    # Named as the scenario names them; new to the database all the same.
    assert result.stages == ("Marketing Qualified", "Leads")
    assert result.new_stages == ("Marketing Qualified", "Leads")
    actuals = load_actuals(store, stage_order=scenario)
    assert actuals.stages == ("Leads", "Marketing Qualified")
    assert cells(actuals) == {("2027-01", "Leads"): 30, ("2027-01", "Marketing Qualified"): 7}


def test_unknown_column_becomes_new_stage(store):
    import_csv(store, csv_bytes([["month", "Leads"], ["2027-01", "5"]]), "a.csv")
    result = import_csv(store, csv_bytes([["month", "leads", "Demos booked"], ["2027-02", "6", "2"]]),
                        "b.csv")
    assert result.new_stages == ("Demos booked",)
    assert known_stages(store) == ("Leads", "Demos booked")
    assert load_actuals(store).count("2027-02", "demos BOOKED") == 2


LONG = [["month", "stage", "count"],
        ["2027-01", "Leads", "200"],
        ["2027-01", "SQLs", "17"],
        ["2027-01", "revenue", "84294.50"],
        ["2027-02", "leads", "277"],
        ["2027-02", "Revenue", "52019"],
        ["2027-03", "SQLS", "0"]]


def test_monthly_long_form(store):
    import_csv(store, csv_bytes([["month", "Leads"], ["2026-12", "1"]]), "old.csv")
    result = import_csv(store, csv_bytes(LONG), "long.csv")
    assert result.format == "monthly" and result.rows == len(LONG) - 1
    assert result.new_stages == ("SQLs",)
    stages = {"leads": "Leads", "sqls": "SQLs"}
    counts = {("2026-12", "Leads"): 1}
    money = {}
    for month, stage, value in LONG[1:]:
        if stage.casefold() == "revenue":
            money[month] = float(value)
        else:
            counts[(month, stages[stage.casefold()])] = int(value)
    actuals = load_actuals(store)
    assert cells(actuals) == counts
    assert_revenue(revenue(actuals), money)
    assert staged_files(store) == []


def test_long_and_wide_form_give_the_same_actuals(tmp_path):
    wide = [["month", "Leads", "SQLs", "revenue"], ["2027-01", "200", "17", "84294.5"],
            ["2027-02", "277", "27", "52019"]]
    long = [["month", "stage", "count"]] + [[row[0], name, value] for row in wide[1:]
                                             for name, value in zip(wide[0][1:], row[1:])]
    with open_store(tmp_path, "w") as a, open_store(tmp_path, "l") as b:
        import_csv(a, csv_bytes(wide), "wide.csv")
        import_csv(b, csv_bytes(long), "long.csv")
        assert load_actuals(a) == load_actuals(b)


def test_correction_replaces_cells_and_empty_cells_keep_old_values(store):
    first = [["month", "Leads", "SQLs", "revenue"],
             ["2027-01", "100", "10", "1000"],
             ["2027-02", "200", "20", "2000"],
             ["2027-03", "300", "30", "3000"]]
    correction = [["month", "Leads", "SQLs", "revenue"],
                  ["2027-02", "210", "", "2100.5"],
                  ["2027-03", "", "33", ""],
                  ["2027-04", "400", "40", "4000"]]
    import_csv(store, csv_bytes(first), "jan-mar.csv")
    result = import_csv(store, csv_bytes(correction), "feb-apr-corrected.csv")
    counts, money = monthly_expected(first)
    new_counts, new_money = monthly_expected(correction)
    replaced = sum(1 for k in new_counts if k in counts) + sum(1 for k in new_money if k in money)
    counts.update(new_counts)
    money.update(new_money)
    actuals = load_actuals(store)
    assert cells(actuals) == counts
    assert_revenue(revenue(actuals), money)
    assert result.replaced == replaced
    # Replaced, not added: February's leads are the corrected 210, not 200 + 210.
    assert actuals.count("2027-02", "Leads") == 210


def test_same_bytes_again_is_already_imported(store):
    data = csv_bytes(WIDE)
    first = import_csv(store, data, "wide.csv")
    before = snapshot(store)
    again = import_csv(store, data, "wide.csv")
    renamed = import_csv(store, data, "another name.csv")
    for result in (again, renamed):
        assert result.already_imported
        assert result.import_id == first.import_id
        assert "already imported" in result.message
    assert snapshot(store) == before
    assert len(import_history(store)) == 1
    # The same bytes read differently (other options) are another import.
    other = import_csv(store, data, "wide.csv", options=ImportOptions(ignore=("Visits",)))
    assert not other.already_imported and other.import_id == first.import_id + 1
    assert len(import_history(store)) == 2


# ------------------------------------------------------------------------------------------
# Records format and the demo files
# ------------------------------------------------------------------------------------------

def test_demo_records_equal_demo_monthly(tmp_path):
    with open_store(tmp_path, "records") as rec, open_store(tmp_path, "monthly") as mon:
        import_csv(rec, (DEMO / "northwind-visits.csv").read_bytes(), "northwind-visits.csv")
        leads = import_csv(rec, (DEMO / "northwind-leads-export.csv").read_bytes(),
                           "northwind-leads-export.csv", options=LEADS_OPTIONS)
        deals = import_csv(rec, (DEMO / "northwind-deals-export.csv").read_bytes(),
                           "northwind-deals-export.csv", options=DEALS_OPTIONS)
        assert (leads.format, deals.format) == ("records", "records")
        import_csv(mon, (DEMO / "northwind-monthly.csv").read_bytes(), "northwind-monthly.csv")
        by_records, by_monthly = load_actuals(rec), load_actuals(mon)

    # 1. Each database holds what its files say (computed here with the csv module).
    _, lead_rows = read_dicts(DEMO / "northwind-leads-export.csv")
    _, deal_rows = read_dicts(DEMO / "northwind-deals-export.csv", ";")
    counts, money = records_expected([
        (lead_rows, "Lead ID", LEADS_MAP, iso, None, None),
        (deal_rows, "Lead ID", DEALS_MAP, dotted, "Amount", decimal_comma)])
    _, visit_rows = read_dicts(DEMO / "northwind-visits.csv")
    counts.update({(r["month"], "Visits"): int(r["Visits"]) for r in visit_rows})
    assert cells(by_records) == counts
    assert_revenue(revenue(by_records), money)
    monthly_rows = list(csv.reader(io.StringIO((DEMO / "northwind-monthly.csv").read_text(encoding="utf-8"))))
    m_counts, m_money = monthly_expected(monthly_rows)
    assert cells(by_monthly) == m_counts
    assert_revenue(revenue(by_monthly), m_money)

    # 2. For the months the monthly file covers, both give the very same actuals. (The record
    #    exports also reach back before that: leads created earlier, counted in their months.)
    months = set(by_monthly.months)
    assert by_records.stages == by_monthly.stages
    assert {k: v for k, v in cells(by_records).items() if k[0] in months} == cells(by_monthly)
    assert_revenue({m: v for m, v in revenue(by_records).items() if m in months}, revenue(by_monthly))
    assert all(m < min(months) for m in set(by_records.months) - months)


def _leads_halves():
    header, rows = read_dicts(DEMO / "northwind-leads-export.csv")
    n = len(rows)
    first = rows[: 2 * n // 3]
    second = [dict(r) for r in rows[n // 3:]]                 # overlaps the middle third
    overlap_ids = {r["Lead ID"] for r in first} & {r["Lead ID"] for r in second}
    # In the later export one overlapping lead's MQL date was corrected into another month.
    moved = next(r for r in second if r["Lead ID"] in overlap_ids and r["MQL date"])
    moved["MQL date"] = (iso(moved["MQL date"]) + timedelta(days=45)).isoformat()
    return header, first, second, overlap_ids


def test_overlapping_exports_count_each_record_stage_once(tmp_path):
    header, first, second, overlap_ids = _leads_halves()
    assert overlap_ids and len(second) > len(overlap_ids)          # some old, some new leads
    for order, (a, b) in {"first-then-second": (first, second),
                          "second-then-first": (second, first)}.items():
        with open_store(tmp_path, order) as s:
            import_csv(s, dicts_bytes(header, a), "export-a.csv", options=LEADS_OPTIONS)
            result = import_csv(s, dicts_bytes(header, b), "export-b.csv", options=LEADS_OPTIONS)
            counts, _ = records_expected([(a, "Lead ID", LEADS_MAP, iso, None, None),
                                          (b, "Lead ID", LEADS_MAP, iso, None, None)])
            actuals = load_actuals(s)
        a_pairs = {(r["Lead ID"], stage) for r in a for col, stage in LEADS_MAP.items() if r[col]}
        b_pairs = {(r["Lead ID"], stage) for r in b for col, stage in LEADS_MAP.items() if r[col]}
        assert cells(actuals) == counts, order
        assert result.replaced == len(a_pairs & b_pairs), order
        # Every lead counted once as a lead, whichever file it came from.
        leads = sum(c for (_, stage), c in cells(actuals).items() if stage == "Leads")
        assert leads == len({r["Lead ID"] for r in a + b if r["Created"]}), order


def test_amount_is_booked_in_the_month_of_the_latest_stage_date(store):
    leads = [["id", "created"], ["L1", "2027-01-10"], ["L2", "2027-01-20"], ["L3", "2027-02-01"]]
    deals = [["id", "won", "amount"], ["L1", "2027-03-05", "1000"], ["L2", "2027-04-30", "250.5"],
             ["L9", "2027-04-01", "7"]]
    import_csv(store, csv_bytes(leads), "leads.csv",
               options=ImportOptions(id_column="id", mapping=(("created", "Leads"),)))
    import_csv(store, csv_bytes(deals), "deals.csv",
               options=ImportOptions(id_column="id", mapping=(("won", "Customers"),), amount_column="amount"))
    actuals = load_actuals(store)
    assert cells(actuals) == {("2027-01", "Leads"): 2, ("2027-02", "Leads"): 1,
                              ("2027-03", "Customers"): 1, ("2027-04", "Customers"): 2}
    assert_revenue(revenue(actuals), {"2027-03": 1000.0, "2027-04": 250.5 + 7.0})


def test_monthly_values_win_over_records_for_the_same_month_and_stage(store):
    records = [["id", "created", "won", "amount"],
               ["A", "2027-01-03", "2027-02-01", "100"],
               ["B", "2027-01-04", "", ""],
               ["C", "2027-02-05", "2027-02-20", "50"]]
    import_csv(store, csv_bytes(records), "records.csv",
               options=ImportOptions(id_column="id", mapping=(("created", "Leads"), ("won", "Customers")),
                             amount_column="amount"))
    from_records = load_actuals(store)
    assert cells(from_records) == {("2027-01", "Leads"): 2, ("2027-02", "Leads"): 1,
                                   ("2027-02", "Customers"): 2}
    assert_revenue(revenue(from_records), {"2027-02": 150.0})
    monthly = import_csv(store, csv_bytes([["month", "Leads", "revenue"], ["2027-01", "40", ""],
                                           ["2027-02", "", "999"]]), "monthly.csv")
    actuals = load_actuals(store)
    assert cells(actuals) == {("2027-01", "Leads"): 40, ("2027-02", "Leads"): 1,
                              ("2027-02", "Customers"): 2}
    assert_revenue(revenue(actuals), {"2027-02": 999.0})
    undo_import(store, monthly.import_id)
    assert load_actuals(store) == from_records


# ------------------------------------------------------------------------------------------
# Real-world file variants
# ------------------------------------------------------------------------------------------

# The logical content every monthly variant encodes: month, Leads, Qualifiés, revenue.
VARIANT_MONTHS = [("2027-01", 1234, 56, 1234.5),
                  ("2027-02", 987, 1001, 20500.0),
                  ("2027-03", 0, 7, 0.25)]
VARIANT_HEADER = ["month", "Leads", "Qualifiés", "revenue"]


def _plain(rows):
    return [VARIANT_HEADER] + [[m, str(a), str(b), f"{r:.2f}"] for m, a, b, r in rows]


def _german(n: float, decimals: int) -> str:
    return f"{n:,.{decimals}f}".translate(str.maketrans(",.", ".,"))


MONTHLY_VARIANTS = {
    "utf8-bom": lambda: csv_bytes(_plain(VARIANT_MONTHS), encoding="utf-8-sig"),
    "latin-1": lambda: csv_bytes(_plain(VARIANT_MONTHS), encoding="latin-1"),
    "windows-1252": lambda: csv_bytes(
        [VARIANT_HEADER] + [[m, _german(a, 0), _german(b, 0), _german(r, 2) + " €"]
                            for m, a, b, r in VARIANT_MONTHS], delimiter=";", encoding="cp1252"),
    "semicolon-decimal-comma": lambda: csv_bytes(
        [VARIANT_HEADER] + [[m, _german(a, 0), _german(b, 0), _german(r, 2)]
                            for m, a, b, r in VARIANT_MONTHS], delimiter=";"),
    "quoted-thousands": lambda: csv_bytes(
        [VARIANT_HEADER] + [[m, f"{a:,}", f"{b:,}", f"{r:,.2f}"] for m, a, b, r in VARIANT_MONTHS]),
    "crlf": lambda: csv_bytes(_plain(VARIANT_MONTHS), newline="\r\n"),
    "tab": lambda: csv_bytes(_plain(VARIANT_MONTHS), delimiter="\t"),
    "pipe": lambda: csv_bytes(_plain(VARIANT_MONTHS), delimiter="|"),
    "utf16-bom": lambda: csv_bytes(_plain(VARIANT_MONTHS), encoding="utf-16"),
    "utf16-be-bom": lambda: ("\ufeff" + csv_text(_plain(VARIANT_MONTHS))).encode("utf-16-be"),
    "currency-and-spaces": lambda: csv_bytes(
        [VARIANT_HEADER] + [[f" {m} ", f" {a:,} ".replace(",", " "), f"{b:,}".replace(",", "'"),
                             f"$ {r:,.2f}"] for m, a, b, r in VARIANT_MONTHS]),
}


@pytest.mark.parametrize("variant", list(MONTHLY_VARIANTS))
def test_monthly_file_variants(store, variant):
    data = MONTHLY_VARIANTS[variant]()
    # The fixture really is what its name says.
    checks = {"utf8-bom": lambda: data.startswith(b"\xef\xbb\xbf"),
              "latin-1": lambda: "Qualifiés".encode("latin-1") in data and b"\xc3" not in data,
              "windows-1252": lambda: b"\x80" in data and b";" in data,
              "semicolon-decimal-comma": lambda: b"1.234,50" in data and b";1.234;" in data,
              "quoted-thousands": lambda: b'"1,234"' in data and b'"1,234.50"' in data,
              "crlf": lambda: data.count(b"\r\n") == len(VARIANT_MONTHS) + 1,
              "tab": lambda: b"\t" in data,
              "pipe": lambda: b"|" in data,
              "utf16-bom": lambda: data[:2] in (b"\xff\xfe", b"\xfe\xff"),
              "utf16-be-bom": lambda: data[:2] == b"\xfe\xff",
              "currency-and-spaces": lambda: b"$ 1,234.50" in data and b"1'001" in data}
    assert checks[variant]()
    result = import_csv(store, data, f"{variant}.csv")
    assert result.rows == len(VARIANT_MONTHS)
    actuals = load_actuals(store)
    assert actuals.stages == ("Leads", "Qualifiés")
    assert cells(actuals) == {**{(m, "Leads"): a for m, a, _, _ in VARIANT_MONTHS},
                              **{(m, "Qualifiés"): b for m, _, b, _ in VARIANT_MONTHS}}
    assert_revenue(revenue(actuals), {m: r for m, _, _, r in VARIANT_MONTHS})


# The logical content every records variant encodes (a multi-line company name included).
VARIANT_RECORDS = [("A-1", "Société Générale", date(2027, 1, 5), date(2027, 2, 10), 1234.5),
                   ("A-2", "Müller & Söhne\nGmbH", date(2027, 1, 20), None, None),
                   ("A-3", 'Big "Quote", Inc.', date(2027, 2, 1), date(2027, 3, 3), 99.0),
                   ("A-4", "Øresund\r\nFisk", date(2027, 3, 9), None, None)]
RECORD_HEADER = ["ID", "Company", "Créé le", "Won", "Amount"]


def _records_rows(fmt: str, money) -> list[list[str]]:
    return [RECORD_HEADER] + [[rid, company, created.strftime(fmt), won.strftime(fmt) if won else "",
                               money(amount) if amount is not None else ""]
                              for rid, company, created, won, amount in VARIANT_RECORDS]


RECORD_VARIANTS = {
    "utf8": ("%Y-%m-%d", lambda: csv_bytes(_records_rows("%Y-%m-%d", str))),
    "utf8-bom-crlf": ("%Y-%m-%d", lambda: csv_bytes(_records_rows("%Y-%m-%d", str), newline="\r\n",
                                                    encoding="utf-8-sig")),
    "latin-1": ("%Y-%m-%d", lambda: csv_bytes(_records_rows("%Y-%m-%d", str), encoding="latin-1")),
    "windows-1252": ("%d.%m.%Y", lambda: csv_bytes(
        _records_rows("%d.%m.%Y", lambda a: _german(a, 2) + " €"), delimiter=";", encoding="cp1252")),
    "tab-utf16": ("%m/%d/%Y", lambda: csv_bytes(_records_rows("%m/%d/%Y", lambda a: f"{a:,.2f}"),
                                                delimiter="\t", encoding="utf-16")),
}


@pytest.mark.parametrize("variant", list(RECORD_VARIANTS))
def test_records_file_variants(store, variant):
    fmt, build = RECORD_VARIANTS[variant]
    data = build()
    assert data.count(b"\n") > len(VARIANT_RECORDS) + 1 or variant == "tab-utf16"   # multi-line
    options = ImportOptions(id_column="id", mapping=(("créé le", "Leads"), ("Won", "Customers")),
                            amount_column="amount", date_format=None if fmt == "%Y-%m-%d" else fmt)
    result = import_csv(store, data, f"{variant}.csv", options=options)
    assert result.rows == len(VARIANT_RECORDS)
    rows = [{"id": r[0], "created": r[2].isoformat(), "won": r[3].isoformat() if r[3] else "",
             "amount": "" if r[4] is None else str(r[4])} for r in VARIANT_RECORDS]
    counts, money = records_expected([(rows, "id", {"created": "Leads", "won": "Customers"}, iso,
                                       "amount", float)])
    actuals = load_actuals(store)
    assert cells(actuals) == counts
    assert_revenue(revenue(actuals), money)
    ids = {r[0] for r in store.cursor().execute("SELECT record_id FROM record_stages").fetchall()}
    assert ids == {r[0] for r in VARIANT_RECORDS}


def test_rows_are_counted_as_records_across_multi_line_fields(store):
    rows = [["id", "company", "created"],
            ["A", "Multi\nline\nname", "2027-01-05"],
            ["B", "Plain", "2027-01-06"],
            ["C", "Bad date", "2027-13-01"]]
    data = csv_bytes(rows)
    with pytest.raises(ImportRejected) as info:
        import_csv(store, data, "f.csv", options=ImportOptions(id_column="id", mapping=(("created", "Leads"),)))
    spreadsheet_row = 4                     # header = row 1, as a spreadsheet shows the file
    assert line_of(data, b"C,") == 6        # ... while a text editor shows line 6
    assert any(names_row(p, spreadsheet_row) and "column 'created'" in p for p in info.value.problems)


def test_blank_line_does_not_shift_row_numbers(store):
    data = b"month,Leads\n2027-01,1\n\n2027-02,x\n"
    with pytest.raises(ImportRejected) as info:
        import_csv(store, data, "f.csv")
    assert any(names_row(p, line_of(data, b"2027-02")) for p in info.value.problems), info.value.problems


# ------------------------------------------------------------------------------------------
# Rejected files change nothing
# ------------------------------------------------------------------------------------------

REC = ImportOptions(id_column="id", mapping=(("created", "Leads"),), amount_column="amount")


def _case(data: bytes, needle: bytes | None = None, column: str | None = None, *, also=(),
          options: ImportOptions = ImportOptions(), max_bytes: int | None = None, text: str | None = None,
          kind: str = "row"):
    """A bad file; the problem must name the row (physical line of ``needle``) or ``line``, the
    column, and the extra rows ``also`` (needles) / ``text`` when given."""
    return dict(data=data, row=line_of(data, needle) if needle else None, kind=kind,
                also=[line_of(data, n) for n in also], column=column, options=options,
                max_bytes=max_bytes, text=text)


VALID = b"month,Leads\n" + b"".join(b"2027-%02d,%d\n" % (m, m * 10) for m in range(1, 13))

BAD_FILES = {
    "negative count": _case(b"month,Leads\n2027-01,5\n2027-02,-3\n", b"2027-02", "Leads"),
    "percent": _case(b"month,Leads\n2027-01,5\n2027-02,12%\n", b"12%", "Leads"),
    "non-whole count": _case(b"month,Leads\n2027-01,2.5\n", b"2.5", "Leads"),
    "negative revenue": _case(b"month,Leads,revenue\n2027-01,5,10\n2027-02,5,-10\n", b"-10", "revenue"),
    "bad month": _case(b"month,Leads\n2027-01,1\n2027-13,2\n", b"2027-13", "month"),
    "implausible month": _case(b"month,Leads\n1850-01,1\n", b"1850", "month"),
    "empty month": _case(b"month,Leads\n2027-01,1\n,2\n", b",2", "month"),
    "duplicate months": _case(b"month,Leads\n2027-01,1\n2027-02,2\n2027-01,3\n", b"2027-01,1",
                              "month", also=[b"2027-01,3"]),
    "long form negative": _case(b"month,stage,count\n2027-01,Leads,4\n2027-02,Leads,-1\n", b"-1", "count"),
    "long form duplicate": _case(b"month,stage,count\n2027-01,Leads,4\n2027-01,leads,5\n",
                                 b"Leads,4", also=[b"leads,5"]),
    "long form empty count": _case(b"month,stage,count\n2027-01,Leads,4\n2027-02,Leads,\n",
                                   b"2027-02", "count"),
    "duplicate record ids": _case(b"id,created,amount\nA,2027-01-05,\nB,2027-01-06,\nA,2027-01-07,\n",
                                  b"A,2027-01-05", "id", also=[b"A,2027-01-07"], options=REC),
    "empty record id": _case(b"id,created,amount\nA,2027-01-05,\n  ,2027-01-06,\n", b"  ,", "id",
                             options=REC),
    "date without date format": _case(b"id,created,amount\nA,2027-01-05,\nB,05.01.2027,\n",
                                      b"05.01.2027", "created", options=REC),
    "date not in the date format": _case(
        b"id,created,amount\nA,05.01.2027,\nB,2027-01-06,\n", b"2027-01-06", "created",
        options=ImportOptions(id_column="id", mapping=(("created", "Leads"),), amount_column="amount",
                              date_format="%d.%m.%Y")),
    "implausible date": _case(b"id,created,amount\nA,1850-01-05,\n", b"1850", "created", options=REC),
    "bad amount": _case(b"id,created,amount\nA,2027-01-05,12%\n", b"12%", "amount", options=REC),
    "amount without stage date": _case(b"id,created,amount\nA,2027-01-05,10\nB,,20\n", b"B,,20",
                                       "amount", options=REC),
    "unknown mapped column": _case(b"id,created\nA,2027-01-05\n", column="nope",
                                   options=ImportOptions(id_column="id", mapping=(("nope", "Leads"),))),
    "unknown id column": _case(b"id,created\nA,2027-01-05\n", column="Lead ID",
                               options=ImportOptions(id_column="Lead ID", mapping=(("created", "Leads"),))),
    "stage mapped to revenue": _case(b"id,created\nA,2027-01-05\n", text="reserved",
                                     options=ImportOptions(id_column="id", mapping=(("created", "Revenue"),))),
    "same column twice": _case(b"month,Leads,LEADS\n2027-01,1,2\n", text="same name"),
    "invalid new stage name": _case(b"month,<script>\n2027-01,1\n", column="<script>"),
    "too many fields": _case(b"month,Leads\n2027-01,1\n2027-02,2,3,4\n", b"2027-02", kind="row",
                             text="has 4 fields"),
    "too few fields": _case(b"month,Leads,SQLs,MQLs\n2027-01,1,2,3\n2027-02,2\n", b"2027-02", kind="row",
                            text="has 2 fields"),
    "unterminated quote": _case(b'month,Leads\n2027-01,"1\n2027-02,2\n', b'"1', kind="row", text="quote"),
    "empty file": _case(b"", text="empty"),
    "whitespace only": _case(b" \r\n\n\t\n", text="empty"),
    "header only": _case(b"month,Leads\n", text="no data rows"),
    "NUL bytes": _case(b"month,Leads\n2027-01,1\x00\n", text="NUL"),
    "binary": _case(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)), text="binary"),
    "control characters": _case(bytes(range(1, 32)) * 20, text="binary"),
    "gzip": _case(gzip.compress(VALID, mtime=0), text="compressed"),
    "zip": _case(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + VALID, text="compressed"),
    "over max_bytes": _case(VALID, max_bytes=len(VALID) - 1, text="over the limit"),
}


@pytest.fixture(scope="module")
def base_db_file(tmp_path_factory) -> Path:
    """A database with one monthly and one records import: each rejection test works on a copy."""
    path = tmp_path_factory.mktemp("base") / "funnel.duckdb"
    with Store(path) as s:
        import_csv(s, csv_bytes([["month", "Leads", "revenue"], ["2027-01", "10", "100"]]), "base.csv")
        import_csv(s, csv_bytes([["id", "created", "amount"], ["X", "2027-01-02", "5"]]), "base-rec.csv",
                   options=REC)
    return path


@pytest.fixture
def base_store(base_db_file, store_from):
    return store_from(base_db_file)


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_rejected_file_changes_nothing(base_store, name):
    case = BAD_FILES[name]
    store = base_store
    assert [h.file_name for h in import_history(store)] == ["base-rec.csv", "base.csv"]
    before = snapshot(store)
    kwargs = {"max_bytes": case["max_bytes"]} if case["max_bytes"] is not None else {}
    with pytest.raises(ImportRejected) as info:
        import_csv(store, case["data"], f"{name}.csv", options=case["options"], **kwargs)
    problems = info.value.problems
    assert problems and all(isinstance(p, str) and p for p in problems)
    assert str(info.value).startswith(f"{name}.csv: ")

    def fits(p: str) -> bool:
        return ((case["row"] is None or names_row(p, case["row"]))
                and (case["row"] is None or (f"{case['kind']} " in p or f"{case['kind']}s " in p))
                and all(names_row(p, n) for n in case["also"])
                and (case["column"] is None or f"'{case['column']}'" in p)
                and (case["text"] is None or case["text"] in p))
    assert any(fits(p) for p in problems), problems
    assert snapshot(store) == before
    assert staged_files(store) == []


def test_ragged_lines_are_reported_once_with_their_field_count(store):
    rows = ["month,Leads,SQLs,MQLs", "2027-01", "2027-02,1,2,3", "2027-03,1", "2027-04,1,2,3,4,5,6"]
    data = ("\n".join(rows) + "\n").encode()
    with pytest.raises(ImportRejected) as info:
        import_csv(store, data, "ragged.csv")
    header = len(rows[0].split(","))
    expected = [f"row {i}: has {len(r.split(','))} fields but the header has {header}"
                for i, r in enumerate(rows, start=1) if len(r.split(",")) != header]
    assert list(info.value.problems) == expected


def test_many_bad_values_are_summarised_per_column(store):
    rows = [["month", "Leads"]] + [[f"2027-{m:02d}", "x"] for m in range(1, 11)]
    with pytest.raises(ImportRejected) as info:
        import_csv(store, csv_bytes(rows), "many.csv")
    problem, = [p for p in info.value.problems if "column 'Leads'" in p]
    assert "10 values" in problem and names_row(problem, 2)


# ------------------------------------------------------------------------------------------
# Undo and history
# ------------------------------------------------------------------------------------------

def test_undo_a_correction_restores_the_previous_values(store):
    first = csv_bytes([["month", "Leads", "SQLs", "revenue"], ["2027-01", "100", "10", "1000"],
                       ["2027-02", "200", "20", "2000"], ["2027-03", "300", "30", "3000"]])
    correction = csv_bytes([["month", "Leads", "Demos", "revenue"], ["2027-02", "210", "4", ""],
                            ["2027-03", "", "5", "3100"]])
    a = import_csv(store, first, "first.csv")
    before, before_rows = load_actuals(store), data_rows(store)
    b = import_csv(store, correction, "correction.csv")
    corrected = load_actuals(store)
    assert b.new_stages == ("Demos",) and corrected != before
    assert known_stages(store) == ("Leads", "SQLs", "Demos")

    message = undo_import(store, b.import_id)
    assert f"#{b.import_id}" in message
    assert load_actuals(store) == before
    assert data_rows(store) == before_rows
    assert known_stages(store) == ("Leads", "SQLs")
    history = import_history(store)
    assert [h.import_id for h in history] == [b.import_id, a.import_id]     # newest first
    assert history[0].undone_at is not None and not history[0].active
    assert history[1].undone_at is None and history[1].active
    assert staged_files(store) == []

    with pytest.raises(ImportRejected, match="already undone"):
        undo_import(store, b.import_id)
    with pytest.raises(ImportRejected, match="no import"):
        undo_import(store, 999)
    assert load_actuals(store) == before

    again = import_csv(store, correction, "correction.csv")
    assert not again.already_imported and again.import_id == b.import_id + 1
    assert again.new_stages == ("Demos",)
    assert load_actuals(store) == corrected


def test_undo_an_older_import_keeps_what_later_imports_state(store):
    a = import_csv(store, csv_bytes([["month", "Leads", "Demos"], ["2027-01", "1", "2"],
                                     ["2027-02", "3", "4"]]), "a.csv")
    import_csv(store, csv_bytes([["month", "Demos"], ["2027-02", "40"], ["2027-03", "50"]]), "b.csv")
    undo_import(store, a.import_id)
    # "Demos" came with a but b still states it; "Leads" only ever came from a.
    assert known_stages(store) == ("Demos",)
    assert cells(load_actuals(store)) == {("2027-02", "Demos"): 40, ("2027-03", "Demos"): 50}


def test_undo_a_records_import_brings_back_the_earlier_dates(tmp_path):
    header, first, second, _ = _leads_halves()
    with open_store(tmp_path, "db") as s:
        import_csv(s, dicts_bytes(header, first), "a.csv", options=LEADS_OPTIONS)
        before, before_rows = load_actuals(s), data_rows(s)
        b = import_csv(s, dicts_bytes(header, second), "b.csv", options=LEADS_OPTIONS)
        assert load_actuals(s) != before
        undo_import(s, b.import_id)
        assert load_actuals(s) == before and data_rows(s) == before_rows
        counts, _ = records_expected([(first, "Lead ID", LEADS_MAP, iso, None, None)])
        assert cells(load_actuals(s)) == counts


# ------------------------------------------------------------------------------------------
# User text never reaches SQL
# ------------------------------------------------------------------------------------------

INJECTION = 'x"; DROP TABLE imports; --'


def _tables_intact(store: Store) -> None:
    snapshot(store)                     # asserts every data table still exists
    for view in ("actual_counts", "actual_revenue", "record_reached"):
        store.cursor().execute(f"SELECT count(*) FROM {view}").fetchone()


def test_sql_in_a_header_is_rejected_cleanly_or_ignored(store):
    import_csv(store, csv_bytes([["month", "Leads"], ["2027-01", "1"]]), "base.csv")
    data = csv_bytes([["month", INJECTION, "Leads"], ["2027-02", "1", "2"]])
    before = snapshot(store)
    with pytest.raises(ImportRejected) as info:
        import_csv(store, data, "inject.csv")
    assert any(INJECTION in p for p in info.value.problems)
    assert snapshot(store) == before
    result = import_csv(store, data, "inject.csv", options=ImportOptions(ignore=(INJECTION,)))
    assert result.stages == ("Leads",)
    _tables_intact(store)
    assert cells(load_actuals(store)) == {("2027-01", "Leads"): 1, ("2027-02", "Leads"): 2}


def test_quotes_in_stage_names_and_record_ids(store):
    stage = "Robert') DROP TABLE stages --"
    long_stage = "O'Brien's (\"x\")"
    import_csv(store, csv_bytes([["month", stage], ["2027-01", "3"]]), "wide.csv")
    with pytest.raises(ImportRejected):        # '"' is not allowed in a new stage name
        import_csv(store, csv_bytes([["month", "stage", "count"], ["2027-01", long_stage, "1"]]), "l.csv")
    import_csv(store, csv_bytes([["month", "stage", "count"], ["2027-02", "O'Brien's", "2"]]), "l2.csv")
    ids = ["a'b\"c", "'; DROP TABLE record_stages; --", "x\\y", "$1", "?"]
    import_csv(store, csv_bytes([["id", "created"]] + [[i, "2027-01-05"] for i in ids]), "r.csv",
               options=ImportOptions(id_column="id", mapping=(("created", stage),)))
    _tables_intact(store)
    assert known_stages(store) == (stage, "O'Brien's")
    stored = sorted(r[0] for r in store.cursor().execute("SELECT record_id FROM record_stages").fetchall())
    assert stored == sorted(ids)
    # The monthly value wins over the 5 records for the same month and stage.
    assert cells(load_actuals(store)) == {("2027-01", stage): 3, ("2027-02", "O'Brien's"): 2}


def test_file_name_is_shown_without_folders_or_control_characters(store):
    result = import_csv(store, VALID, "../../etc/x'; DROP TABLE imports;--\n\r.csv")
    assert result.file_name == "x'; DROP TABLE imports;--.csv"
    assert import_history(store)[0].file_name == result.file_name
    _tables_intact(store)


# ------------------------------------------------------------------------------------------
# read_header
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path,delimiter", [("northwind-leads-export.csv", ","),
                                            ("northwind-deals-export.csv", ";"),
                                            ("northwind-monthly.csv", ",")])
def test_read_header_of_the_demo_files(path, delimiter):
    data = (DEMO / path).read_bytes()
    expected = next(csv.reader(io.StringIO(data.decode("utf-8")), delimiter=delimiter))
    assert read_header(data, path) == tuple(expected)
    assert read_header(b"\xef\xbb\xbf" + data, path) == tuple(expected)
    assert read_header(data.decode("utf-8").encode("utf-16"), path) == tuple(expected)


def test_read_header_folds_spaces_and_reads_quotes():
    data = '  Lead   ID ;"Créé; le";Amount\n1;2;3\n'.encode("latin-1")
    assert read_header(data, "x.csv") == ("Lead ID", "Créé; le", "Amount")


@pytest.mark.parametrize("data", [b"", b"\n\n", gzip.compress(b"a,b\n1,2\n", mtime=0)])
def test_read_header_rejects_unreadable_files(data):
    with pytest.raises(ImportRejected):
        read_header(data, "x.csv")
