"""Hostile and broken inputs: the corpus in tests/hostile/ (its README.md lists every file and
the expected outcome), plus the big and random ones generated here.

* CSV import: each file into a temporary database that already holds actuals. Rejected: an
  :class:`ImportRejected` whose problems name the row and column (or the file-level reason),
  every table unchanged and the staging folder empty. Accepted: the documented interpretation.
* The Actuals page (AppTest) on the nastiest files: an error message, never a traceback, and
  the database unchanged.
* Scenarios and share links: each corpus scenario as a file, as a link and opened in the app.
* CSV exports (SLA table, plan vs actual, actuals, reset SLA): formula-looking text cells are
  neutralised, numbers stay numbers. The pages' download data is read by recording what
  ``st.download_button`` hands to Streamlit's media file manager.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import io
import json
import random
import re
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from sim.data.actuals import load_actuals
from sim.data.history import import_history
from sim.data.ingest import MAX_IMPORT_BYTES, ImportOptions, import_csv
from sim.data.store import STAGING_DIR, Store
from sim.errors import ImportRejected, ScenarioError
from sim.model.forecast import simulate
from sim.model.scenario_io import load_scenario, scenario_from_url_token
from sim.model.targets import required_volumes
from sim.model.validation import scenario_from_dict
from sim.present.sla import sla_csv
from sim.present.spreadsheet import spreadsheet_csv, spreadsheet_safe

from ..conftest import HOSTILE_DIR, ROOT, copied_store, plain, snapshot, snapshot_file, unchecked

HOSTILE = HOSTILE_DIR
SQL = 'x"; DROP TABLE actuals; --'
REC = ImportOptions(id_column="id", mapping=(("created", "Leads"),))
REC_AMOUNT = replace(REC, amount_column="amount")
MB3 = 3 * 2**20

# What the store holds before each import (the "earlier values").
BASE_MONTHLY = b"month,Leads,MQLs,revenue\n2026-11,10,3,100\n2026-12,20,4,200\n"
BASE_RECORDS = b"id,created\nBASE-1,2026-10-01\n"
BASE_CELLS = {("2026-10", "Leads"): 1, ("2026-11", "Leads"): 10, ("2026-11", "MQLs"): 3,
              ("2026-12", "Leads"): 20, ("2026-12", "MQLs"): 4}
BASE_REVENUE = {"2026-11": 100.0, "2026-12": 200.0}


# ------------------------------------------------------------------------------------------
# Expectations
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rejected:
    """Each (rows, column, text) must be named together by one problem; rows () / column
    None: a file-level problem."""
    problems: tuple[tuple[tuple[int, ...], str | None, str], ...]


@dataclass(frozen=True)
class Accepted:
    """The cells and revenue months the import states (on top of the base data)."""
    cells: dict
    revenue: dict
    new_stages: tuple[str, ...] | None = None


def file_level(text: str) -> Rejected:
    return Rejected((((), None, text),))


NOT_ISO = "is not an ISO date (YYYY-MM-DD; for other layouts give the date format"
#: Dates that read in two layouts: the message names both (issue 16).
NOT_ISO_EITHER = "is not an ISO date (YYYY-MM-DD); the column's dates read as %m/%d/%Y or %d/%m/%Y"
NEW_STAGE = "is not a known stage, and a new stage name must be"
YEARS = "is outside the plausible years 1990-2100"

#: (file, options label, options, scenario stages, expectation): tests/hostile/README.md's table.
CSV_CASES = [
    ("empty.csv", "-", ImportOptions(), (), file_level("the file is empty")),
    ("bom-only.csv", "-", ImportOptions(), (), file_level("the file is empty")),
    ("header-only.csv", "-", ImportOptions(), (), file_level("the file has a header but no data rows")),
    ("binary.csv", "-", ImportOptions(), (),
     file_level("the file contains NUL bytes: it is binary, not a CSV text file")),
    ("control-chars.csv", "-", ImportOptions(), (), file_level("the file contains control characters: it is binary")),
    ("nul-bytes.csv", "-", ImportOptions(), (), file_level("the file contains NUL bytes")),
    ("data.csv.gz", "-", ImportOptions(), (), file_level("this is a compressed file (gzip or zip): unpack it")),
    ("zipped.csv", "-", ImportOptions(), (), file_level("this is a compressed file (gzip or zip)")),
    ("utf16.csv", "-", ImportOptions(), (),
     Accepted({("2027-03", "Leads"): 40, ("2027-03", "Qualifiés"): 12}, {"2027-03": 4000.5}, ("Qualifiés",))),
    ("utf16-no-bom.csv", "-", ImportOptions(), (), file_level("the file contains NUL bytes")),
    ("latin1.csv", "-", ImportOptions(), (), Accepted({("2027-03", "Qualifiés"): 12}, {"2027-03": 1500.5})),
    ("cp1252-semicolon.csv", "-", ImportOptions(), (), Accepted({("2027-03", "Leads"): 1234}, {"2027-03": 1234.5})),
    ("mixed-dates-records.csv", "REC", REC, (), Rejected((((3,), "created", NOT_ISO), ((4,), "created", NOT_ISO)))),
    ("mixed-dates-records.csv", "REC %d/%m/%Y", replace(REC, date_format="%d/%m/%Y"), (),
     Rejected((((2,), "created", "is not a date as %d/%m/%Y"), ((4,), "created", "is not a date as %d/%m/%Y")))),
    ("ambiguous-dates-records.csv", "REC", REC, (),
     Rejected((((2,), "created", "'01/02/2027' " + NOT_ISO_EITHER), ((3,), "created", NOT_ISO_EITHER)))),
    ("ambiguous-dates-records.csv", "REC %d/%m/%Y", replace(REC, date_format="%d/%m/%Y"), (),
     Accepted({("2027-02", "Leads"): 1, ("2027-04", "Leads"): 1}, {})),
    ("ambiguous-dates-records.csv", "REC %m/%d/%Y", replace(REC, date_format="%m/%d/%Y"), (),
     Accepted({("2027-01", "Leads"): 1, ("2027-03", "Leads"): 1}, {})),
    ("day-over-12-records.csv", "REC %d/%m/%Y", replace(REC, date_format="%d/%m/%Y"), (),
     Accepted({("2027-02", "Leads"): 2}, {})),
    ("day-over-12-records.csv", "REC %m/%d/%Y", replace(REC, date_format="%m/%d/%Y"), (),
     Rejected((((3,), "created", "'13/02/2027' is not a date as %m/%d/%Y"),))),
    ("percent-count.csv", "-", ImportOptions(), (), Rejected((((3,), "Leads", "'12%' is not a number"),))),
    ("dollar-count.csv", "-", ImportOptions(), (), Rejected((((2,), "Leads", "'$1,200' is not a number"),))),
    ("dollar-revenue.csv", "-", ImportOptions(), (), Accepted({("2027-03", "Leads"): 1200}, {"2027-03": 1200.0})),
    ("dollar-amount-records.csv", "REC+amount", REC_AMOUNT, (),
     Accepted({("2027-01", "Leads"): 2, ("2027-02", "Leads"): 1}, {"2027-01": 1235.5, "2027-02": 1000.0})),
    ("na-and-dash.csv", "-", ImportOptions(), (),
     Accepted({("2026-11", "MQLs"): 5, ("2027-03", "Leads"): 7}, {}, ())),
    ("negative-count.csv", "-", ImportOptions(), (), Rejected((((3,), "Leads", "'-3' is negative"),))),
    ("negative-amount-records.csv", "REC+amount", REC_AMOUNT, (),
     Rejected((((2,), "amount", "'-500' is negative"),))),
    ("huge-number.csv", "-", ImportOptions(), (),
     Rejected((((2,), "Leads", "is implausibly large (over 1,000,000,000)"),
               ((3,), "revenue", "is implausibly large (over 1,000,000,000,000)")))),
    ("duplicate-headers.csv", "-", ImportOptions(), (), file_level("columns 2 and 3 have the same name 'leads'")),
    ("sql-header.csv", "-", ImportOptions(), (), Rejected((((), SQL, NEW_STAGE),))),
    ("sql-header.csv", "map to MQLs", ImportOptions(mapping=((SQL, "MQLs"),)), (),
     Accepted({("2027-03", "MQLs"): 3, ("2027-03", "Leads"): 4}, {}, ())),
    ("sql-header.csv", "ignore", ImportOptions(ignore=(SQL,)), (), Accepted({("2027-03", "Leads"): 4}, {}, ())),
    ("formula-header.csv", "-", ImportOptions(), (), Rejected((((), "=SUM(A1)", "'=SUM(A1)' " + NEW_STAGE),))),
    ("formula-header.csv", "scenario stage", ImportOptions(), ("=SUM(A1)",),
     file_level("the scenario's stage '=SUM(A1)' must be at most 40 characters of letters")),
    ("formula-cells-monthly.csv", "-", ImportOptions(), (),
     Rejected((((2,), "month", "'=DATE(2027,3,1)' is not a month"), ((3,), "Leads", "'=1+1' is not a number"),
               ((4,), "Leads", "'@SUM(A1)' is not a number")))),
    ("formula-cells-records.csv", "REC+amount", REC_AMOUNT, (),
     Accepted({("2027-01", "Leads"): 4}, {"2027-01": 1000.0})),
    ("infinity-month.csv", "-", ImportOptions(), (), Rejected((((2,), "month", "'infinity' " + YEARS),))),
    ("infinity-date-records.csv", "REC", REC, (),
     Rejected((((2,), "created", "'infinity' " + YEARS), ((3,), "created", "'-infinity' " + YEARS)))),
    ("too-many-columns.csv", "-", ImportOptions(), (),
     file_level("the file has 201 columns; at most 200 are supported")),
    ("zero-width-header.csv", "-", ImportOptions(), (), Accepted({("2027-03", "Leads"): 5}, {}, ())),
    ("mixed-line-ends.csv", "-", ImportOptions(), (),
     Accepted({("2027-03", "Leads"): 40, ("2027-04", "Leads"): 44}, {"2027-03": 4000.0, "2027-04": 4400.0})),
]


# ------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------

def seed(path: Path) -> Store:
    store = Store(path)
    import_csv(store, BASE_MONTHLY, "base.csv")
    import_csv(store, BASE_RECORDS, "base-records.csv", options=REC)
    return store


@pytest.fixture(scope="module")
def base_db_file(tmp_path_factory) -> Path:
    """The base data imported once (``seed``): each test works on a copy."""
    path = tmp_path_factory.mktemp("base") / "funnel.duckdb"
    seed(path).close()
    return path


@pytest.fixture
def store(base_db_file, store_from):
    return store_from(base_db_file)


def cells(store: Store) -> dict[tuple[str, str], int]:
    return {(m, s): c for m, s, c in load_actuals(store).counts}


def revenue(store: Store) -> dict[str, float]:
    return dict(load_actuals(store).revenue)


def names(problem: str, rows: tuple[int, ...], column: str | None, text: str) -> bool:
    return (text in problem
            and (column is None or f"column '{column}'" in problem)
            and all(re.search(rf"\brows? (?:\d+, )*{n}\b", problem) for n in rows))


def assert_rejected(store: Store, data: bytes, file_name: str, options=ImportOptions(), stages=(),
                    expected: Rejected | None = None, **kwargs) -> ImportRejected:
    before = snapshot(store)
    with pytest.raises(ImportRejected) as info:
        import_csv(store, data, file_name, options=options, scenario_stages=stages, **kwargs)
    problems = info.value.problems
    assert problems and all(isinstance(p, str) and p for p in problems)
    assert str(info.value).startswith(f"{file_name}: ")
    for rows, column, text in (expected.problems if expected else ()):
        assert any(names(p, rows, column, text) for p in problems), (rows, column, text, problems)
    assert snapshot(store) == before
    assert list(store.staging_dir.iterdir()) == []
    return info.value


def corpus(name: str) -> bytes:
    return (HOSTILE / name).read_bytes()


# ------------------------------------------------------------------------------------------
# The corpus and its README
# ------------------------------------------------------------------------------------------

def readme_rows() -> list[tuple[str, ...]]:
    """(file, cells...) of every row of the README's tables."""
    rows = []
    for line in (HOSTILE / "README.md").read_text(encoding="utf-8").splitlines():
        found = re.match(r"\| `([^`]+)` \|", line)
        if found:
            rows.append((found.group(1), *[c.strip() for c in re.split(r"(?<!\\)\|", line)[2:-1]]))
    return rows


