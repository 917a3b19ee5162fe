"""Import messages a real export meets (issue 16): a date that did not read names the format it
reads as (with its time of day), the guess includes that time, and two columns mapped to one
stage are both named."""

from __future__ import annotations

import pytest

from sim.data.actuals import load_actuals
from sim.data.ingest import ImportOptions, import_csv
from sim.data.ingest.suggestion import date_formats, suggest_options
from sim.errors import ImportRejected


def records(dates: list[str]) -> bytes:
    return ("id,engage_date\n" + "".join(f"R{i},{d}\n" for i, d in enumerate(dates))).encode()


@pytest.mark.parametrize("dates, given, says", [
    (["10/20/2016", "3/1/2017"], None, "the column's dates read as %m/%d/%Y: give that date format"),
    (["26-02-2018 19:58", "01-03-2018 08:05"], None, "the column's dates read as %d-%m-%Y %H:%M"),
    (["26-02-2018 19:58", "01-03-2018 08:05"], "%d-%m-%Y", "the column's dates read as %d-%m-%Y %H:%M"),
    (["10/20/2016"], "%d-%m-%Y", "it reads as %m/%d/%Y"),
])
def test_a_date_that_did_not_read_names_the_format_it_reads_as(store, dates, given, says):
    options = ImportOptions(id_column="id", mapping=(("engage_date", "SQLs"),), date_format=given)
    with pytest.raises(ImportRejected) as info:
        import_csv(store, records(dates), "export.csv", options=options)
    assert any(says in p for p in info.value.problems), info.value.problems
    assert "%d-%m-%Y)" not in " ".join(info.value.problems)          # no generic, wrong example


def test_the_suggested_format_with_its_time_imports_the_file(store):
    data = records(["26-02-2018 19:58", "01-03-2018 08:05", "15-03-2018 23:59"])
    guessed = suggest_options(data.decode(), ("Leads", "SQLs", "Customers")).options
    assert guessed.date_format == "%d-%m-%Y %H:%M"
    import_csv(store, data, "export.csv", options=ImportOptions(
        id_column="id", mapping=(("engage_date", "SQLs"),), date_format=guessed.date_format))
    actuals = load_actuals(store)
    assert {(m, s): c for m, s, c in actuals.counts} == {("2018-02", "SQLs"): 1, ("2018-03", "SQLs"): 2}


def test_date_formats_tell_day_and_month_first_apart():
    assert date_formats(["10/20/2016"]) == ["%m/%d/%Y"]
    assert date_formats(["20/10/2016"]) == ["%d/%m/%Y"]
    assert date_formats(["01/02/2016"]) == ["%m/%d/%Y", "%d/%m/%Y"]
    assert date_formats(["2018-02-26T19:58:01"]) == ["%Y-%m-%dT%H:%M:%S"]
    assert date_formats(["not a date"]) == []


def test_two_columns_mapped_to_one_stage_are_both_named(store):
    data = b"id,engage_date,close_date\nA,2027-01-05,2027-02-01\n"
    options = ImportOptions(id_column="id", mapping=(("engage_date", "Won deals"), ("close_date", "Won deals")))
    with pytest.raises(ImportRejected) as info:
        import_csv(store, data, "export.csv", options=options, scenario_stages=("Engaged", "Won deals"))
    assert any("two columns are mapped to stage 'Won deals': 'engage_date' and 'close_date'" in p
               for p in info.value.problems), info.value.problems
