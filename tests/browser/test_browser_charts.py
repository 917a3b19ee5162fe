"""Every chart with 2, 6 and 12 stages and long names (and the two-stage funnel of a CRM export
with its own names), drawn by Streamlit in a real browser: each chart's screenshot goes to
test-artifacts/screenshots/charts/<stages>-<chart>.png (looked at: see the README), and each
is checked for what made the six-stage-only charts unreadable: a band per stage at least
``MIN_BAND`` pixels high, and stage labels drawn whole (no "…")."""

from __future__ import annotations

import re

import pytest

from tests.chart_gallery import stage_names

from .conftest import LOGS
from .driver import ARTIFACTS, DESKTOP, open_app
from .server import StreamlitServer

SHOTS = ARTIFACTS / "screenshots" / "charts"
#: Charts with one row (band) per stage, and the smallest band height they may draw.
PER_STAGE = ("plan-funnel", "forecast-stage-volumes", "actuals-heatmap", "checkin-position", "checkin-rates")
MIN_BAND = 18


@pytest.fixture(scope="module")
def gallery_server():
    srv = StreamlitServer(log_path=LOGS / "chart-gallery.log", app="tests/browser/chart_gallery_app.py").start()
    try:
        yield srv
    finally:
        srv.stop()


def chart_texts(page, box) -> list[str]:
    """The texts of the chart's SVG (axis labels, titles, legends)."""
    return box.locator("svg text").evaluate_all("els => els.map(e => e.textContent || '')")


@pytest.mark.parametrize("stages, long", [(2, False), (2, True), (6, True), (12, True)],
                         ids=["2-export", "2-long", "6-long", "12-long"])
def test_every_chart_follows_the_stages_and_their_names(gallery_server, page, stages, long):
    page.set_viewport_size(DESKTOP)
    open_app(page, f"{gallery_server.url}/?stages={stages}&long={int(long)}")
    boxes = page.locator("[class*='st-key-chart-']")
    assert boxes.count() == 14
    problems = []
    for i in range(boxes.count()):
        box = boxes.nth(i)
        chart = next(c.removeprefix("st-key-chart-") for c in box.get_attribute("class").split()
                     if c.startswith("st-key-chart-"))
        box.scroll_into_view_if_needed()
        box.screenshot(path=str(SHOTS / f"{stages}{'-long' if long else ''}-{chart}.png"))
        texts = chart_texts(page, box)
        cut = [t for t in texts if t.endswith("…")]
        if cut:
            problems.append(f"{chart}: labels cut: {cut}")
        zero = [t for t in texts if re.fullmatch(r"[−-]?0(\.0+)?[kMGB]", t)]
        if zero:
            problems.append(f"{chart}: zero labelled with a unit: {zero}")
        if chart in PER_STAGE:
            joined = {"".join(t.split()) for t in texts}          # a label on two lines: its lines joined
            shown = [n for n in stage_names(stages, long) if any(t.startswith("".join(n.split())) for t in joined)]
            if chart != "checkin-rates" and len(shown) < stages - (chart == "checkin-position"):
                problems.append(f"{chart}: {stages} stages, {len(shown)} labels shown whole")
            height = box.locator("svg.marks").first.bounding_box()["height"]
            if height < MIN_BAND * stages:
                problems.append(f"{chart}: {height:.0f}px for {stages} stages")
    assert not problems, problems
