"""The history fit from the store and ``python -m sim fit``, on CRM exports generated in the test
(tests/crm_exports.py): an opportunity export with Won / Lost / open rows, a leads file and a
closed-deals file joined on the lead id, a stage history. The fitted rates, lags and open
pipeline are checked against an independent pandas computation on the same files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim.data.funnel_history import load_funnel_history
from sim.data.ingest import ImportOptions, import_csv
from sim.errors import ScenarioError
from sim.model.funnel_history import index_label
from sim.model.history_fit import FitOptions, fit_history
from sim.model.scenario_io import load_scenario

from ..conftest import ROOT, refused, run_cli, snapshot_file, succeeded
from ..crm_exports import csv_bytes, leads_and_deals, opportunity_export

OPPORTUNITIES = ImportOptions(
    format="records", id_column="opportunity_id", amount_column="close_value", date_format="%m/%d/%Y",
    mapping=(("engage_date", "Engaged"), ("close_date", "Customers")), outcome_column="deal_stage",
    won_values=("Won",), lost_values=("Lost",), segment_column="sales_agent")


def month_number(dates: pd.Series, fmt: str | None = None) -> pd.Series:
    d = pd.to_datetime(dates.replace("", None), format=fmt)
    return d.dt.year * 12 + d.dt.month - 1


def pandas_fit(entry: pd.Series, converted: pd.Series, first: int, last: int) -> dict:
    """Cohorts, lag and exposure computed with pandas: each lag d from the cohorts at least d
    months old, the exposure each cohort's entries × P(lag ≤ its age)."""
    d = pd.DataFrame({"entry": entry, "conv": converted}).dropna(subset=["entry"])
    d = d[(d["entry"] >= first) & (d["entry"] <= last)]
    entered = d.groupby("entry").size()
    conv = d[d["conv"].notna() & (d["conv"] <= last)].copy()
    conv["lag"] = (conv["conv"] - conv["entry"]).clip(0, 12).astype(int)
    table = conv.groupby(["entry", "lag"]).size().unstack(fill_value=0)
    age = last - entered.index.to_series()
    longest = int(conv["lag"].max())
    q = []
    for lag in range(longest + 1):
        old = age[age >= lag].index
        hits = table.reindex(old, fill_value=0)[lag].sum() if lag in table.columns else 0
        q.append(hits / entered.loc[old].sum())
    pmf = np.array(q) / sum(q)
    cdf = np.cumsum(pmf)
    exposure = sum(n * (1.0 if a >= longest else cdf[int(a)]) for n, a in zip(entered, age))
    return {"pmf": pmf, "successes": len(conv), "exposure": exposure, "cohorts": len(entered),
            "entered": int(entered.sum())}


@pytest.fixture(scope="module")
def opportunities() -> pd.DataFrame:
    return opportunity_export()


@pytest.fixture
def crm_db(tmp_path, opportunities):
    from sim.data.store import Store
    path = tmp_path / "crm.duckdb"
    with Store(path) as store:
        import_csv(store, csv_bytes(opportunities), "sales_pipeline.csv", options=OPPORTUNITIES)
    return path


