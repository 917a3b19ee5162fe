"""Fixtures of the real-browser suite: a `streamlit run` server, headless Chromium, pages.

Every test here is marked `browser`; the whole folder is skipped, with the reason, when
Chromium (/usr/bin/chromium, Debian's `chromium` package) or Playwright is missing.
`make test` installs Chromium first, so CI never skips.
"""

from __future__ import annotations

import contextlib
import re

import pytest

from .driver import ARTIFACTS, DESKTOP, new_session_page
from .server import CHROMIUM, ROOT, StreamlitServer, launch_chromium

LOGS = ARTIFACTS / "logs"
FAILURES = ARTIFACTS / "failures"

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - playwright is in requirements-dev.txt
    sync_playwright = None

SKIP_REASON = None
if sync_playwright is None:
    SKIP_REASON = "playwright is not installed (pip install -r requirements-dev.txt)"
elif not CHROMIUM.exists():
    SKIP_REASON = (f"{CHROMIUM} is missing: install Debian's chromium package "
                   "(`make test` does: apt-get install -y chromium)")


def pytest_collection_modifyitems(config, items):
    """Skipped without Chromium (their tier, browser, is given by the folder: tests/conftest.py)."""
    here = ROOT / "tests" / "browser"
    for item in items:
        if here in item.path.parents and SKIP_REASON:
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure: attach the server log's tail, its threads' stacks (where was it?) and
    save a screenshot of the page."""
    report = yield
    if report.failed and report.when in ("setup", "call"):
        for name in ("fresh_server", "server"):
            srv = item.funcargs.get(name) if hasattr(item, "funcargs") else None
            if isinstance(srv, StreamlitServer):
                report.sections.append((f"streamlit server log ({srv.log_path}), last lines", srv.log_tail(80)))
                report.sections.append(("streamlit server threads at the failure", srv.thread_dump()))
        page = item.funcargs.get("page") if hasattr(item, "funcargs") else None
        if page is not None:
            try:
                FAILURES.mkdir(parents=True, exist_ok=True)
                path = FAILURES / (re.sub(r"[^\w.-]+", "_", item.name) + ".png")
                page.screenshot(path=str(path))
                report.sections.append(("failure screenshot", str(path)))
            except Exception as exc:  # noqa: BLE001 - the page may be gone; the report matters more
                report.sections.append(("failure screenshot", f"not saved: {exc}"))
    return report


@contextlib.contextmanager
def running_server(name: str, db_dir):
    """A server with a temporary database of its own (seeded with the demo data on first use),
    stopped afterwards: the tests never touch the project's data/funnel.duckdb."""
    srv = StreamlitServer(log_path=LOGS / f"{name}.log",
                          env={"FUNNEL_DB": str(db_dir / "funnel.duckdb"), "FUNNEL_DEMO_DATA": None}).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One app server for the suite (its caches warm up as the tests go)."""
    with running_server("streamlit-session", tmp_path_factory.mktemp("db-session")) as srv:
        yield srv


@pytest.fixture
def fresh_server(request, tmp_path):
    """A server of its own for one test: its first page request is the test's."""
    with running_server("streamlit-" + re.sub(r"[^\w.-]+", "_", request.node.name), tmp_path / "db") as srv:
        yield srv


@pytest.fixture(scope="session")
def playwright_instance():
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
    b = launch_chromium(playwright_instance)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def page(browser):
    """A new browser context (a new Streamlit session) with a tall desktop viewport."""
    pg = new_session_page(browser, DESKTOP)
    try:
        yield pg
    finally:
        pg.context.close()


@pytest.fixture
def new_page(browser):
    """Factory of pages with a given viewport, closed at the end of the test."""
    contexts = []

    def make(viewport=DESKTOP):
        pg = new_session_page(browser, viewport)
        contexts.append(pg.context)
        return pg

    yield make
    for context in contexts:
        context.close()
