"""Charts (Altair specs), the SLA table and the plain-words assumptions."""

import csv
import io
from dataclasses import replace

import pytest

from sim import required_volumes, sensitivity, simulate
from sim.present import charts
from sim.present.describe import assumptions
from sim.present.sla import sla_by_side, sla_csv, sla_rows, sla_sentences
from sim.present.spreadsheet import spreadsheet_safe


@pytest.fixture(scope="module")
def runs(demo):
    sc = replace(demo, trials=3000)
    return sc, simulate(sc), required_volumes(sc, 0.8, trials=3000), sensitivity(sc, trials=1000).rows


def test_every_chart_is_a_valid_vega_lite_spec(runs):
    sc, f, t, rows = runs
    for chart in (charts.fan_chart(f), charts.revenue_histogram(f), charts.stage_volumes(f),
                  charts.tornado(rows, f.p_goal), charts.funnel(t, f),
                  charts.side_by_side_distributions({"a": f, "b": f}), charts.side_by_side_p_goal({"a": f})):
        spec = chart.to_dict()          # validates against the Vega-Lite schema
        assert spec["width"] == "container"


@pytest.mark.parametrize("stages", [2, 12])
def test_every_chart_the_pages_draw_is_a_valid_vega_lite_spec(stages):
    """The app draws charts without Altair's schema validation (ui.chart_specs): every chart of
    the Plan, Forecast, Actuals, Check-in and Scenarios pages (the browser gallery's, with two
    and twelve stages of long names) is validated here instead."""
    from tests.chart_gallery import gallery_charts
    shown = gallery_charts(stages)
    assert len(shown) == 14
    for name, chart in shown.items():
        spec = chart.to_dict()          # validates against the Vega-Lite schema
        assert spec.get("layer") or spec.get("mark") or spec.get("vconcat") or spec.get("hconcat"), name


def test_the_charts_are_built_from_channel_objects_not_shorthand_strings(monkeypatch):
    """A shorthand string or a plain dict as an encoding makes Altair hash its whole schema again
    (about 2.5 ms each: half of the fan chart's build once). No chart of the pages does it."""
    from tests.chart_gallery import gallery_charts, schema_lookups
    lookups = schema_lookups(monkeypatch)
    for stages in (2, 12):
        for chart in gallery_charts(stages).values():
            chart.to_dict(validate=False)
    assert lookups == []
    from altair import Chart
    Chart().mark_point().encode(x="a:Q")              # the recording itself works
    assert lookups == ["X: {'shorthand': 'a:Q'}"]


def test_each_layer_chart_is_made_once(monkeypatch):
    """Altair copies every layer each time a layer chart is made (each ``+``, each
    ``.properties``): the builders make each of theirs once, with ``alt.layer(...)`` and its size
    and title (sim.present.charts), with the same charts in the gallery of the pages."""
    import altair as alt

    from tests.chart_gallery import gallery_charts
    made = []
    init = alt.LayerChart.__init__

    def counted(self, *args, **kwargs):
        made.append(type(self).__name__)
        init(self, *args, **kwargs)
    monkeypatch.setattr(alt.LayerChart, "__init__", counted)
    shown = gallery_charts(6)
    layered = [name for name, chart in shown.items() if isinstance(chart, alt.LayerChart)]
    assert len(layered) >= 10
    assert len(made) == len(layered), made
    made.clear()
    (alt.Chart().mark_point() + alt.Chart().mark_line()).properties(height=100)   # the counting works
    assert len(made) == 2


def test_fan_chart_data_are_the_forecast_quantiles(runs):
    _, f, _, _ = runs
    spec = charts.fan_chart(f).to_dict()
    values = next(iter(spec["datasets"].values()))
    assert [v["p50"] for v in values] == [m.cumulative.p50 for m in f.months]
    assert [v["p10"] for v in values] == [m.cumulative.p10 for m in f.months]


def test_tornado_keeps_the_sensitivity_order(runs):
    _, f, _, rows = runs
    spec = charts.tornado(rows, f.p_goal).to_dict()
    data = next(v for v in spec["datasets"].values() if v and "input" in v[0])
    assert [d["input"] for d in data] == [r.input for r in rows]
    assert [d["owner"] for d in data] == [r.owner for r in rows]


def test_sla_rows_hold_commitments_and_bands(runs):
    sc, f, t, _ = runs
    rows = sla_rows(t, f)
    assert len(rows) == len(sc.stages) * sc.months
    leads = rows[rows["stage"] == "Leads"]
    assert list(leads["commitment"]) == pytest.approx(t.at_confidence.stages[1].monthly)
    assert list(leads["current_plan_p10"]) == [m.p10 for m in f.stages[1].monthly]
    assert set(rows["side"]) == {"marketing", "sales"}
    tables = sla_by_side(t, f)
    assert list(tables["marketing"].columns) == ["Visits", "Leads", "MQLs"]
    assert list(tables["sales"].index) == list(sc.month_labels) + ["Period"]
    first = t.at_confidence.stages[1].monthly[0]
    band = f.stages[1].monthly[0]
    assert tables["marketing"].loc[sc.month_labels[0], "Leads"] == f"{first:,.0f} ({band.p10:,.0f}–{band.p90:,.0f})"


def test_sla_csv_is_spreadsheet_safe_and_numeric(runs):
    sc, f, t, _ = runs
    hostile = list(sc.stages)
    hostile[2] = replace(hostile[2], name="=HYPERLINK(1)")
    sc2 = replace(sc, stages=tuple(hostile), start_pipeline=())
    f2, t2 = simulate(sc2), required_volumes(sc2, 0.8, trials=2000)
    text = sla_csv(t2, f2)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0].keys() >= {"side", "stage", "month", "commitment", "current_plan_p10"}
    assert {r["stage"] for r in rows} >= {"'=HYPERLINK(1)"}
    float(rows[0]["commitment"])                       # numbers stay numbers
    assert spreadsheet_safe("+1") == "'+1" and spreadsheet_safe("@x") == "'@x"
    assert spreadsheet_safe("Leads") == "Leads"


def test_sla_sentences_and_assumptions_mention_every_stage(runs):
    sc, _, t, _ = runs
    sentences = sla_sentences(sc, t)
    assert set(sentences) == {"marketing", "sales"}
    assert "Visits" in sentences["marketing"] and "Customers" in sentences["sales"]
    words = " ".join(assumptions(sc))
    for stage in sc.stages[1:]:
        assert stage.name in words
    assert f"{sc.goal:,.0f}" in words and f"seed {sc.seed}" in words