def test_the_opportunity_export_fits_as_pandas_computes_it(crm_db, opportunities):
    from sim.data.store import Store
    df = opportunities
    last = 2017 * 12 + 5                     # 2017-06: the young cohorts have not closed yet
    entry = month_number(df["engage_date"], "%m/%d/%Y")
    won = month_number(df["close_date"], "%m/%d/%Y").where(df["deal_stage"] == "Won")
    want = pandas_fit(entry, won, int(entry.min()), last)
    with Store(crm_db, read_only=True) as store:
        fit = fit_history(load_funnel_history(store), FitOptions(last="2017-06"))
    stage = fit.stages[1]
    assert stage.lag == pytest.approx(tuple(want["pmf"]), abs=1e-12)
    assert stage.rate.successes == want["successes"]
    assert stage.rate.exposure == pytest.approx(want["exposure"])
    assert stage.rate.cohorts == want["cohorts"] and stage.rate.entered == want["entered"]
    if stage.rate.overdispersion_p >= 0.05:
        assert stage.rate.mean == pytest.approx(want["successes"] / want["exposure"])
    assert stage.rate.naive == pytest.approx(want["successes"] / want["entered"])
    assert stage.rate.naive < stage.rate.mean
    # The open pipeline: per engage-month cohort, its units whose lag has not elapsed, at most its
    # records still open (neither won nor lost by the end of 2017-06) / the rate.
    closed = month_number(df["close_date"], "%m/%d/%Y")
    is_open = entry.le(last) & ~(df["deal_stage"].isin(["Won", "Lost"]) & closed.le(last))
    tail = 1 - np.cumsum(want["pmf"])
    rate = stage.rate.mean
    entered = entry[entry.le(last)].value_counts()
    opened = entry[is_open].value_counts()
    count = sum(min(n * tail[int(last - c)], opened.get(c, 0) / rate) for c, n in entered.items()
                if last - c < len(tail) - 1 and tail[int(last - c)] > 1e-12)
    assert fit.pipeline[0].count == round(count) and fit.pipeline[0].source == "outcomes"
    assert fit.pipeline[0].open_records == int(is_open.sum())
    # The deal value: the won amounts booked by 2017-06.
    amounts = pd.to_numeric(df["close_value"].where((df["deal_stage"] == "Won") & closed.le(last))).dropna()
    assert fit.deal.n == int((amounts > 0).sum())
    assert fit.deal.median == pytest.approx(float(np.exp(np.log(amounts[amounts > 0]).mean())))


def test_partial_first_and_last_months_are_found_and_left_out_of_the_trend(crm_db, opportunities):
    from sim.data.store import Store
    engaged = pd.to_datetime(opportunities["engage_date"].replace("", None), format="%m/%d/%Y").dropna()
    first, last = engaged.min(), engaged.max()
    with Store(crm_db, read_only=True) as store:
        history = load_funnel_history(store)
    assert first.day > 7 and last.days_in_month - last.day >= 7          # the generator's export
    assert [m for m, _ in history.partial] == [first.year * 12 + first.month - 1, last.year * 12 + last.month - 1]
    fit = fit_history(history, FitOptions())
    assert fit.top.months_used == int(history.counted[0].sum()) - 2
    assert any(f"{first.strftime('%Y-%m')} is a partial month" in n for n in fit.notes)


def test_a_leads_file_and_a_closed_deals_file_joined_on_the_lead_id(tmp_path):
    from sim.data.store import Store
    leads, deals = leads_and_deals()
    with Store(tmp_path / "leads.duckdb") as store:
        import_csv(store, csv_bytes(leads), "leads.csv", options=ImportOptions(
            format="records", id_column="mql_id", mapping=(("first_contact_date", "Leads"),)))
        import_csv(store, csv_bytes(deals), "closed_deals.csv", options=ImportOptions(
            format="records", id_column="mql_id", amount_column="declared_monthly_revenue",
            mapping=(("won_date", "Customers"),)))
        history = load_funnel_history(store, stages=("Leads", "Customers"))
    joined = leads.merge(deals, on="mql_id", how="left")
    entry, won = month_number(joined["first_contact_date"]), month_number(joined["won_date"].fillna(""))
    last = int(entry.max()) - 2
    want = pandas_fit(entry, won, int(entry.min()), last)
    fit = fit_history(history, FitOptions(last=pd.Period(ordinal=last - 1970 * 12, freq="M").strftime("%Y-%m")))
    stage = fit.stages[1]
    assert stage.lag == pytest.approx(tuple(want["pmf"]), abs=1e-12)
    assert stage.rate.successes == want["successes"]
    assert stage.rate.exposure == pytest.approx(want["exposure"])
    assert fit.pipeline[0].source == "lags"           # no outcomes: the units whose lag has not elapsed
    assert abs(stage.rate.mean - 0.12) < 4 * np.sqrt(0.12 * 0.88 / stage.rate.strength) + 0.005


