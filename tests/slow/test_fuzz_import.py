"""Property-based fuzzing (hypothesis) of the CSV importer and of the scenario loader.

The property: no input makes :func:`sim.data.ingest.import_csv` (nor ``preview`` / ``read_header``,
which the Actuals page calls on every upload) raise anything but :class:`ImportRejected`, and
after a rejection every table of the database is exactly as before and the staging folder is
empty. An accepted file leaves only plausible actuals (months 1990-2100, whole non-negative
counts, finite non-negative revenue), and undoing it brings the data back.

For scenarios, ``tests/unit/test_properties.py`` already fuzzes ``scenario_from_json`` with
JSON-like documents (``json_values``), a mutated demo and the link decoder with text and hex;
here the gaps: raw bytes, raw JSON literals no ``json.dumps`` output contains (huge integers,
numbers with thousands of digits, unpaired surrogate escapes, NaN/Infinity), and share links
that *are* valid base64 + zlib around such documents, so the decoder reaches the validator.

Deterministic: ``derandomize=True`` and no example database; the number of examples is bounded
(``FUZZ_EXAMPLES`` scales them, e.g. ``FUZZ_EXAMPLES=20`` for a long bug hunt).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import os
import re
import zlib
from datetime import date

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from sim.data.actuals import load_actuals
from sim.data.history import undo_import
from sim.data.ingest import ImportOptions, ImportResult, import_csv, preview, read_header
from sim.data.store import Store
from sim.errors import ImportRejected, ScenarioError
from sim.model.scenario_io import load_scenario, scenario_from_json, scenario_from_url_token

from ..conftest import DEMO_PATH, json_values, snapshot

SCALE = max(1, int(os.environ.get("FUZZ_EXAMPLES", "1")))


def fuzz_settings(examples: int):
    return settings(max_examples=examples * SCALE, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


# ------------------------------------------------------------------------------------------
# The store under fuzzing: one per test, with some data in it so "unchanged" means something
# ------------------------------------------------------------------------------------------

SCENARIO_STAGES = ("Visits", "Leads", "MQLs", "SQLs", "Proposals", "Customers")
BASE_MONTHLY = b"month,Visits,Leads,revenue\n2027-01,1000,50,1200.5\n2027-02,1100,55,\n"
BASE_RECORDS = b"id,created,won,amount\nA,2027-01-05,2027-02-01,500\nB,2027-01-09,,\n"
BASE_RECORDS_OPTIONS = ImportOptions(format="records", id_column="id", amount_column="amount",
                                     mapping=(("created", "Leads"), ("won", "Customers")))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = Store(tmp_path_factory.mktemp("fuzz") / "funnel.duckdb")
    import_csv(s, BASE_MONTHLY, "base.csv")
    import_csv(s, BASE_RECORDS, "base-records.csv", options=BASE_RECORDS_OPTIONS)
    yield s
    s.close()


def assert_plausible(store: Store) -> None:
    actuals = load_actuals(store)
    for month in actuals.months:
        assert re.fullmatch(r"\d{4}-\d{2}", month) and 1990 <= int(month[:4]) <= 2100, month
    for _, _, count in actuals.counts:
        assert isinstance(count, int) and 0 <= count <= 1e9
    for _, value in actuals.revenue:
        assert math.isfinite(value) and value >= 0


def check_import(store: Store, data: bytes, name: str, options: ImportOptions = ImportOptions(),
                 scenario_stages: tuple[str, ...] = (), max_bytes: int = 1 << 20) -> str:
    """Import; assert the property; undo an accepted import. Returns "rejected" / "accepted"."""
    for reader in (preview, read_header):          # what the page runs on every upload
        try:
            reader(data, name)
        except ImportRejected:
            pass
    before = snapshot(store)
    try:
        result = import_csv(store, data, name, options=options, scenario_stages=scenario_stages, max_bytes=max_bytes)
    except ImportRejected as exc:
        assert exc.problems and all(isinstance(p, str) and p.strip() for p in exc.problems), exc.problems
        assert str(exc).strip()
        assert snapshot(store) == before
        outcome = "rejected"
    else:
        assert isinstance(result, ImportResult) and result.message
        assert_plausible(store)
        if not result.already_imported:
            undo_import(store, result.import_id)
        after = snapshot(store)
        assert {t: r for t, r in after.items() if t != "imports"} == \
               {t: r for t, r in before.items() if t != "imports"}
        outcome = "accepted"
    assert list(store.staging_dir.iterdir()) == []
    return outcome


# ------------------------------------------------------------------------------------------
# (a) arbitrary bytes as a CSV file
# ------------------------------------------------------------------------------------------

PREFIXES = [b"", b"month,Leads\n", b"id,created\n", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff",
            b"\x1f\x8b", b"PK\x03\x04", b"month;Leads;revenue\r\n2027-01;"]
RECORDS = ImportOptions(id_column="id", mapping=(("created", "Leads"),))

any_bytes = st.one_of(
    st.binary(max_size=3000),
    st.tuples(st.sampled_from(PREFIXES), st.binary(max_size=400)).map(lambda t: t[0] + t[1]),
    st.text(max_size=400).map(lambda s: s.encode("utf-8")),
    st.text(max_size=200).map(lambda s: s.encode("utf-16")),
)


@fuzz_settings(120)
@given(data=any_bytes, records=st.booleans())
def test_arbitrary_bytes_are_imported_or_rejected_cleanly(store, data, records):
    event(check_import(store, data, "fuzz.csv", RECORDS if records else ImportOptions(), SCENARIO_STAGES))


# ------------------------------------------------------------------------------------------
# (b) structured fuzz: CSV text from a grammar of headers and cells, with random options
# ------------------------------------------------------------------------------------------

HEADER_WORDS = ["month", "Month", " MONTH ", "stage", "count", "revenue", "Revenue ", "id", "ID", "amount",
                "Visits", "Leads", "leads", "MQLs", "SQLs", "Customers", "Created", "Won date", "Lead ID",
                "Amount", "Qualifiés", "Créé le", 'x"; DROP TABLE actuals; --', "=SUM(A1)", "@cmd", "+1", "-",
                "", " ", "\u200bLeads", "\u202eLeads", "a;b", "a,b", 'q"uote', "line\nbreak", "日本語"]
NUMBERS = ["0", "1", "42", "1,234", "1.234", "1.234,50", "1,234.50", "$1,200", "€ 5", "5 €", "EUR 7", "-3",
           "12%", "1e3", "1e400", "99999999999999999999", "0x10", " 7 ", "1 000", "1'000", "2.5", "-0", "+5",
           "\u0663", "1\u00a0000", "inf", "-$5", "$-5", "1.", ".5", "1,2,3"]
DATES = ["2027-01-05", "2027-01", "2027/01", "2027/01/05", "Jan 2027", "January 2027", "01/2027",
         "05.01.2027", "01/02/2027", "13/02/2027", "2027-13-01", "2027-02-30", "infinity", "-infinity",
         "epoch", "1850-01-01", "2101-01-01", "2027-01-05T10:00:00Z", "2027-01-05 10:00:00+05:00",
         "9999-12-31", "0001-01-01", "today", "2027-W01", "20270105"]
JUNK = ["", " ", "N/A", "n/a", "-", "--", "\u2014", "null", "None", "#N/A", "NaN", "=1+1",
        "+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3", "\t=1", '"', '""', "a\nb", "a\r\nb", ";", "|", "\x1b",
        "\ufeff", "\u202e", "x" * 300, "9" * 140_000]        # over the csv module's field limit
DATE_FORMATS = [None, "%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y", "%b %Y", "%Q", "%", "%%",
                "no-percent", "%Y-%m-%d %H:%M", "%s", "%-d/%-m/%Y", "%Y'; DROP TABLE imports; --", "%Y\x00"]
STAGE_NAMES = ["Visits", "Leads", "MQLs", "Customers", "revenue", "month", "New stage", "=X", "@y", "",
               " ", "x" * 50, "Démos"]

header_cell = st.sampled_from(HEADER_WORDS) | st.text(max_size=12)
value_cell = st.sampled_from(NUMBERS + DATES + JUNK) | st.text(max_size=10)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-be-bom", "cp1252", "latin-1"]


def encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-16-be-bom":
        return ("\ufeff" + text).encode("utf-16-be", errors="surrogatepass")
    if encoding in ("cp1252", "latin-1"):
        return text.encode(encoding, errors="replace")
    return text.encode(encoding, errors="surrogatepass")


good_month = st.builds(lambda y, m: f"{y}-{m:02d}", st.integers(2020, 2032), st.integers(1, 12))
good_date = st.dates(date(1990, 1, 1), date(2100, 12, 31)).map(date.isoformat)
good_count = st.integers(0, 10**6).map(str)
good_amount = st.decimals(0, 10**6, places=2).map(str)


#: Values at the edges of what a cell may hold, for the "one bad cell" files.
EDGES = ["infinity", "-infinity", "epoch", "9" * 140_000, "1e400", "99999999999999999999", "1000000001",
         "-1", "-0", "1850-01", "2101-01", "0001-01-01", "9999-12-31", "NaN", "n/a", "", "=1+1", "@x", "12%",
         "$1,200", "1.5", "\u0663", "2027-02-30", "2027-13"]

#: shape -> (header strategy, good cell strategy for column i of the header).
SHAPES = {
    "monthly": (st.tuples(st.sampled_from(["month", "Month", " MONTH "]),
                          st.lists(st.sampled_from(list(SCENARIO_STAGES) + ["revenue", "Démos"]),
                                   min_size=1, max_size=4, unique=True)).map(lambda t: [t[0], *t[1]]),
                lambda header, i: good_month if i == 0 else good_count),
    "long": (st.just(["month", "stage", "count"]),
             lambda header, i: [good_month, st.sampled_from(SCENARIO_STAGES + ("revenue",)), good_count][i]),
    "records": (st.lists(st.sampled_from(SCENARIO_STAGES), min_size=1, max_size=3, unique=True)
                .map(lambda stages: ["id", *stages, "amount"]),
                lambda header, i: (st.text("ABC123-_ =+@'\"", min_size=1, max_size=6) if i == 0
                                   else good_amount if i == len(header) - 1 else good_date | st.just(""))),
}


@st.composite
def csv_files(draw):
    """(bytes, header) of a CSV file drawn from the grammar: pure noise; a monthly, long or
    records file whose cells are mostly plausible; such a file all plausible but one cell at
    the edge of what is allowed; or all plausible."""
    mode = draw(st.sampled_from(["noise", "mostly", "one bad cell", "clean"]))
    if mode == "noise":
        header, good, bad = draw(st.lists(header_cell, min_size=1, max_size=6)), value_cell, value_cell
    else:
        header_strategy, cell = SHAPES[draw(st.sampled_from(sorted(SHAPES)))]
        header = draw(header_strategy)
        good, bad = None, value_cell
    width = len(header)
    rows = []
    exact = mode in ("one bad cell", "clean")
    for _ in range(draw(st.integers(1 if exact else 0, 6))):
        n = width if exact or draw(st.integers(0, 9)) else draw(st.integers(0, width + 2))
        row = []
        for i in range(n):
            plausible = good if good is not None else cell(header, min(i, width - 1))
            row.append(draw(plausible if exact else st.one_of(plausible, plausible, plausible, bad)))
        rows.append(row)
    if mode == "one bad cell":
        r, i = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, width - 1))
        rows[r][i] = draw(st.sampled_from(EDGES))
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=draw(st.sampled_from([",", ";", "\t", "|"])),
                        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
                        lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if not draw(st.integers(0, 5)):
            buf.write("\n")                        # a blank line
    return encode(buf.getvalue(), draw(st.sampled_from(ENCODINGS))), header


@st.composite
def import_options(draw, header):
    column = st.sampled_from(header) | st.sampled_from(HEADER_WORDS) | st.text(max_size=8)
    stage = st.sampled_from(STAGE_NAMES) | st.text(max_size=8)
    value = st.sampled_from(["Won", "Lost", "closedwon", "Closed Lost", "true", ""]) | st.text(max_size=6)
    return ImportOptions(
        format=draw(st.sampled_from([None, None, None, "monthly", "records", "history", "weekly"])),
        mapping=tuple(draw(st.lists(st.tuples(column, stage), max_size=3))),
        id_column=draw(st.none() | column),
        amount_column=draw(st.none() | column),
        date_format=draw(st.one_of(st.sampled_from(DATE_FORMATS), st.sampled_from(DATE_FORMATS), st.text(max_size=6))),
        decimal=draw(st.sampled_from([None, None, None, None, ",", ".", "x", ""])),
        ignore=tuple(draw(st.lists(column, max_size=2))),
        # Outcomes, stage histories and segments (issue 11).
        outcome_column=draw(st.none() | st.none() | column),
        won_values=tuple(draw(st.lists(value, max_size=2))),
        lost_values=tuple(draw(st.lists(value, max_size=2))),
        closed_column=draw(st.none() | st.none() | st.none() | column),
        won_stage=draw(st.none() | st.none() | stage),
        stage_column=draw(st.none() | st.none() | column),
        date_column=draw(st.none() | st.none() | column),
        lost_stages=tuple(draw(st.lists(value, max_size=2))),
        segment_column=draw(st.none() | st.none() | column),
    )


@fuzz_settings(150)
@given(st.data())
def test_grammar_built_files_with_random_options_are_imported_or_rejected_cleanly(store, data):
    raw, header = data.draw(csv_files())
    options = data.draw(st.sampled_from([ImportOptions()]) | import_options(header))
    stages = data.draw(st.sampled_from([(), SCENARIO_STAGES, ("=SUM(A1)", "Leads", "@cmd")]))
    name = data.draw(st.sampled_from(["f.csv", "=evil.csv", "../../x.csv", "a\x00b.csv", "data.csv.gz", ""]))
    event(check_import(store, raw, name, options, stages))


@fuzz_settings(40)
@given(st.data())
def test_well_formed_monthly_files_are_accepted(store, data):
    """The grammar is not all noise: plain counts and ISO months in known stages get in."""
    stages = data.draw(st.lists(st.sampled_from(SCENARIO_STAGES), min_size=1, max_size=4, unique=True))
    months = data.draw(st.lists(st.integers(1, 12), min_size=1, max_size=6, unique=True))
    counts = {(m, s): data.draw(st.integers(0, 10**9)) for m in months for s in stages}
    rows = [["month", *stages]] + [[f"2031-{m:02d}", *(str(counts[(m, s)]) for s in stages)] for m in months]
    buf = io.StringIO()
    csv.writer(buf, delimiter=data.draw(st.sampled_from([",", "\t", "|"])), lineterminator="\n").writerows(rows)
    before = load_actuals(store)
    result = import_csv(store, buf.getvalue().encode(), "good.csv", scenario_stages=SCENARIO_STAGES)
    try:
        got = {(m, s): c for m, s, c in load_actuals(store).counts if m.startswith("2031-")}
        assert got == {(f"2031-{m:02d}", s): c for (m, s), c in counts.items()}
    finally:
        undo_import(store, result.import_id)
    assert load_actuals(store) == before


# ------------------------------------------------------------------------------------------
# (c) the scenario loader and the link decoder, where test_properties.py does not reach
# ------------------------------------------------------------------------------------------

RAW_LITERALS = ["1" * 5000, "-" + "9" * 4400, "1" + "0" * 400, "-1" + "0" * 400, "1e400", "-1e400", "NaN",
                "Infinity", "-Infinity", '"\\ud800"', '"x\\udfffy"', '"\\ud83d\\ude00"', "[" * 40 + "]" * 40,
                "{}", "[]", "null", "true", '""', '"=1+1"', "0.5", "-0", "1E-400", "12345678901234567890"]


def link(raw: bytes) -> str:
    return "s1." + base64.urlsafe_b64encode(zlib.compress(raw)).decode().rstrip("=")


def only_scenario_error(call, *args) -> None:
    """``call(*args)`` raises only ScenarioError; a scenario it accepts can be written back
    (share link, JSON) and read again."""
    try:
        scenario = call(*args)
    except ScenarioError as exc:
        assert str(exc).strip()
    else:
        assert scenario_from_url_token(scenario.to_url_token()) == scenario
        assert scenario_from_json(scenario.to_json().encode("utf-8")) == scenario


@st.composite
def demo_with_a_raw_literal(draw):
    """The demo's JSON text with one value (at any depth) replaced by a raw JSON literal."""
    doc = json.loads(DEMO_PATH.read_text(encoding="utf-8"))
    marker = "\u0000MARK\u0000"
    target = doc
    for step in draw(st.lists(st.integers(0, 20), min_size=0, max_size=3)):
        keys = list(target) if isinstance(target, dict) else list(range(len(target)))
        if not keys or not isinstance(target[keys[step % len(keys)]], (dict, list)):
            break
        target = target[keys[step % len(keys)]]
    keys = list(target) if isinstance(target, dict) else list(range(len(target)))
    assume(keys)
    target[keys[draw(st.integers(0, 20)) % len(keys)]] = marker
    literal = draw(st.sampled_from(RAW_LITERALS))
    return json.dumps(doc).replace(json.dumps(marker), literal)


