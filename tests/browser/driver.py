"""Driving the Streamlit app in a Playwright page: waits, the probability metric, screenshots.

Shared by the browser tests and benchmarks/bench_browser.py. No sleeps: every wait is for a
condition in the page, with an explicit timeout.

Why not just wait for `data-test-script-state='notRunning'`: right after a key press or a click
the attribute still says `notRunning` (the rerun has not started yet). So an interaction is
wrapped in :func:`rerun_after`, which counts completed script runs with a MutationObserver
and waits for one more, then for the page to settle (no skeletons or spinners left).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from .server import ROOT, TIMEOUT_MS

PROBABILITY = "Chance of hitting the goal"
#: Screenshots, server logs and failure screenshots (git-ignored).
ARTIFACTS = ROOT / "test-artifacts"
DESKTOP = {"width": 1400, "height": 2200}
PHONE = {"width": 390, "height": 844}

_SETTLED = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
    && app.getAttribute('data-test-connection-state') === 'CONNECTED'
    && !document.querySelector("[data-testid='stSkeleton'], [data-testid='stSpinner']");
}"""

_RUN_COUNTER = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app) return -1;
  if (window.__stRunsApp !== app) {
    window.__stRunsApp = app;
    window.__stRuns = 0;
    window.__stLastChange = performance.now();
    new MutationObserver((records) => {
      // Every state the attribute went through (a fast run may flip it twice in one batch).
      window.__stLastChange = performance.now();
      const states = records.map(r => r.oldValue).concat([app.getAttribute('data-test-script-state')]);
      for (let i = 1; i < states.length; i++)
        if (states[i] === 'notRunning' && states[i - 1] !== 'notRunning') window.__stRuns += 1;
    }).observe(app, {attributes: true, attributeOldValue: true, attributeFilter: ['data-test-script-state']});
  }
  return window.__stRuns;
}"""


def settle(page, timeout: float = TIMEOUT_MS) -> None:
    """Wait until no script run is in progress and nothing is still loading."""
    page.wait_for_function(_SETTLED, timeout=timeout)
    # Charts draw after the run ends: wait until every Vega chart shown has its SVG or canvas
    # (one in a tab not shown is drawn when its tab is opened).
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll("[data-testid='stVegaLiteChart']"))
                 .every(c => c.offsetParent === null || c.querySelector('svg.marks, canvas'))""", timeout=timeout)


def open_app(page, url: str, expect_text: str | None = None, timeout: float = TIMEOUT_MS) -> None:
    """Go to ``url``, wait for the first run to finish (and ``expect_text``, if given)."""
    page.goto(url, timeout=timeout)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           state="attached", timeout=timeout)
    if expect_text:
        page.get_by_text(expect_text).first.wait_for(timeout=timeout)
    settle(page, timeout)


def script_runs(page) -> int:
    """How many script runs this page has finished since the counter was installed (the first
    call installs it and answers 0)."""
    return page.evaluate(_RUN_COUNTER)


@contextmanager
def rerun_after(page, timeout: float = TIMEOUT_MS):
    """``with rerun_after(page): <interact>`` waits for the rerun it causes to finish."""
    before = page.evaluate(_RUN_COUNTER)
    yield
    page.wait_for_function(f"() => window.__stRuns > {before}", timeout=timeout)
    settle(page, timeout)


def open_plan_tab(page, name: str, timeout: float = TIMEOUT_MS) -> None:
    """Open a tab of the Plan page's inputs and wait for the rerun it causes (only the open
    tab's inputs run); nothing to wait for when it is open already."""
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.get_attribute("aria-selected") == "true":
        return
    click_maybe_rerun(page, tab, grace_ms=5000, timeout=timeout)