def test_a_segment_is_fitted_from_its_own_records(crm_db, opportunities):
    from sim.data.store import Store
    df = opportunities[opportunities["sales_agent"] == "Zane Levy"]
    entry = month_number(df["engage_date"], "%m/%d/%Y")
    won = month_number(df["close_date"], "%m/%d/%Y").where(df["deal_stage"] == "Won")
    want = pandas_fit(entry, won, int(entry.min()), 2017 * 12 + 8)
    with Store(crm_db, read_only=True) as store:
        fit = fit_history(load_funnel_history(store, segment="Zane Levy"),
                          FitOptions(last="2017-09", label="Zane Levy"))
        with pytest.raises(ScenarioError, match="segment 'Nobody' is not in the actuals"):
            load_funnel_history(store, segment="Nobody")
    assert fit.stages[1].rate.successes == want["successes"]
    assert fit.scenario.name.endswith("Zane Levy")


# -- the command line ---------------------------------------------------------------------------

def test_fit_json_has_the_documented_shape_and_out_writes_a_scenario_forecast_loads(crm_db, tmp_path):
    out = tmp_path / "fitted.json"
    doc = json.loads(succeeded(run_cli("fit", "--db", crm_db, "--to", "2017-09", "--growth", "0.1",
                                       "--out", out, "--json")).stdout)
    assert set(doc) >= {"scenario", "stages", "deal", "top", "start_pipeline", "notes"}
    assert doc["stages"][0] == {"name": "Engaged"}
    assert set(doc["stages"][1]) >= {"name", "rate_mean", "rate_p10", "rate_p90", "successes", "exposure",
                                     "cohorts", "lag"}
    assert set(doc["deal"]) >= {"median", "p90", "n"}
    scenario = load_scenario(out)
    assert scenario.to_dict() == doc["scenario"]
    assert scenario.start == "2017-10" and doc["goal"]["value"] == pytest.approx(doc["goal"]["trailing_revenue"] * 1.1)
    forecast = json.loads(succeeded(run_cli("forecast", out, "--trials", "2000", "--json")).stdout)
    assert 0 <= forecast["p_goal"] <= 1
    text = succeeded(run_cli("fit", "--db", crm_db, "--to", "2017-09")).stdout
    assert "Customers:" in text and "naive" in text and "Deal value: median" in text


def test_too_little_history_writes_nothing_and_names_what_is_missing(crm_db, tmp_path):
    out = tmp_path / "fitted.json"
    before = snapshot_file(crm_db)
    line = refused(run_cli("fit", "--db", crm_db, "--to", "2016-11", "--out", out))
    assert "cannot fit the lag Engaged → Customers" in line and "top of the funnel (Engaged)" in line
    assert "nothing was written" in line
    assert not out.exists() and snapshot_file(crm_db) == before
    typed = tmp_path / "typed.json"
    typed.write_text(json.dumps({
        "schema": 1, "name": "typed", "start": "2017-01", "goal": 1e6, "top": {"per_month": 500},
        "stages": [{"name": "Engaged", "owner": "marketing"},
                   {"name": "Customers", "owner": "sales", "rate": {"mean": 0.4, "strength": 50}, "lag": [0.5, 0.5]}],
        "deal": {"median": 2000, "p90": 6000}}), encoding="utf-8")
    doc = json.loads(succeeded(run_cli("fit", "--db", crm_db, "--to", "2016-11", "--scenario", typed,
                                       "--json")).stdout)
    assert doc["scenario"]["stages"][1]["lag"] == [0.5, 0.5]
    assert doc["scenario"]["top"]["per_month"] == 500 and doc["scenario"]["stages"][1]["owner"] == "sales"
    assert any("kept as typed" in n for n in doc["notes"])