def test_the_readme_lists_every_corpus_file_and_every_case():
    files = {p.name for p in HOSTILE.iterdir()} - {"README.md"}
    listed = [r[0] for r in readme_rows()]
    assert set(listed) == files
    csv_rows = [(r[0], r[1]) for r in readme_rows() if len(r) == 3]
    assert len(csv_rows) == len(CSV_CASES)
    assert [f for f, _ in csv_rows] == [c[0] for c in CSV_CASES]          # same order, same cases
    assert {f for f in files if f.startswith("scenario-")} == set(SCENARIO_CASES)
    for file, _, _, _, expected in CSV_CASES:                                # the outcome matches
        outcomes = [r[2] for r in readme_rows() if r[0] == file]
        word = "accepted" if isinstance(expected, Accepted) else "rejected"
        assert any(o.startswith(word) for o in outcomes), (file, outcomes)
    total = sum(p.stat().st_size for p in HOSTILE.iterdir())
    assert total < 100_000, f"the committed corpus should stay small ({total:,} bytes)"


# ------------------------------------------------------------------------------------------
# CSV import: the corpus
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("file, label, options, stages, expected", CSV_CASES,
                         ids=[f"{c[0]}[{c[1]}]" for c in CSV_CASES])
def test_corpus_csv(store, file, label, options, stages, expected):
    data = corpus(file)
    if isinstance(expected, Rejected):
        assert_rejected(store, data, file, options, stages, expected)
        return
    result = import_csv(store, data, file, options=options, scenario_stages=stages)
    assert not result.already_imported and result.file_name == file
    assert cells(store) == {**BASE_CELLS, **expected.cells}
    assert revenue(store) == pytest.approx({**BASE_REVENUE, **expected.revenue})
    if expected.new_stages is not None:
        assert result.new_stages == expected.new_stages
    assert list(store.staging_dir.iterdir()) == []
    for view in ("actual_counts", "actual_revenue", "record_reached"):       # nothing was dropped
        store.cursor().execute(f"SELECT count(*) FROM {view}").fetchone()


