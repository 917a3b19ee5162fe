"""The one-page HTML report: valid, self-contained, complete, and safe with hostile names."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser

import markupsafe
import pytest

from sim import required_volumes, sensitivity, simulate
from sim.present.describe import assumptions, verdict
from sim.present.report import download_name, period_text, report_html

from ..conftest import small_scenario, unchecked

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class StrictParser(HTMLParser):
    """Collects every problem that makes a document not well-formed: unclosed, stray or
    mismatched tags, a second <html>/<head>/<body>, and what we never want (scripts,
    external resources)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.counts: dict[str, int] = {}
        self.doctype = None

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1
        for name, value in attrs:
            if name in ("src", "srcset") or (name == "href" and tag != "a"):
                self.problems.append(f"external resource <{tag} {name}={value!r}>")
            if name.startswith("on"):
                self.problems.append(f"event handler <{tag} {name}>")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
            if tag in self.stack:
                while self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()

    def check(self, document: str) -> list[str]:
        self.feed(document)
        self.close()
        problems = list(self.problems)
        if self.stack:
            problems.append(f"unclosed: {self.stack}")
        if (self.doctype or "").lower() != "doctype html":
            problems.append(f"doctype {self.doctype!r}")
        for tag in ("html", "head", "body", "title", "main"):
            if self.counts.get(tag) != 1:
                problems.append(f"{self.counts.get(tag, 0)} <{tag}> elements")
        return problems


@pytest.fixture(scope="module")
def small_demo(demo):
    return replace(demo, trials=4000)


@pytest.fixture(scope="module")
def inputs(small_demo):
    """The forecast and the targets at 80% of the small demo."""
    return simulate(small_demo), required_volumes(small_demo, 0.8)


@pytest.fixture(scope="module")
def built(small_demo, inputs):
    forecast, targets = inputs
    rows = sensitivity(small_demo, trials=2000).rows
    page = report_html(forecast, targets, sensitivity_rows=rows, share_url="https://planner.example/summary?s=s1.abc&q=0.8",
                       generated_on=date(2027, 1, 15))
    return forecast, targets, rows, page


def test_the_report_is_valid_html(built):
    *_, page = built
    assert StrictParser().check(page) == []
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page


def test_the_report_is_self_contained_and_has_no_script(built):
    *_, page = built
    lowered = page.lower()
    assert "<script" not in lowered
    assert "javascript:" not in lowered
    assert "<link" not in lowered and "@import" not in lowered and "url(" not in lowered
    # The only web address is the share link (the SVGs name their XML namespaces, not resources).
    addresses = set(re.findall(r"https?://[^\s'\"<>]+", page)) - {"http://www.w3.org/2000/svg",
                                                                  "http://www.w3.org/1999/xlink"}
    assert addresses == {"https://planner.example/summary?s=s1.abc&amp;q=0.8"}
    assert "@media print" in page and "size:A4 portrait" in page


def test_the_report_shows_the_forecast_targets_and_assumptions(built, small_demo):
    forecast, targets, rows, page = built
    text = html.unescape(page)
    assert f"{forecast.p_goal:.1%}" in text
    lo, hi = forecast.p_goal_ci.low, forecast.p_goal_ci.high
    assert f"{lo:.1%}–{hi:.1%}" in text
    assert f"{small_demo.goal:,.0f}" in text
    assert f"{forecast.revenue.mean:,.0f}" in text
    assert f"{abs(forecast.gap):,.0f}" in text
    assert verdict(forecast).detail in text
    for stage in small_demo.stages:
        assert stage.name in text
        assert f"<th scope='row'>{stage.name}</th>" in page
    for k in range(len(small_demo.stages)):       # each stage's period commitment
        assert f"{targets.at_confidence.stages[k].total:,.0f}" in text
    for line in assumptions(small_demo):
        assert line in text
    assert "Marketing delivers" in text and "Sales delivers" in text
    assert small_demo.name in text and period_text(small_demo) in text
    assert f"{forecast.trials:,} simulated years, seed {small_demo.seed}" in text
    assert "generated by the Funnel SLA Planner on 2027-01-15" in text


def test_the_report_embeds_the_charts_as_svg(built):
    *_, page = built
    assert page.count("<svg") == 2
    assert "Cumulative revenue" in page                       # the fan chart
    assert "Which assumption moves P(goal) most" in page      # the tornado, from the sensitivity rows
    assert "Jan 27" in page                                   # months labelled for people


def test_without_sensitivity_the_report_shows_the_revenue_histogram(inputs):
    page = report_html(*inputs)
    assert page.count("<svg") == 2
    assert "Revenue over all simulated years" in page
    assert "Which assumption" not in page
    assert StrictParser().check(page) == []


def test_hostile_names_are_escaped(small_demo):
    """Validation refuses such stage names now; the template escapes whatever it gets anyway."""
    doc = small_demo.to_dict()
    doc["name"] = "<script>alert(1)</script> & \"quotes\""
    doc["stages"][1]["name"] = "<img src=x onerror=alert(2)>"
    sc = unchecked(small_demo, name=doc["name"], stage_names=[s["name"] for s in doc["stages"]])
    forecast = simulate(sc)
    page = report_html(forecast, required_volumes(sc, 0.8), sensitivity_rows=sensitivity(sc, trials=500).rows,
                       share_url="javascript:alert(3)")
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "javascript:" not in page.lower()
    assert str(markupsafe.escape(doc["name"])) in page          # autoescaped by the template
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert StrictParser().check(page) == []
    assert "<script>" in html.unescape(page)                  # shown, as text


def test_a_share_link_with_quotes_cannot_break_out_of_its_attribute(inputs):
    page = report_html(*inputs, share_url="https://x.example/?a='><b onmouseover=alert(1)>")
    assert "<b onmouseover" not in page
    assert StrictParser().check(page) == []


def test_an_unreachable_confidence_is_said_plainly(small_demo, inputs):
    targets = required_volumes(small_demo, 0.95, trials=1000, max_scale=1.0)
    assert not targets.reachable
    assert "95% confidence is out of reach" in report_html(inputs[0], targets)


def test_a_long_horizon_groups_months_into_at_most_twelve_columns():
    sc = small_scenario(months=36, start="2027-01", top={"per_month": 100, "noise_cv": 0})
    page = report_html(simulate(sc), required_volumes(sc, 0.8))
    head = re.search(r"<thead><tr><th></th>(.*?)<th class='total'>", page).group(1)
    labels = re.findall(r"<th>(.*?)</th>", head)
    assert labels[0] == "Jan 27–Mar 27" and labels[-1] == "Oct 29–Dec 29" and len(labels) == 12
    assert StrictParser().check(page) == []


def test_download_names_are_safe():
    sc = small_scenario(name="../../etc/<passwd> Q1 — plan")
    assert download_name(sc, "-report.html") == "etc-passwd-q1-plan-report.html"
    assert download_name(small_scenario(name="——"), ".json") == "scenario.json"
