"""The import options guessed from header names and values (sim.data.ingest.suggestion): the
names real exports use, and a column whose values are Won/Lost is an outcome."""

from __future__ import annotations

import pytest

from sim.data.ingest.suggestion import suggest_options, words

FUNNEL = ("Visits", "Leads", "MQLs", "SQLs", "Proposals", "Customers")


def guess(text: str):
    return suggest_options(text, FUNNEL).options


@pytest.mark.parametrize(("name", "stage"), [
    ("close_date", "Customers"), ("Won date", "Customers"), ("Became a Customer Date", "Customers"),
    ("CloseDate", "Customers"), ("Created", "Leads"), ("Create Date", "Leads"), ("MQL date", "MQLs"),
    ("Became a Marketing Qualified Lead Date", "MQLs"), ("SQL date", "SQLs"), ("Proposal date", "Proposals"),
    ("engage_date", "SQLs"),
])
def test_a_date_column_is_mapped_by_its_name(name, stage):
    options = guess(f"Lead ID,{name}\nL-1,2027-01-05\nL-2,2027-02-11\n")
    assert options.mapping == ((name, stage),)
    assert options.id_column == "Lead ID"


@pytest.mark.parametrize("name", ["Amount", "close_value", "Deal Value"])
def test_an_amount_column_is_found_by_its_name_and_numbers(name):
    assert guess(f"id,Won date,{name}\nA,2027-01-05,1200\nB,2027-01-06,\n").amount_column == name


def test_a_column_of_won_and_lost_values_is_the_outcome_whatever_its_name():
    options = guess("opportunity_id,Status,close_date\nO1,Won,2027-01-05\nO2,Lost,2027-01-09\nO3,Open,\n")
    assert (options.outcome_column, options.won_values, options.lost_values) == ("Status", ("Won",), ("Lost",))


def test_dates_month_first_or_day_first_are_told_apart_by_a_value_over_12():
    assert guess("id,Created\nA,1/5/2027\nB,2/7/2027\n").date_format == "%m/%d/%Y"
    assert guess("id,Created\nA,1/5/2027\nB,25/7/2027\n").date_format == "%d/%m/%Y"
    assert guess("id,Created\nA,05.01.2027\nB,25.07.2027\n").date_format == "%d.%m.%Y"
    assert guess("id,Created\nA,2027-01-05\n").date_format is None            # ISO needs none


def test_a_month_column_means_the_monthly_format():
    assert guess("month,Leads\n2027-01,5\n").format == "monthly"


def test_one_row_per_record_and_stage_is_a_stage_history():
    options = guess("Deal ID,Deal Stage,Date entered\n1,appointmentscheduled,2027-01-02\n1,closedwon,2027-02-02\n"
                    "2,appointmentscheduled,2027-01-05\n2,Closed Lost,2027-01-20\n")
    assert options.format == "history"
    assert (options.stage_column, options.date_column, options.id_column) == ("Deal Stage", "Date entered", "Deal ID")
    assert options.mapping == (("closedwon", "Customers"),)
    assert options.lost_stages == ("Closed Lost",)


def test_column_names_as_words():
    assert words("close_date") == "close date"
    assert words("IsWon") == "is won"
    assert words("Became a Customer Date") == "became a customer date"
