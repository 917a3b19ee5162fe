"""Charts with a row per stage grow with the stages (a height per row, not a fixed height that
a legend and few stages squeeze) and break long names on two lines (issue 16); the
screenshots of every chart with 2, 6 and 12 stages are in tests/browser/test_browser_charts.py."""

import altair as alt
import pytest

from sim import simulate
from sim.present import charts
from sim.present.charts.style import LABEL_LIMIT, LABEL_WRAP, ROW_STEP, by_rows, row_labels
from tests.chart_gallery import gallery_scenario, stage_names


def spec_of(chart) -> dict:
    return chart.to_dict()


def y_axes(spec) -> list[dict]:
    layers = spec.get("layer", [spec])
    return [layer["encoding"]["y"].get("axis", {}) for layer in layers if "y" in layer.get("encoding", {})]


@pytest.mark.parametrize("stages", [2, 12])
def test_stage_volumes_take_a_step_per_stage_and_wrap_long_names(stages):
    forecast = simulate(gallery_scenario(stages), trials=500)
    spec = spec_of(charts.stage_volumes(forecast))
    assert spec["height"] == {"step": ROW_STEP}
    assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}
    axis = y_axes(spec)[0]
    assert axis["labelLimit"] == LABEL_LIMIT and "labelExpr" in axis
    # the label room fits the longest line of a wrapped 40-character name at ~7 px a character
    longest = max(len(part) for n in stage_names(stages, True) for part in _wrapped(n))
    assert 7 * longest <= LABEL_LIMIT


def _wrapped(name: str) -> list[str]:
    """The lines the axis expression makes of ``name`` (the same rule, in Python)."""
    cut = name[:LABEL_WRAP + 1].rfind(" ")
    return [name[:cut], name[cut + 1:]] if len(name) > LABEL_WRAP and cut > 0 else [name]


def test_a_fixed_height_is_kept_when_asked():
    chart = alt.Chart(**by_rows(height=250)).mark_bar()
    assert chart.to_dict()["height"] == 250


def test_the_wrap_expression_uses_the_label_only():
    expr = row_labels().to_dict()["labelExpr"]
    assert "datum.label" in expr and "'" not in expr.replace("' '", "")