def click_maybe_rerun(page, target, grace_ms: int = 1500, timeout: float = TIMEOUT_MS) -> None:
    """Click a tab or an expander's summary; when the click reruns the app (the Plan page's
    input tabs and its agreement part run only while open), wait for that run to finish (a run
    from the caches can be too quick to be seen: then the page is settled after ``grace_ms``)."""
    before = page.evaluate(_RUN_COUNTER)
    target.click()
    try:
        page.wait_for_function(f"() => window.__stRuns > {before}", timeout=grace_ms)
    except Exception:  # noqa: BLE001 - Playwright's timeout: no run seen (none, or too quick)
        pass
    settle(page, timeout)


def wait_quiet(page, quiet_ms: int = 1500, timeout: float = TIMEOUT_MS) -> None:
    """Wait until the app has been settled, with no run starting or ending, for ``quiet_ms``
    (for interactions that may cause a chain of reruns; needs a :func:`rerun_after` before)."""
    page.wait_for_function(
        f"""() => ({_SETTLED})() && performance.now() - window.__stLastChange > {int(quiet_ms)}""",
        timeout=timeout, polling=100)
    settle(page, timeout)


def probability_metric(page):
    return page.get_by_test_id("stMetric").filter(has_text=PROBABILITY)


def probability_text(page) -> str:
    """The text of the "Chance of hitting the goal" metric, e.g. ``'52.2%'``."""
    return probability_metric(page).get_by_test_id("stMetricValue").inner_text(timeout=TIMEOUT_MS).strip()


def percent(text: str) -> float:
    return float(text.strip().rstrip("%"))


def wait_probability_change(page, old: str, timeout: float = TIMEOUT_MS) -> str:
    """Wait until the probability metric shows something other than ``old``; return it."""
    page.wait_for_function(
        """(old) => {
             const m = Array.from(document.querySelectorAll("[data-testid='stMetric']"))
               .find(e => e.innerText.includes('Chance of hitting the goal'));
             const v = m && m.querySelector("[data-testid='stMetricValue']");
             return !!v && v.innerText.trim() !== old;
           }""", arg=old, timeout=timeout)
    return probability_text(page)


def query_param(page, name: str) -> str | None:
    values = parse_qs(urlparse(page.url).query).get(name)
    return values[0] if values else None


def wait_query_param_change(page, name: str, old: str | None, timeout: float = TIMEOUT_MS) -> str:
    page.wait_for_function(
        "([name, old]) => new URLSearchParams(location.search).get(name) !== old",
        arg=[name, old], timeout=timeout)
    return query_param(page, name)


def exceptions(page) -> list[str]:
    """Texts of the `stException` elements on the page (Streamlit's traceback boxes)."""
    return page.get_by_test_id("stException").all_inner_texts()


def content_height(page) -> int:
    """Height (CSS px) of the viewport that shows all of the page's content without scrolling:
    the bottom of the main block's content (in the scrolling container's coordinates, without
    the block's large bottom padding) plus a margin."""
    return int(page.evaluate(
        """() => {
             const main = document.querySelector("[data-testid='stMain']");
             const block = document.querySelector("[data-testid='stMainBlockContainer']");
             if (!main || !block) return document.documentElement.scrollHeight;
             const pad = parseFloat(getComputedStyle(block).paddingBottom) || 0;
             const bottom = block.getBoundingClientRect().bottom - pad + main.scrollTop;
             return Math.ceil(bottom + 32);
           }"""))


def full_screenshot(page, path: str | Path, timeout: float = TIMEOUT_MS) -> Path:
    """Screenshot of the whole content and nothing more: Streamlit scrolls inside its own
    container, so the viewport is resized to the content's height for the shot, then restored."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    need = max(400, content_height(page))
    if need != size["height"]:
        page.set_viewport_size({"width": size["width"], "height": need})
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        settle(page, timeout)
        need = max(400, content_height(page))  # a resize can reflow the page once
        if need != page.viewport_size["height"]:
            page.set_viewport_size({"width": size["width"], "height": need})
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            settle(page, timeout)
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    page.set_viewport_size(size)
    return path