def test_formula_looking_record_ids_are_stored_verbatim(store):
    import_csv(store, corpus("formula-cells-records.csv"), "formula-cells-records.csv", options=REC_AMOUNT)
    ids = {r[0] for r in store.cursor().execute("SELECT record_id FROM record_stages").fetchall()}
    assert ids == {"BASE-1", "=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"}
    amounts = store.cursor().execute("SELECT record_id, amount FROM record_amounts ORDER BY amount").fetchall()
    assert amounts == [("=1+1", 100.0), ("+cmd|' /C calc'!A0", 200.0), ("-2+3", 300.0), ("@SUM(A1)", 400.0)]


def test_a_sql_header_never_reaches_the_database(store):
    """Rejected as a stage name, or imported under a mapping: every table and view survives."""
    data = corpus("sql-header.csv")
    assert SQL.encode() in data
    assert_rejected(store, data, "sql-header.csv")
    import_csv(store, data, "sql-header.csv", options=ImportOptions(mapping=((SQL, "MQLs"),)))
    snapshot(store)                                       # every table still there
    options = [json.loads(r[0]) for r in store.cursor().execute("SELECT options FROM imports").fetchall()]
    assert [SQL, "MQLs"] in [m for o in options for m in o["mapping"]]   # kept as data, verbatim
    assert "DROP TABLE" not in " ".join(r[0] for r in store.cursor().execute(
        "SELECT name FROM stages").fetchall())


