"""Report charts are drawn in a worker process (sim.present.svg_rendering): a renderer that
aborts cannot take the caller (the app's server) down, and what reaches it is cleaned first.

Finding 1: a share link whose stage name held ``\\u0001`` or ``\\u001b`` made vl-convert (Rust)
panic drawing the report's tornado chart ("Failed to parse text SVG: NonXmlChar"); the panic
cannot unwind, so the whole server process aborted.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from sim.present import svg_rendering
from sim.present.svg_rendering import ChartRenderingError, vegalite_to_svg, xml_safe_spec

from ..conftest import ROOT

SPEC = {"mark": "bar", "data": {"values": [{"stage": "Le\u0001ads\u001b[31m", "n": 3}]},
        "encoding": {"x": {"field": "n", "type": "quantitative"}, "y": {"field": "stage", "type": "nominal"}},
        "title": "Which \u200bassumption\u0001"}


def test_every_string_of_a_spec_is_cleaned():
    clean = xml_safe_spec(SPEC)
    assert clean["data"]["values"][0]["stage"] == "Leads[31m" and clean["title"] == "Which assumption"
    assert clean["encoding"] == SPEC["encoding"]


def test_a_spec_with_control_characters_is_drawn():
    svg = vegalite_to_svg(SPEC)
    assert svg.lstrip().startswith(("<svg", "<?xml")) and "Leads[31m" in svg and "\x01" not in svg


def test_a_renderer_that_aborts_takes_only_its_worker_down(monkeypatch):
    """The same spec, not cleaned: vl-convert aborts its process; this one carries on, the
    chart is reported as not drawn, and the next chart gets a new worker."""
    monkeypatch.setattr(svg_rendering, "xml_safe_spec", lambda spec: spec)
    with pytest.raises(ChartRenderingError, match="stopped"):
        vegalite_to_svg(SPEC)
    monkeypatch.undo()
    assert "Leads" in vegalite_to_svg(SPEC)


def test_the_report_of_a_scenario_with_control_characters_in_its_names_is_built():
    """The report itself, in a process of its own (before the fix this process aborted: exit
    134), for a scenario validation would refuse (built without it, as a library caller can)."""
    code = """
from dataclasses import replace
from sim import load_scenario, required_volumes, sensitivity, simulate
from sim.present.report import report_html
sc = load_scenario("data/scenarios/demo.json")
stages = tuple(replace(s, name=s.name + ch) for s, ch in zip(sc.stages, ["\\x01", "\\x1b", "", "", "", ""]))
sc = replace(sc, stages=stages, start_pipeline=(), trials=1000)
page = report_html(simulate(sc), required_volumes(sc, 0.8, trials=1000), sensitivity_rows=sensitivity(sc, trials=300).rows)
print(page.count("<svg"), "Which assumption moves P(goal) most" in page, "no-chart" in page)
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["2", "True", "False"]     # both charts drawn, the tornado among them