@pytest.mark.parametrize("args, message", [
    (("--to", "2017-13"), "--to must be a month like 2027-06"),
    (("--goal", "1", "--growth", "0.1"), "not allowed with argument"),
    (("--months", "40"), "--months must be between 1 and 36"),
    (("--segment", "Nobody"), "segment 'Nobody' is not in the actuals"),
    (("--from", "2017-05", "--to", "2017-01"), "is after its last"),
    (("--to", "2017-06", "--start", "2017-03"), "must come after the window's last month"),
    (("--stages", "Engaged,Won"), "--stages: 'Won' not in the actuals (stages: Engaged, Customers)"),
    (("--scenario", ROOT / "data" / "scenarios" / "demo.json"), "fewer than two of its stages are in the actuals"),
])
def test_bad_options_are_refused_with_the_option_named(crm_db, args, message):
    assert message in refused(run_cli("fit", "--db", crm_db, *args))


def test_an_empty_database_says_to_import_first(tmp_path):
    assert "holds no actuals" in refused(run_cli("fit", "--db", tmp_path / "empty.duckdb"))


def test_backtest_json_has_the_documented_shape(crm_db):
    doc = json.loads(succeeded(run_cli("backtest", "--db", crm_db, "--horizon", "6", "--fit-months", "8",
                                       "--origins", "3", "--trials", "500", "--json")).stdout)
    assert set(doc) >= {"origins", "coverage", "mape", "bias", "brier"}
    assert set(doc["coverage"]) == {"revenue", "stages"} and set(doc["coverage"]["stages"]) == {"Engaged", "Customers"}
    # The engages end on 2017-12-2x: December is partial, November the last whole month.
    assert [o["origin"] for o in doc["origins"]] == ["2017-09", "2017-10", "2017-11"]
    assert doc["origins"][0]["fit_from"] == "2017-01" and doc["origins"][0]["fit_to"] == "2017-08"
    text = succeeded(run_cli("backtest", "--db", crm_db, "--horizon", "6", "--fit-months", "8", "--origins", "3",
                             "--trials", "500")).stdout
    assert "On your own history the 80% revenue bands held" in text and "Brier" in text
    assert "a backtest needs more than" in refused(run_cli("backtest", "--db", crm_db, "--fit-months", "40"))


def _as_actuals(history):
    counts = {(index_label(history.first_month + i), history.stages[k]): int(history.counts[k, i])
              for k in range(len(history.stages)) for i in range(history.months) if history.counted[k, i]}
    revenue = {index_label(history.first_month + i): float(history.revenue[i])
               for i in range(history.months) if history.revenue_known[i]}
    return counts, revenue


@pytest.mark.parametrize("segment", [None, "Zane Levy"])
def test_the_history_counts_what_the_actuals_count(crm_db, segment):
    """Monthly counts and revenue from the records (and monthly imports) equal load_actuals'."""
    from sim.data.actuals import load_actuals
    from sim.data.store import Store
    with Store(crm_db) as store:
        import_csv(store, b"month,Engaged,revenue\n2017-03,999,12345\n", "monthly.csv")   # a month stated
        history = load_funnel_history(store, segment=segment)
        want = load_actuals(store, stage_order=history.stages, segment=segment)
    counts, revenue = _as_actuals(history)
    assert counts == {(m, s): c for m, s, c in want.counts if s in history.stages}
    assert revenue.keys() == dict(want.revenue).keys()
    for m, r in want.revenue:
        assert revenue[m] == pytest.approx(r)


def test_the_demo_database_fits(db):
    """The demo: monthly counts of six stages and lead and deal exports (records)."""
    from sim.data.actuals import load_actuals
    from sim.data.store import Store
    from sim.model.scenario_io import load_scenario as load

    from ..conftest import DEMO_PATH
    demo = load(DEMO_PATH)
    with Store(db, read_only=True) as store:
        history = load_funnel_history(store, stages=demo.stage_names)
        want = load_actuals(store, stage_order=demo.stage_names)
    counts, revenue = _as_actuals(history)
    assert counts == {(m, s): c for m, s, c in want.counts if s in history.stages}
    fit = fit_history(history, FitOptions(), demo)
    assert fit.scenario.stage_names == demo.stage_names