# ------------------------------------------------------------------------------------------
# CSV import: generated hostile files
# ------------------------------------------------------------------------------------------

LONG_LINES = {
    "a 3 MB count": (b"month,Leads\n2027-03," + b"1" * MB3 + b"\n",
                     (((2,), "Leads", "is implausibly large (over 1,000,000,000)"),)),
    "a 3 MB quoted count": (b'month,Leads\n2027-03,"' + b"1" * MB3 + b'"\n',
                            (((2,), "Leads", "is implausibly large"),)),
    # A blank line makes the importer number rows with Python's csv module (field limit 128 kB).
    "a 3 MB cell after a blank line": (b"month,Leads,Note\n\n2027-03,x," + b"y" * MB3 + b"\n",
                                       (((), "Leads", "'x' is not a number"),
                                        ((), "Note", "is not a number"))),
    "a 3 MB line without delimiters": (b"month,Leads\n" + b"x" * MB3 + b"\n",
                                       (((2,), None, "has 1 fields but the header has 2"),)),
    "a 3 MB header": (b"month," + b"L" * MB3 + b"\n2027-03,1\n",
                      (((), None, "the header line cannot be read: a column name is longer than"),)),
}


@pytest.mark.parametrize("case", list(LONG_LINES))
def test_a_3_mb_single_line_is_rejected_cleanly(store, case):
    data, problems = LONG_LINES[case]
    assert len(data) > MB3
    error = assert_rejected(store, data, "long-line.csv", expected=Rejected(problems))
    assert all(len(p) < 1000 for p in error.problems)          # values are shown shortened


@pytest.mark.parametrize("limit, size, message", [
    (2**20, 2**20 + 1, "the file is 1,048,577 bytes, over the limit of 1,048,576 bytes"),
    (3 * 2**20, 4 * 2**20, "the file is 4.0 MB, over the limit of 3 MB"),
    (1000, 1001, "the file is 1,001 bytes, over the limit of 1,000 bytes"),
])
def test_a_file_over_the_size_limit_is_rejected_before_it_is_read(store, limit, size, message):
    valid = b"month,Leads\n2027-03,1\n"
    data = valid + b"#" * (size - len(valid))
    assert len(data) == size
    assert_rejected(store, data, "big.csv", expected=file_level(message), max_bytes=limit)
    # One byte less is within the limit (and then the padding line is the problem).
    assert_rejected(store, data[:limit], "big.csv", expected=Rejected((((3,), None, "has 1 fields"),)),
                    max_bytes=limit)


@pytest.mark.parametrize("seed_", range(5))
def test_random_bytes_are_rejected_cleanly(store, seed_):
    data = random.Random(seed_).randbytes(200 * (seed_ + 1))
    assert_rejected(store, data, "random.csv")


def test_mixed_line_ends_keep_spreadsheet_row_numbers(store):
    data = b"month,Leads\r\n2027-03,1\n\r\n2027-04,x\r\n"          # the blank line is row 3
    assert_rejected(store, data, "mixed.csv", expected=Rejected((((4,), "Leads", "'x' is not a number"),)))


def test_the_content_decides_not_the_name(store):
    """A plain CSV named .csv.gz is read as the CSV it is; a gzip named .csv is refused."""
    plain = b"month,Leads\n2027-03,9\n"
    assert import_csv(store, plain, "export.csv.gz").stages == ("Leads",)
    assert cells(store)[("2027-03", "Leads")] == 9
    assert_rejected(store, corpus("data.csv.gz"), "plain-looking.csv", expected=file_level("compressed file"))


# ------------------------------------------------------------------------------------------
# Scenarios and share links
# ------------------------------------------------------------------------------------------

