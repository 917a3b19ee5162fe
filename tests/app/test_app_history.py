"""AppTest of the "From history" page: the fit of an imported opportunity export shown beside its
data, the weight of history lowered, "Use as plan" (the Plan page opens on the fitted scenario,
the link carries it), too little history, no actuals, and the backtest. The expected numbers come
from the library on the same database (fit_history), never from the page."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sim.data.funnel_history import load_funnel_history
from sim.data.ingest import import_csv
from sim.data.store import Store
from sim.model.history_fit import FitOptions, fit_history
from sim.model.scenario_io import load_scenario
from sim.present.charts import history_fit as history_fit_charts

from ..conftest import ROOT
from ..crm_exports import csv_bytes, opportunity_export
from ..integration.test_history_fit_store import OPPORTUNITIES
from .apptest import open_app, small_demo, widget

PAGE = "app_pages/history.py"


@pytest.fixture
def crm_app_db(empty_db):
    with Store(empty_db) as store:
        import_csv(store, csv_bytes(opportunity_export(3000, seed=5)), "sales_pipeline.csv", options=OPPORTUNITIES)
    return empty_db


def expected(path, **options):
    with Store(path, read_only=True) as store:
        history = load_funnel_history(store, stages=("Engaged", "Customers"))
    return fit_history(history, FitOptions(**options), small_demo())


def table(at):
    return at.dataframe[0].value


def test_the_fit_is_shown_beside_its_data_and_used_as_the_plan(crm_app_db):
    at = open_app(PAGE, small_demo())
    assert not at.exception and not at.error
    window = widget(at.select_slider, "Window of history").value
    want = expected(crm_app_db, first=window[0], last=window[1])
    row = table(at).iloc[0]
    assert row["Stage"] == "Customers" and row["Rate"] == pytest.approx(want.scenario.stages[1].rate.mean)
    assert row["Converted"] == want.stages[1].rate.successes
    specs = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert len(specs) >= 4 and any("each cohort" in s for s in specs) and any("Lag into Customers" in s for s in specs)
    # Lower the weight of history: the band widens, the mean stays.
    widget(at.number_input, "Weight of history (cases)").set_value(50.0).run()
    lowered = table(at).iloc[0]
    assert lowered["Worth (cases)"] == 50 and lowered["Rate"] == pytest.approx(row["Rate"])
    assert lowered["P90"] - lowered["P10"] > row["P90"] - row["P10"]
    # Use as plan: the Plan page opens on the fitted scenario, and the link carries it.
    want = expected(crm_app_db, first=window[0], last=window[1], weight=50.0)
    next(b for b in at.button if b.label == "Use as plan").click().run()
    assert not at.exception
    got = at.session_state["scenario"]
    assert got.name == want.scenario.name and got.start == want.scenario.start and got.goal == want.scenario.goal
    # (the database returns rows in no set order: sums agree to rounding)
    assert got.top.to_dict() == pytest.approx(want.scenario.top.to_dict(), rel=1e-12)
    assert (got.deal.median, got.deal.p90) == pytest.approx((want.scenario.deal.median, want.scenario.deal.p90))
    assert got.start_pipeline == want.scenario.start_pipeline
    for mine, theirs in zip(got.stages[1:], want.scenario.stages[1:]):     # as the Plan page writes them
        assert mine.rate.mean == pytest.approx(theirs.rate.mean, rel=1e-12) and mine.lag == pytest.approx(theirs.lag, abs=1e-12)
    assert at.query_params["s"] in (got.to_url_token(), [got.to_url_token()])     # the share link carries it
    assert any(w.label == "Revenue goal" for w in at.number_input)      # the Plan page


def test_a_rerun_draws_the_fit_charts_from_the_cache_and_a_new_fit_draws_new_ones(crm_app_db, monkeypatch):
    """The fit's charts are made once per fit (its arguments and the database), not at every
    rerun of the page (about 100 ms of CPU each time a widget changed)."""
    at = open_app(PAGE, small_demo())
    first = [c.proto.spec for c in at.get("vega_lite_chart")]
    built = []
    for name in ("cohort_rates", "lag_histogram", "deal_values", "top_of_funnel"):
        made = getattr(history_fit_charts, name)
        monkeypatch.setattr(history_fit_charts, name,
                            lambda *args, made=made, name=name: built.append(name) or made(*args))
    at.run()
    assert not at.exception and built == []
    assert [c.proto.spec for c in at.get("vega_lite_chart")] == first
    widget(at.number_input, "Weight of history (cases)").set_value(50.0).run()
    assert not at.exception
    assert {"cohort_rates", "lag_histogram", "deal_values", "top_of_funnel"} <= set(built)
    assert [c.proto.spec for c in at.get("vega_lite_chart")] != first


def test_too_little_history_names_what_is_missing_and_keeps_the_plan(crm_app_db):
    """A scenario with no stage of the history's names: nothing typed to keep for the lag."""
    scenario = replace(load_scenario(ROOT / "data" / "scenarios" / "two-stage-5000-deals.json"), trials=2000)
    at = open_app(PAGE, scenario)
    slider = widget(at.select_slider, "Window of history")
    first = slider.options[0]
    slider.set_value((first, slider.options[1])).run()
    assert not at.exception, at.exception
    text = at.error[0].value
    assert "cannot fit the lag Engaged → Customers" in text and "nothing was written" in text
    assert at.session_state["scenario"] == scenario
    assert not [b for b in at.button if b.label == "Use as plan"]


def test_no_actuals_says_to_import_first(empty_db):
    at = open_app(PAGE, small_demo())
    assert not at.exception
    assert "Import a CRM export or monthly counts" in at.info[0].value


def test_the_backtest_says_how_often_the_bands_held(crm_app_db):
    at = open_app(PAGE, small_demo())
    widget(at.number_input, "Months each fit uses").set_value(6).run()
    widget(at.number_input, "Origins").set_value(3).run()
    widget(at.number_input, "Months forecast").set_value(3).run()
    at.toggle(key="bt-run").set_value(True).run()
    assert not at.exception
    assert any("On your own history the 80% revenue bands held" in m.value for m in at.markdown)
    assert any("Backtest" in c.proto.spec for c in at.get("vega_lite_chart"))