@fuzz_settings(150)
@given(demo_with_a_raw_literal())
def test_raw_json_literals_anywhere_in_a_scenario_give_only_scenario_errors(text):
    only_scenario_error(scenario_from_json, text)
    only_scenario_error(scenario_from_json, text.encode("utf-8"))
    only_scenario_error(scenario_from_url_token, link(text.encode("utf-8")))


surrogate_text = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF) | st.characters(),
                         max_size=8)
wild_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from([10**400, -10**400, 2**53 + 1])
    | st.floats(allow_nan=True, allow_infinity=True) | surrogate_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(surrogate_text, children, max_size=4),
    max_leaves=20)


@fuzz_settings(150)
@given(wild_json | json_values)
def test_share_links_around_any_json_give_only_scenario_errors(value):
    raw = json.dumps(value).encode("utf-8")            # ensure_ascii: surrogates become \\udxxx escapes
    only_scenario_error(scenario_from_url_token, link(raw))
    only_scenario_error(scenario_from_json, raw)


@fuzz_settings(100)
@given(st.binary(max_size=2000))
def test_random_bytes_as_a_scenario_file_or_link_give_only_scenario_errors(tmp_path_factory, raw):
    only_scenario_error(scenario_from_json, raw)
    only_scenario_error(scenario_from_url_token, link(raw))
    only_scenario_error(scenario_from_url_token, "s1." + base64.urlsafe_b64encode(raw).decode())
    only_scenario_error(scenario_from_url_token, raw.decode("latin-1"))
    path = tmp_path_factory.getbasetemp() / "fuzz-scenario.json"
    path.write_bytes(raw)
    only_scenario_error(load_scenario, path)


def test_a_valid_scenario_still_round_trips_through_the_fuzzed_paths():
    """The fuzzed paths are not rejecting everything: the demo passes each of them."""
    raw = DEMO_PATH.read_bytes()
    demo = scenario_from_json(raw)
    assert scenario_from_url_token(link(raw)) == demo == load_scenario(DEMO_PATH)