#: corpus file -> the message fragments of its ScenarioError (None: a valid scenario).
SCENARIO_CASES = {
    "scenario-valid.json": None,
    "scenario-formula-names.json": ["stages[0].name must be at most 40 characters of letters, digits",
                                    "stages[1].name must be", "stages[2].name must be"],
    "scenario-control-names.json": ["name contains control or invisible characters (U+001B)",
                                    "stages[1].name contains control or invisible characters (U+0001)",
                                    "stages[2].name contains control or invisible characters (U+200B)"],
    "scenario-markdown-names.json": ["stages[1].name must be", "stages[2].name must be"],
    "scenario-missing-fields.json": ["start is missing", "goal is missing", "top is missing", "stages is missing",
                                     "deal is missing"],
    "scenario-wrong-types.json": ["name must be non-empty text", "months must be a number, not text",
                                  "goal must be a number, not text", "trials must be a number, not true/false",
                                  "stages must be a list, not an object", "deal must be an object, not a list"],
    "scenario-nan.json": ["NaN is not a valid number in a scenario"],
    "scenario-infinity.json": ["Infinity is not a valid number in a scenario"],
    "scenario-overflow-float.json": ["goal must be a finite number"],
    "scenario-huge-integer.json": ["trials must be a finite number"],
    "scenario-too-many-digits.json": ["not a valid scenario (a number has thousands of digits)"],
    "scenario-rates-outside.json": ["stages[1].rate.mean must be < 1 (got 1.5)",
                                    "stages[2].rate.fixed must be >= 0 (got -0.1)"],
    "scenario-p90-below-p10.json": ["stages[2].rate.p90 must be > p10"],
    "scenario-lag-not-one.json": ["stages[1].lag must sum to 1 (got 0.9)"],
    "scenario-trials-1e9.json": ["trials must be <= 2,000,000 (got 1,000,000,000)"],
    "scenario-surrogate.json": ["the scenario holds text that is not valid Unicode"],
    "scenario-duplicate-key.json": ["field 'goal' appears twice"],
    "scenario-latin1.json": ["the scenario is not UTF-8 text"],
    "scenario-empty.json": ["not valid JSON (line 1, column 1: Expecting value)"],
    "scenario-array.json": ["the scenario must be an object, not a list"],
}


def link(raw: bytes) -> str:
    """A share-link token holding ``raw`` (as Scenario.to_url_token packs a document)."""
    return "s1." + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def ten_thousand_stages() -> bytes:
    """The valid scenario with 10,000 (alike, so that the link stays short) stages."""
    doc = json.loads(corpus("scenario-valid.json"))
    doc["stages"] = [{"name": "S"}] * 10_000                 # 150 kB: under the 256 kB limit
    return json.dumps(doc).encode()


#: Generated hostile links -> a message fragment.
LINKS = {
    "10,000 stages": (lambda: link(ten_thousand_stages()), "stages must have between 2 and 12 stages (got 10000)"),
    "a 1 MB token": (lambda: "s1." + "A" * 2**20, "the link's scenario is too long"),
    "a 100 kB token": (lambda: "s1." + "A" * 100_000, "the link's scenario is too long"),
    "random bytes as base64": (lambda: "s1." + base64.urlsafe_b64encode(random.Random(1).randbytes(3000)).decode(),
                               "the link's scenario is damaged or truncated"),
    "random bytes, compressed": (lambda: link(random.Random(2).randbytes(3000)), "the scenario is not UTF-8 text"),
    "random text": (lambda: random.Random(3).randbytes(500).decode("latin-1"), "unknown format or version"),
}


@pytest.mark.parametrize("file", list(SCENARIO_CASES))
def test_corpus_scenario_file_and_link(file):
    path, expected = HOSTILE / file, SCENARIO_CASES[file]
    if expected is None:
        scenario = load_scenario(path)
        assert scenario_from_url_token(link(path.read_bytes())) == scenario
        assert scenario_from_url_token(scenario.to_url_token()) == scenario
        return
    with pytest.raises(ScenarioError) as from_file:
        load_scenario(path)
    assert str(from_file.value).startswith(f"{path}: ")
    with pytest.raises(ScenarioError) as from_link:
        scenario_from_url_token(link(path.read_bytes()))
    for error in (from_file.value, from_link.value):
        for fragment in expected:
            assert any(fragment in p for p in error.problems), (fragment, error.problems)


def test_ten_thousand_stages_as_a_file(tmp_path):
    path = tmp_path / "stages.json"
    path.write_bytes(ten_thousand_stages())
    with pytest.raises(ScenarioError, match=r"stages must have between 2 and 12 stages \(got 10000\)"):
        load_scenario(path)


@pytest.mark.parametrize("case", list(LINKS))
def test_generated_hostile_links(case):
    make, fragment = LINKS[case]
    with pytest.raises(ScenarioError) as info:
        scenario_from_url_token(make())
    assert fragment in str(info.value)


