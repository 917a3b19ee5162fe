"""Hostile names in a real browser (issue 15, findings 1 and 6): the server stays up when a
link's names hold control characters and the Report is asked for, and no name (of a scenario,
a stage, a plan, an imported file) creates an element or makes the browser fetch anything, on
any page. Screenshots go to test-artifacts/screenshots/hostile-*.png.
"""

from __future__ import annotations

import http.server
import shutil
import threading
import urllib.request
from dataclasses import replace

import pytest

from sim.data.store import Store
from sim.model.scenario_io import load_scenario

from ..conftest import unchecked
from .conftest import LOGS
from .driver import ARTIFACTS, click_maybe_rerun, exceptions, full_screenshot, open_app
from .server import ROOT, StreamlitServer

DEMO_PATH = ROOT / "data" / "scenarios" / "demo.json"
SHOTS = ARTIFACTS / "screenshots"
PAGES = ("", "forecast", "summary", "scenarios", "actuals", "checkin")


@pytest.fixture(scope="module")
def demo():
    return load_scenario(DEMO_PATH)


class Pixel:
    """A web server that counts every request made to it (a tracking pixel's host)."""

    def __init__(self):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, *args):
                pass
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


@pytest.fixture
def pixel():
    p = Pixel()
    yield p
    p.close()


def server_alive(server: StreamlitServer) -> bool:
    try:
        with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=10) as response:
            return server.proc.poll() is None and response.read().strip() == b"ok"
    except OSError:
        return False


def test_the_report_of_a_link_with_control_characters_leaves_the_server_up(fresh_server, page, demo):
    """Finding 1: the link's stage names held ``\\u0001`` and ``\\u001b``; the Report button on
    Summary made vl-convert panic and the whole server aborted. The link is refused now (and
    the report's charts are drawn in a worker process anyway): the report downloads, the
    server keeps serving."""
    bad = unchecked(replace(demo, trials=2000), stage_names=["Visits", "Le\u0001ads", "MQ\u001b[31mLs", "SQLs",
                                                              "Proposals", "Customers"])
    open_app(page, f"{fresh_server.url}/summary?s={bad.to_url_token()}")
    alerts = " ".join(page.get_by_test_id("stAlert").all_inner_texts())
    assert "could not be opened" in alerts and "control or invisible characters (U+0001)" in alerts
    with page.expect_download(timeout=120_000) as download:
        page.get_by_test_id("stDownloadButton").filter(has_text="Report").click()
    report = download.value.path().read_text(encoding="utf-8")
    assert report.count("<svg") == 2 and "no-chart" not in report
    assert server_alive(fresh_server)
    open_app(page, f"{fresh_server.url}/forecast")
    assert not exceptions(page)
    full_screenshot(page, SHOTS / "hostile-report-after.png")


def hostile_text(pixel: Pixel, what: str) -> str:
    """Markdown, HTML, an entity and a line break, each pointing at the pixel server."""
    return (f"![]({pixel.url}/{what}-md.png) <img src={pixel.url}/{what}-html.png> [link]({pixel.url}/{what}-link) "
            f"&copy; **bold**\nline break <b>tag</b>")


def legacy_database(folder, demo_db_file, pixel: Pixel):
    """The demo's database plus what a version before the name rules could store: a stage and
    a plan of record with hostile names, and an import of a hostile file name."""
    db = folder / "funnel.duckdb"
    shutil.copyfile(demo_db_file, db)
    stage, file_name = hostile_text(pixel, "stage"), hostile_text(pixel, "file") + ".csv"
    with Store(db) as store, store.transaction() as cur:
        cur.execute("INSERT INTO imports (id, file_name, content_hash, format, options, imported_at, rows, stages, "
                    "new_stages, first_month, last_month, summary, undone_at) "
                    "VALUES (99, ?, 'x', 'monthly', '{}', now()::TIMESTAMP, 1, ?, ?, "
                    "DATE '2027-02-01', DATE '2027-02-01', 'legacy', NULL)", [file_name, [stage], [stage]])
        cur.execute("INSERT INTO stages VALUES ('legacy', ?, 100, 99)", [stage])
        cur.execute("INSERT INTO monthly_counts (import_id, month, stage_key, count) VALUES (99, DATE '2027-02-01', 'legacy', 7)")
        cur.execute("UPDATE plans SET name = ?", [hostile_text(pixel, "plan")])
    return db


CREATED = """(host) => Array.from(document.querySelectorAll('img, a, iframe, script, object, embed, link, source'))
    .filter(e => ['src', 'href', 'data', 'srcset'].some(a => (e.getAttribute(a) || '').includes(host)))
    .map(e => e.outerHTML.slice(0, 200))"""


def visit_everything(page, base: str, query: str, pixel_host: str) -> list[str]:
    """Every page with the link's ``query``, every tab and expander opened; what names created."""
    created = []
    for name in PAGES:
        open_app(page, f"{base}/{name}?{query}")
        for tab in [None, *page.get_by_role("tab").all()]:
            if tab is not None:
                click_maybe_rerun(page, tab)       # the Plan page's input tabs rerun the app
            for summary in page.locator("[data-testid='stExpander'] summary").all():
                if summary.is_visible():
                    click_maybe_rerun(page, summary)   # and its agreement part
            created += page.evaluate(CREATED, pixel_host)
        assert not exceptions(page), (name, exceptions(page))
    return created


def test_hostile_names_create_no_element_and_no_request_on_any_page(tmp_path, demo_db_file, new_page, demo, pixel):
    """Finding 6: the Check-in page rendered stage names as Markdown: ``![](http://host/…)`` in
    a share link loaded a remote image, a tracking pixel. Every page, every tab, with hostile
    names wherever a name can come from (the link's scenario and stage names, and a database
    from before the name rules: a stage, a plan, a file name): no image, link or frame points
    at the pixel server, and it receives no request."""
    db = legacy_database(tmp_path, demo_db_file, pixel)
    srv = StreamlitServer(log_path=LOGS / "streamlit-hostile-names.log", serve=True,
                          env={"FUNNEL_DB": str(db), "FUNNEL_DEMO_DATA": None}).start()
    try:
        page = new_page()
        host = pixel.url.removeprefix("http://")
        named = replace(demo, name=hostile_text(pixel, "scenario"), trials=2000)
        stages = unchecked(replace(demo, trials=2000),
                           stage_names=["Visits", f"![]({pixel.url}/stage-link.png)", "MQLs", "SQLs", "Proposals",
                                        "Customers"])
        created = visit_everything(page, srv.url, f"s={named.to_url_token()}", host)
        full_screenshot(page, SHOTS / "hostile-checkin.png")
        open_app(page, f"{srv.url}/actuals?s={named.to_url_token()}")
        page.get_by_role("tab").filter(has_text="History").click()
        full_screenshot(page, SHOTS / "hostile-actuals-history.png")
        open_app(page, f"{srv.url}/checkin?s={stages.to_url_token()}")
        assert "stages[1].name must be" in " ".join(page.get_by_test_id("stAlert").all_inner_texts())
        created += visit_everything(page, srv.url, f"s={stages.to_url_token()}", host)
        assert created == [], created
        assert pixel.hits == [], pixel.hits
        assert server_alive(srv)
    finally:
        srv.stop()
