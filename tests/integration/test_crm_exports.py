"""Real CRM exports as they come (issue 11): won / lost / open outcomes in every spelling,
stage-history files, workbooks, segments, replacing a source, the preview, and the record
facts a fit reads. The exports are generated in code (tests/crm_exports.py); what the import
must give is computed with pandas from the same data, never by the importer."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.data.actuals import load_actuals, segment_breakdown
from sim.data.history import undo_import
from sim.data.ingest import ImportOptions, import_csv, preview_import
from sim.data.ingest.suggestion import suggest_options
from sim.data.record_facts import open_pipeline, record_outcomes, stage_facts
from sim.errors import ImportRejected

from ..conftest import snapshot
from ..crm_exports import (
    csv_bytes,
    hubspot_export,
    opportunity_export,
    salesforce_export,
    stage_history,
    workbook_bytes,
)

FUNNEL = ("Engaged", "Customers")
OPPORTUNITY_OPTIONS = ImportOptions(
    format="records", id_column="opportunity_id", amount_column="close_value", date_format="%m/%d/%Y",
    mapping=(("engage_date", "Engaged"), ("close_date", "Customers")), outcome_column="deal_stage",
    won_values=("Won",), lost_values=("Lost",), segment_column="sales_agent")


@pytest.fixture(scope="module")
def opportunities() -> pd.DataFrame:
    return opportunity_export()


def expected(df: pd.DataFrame, *, id_col: str, engaged: str, closed: str, won_mask, amount: str, fmt: str | None):
    """(counts {(month, stage): n}, revenue {month: r}) that a correct import gives, by pandas:
    every dated engage counts, only won deals count as customers and bring revenue."""
    def month(col):
        return pd.to_datetime(df[col].replace("", None), format=fmt).dt.strftime("%Y-%m")
    counts = {(m, "Engaged"): int(n) for m, n in month(engaged).dropna().value_counts().items()}
    won = df[won_mask]
    won_months = month(closed)[won_mask]
    counts.update({(m, "Customers"): int(n) for m, n in won_months.value_counts().items()})
    revenue = pd.to_numeric(won[amount]).groupby(won_months).sum()
    return counts, {m: float(r) for m, r in revenue.items()}


def actual(store, segment=None):
    found = load_actuals(store, stage_order=FUNNEL, segment=segment)
    return {(m, s): c for m, s, c in found.counts}, dict(found.revenue)


def assert_same(got, want):
    counts, revenue = got
    want_counts, want_revenue = want
    assert counts == want_counts
    assert set(revenue) == set(want_revenue)
    for m, r in want_revenue.items():
        assert revenue[m] == pytest.approx(r, abs=1e-6), m


# -- the opportunity export of the issue --------------------------------------------------------

def test_the_opportunity_export_counts_only_won_deals_as_customers(store, opportunities):
    df = opportunities
    assert len(df) == 8800 and set(df["deal_stage"]) == {"Won", "Lost", "Engaging", "Prospecting"}
    result = import_csv(store, csv_bytes(df), "sales_pipeline.csv", options=OPPORTUNITY_OPTIONS)
    want = expected(df, id_col="opportunity_id", engaged="engage_date", closed="close_date",
                    won_mask=df["deal_stage"] == "Won", amount="close_value", fmt="%m/%d/%Y")
    assert_same(actual(store), want)
    n = df["deal_stage"].value_counts()
    assert result.outcomes == {"won": n["Won"], "lost": n["Lost"], "open": n["Engaging"] + n["Prospecting"]}
    assert f"{n['Won']:,} won (counted as Customers), {n['Lost']:,} lost (never Customers, no revenue)" \
        in result.message
    lost_with_amount = df[(df["deal_stage"] == "Lost") & (pd.to_numeric(df["close_value"]) > 0)]
    assert len(lost_with_amount) > 0
    assert (f"{len(lost_with_amount):,} lost rows carry a non-zero amount "
            f"({pd.to_numeric(lost_with_amount['close_value']).sum():,.2f} in all): never counted as revenue") \
        in result.message


def test_the_outcome_is_stored_per_record(store, opportunities):
    df = opportunities
    import_csv(store, csv_bytes(df), "sales_pipeline.csv", options=OPPORTUNITY_OPTIONS)
    found = {r.record_id: r for r in record_outcomes(store, stage_order=FUNNEL)}
    assert len(found) == len(df)
    want = {"Won": "won", "Lost": "lost", "Engaging": "open", "Prospecting": "open"}
    for row in df.sample(300, random_state=1).itertuples():
        r = found[row.opportunity_id]
        assert r.outcome == want[row.deal_stage]
        assert r.segment == row.sales_agent
        if row.deal_stage in ("Won", "Lost"):       # the day it was won, or lost
            assert r.closed == pd.to_datetime(row.close_date, format="%m/%d/%Y").date()
        else:
            assert r.closed is None
        assert r.last_stage == {"Won": "Customers", "Lost": "Engaged", "Engaging": "Engaged",
                                "Prospecting": None}[row.deal_stage]
    facts = stage_facts(store)
    assert {f.stage for f in facts if found[f.record_id].outcome == "lost"} == {"Engaged"}
    assert all(f.source == "sales_pipeline.csv" for f in facts)


@pytest.mark.parametrize("spelling", ["salesforce", "hubspot", "hubspot spaced"])
def test_every_spelling_gives_the_same_actuals(store, opportunities, spelling):
    df = opportunities
    won = df["deal_stage"] == "Won"
    if spelling == "salesforce":
        export = salesforce_export(df)
        options = ImportOptions(id_column="Id", amount_column="Amount", outcome_column="IsWon",
                                closed_column="IsClosed", mapping=(("CreatedDate", "Engaged"), ("CloseDate", "Customers")))
    else:
        export = hubspot_export(df, spaced=spelling == "hubspot spaced")
        values = ("Closed Won", "Closed Lost") if spelling == "hubspot spaced" else ("closedwon", "closedlost")
        options = ImportOptions(id_column="Record ID", amount_column="Amount", outcome_column="Deal Stage",
                                won_values=values[:1], lost_values=values[1:], date_format="%m/%d/%Y",
                                mapping=(("Create Date", "Engaged"), ("Close Date", "Customers")))
    result = import_csv(store, csv_bytes(export), f"{spelling}.csv", options=options)
    want = expected(df, id_col="opportunity_id", engaged="engage_date", closed="close_date", won_mask=won,
                    amount="close_value", fmt="%m/%d/%Y")
    assert_same(actual(store), want)
    assert result.outcomes["won"] == int(won.sum())
    assert result.outcomes["lost"] == int((df["deal_stage"] == "Lost").sum())


@pytest.mark.parametrize("spelling", ["opportunity", "salesforce", "hubspot", "hubspot spaced"])
def test_the_mapping_is_guessed_from_names_and_values(opportunities, spelling):
    df = opportunities
    export = {"opportunity": df, "salesforce": salesforce_export(df), "hubspot": hubspot_export(df),
              "hubspot spaced": hubspot_export(df, spaced=True)}[spelling]
    got = suggest_options(csv_bytes(export).decode(), ("Leads", "SQLs", "Customers")).options
    want = {
        "opportunity": dict(id_column="opportunity_id", amount_column="close_value", outcome_column="deal_stage",
                            won_values=("Won",), lost_values=("Lost",), date_format="%m/%d/%Y",
                            mapping=(("engage_date", "SQLs"), ("close_date", "Customers"))),
        "salesforce": dict(id_column="Id", amount_column="Amount", outcome_column="IsWon", closed_column="IsClosed",
                           mapping=(("CreatedDate", "Leads"), ("CloseDate", "Customers"))),
        "hubspot": dict(id_column="Record ID", amount_column="Amount", outcome_column="Deal Stage",
                        won_values=("closedwon",), lost_values=("closedlost",), date_format="%m/%d/%Y",
                        mapping=(("Create Date", "Leads"), ("Close Date", "Customers"))),
        "hubspot spaced": dict(id_column="Record ID", amount_column="Amount", outcome_column="Deal Stage",
                               won_values=("Closed Won",), lost_values=("Closed Lost",), date_format="%m/%d/%Y",
                               mapping=(("Create Date", "Leads"), ("Close Date", "Customers"))),
    }[spelling]
    assert got.format == "records"
    for key, value in want.items():
        assert getattr(got, key) == value, key


def test_the_preview_says_what_the_import_will_give_and_writes_nothing(store, opportunities):
    df = opportunities
    before = snapshot(store)
    found = preview_import(store, csv_bytes(df), "sales_pipeline.csv", options=OPPORTUNITY_OPTIONS)
    assert snapshot(store) == before
    want_counts, want_revenue = expected(df, id_col="opportunity_id", engaged="engage_date", closed="close_date",
                                         won_mask=df["deal_stage"] == "Won", amount="close_value", fmt="%m/%d/%Y")
    assert {(m, s): c for m, s, c in found.counts} == want_counts
    assert dict(found.revenue) == pytest.approx(want_revenue)
    assert found.columns == ("row", "record", "counts toward", "date")
    for n, ((row, rid, what, day), source) in enumerate(zip(found.first_rows, df.itertuples())):
        assert row == n + 2                              # the header is row 1
        assert rid == source.opportunity_id
        engaged = pd.to_datetime(source.engage_date, format="%m/%d/%Y").date() if source.engage_date else None
        closed = pd.to_datetime(source.close_date, format="%m/%d/%Y").date() if source.close_date else None
        assert day == (closed if source.deal_stage == "Won" else engaged)
        assert what == {"Won": "Customers: won", "Lost": f"lost after Engaged on "
                        f"{pd.to_datetime(source.close_date, format='%m/%d/%Y').date()}",
                        "Engaging": "Engaged: open", "Prospecting": "(no stage date): open"}[source.deal_stage]


# -- what is refused ------------------------------------------------------------------------------

REFUSED = [
    ("outcome column missing", dict(outcome_column="Status"), "there is no column 'Status'"),
    ("won value never occurs", dict(won_values=("Closed Won",)), "the won value 'Closed Won' never occurs"),
    ("won value never occurs, names the fix", dict(won_values=("Closed Won",)), "give the values that mean won"),
    ("both won and lost", dict(lost_values=("Won",)), "cannot mean both won and lost"),
    ("outcome without won values", dict(won_values=()), "give the values that mean won"),
]


@pytest.mark.parametrize(("case", "change", "message"), REFUSED, ids=[c[0] for c in REFUSED])
def test_bad_outcome_options_are_refused_and_nothing_changes(store, opportunities, case, change, message):
    from dataclasses import replace
    before = snapshot(store)
    with pytest.raises(ImportRejected) as info:
        import_csv(store, csv_bytes(opportunities.head(200)), "deals.csv", options=replace(OPPORTUNITY_OPTIONS, **change))
    assert any(message in p for p in info.value.problems), info.value.problems
    assert snapshot(store) == before


def test_won_without_a_close_date_is_named_by_row_and_column(store, opportunities):
    df = opportunities.head(50).copy()
    won_rows = df.index[df["deal_stage"] == "Won"][:2]
    df.loc[won_rows, "close_date"] = ""
    before = snapshot(store)
    with pytest.raises(ImportRejected) as info:
        import_csv(store, csv_bytes(df), "deals.csv", options=OPPORTUNITY_OPTIONS)
    for i in won_rows:
        assert any(f"row {i + 2}, column 'close_date'" in p and "is won but has no date" in p
                   for p in info.value.problems), info.value.problems
    assert snapshot(store) == before


# -- a lost record is never a customer, whatever came before ---------------------------------------

def test_a_later_outcome_overrides_an_earlier_import_that_counted_a_lost_deal(store, opportunities):
    df = opportunities.head(400)
    # First, the mistake of the issue: every closed deal mapped to Customers, no outcome.
    naive = ImportOptions(id_column="opportunity_id", date_format="%m/%d/%Y", amount_column="close_value",
                          mapping=(("engage_date", "Engaged"), ("close_date", "Customers")))
    import_csv(store, csv_bytes(df), "first.csv", options=naive)
    closed = df["deal_stage"].isin(["Won", "Lost"])
    assert sum(c for (m, s), c in actual(store)[0].items() if s == "Customers") == int(closed.sum())
    # Then an export of the same deals with their outcome (another source): lost ones drop out.
    import_csv(store, csv_bytes(df), "second.csv", options=OPPORTUNITY_OPTIONS)
    want = expected(df, id_col="opportunity_id", engaged="engage_date", closed="close_date",
                    won_mask=df["deal_stage"] == "Won", amount="close_value", fmt="%m/%d/%Y")
    assert_same(actual(store), want)


def test_a_corrected_export_replaces_what_its_source_said_and_undo_brings_it_back(store, opportunities):
    df = opportunities.head(600)
    naive = ImportOptions(id_column="opportunity_id", date_format="%m/%d/%Y", amount_column="close_value",
                          mapping=(("engage_date", "Engaged"), ("close_date", "Customers")))
    first = import_csv(store, csv_bytes(df), "pipeline.csv", options=naive)
    wrong = actual(store)
    fixed = df.copy()
    lost = fixed["deal_stage"] != "Won"
    fixed.loc[lost, "close_date"] = ""                      # the user's fix of the issue: blank the lost ones
    fixed.loc[lost, "close_value"] = ""
    without = import_csv(store, csv_bytes(fixed), "pipeline.csv", options=naive)
    assert actual(store) == wrong                          # adding only: the wrong wins stay
    undo_import(store, without.import_id)
    second = import_csv(store, csv_bytes(fixed), "pipeline.csv", options=replace_options(naive))
    want = expected(df, id_col="opportunity_id", engaged="engage_date", closed="close_date",
                    won_mask=df["deal_stage"] == "Won", amount="close_value", fmt="%m/%d/%Y")
    assert_same(actual(store), want)
    dropped = int((df["deal_stage"] == "Lost").sum())
    assert second.replaced_imports == (first.import_id,)
    assert f"Replaced what earlier import #{first.import_id} (pipeline.csv) of the same source said" in second.message
    assert f"({dropped:,} of them are not in this file)" in second.message
    message = undo_import(store, second.import_id)
    assert f"Import #{first.import_id}, which it replaced, counts again" in message
    assert actual(store) == wrong


def replace_options(options: ImportOptions) -> ImportOptions:
    from dataclasses import replace
    return replace(options, replace=True)


def test_replacing_keeps_the_facts_of_other_sources(store, opportunities):
    df = opportunities.head(300)
    engaged = ImportOptions(id_column="opportunity_id", date_format="%m/%d/%Y", mapping=(("engage_date", "Engaged"),))
    import_csv(store, csv_bytes(df), "leads.csv", options=engaged)
    won = ImportOptions(id_column="opportunity_id", date_format="%m/%d/%Y", mapping=(("close_date", "Customers"),),
                        outcome_column="deal_stage", won_values=("Won",), lost_values=("Lost",))
    import_csv(store, csv_bytes(df), "deals.csv", options=won)
    again = import_csv(store, csv_bytes(df.head(100)), "deals.csv", options=replace_options(won))
    counts = actual(store)[0]
    assert sum(c for (m, s), c in counts.items() if s == "Engaged") == int((df["engage_date"] != "").sum())
    assert sum(c for (m, s), c in counts.items() if s == "Customers") == int((df.head(100)["deal_stage"] == "Won").sum())
    engaged_facts = int((df.head(100)["engage_date"] != "").sum())
    assert f"Still counting: {engaged_facts:,} (record, stage) facts about these records from other imports (#1)" \
        in again.message


# -- stage-history files --------------------------------------------------------------------------

def test_a_stage_history_file_is_read_with_the_crm_stages_mapped(store):
    df = stage_history()
    options = ImportOptions(format="history", id_column="deal_id", segment_column="source",
                            mapping=(("appointmentscheduled", "Leads"), ("presentationscheduled", "Proposals"),
                                     ("closedwon", "Customers")), lost_stages=("closedlost",))
    result = import_csv(store, csv_bytes(df), "deal-stage-history.csv", options=options)
    # pandas: the first date per (deal, mapped stage); a deal won only if not lost afterwards.
    mapped = {"appointmentscheduled": "Leads", "presentationscheduled": "Proposals", "closedwon": "Customers"}
    first = (df[df["stage"].isin(mapped)].assign(funnel=lambda d: d["stage"].map(mapped))
             .groupby(["deal_id", "funnel"])["date"].min().reset_index())
    first["month"] = first["date"].str[:7]
    want = {(m, s): int(n) for (m, s), n in first.groupby(["month", "funnel"]).size().items()}
    found = load_actuals(store, stage_order=("Leads", "Proposals", "Customers"))
    assert {(m, s): c for m, s, c in found.counts} == want
    won = df[df["stage"] == "closedwon"]
    revenue = pd.to_numeric(won["amount"]).groupby(won["date"].str[:7]).sum()
    assert dict(found.revenue) == pytest.approx({m: float(r) for m, r in revenue.items()})
    assert result.outcomes == {"won": won["deal_id"].nunique(),
                               "lost": df[df["stage"] == "closedlost"]["deal_id"].nunique(),
                               "open": df["deal_id"].nunique() - won["deal_id"].nunique()
                               - df[df["stage"] == "closedlost"]["deal_id"].nunique()}
    ignored = df[df["stage"] == "qualifiedtobuy"]
    assert f"CRM stages not mapped, ignored: 'qualifiedtobuy' ({len(ignored):,} rows)" in result.message
    assert "entered a funnel stage more than once: the first date counts" in result.message
    by_source = segment_breakdown(store).counts
    want_leads = first[first["funnel"] == "Leads"].merge(df[["deal_id", "source"]].drop_duplicates(), on="deal_id")
    assert sum(c for m, s, g, c in by_source if s == "Leads" and g == "Paid") == int((want_leads["source"] == "Paid").sum())


def test_a_stage_history_mapping_of_a_stage_not_in_the_file_names_the_fix(store):
    before = snapshot(store)
    with pytest.raises(ImportRejected) as info:
        import_csv(store, csv_bytes(stage_history(50)), "h.csv", options=ImportOptions(
            format="history", id_column="deal_id", mapping=(("Closed Won", "Customers"),)))
    (problem,) = info.value.problems
    assert "no row of column 'stage' is 'Closed Won'" in problem and "'closedwon'" in problem
    assert "map the stage names as the file spells them" in problem
    assert snapshot(store) == before


# -- workbooks ------------------------------------------------------------------------------------

def test_a_workbook_gives_the_same_actuals_as_the_csv(store, tmp_path, opportunities):
    df = opportunities.head(2000)
    data = workbook_bytes({"Notes": pd.DataFrame({"a": ["x"]}), "Pipeline": df},
                          date_columns={"engage_date": "%m/%d/%Y", "close_date": "%m/%d/%Y"},
                          formula_columns=("close_value",), title_rows=2, macros=True, external_link=True)
    from dataclasses import replace
    result = import_csv(store, data, "pipeline.xlsx", options=replace(OPPORTUNITY_OPTIONS, sheet="Pipeline"))
    want = expected(df, id_col="opportunity_id", engaged="engage_date", closed="close_date",
                    won_mask=df["deal_stage"] == "Won", amount="close_value", fmt="%m/%d/%Y")
    assert_same(actual(store), want)
    assert "read sheet 'Pipeline' (the workbook also has 'Notes'" in result.message
    assert "macros: they were not run" in result.message
    assert "links to other files" in result.message


def test_a_workbook_problem_names_the_sheet_row(store, opportunities):
    df = opportunities.head(20).copy()
    df.loc[4, "close_value"] = "lots"
    data = workbook_bytes({"Pipeline": df}, title_rows=3)
    with pytest.raises(ImportRejected) as info:
        import_csv(store, data, "pipeline.xlsx", options=OPPORTUNITY_OPTIONS)
    # Header on the sheet's row 4, so data row 4 (index 4) is on row 9.
    assert any(p.startswith("row 9, column 'close_value': 'lots' is not a number") for p in info.value.problems), \
        info.value.problems


def test_a_workbook_without_the_sheet_is_refused_naming_its_sheets(store, opportunities):
    data = workbook_bytes({"Deals": opportunities.head(5)})
    from dataclasses import replace
    before = snapshot(store)
    with pytest.raises(ImportRejected) as info:
        import_csv(store, data, "deals.xlsx", options=replace(OPPORTUNITY_OPTIONS, sheet="Opportunities"))
    assert info.value.problems == ("there is no sheet 'Opportunities' in the workbook (its sheets: 'Deals'): "
                                   "choose one of them (--sheet NAME)",)
    assert snapshot(store) == before


# -- segments -------------------------------------------------------------------------------------

def test_segments_split_and_filter_the_actuals(store, opportunities):
    df = opportunities
    import_csv(store, csv_bytes(df), "sales_pipeline.csv", options=OPPORTUNITY_OPTIONS)
    for agent in ("Moses Frase", "Zane Levy"):
        part = df[df["sales_agent"] == agent]
        want = expected(part, id_col="opportunity_id", engaged="engage_date", closed="close_date",
                        won_mask=part["deal_stage"] == "Won", amount="close_value", fmt="%m/%d/%Y")
        assert_same(actual(store, segment=agent), want)
    split = segment_breakdown(store, stage_order=FUNNEL)
    assert {g for g, _ in split.segments} == set(df["sales_agent"])
    totals = actual(store)[0]
    summed: dict = {}
    for m, s, _segment, c in split.counts:
        summed[(m, s)] = summed.get((m, s), 0) + c
    assert summed == totals


def test_a_monthly_file_may_carry_a_segment_column(store):
    data = (b"month,source,Leads,revenue\n2027-01,Paid,10,100\n2027-01,Organic,5,50\n2027-02,Paid,7,70\n")
    import_csv(store, data, "m.csv", options=ImportOptions(segment_column="source"))
    found = load_actuals(store)
    assert found.counts == (("2027-01", "Leads", 15), ("2027-02", "Leads", 7))
    assert found.revenue == (("2027-01", 150.0), ("2027-02", 70.0))
    assert load_actuals(store, segment="Organic").counts == (("2027-01", "Leads", 5),)
    with pytest.raises(ImportRejected) as info:
        import_csv(store, data + b"2027-02,Paid,1,1\n", "m2.csv", options=ImportOptions(segment_column="source"))
    assert any("month 2027-02 with segment 'Paid' appears more than once" in p for p in info.value.problems)


# -- the open pipeline from outcomes ----------------------------------------------------------------

def test_the_open_pipeline_at_a_month_end_counts_the_records_still_open(store, opportunities):
    df = opportunities
    import_csv(store, csv_bytes(df), "sales_pipeline.csv", options=OPPORTUNITY_OPTIONS)
    as_of = "2017-03"
    end = pd.Timestamp("2017-04-01")
    engaged = pd.to_datetime(df["engage_date"].replace("", None), format="%m/%d/%Y")
    closed = pd.to_datetime(df["close_date"].replace("", None), format="%m/%d/%Y")
    # Engaged by the end of March and not won or lost by then.
    still_open = (engaged < end) & ~(closed < end)
    found = open_pipeline(store, FUNNEL, as_of)
    assert found.counts == (("Engaged", int(still_open.sum())),)
    assert found.unknown == ()


def test_the_check_in_takes_its_open_pipeline_from_the_outcomes(store, opportunities):
    from sim.data.plan_checkin import check_in_stored

    from ..conftest import small_scenario
    df = opportunities
    import_csv(store, csv_bytes(df), "sales_pipeline.csv", options=OPPORTUNITY_OPTIONS)
    scenario = small_scenario(start="2017-01", months=12, goal=2_000_000.0, top={"per_month": 400, "noise_cv": 0},
                              stages=[{"name": "Engaged", "owner": "sales"},
                                      {"name": "Customers", "owner": "sales", "rate": {"mean": 0.6, "strength": 50},
                                       "lag": [0.2, 0.3, 0.3, 0.2]}], trials=500)
    end = pd.Timestamp("2017-04-01")
    engaged = pd.to_datetime(df["engage_date"].replace("", None), format="%m/%d/%Y")
    closed = pd.to_datetime(df["close_date"].replace("", None), format="%m/%d/%Y")
    still_open = int(((engaged < end) & ~(closed < end)).sum())
    check = check_in_stored(store, scenario=scenario, as_of="2017-03")
    assert check.stages[0].open_pipeline == still_open
    # By hand wins over the outcomes.
    assert check_in_stored(store, scenario=scenario, as_of="2017-03",
                           pipeline={"Engaged": 7}).stages[0].open_pipeline == 7
    # One segment's open deals only.
    agent = df["sales_agent"] == "Zane Levy"
    mine = check_in_stored(store, scenario=scenario, as_of="2017-03", segment="Zane Levy")
    assert mine.stages[0].open_pipeline == int(((engaged < end) & ~(closed < end) & agent).sum())


def test_a_stage_history_import_is_idempotent_and_undone_whole(store):
    df = stage_history(300)
    options = ImportOptions(format="history", id_column="deal_id", segment_column="source",
                            mapping=(("appointmentscheduled", "Leads"), ("closedwon", "Customers")),
                            lost_stages=("closedlost",))
    before = snapshot(store)
    first = import_csv(store, csv_bytes(df), "h.csv", options=options)
    counts = load_actuals(store)
    again = import_csv(store, csv_bytes(df), "h.csv", options=options)
    assert again.already_imported and again.import_id == first.import_id
    overlapping = import_csv(store, csv_bytes(df.head(200)), "h-part.csv", options=options)
    assert load_actuals(store) == counts                   # each (deal, stage) once
    assert "pairs were already known from earlier imports and count once" in overlapping.message
    undo_import(store, overlapping.import_id)
    undo_import(store, first.import_id)
    after = snapshot(store)
    assert {t: r for t, r in after.items() if t not in ("imports", "stages")} == \
        {t: r for t, r in before.items() if t not in ("imports", "stages")}
    assert load_actuals(store).empty