def open_link(token: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.query_params["s"] = token
    at.run()
    return at


@pytest.mark.parametrize("token, fragment", [
    pytest.param(link(corpus("scenario-surrogate.json")), "not valid Unicode", id="surrogate"),
    pytest.param(link(corpus("scenario-too-many-digits.json")), "thousands of digits", id="too-many-digits"),
    pytest.param(link(corpus("scenario-huge-integer.json")), "trials must be a finite number", id="huge-integer"),
    pytest.param(link(corpus("scenario-nan.json")), "NaN is not a valid number", id="nan"),
    pytest.param(LINKS["10,000 stages"][0](), "stages must have between 2 and 12", id="10000-stages"),
    pytest.param(LINKS["a 100 kB token"][0](), "too long", id="100kB-token"),
    pytest.param(LINKS["random bytes, compressed"][0](), "not UTF-8", id="random-bytes"),
])
@pytest.mark.app         # the pages, through AppTest
def test_the_app_opens_a_hostile_link_on_the_demo_with_a_warning(demo, token, fragment):
    at = open_link(token)
    assert not at.exception, [e.value for e in at.exception]
    (warning,) = [w.value for w in at.warning if "could not be opened" in w.value]
    warning = re.sub(r"\\(.)", r"\1", warning)         # the page escapes Markdown in the link's text
    assert fragment in warning and "Showing the demo scenario instead" in warning
    assert at.session_state["scenario"] == demo


@pytest.mark.app         # the pages, through AppTest
def test_the_app_says_a_1_mb_link_is_too_long(demo):
    """Finding 12: Streamlit itself drops a query string over 524,288 characters (it logs
    "Ignoring query string ..."); the page opened the demo without a word. It now says why (from
    the server's second script run on; ``python -m ui.serve`` from the first)."""
    open_link("")
    at = open_link(LINKS["a 1 MB token"][0]())
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["scenario"] == demo
    (warning,) = [plain(w.value) for w in at.warning if "too long" in w.value]
    assert warning.startswith("This link is too long to open") and "Showing the demo scenario instead" in warning


# ------------------------------------------------------------------------------------------
# The Actuals page on the nastiest files
# ------------------------------------------------------------------------------------------

@pytest.fixture
def page_db(base_db_file, tmp_path, monkeypatch):
    """The page's database, created (with the base data) before the page opens it."""
    copied_store(base_db_file, tmp_path).close()
    path = tmp_path / base_db_file.name
    monkeypatch.setenv("FUNNEL_DB", str(path))
    return path


@contextlib.contextmanager
def page_store(path: Path):
    """The page's database, opened read-only for a look and closed again (the app holds
    nothing open between operations, so the test must not either)."""
    with Store(path, read_only=True) as store:
        yield store


def open_actuals(scenario=None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    if scenario is not None:
        at.query_params["s"] = scenario.to_url_token()
    at.run()
    at.switch_page("app_pages/actuals.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def upload(at: AppTest, file_name: str, data: bytes) -> AppTest:
    (uploader,) = [u for u in at.file_uploader if u.key and u.key.startswith("actuals-upload")]
    uploader.set_value((file_name, data, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def three_mb_after_blank_line() -> bytes:
    return LONG_LINES["a 3 MB cell after a blank line"][0]


def over_the_limit() -> bytes:
    head = b"month,Leads\n2027-03,1\n"
    return head + b"#" * (MAX_IMPORT_BYTES + 1 - len(head))


#: (file name, bytes, the error's text): rejected on upload (preview) or on Import.
APP_FILES = {
    "binary": ("binary.csv", lambda: corpus("binary.csv"), "NUL bytes"),
    "nul": ("nul-bytes.csv", lambda: corpus("nul-bytes.csv"), "NUL bytes"),
    "utf16-no-bom": ("utf16-no-bom.csv", lambda: corpus("utf16-no-bom.csv"), "NUL bytes"),
    # The uploader takes .csv and .txt only (Streamlit refuses data.csv.gz itself): a renamed gzip.
    "gzip": ("renamed-gzip.csv", lambda: corpus("data.csv.gz"), "compressed file"),
    "sql-header": ("sql-header.csv", lambda: corpus("sql-header.csv"), NEW_STAGE),
    "formula-header": ("formula-header.csv", lambda: corpus("formula-header.csv"), NEW_STAGE),
    "3 MB line": ("long.csv", lambda: LONG_LINES["a 3 MB count"][0], "implausibly large"),
    "3 MB cell after a blank line": ("long-blank.csv", three_mb_after_blank_line, "is not a number"),
    "3 MB header": ("long-header.csv", lambda: LONG_LINES["a 3 MB header"][0], "a column name is longer than"),
    "over the limit": ("big.csv", over_the_limit,
                       "the file is 52,428,801 bytes, over the limit of 52,428,800 bytes"),
}


@pytest.mark.app         # the pages, through AppTest
@pytest.mark.parametrize("case", list(APP_FILES))
def test_the_actuals_page_shows_an_error_and_changes_nothing(page_db, case):
    file_name, make, reason = APP_FILES[case]
    at = open_actuals()
    before = snapshot_file(page_db)
    upload(at, file_name, make())
    if "actuals-import" in [b.key for b in at.button]:
        at.button(key="actuals-import").click().run()
        assert not at.exception, [e.value for e in at.exception]
        (error,) = [plain(e.value) for e in at.error]
        assert f"{file_name}: not imported — the database is unchanged" in error
    else:                                       # refused on upload: no Import button at all
        (error,) = [plain(e.value) for e in at.error]
        assert file_name in error
    assert reason in error, error
    assert not at.success
    assert snapshot_file(page_db) == before
    assert list((page_db.parent / STAGING_DIR).iterdir()) == []
    assert next(t.label for t in at.tabs if t.label.startswith("History")) == "History (2)"


@pytest.mark.app         # the pages, through AppTest
def test_the_actuals_page_imports_utf16(page_db):
    at = upload(open_actuals(), "utf16.csv", corpus("utf16.csv"))
    at.button(key="actuals-import").click().run()
    assert not at.exception and not at.error
    (success,) = [plain(s.value) for s in at.success]
    assert success.startswith("Imported utf16.csv as import #3 (monthly format)")
    with page_store(page_db) as store:
        assert cells(store)[("2027-03", "Qualifiés")] == 12


# ------------------------------------------------------------------------------------------
# CSV exports are safe to open in a spreadsheet
# ------------------------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def assert_spreadsheet_safe(text: str, numeric: set[str]) -> list[dict]:
    """No cell (header included) starts like a formula unless it is a plain number; the
    ``numeric`` columns hold numbers (or nothing) in every row. Returns the rows."""
    table = list(csv.reader(io.StringIO(text)))
    assert table, "empty CSV"
    for row in table:
        for cell in row:
            assert not cell.startswith(FORMULA_START) or is_number(cell), (cell, row)
    header, rows = table[0], [dict(zip(table[0], r)) for r in table[1:]]
    assert rows and numeric <= set(header), (numeric, header)
    for row in rows:
        for column in numeric:
            assert row[column] == "" or is_number(row[column]), (column, row)
    return rows


FORMULA_STAGES = ("=SUM(A1)", "+SQLs", "@Customers")


@pytest.fixture(scope="module")
def hostile_scenario():
    """The corpus scenario whose names look like formulas (=SUM(A1), +SQLs, @Customers), which
    validation refuses now: built without validation, as a caller of the library or a database
    written before the stage-name rule can still hold it. The CSV exports neutralise it anyway."""
    doc = json.loads(corpus("scenario-formula-names.json"))
    names = [s["name"] for s in doc["stages"]]
    for i, stage in enumerate(doc["stages"]):
        stage["name"] = f"Stage {i}"
    valid = scenario_from_dict(doc | {"name": "valid"})
    assert tuple(names) == FORMULA_STAGES
    return unchecked(valid, name=doc["name"] if "name" in doc else None, stage_names=names)


def test_spreadsheet_safe_neutralises_each_formula_start():
    for text in ("=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1"):
        assert spreadsheet_safe(text) == "'" + text
    for text in ("Leads", "1+1", " =1", "'=1", "", "2027-01"):
        assert spreadsheet_safe(text) == text
    assert spreadsheet_safe("\r=1") == "'=1"               # the carriage return is a control character


def test_spreadsheet_cells_lose_control_and_invisible_characters():
    """Finding 7: reset-sla.csv carried raw control characters (a name stored before the name
    rules); every CSV export goes through spreadsheet_csv, which removes them."""
    frame = pd.DataFrame([{"stage": "Le\x1b[31mads\u200b", "owner": "\x01sales", "reset": 1.5}])
    text = spreadsheet_csv(frame.rename(columns={"stage": "st\u202eage"}))
    assert text == "stage,owner,reset\nLe[31mads,sales,1.5\n"


def test_the_sla_csv_neutralises_formula_names_and_keeps_numbers(hostile_scenario):
    sc = hostile_scenario
    text = sla_csv(required_volumes(sc, 0.8, trials=1000), simulate(sc, trials=1000))
    rows = assert_spreadsheet_safe(text, {"confidence", "commitment", "expected_value_plan", "current_plan_p10",
                                          "current_plan_p50", "current_plan_p90"})
    assert {r["stage"] for r in rows} == {"'=SUM(A1)", "'+SQLs", "'@Customers"}
    assert len(rows) == len(sc.stages) * sc.months


@pytest.fixture
def downloads(monkeypatch):
    """{file name: bytes} of every st.download_button: static data (Streamlit hands those to
    its media file manager; AppTest keeps only the URL), and deferred data (made when the
    button is clicked: here made at once, as a click would)."""
    seen: dict[str, bytes] = {}
    add = MediaFileManager.add
    add_deferred = MediaFileManager.add_deferred

    def record_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        if file_name:
            data = data_callable()
            seen[file_name] = data if isinstance(data, bytes) else str(data).encode()
        return add_deferred(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    def record(self, path_or_data, mimetype, coordinates, file_name=None, is_for_static_download=False):
        if is_for_static_download and file_name:
            seen[file_name] = path_or_data if isinstance(path_or_data, bytes) else str(path_or_data).encode()
        return add(self, path_or_data, mimetype, coordinates, file_name=file_name,
                   is_for_static_download=is_for_static_download)

    monkeypatch.setattr(MediaFileManager, "add", record)
    monkeypatch.setattr(MediaFileManager, "add_deferred", record_deferred)
    return seen


@pytest.mark.app         # the pages, through AppTest
def test_a_formula_named_link_opens_the_demo_and_every_sla_download_is_safe(hostile_scenario, downloads, demo):
    """Finding 8: a link whose stage names look like formulas is refused (the one stage-name
    rule, on every path); the pages show the demo, and their SLA downloads are safe."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.query_params["s"] = replace(hostile_scenario, trials=1000).to_url_token()
    at.run()
    assert any("stages[0].name must be" in plain(w.value) for w in at.warning)
    at.switch_page("app_pages/summary.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["scenario"] == demo
    sla_files = [name for name in downloads if name.endswith("sla.csv")]
    assert len(sla_files) == 2              # the Plan page's and the Summary's
    for name in sla_files:
        rows = assert_spreadsheet_safe(downloads[name].decode(), {"commitment", "current_plan_p50"})
        assert {r["stage"] for r in rows} == set(demo.stage_names)


HOSTILE_MONTHLY = b'month,Leads,revenue\n2027-01,100,1500\n2027-02,90,1000\n'


def add_legacy_stages(path: Path) -> None:
    """Stages with formula names and their counts, written as a version from before the
    stage-name rule could (through a scenario's stage names): the page must export them safely."""
    with Store(path) as store, store.transaction() as cur:
        cur.execute("INSERT INTO imports (id, file_name, content_hash, format, options, imported_at, rows, stages, "
                    "new_stages, first_month, last_month, summary, undone_at) "
                    "VALUES (99, 'legacy.csv', 'x', 'monthly', '{}', now()::TIMESTAMP, 1, "
                    "?, ?, DATE '2027-01-01', DATE '2027-01-01', 'legacy', NULL)",
                    [list(FORMULA_STAGES), list(FORMULA_STAGES)])
        for i, name in enumerate(FORMULA_STAGES):
            cur.execute("INSERT INTO stages VALUES (?, ?, 100 + ?, 99)", [name.casefold(), name, i])
            cur.execute("INSERT INTO monthly_counts (import_id, month, stage_key, count) "
                        "VALUES (99, DATE '2027-01-01', ?, ?)", [name.casefold(), 7 + i])


@pytest.fixture
def hostile_page(page_db, downloads):
    """The Actuals page on a database holding formula-named stages (written before the rule),
    with a plan of record named like a formula and a file named like one imported:
    (AppTest, downloads)."""
    add_legacy_stages(page_db)
    at = open_actuals()
    at.text_input(key="actuals-plan-name").set_value("=HYPERLINK(\"http://example.com\")")
    at.button(key="actuals-save-plan").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    upload(at, "=evil.csv", HOSTILE_MONTHLY)
    at.button(key="actuals-import").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox(key="actuals-plan").value == "=HYPERLINK(\"http://example.com\")"
    return at, downloads


@pytest.mark.app         # the pages, through AppTest
def test_the_plan_vs_actual_download_is_safe(hostile_page):
    _, downloads = hostile_page
    rows = assert_spreadsheet_safe(downloads["plan-vs-actual.csv"].decode(),
                                   {"actual", "p10", "p50", "p90", "variance", "variance_pct"})
    assert ("2027-01", "Leads", "100") in {(r["month"], r["stage"], r["actual"]) for r in rows}


@pytest.mark.app         # the pages, through AppTest
def test_the_actuals_download_is_safe(hostile_page):
    _, downloads = hostile_page
    text = downloads["actuals.csv"].decode()
    header = next(csv.reader(io.StringIO(text)))
    assert set(FORMULA_STAGES) & set(header) == set()
    assert {"'" + name for name in FORMULA_STAGES} <= set(header)
    assert_spreadsheet_safe(text, {"revenue"})


@pytest.mark.app         # the pages, through AppTest
def test_the_actuals_download_keeps_numbers_numeric(hostile_page):
    """In the actuals download counts and revenue stay numbers (the header is neutralised)."""
    _, downloads = hostile_page
    table = list(csv.reader(io.StringIO(downloads["actuals.csv"].decode())))
    header, rows = table[0], [dict(zip(table[0], r)) for r in table[1:]]
    assert header[0] == "month" and header[-1] == "revenue"
    assert [r["month"] for r in rows] == sorted({m for m, _ in BASE_CELLS} | {"2027-01", "2027-02"})
    for row in rows:
        assert all(v == "" or is_number(v) for k, v in row.items() if k != "month"), row
    by_month = {r["month"]: r for r in rows}
    assert by_month["2027-01"]["'=SUM(A1)"] == "7" and float(by_month["2027-02"]["revenue"]) == 1000


@pytest.mark.app         # the pages, through AppTest
def test_the_reset_sla_download_is_safe(hostile_page):
    at, downloads = hostile_page
    at.switch_page("app_pages/checkin.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="checkin-plan").value == "=HYPERLINK(\"http://example.com\")"
    rows = assert_spreadsheet_safe(downloads["reset-sla.csv"].decode(), {"reset", "plan", "confidence"})
    assert {r["stage"] for r in rows} <= {"Visits", "Leads", "MQLs", "SQLs", "Proposals", "Customers"}
    assert {r["owner"] for r in rows} <= {"marketing", "sales", "shared"}


@pytest.mark.app         # the pages, through AppTest
def test_the_import_history_of_the_formula_named_file_is_text(page_db, hostile_page):
    """The file name is shown (escaped), never exported; the import history keeps it as text."""
    with page_store(page_db) as store:
        assert import_history(store)[0].file_name == "=evil.csv"
