"""Driving the Streamlit app in a Playwright page: waits, the probability metric, screenshots.

Shared by the browser tests and benchmarks/bench_browser.py. No sleeps: every wait is for a
condition in the page, with an explicit timeout.

Why not just wait for `data-test-script-state='notRunning'`: right after a key press or a click
the attribute still says `notRunning` (the rerun has not started yet). So an interaction is
wrapped in :func:`rerun_after`, which counts the script runs the server says are finished (in
the app's WebSocket messages: :data:`RUN_WATCH`, in every page made by
:func:`new_session_page`) and waits for one more, then for the page to settle (no skeletons or
spinners left).
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

#: The page's count of finished script runs, read from the app's own WebSocket messages.
#: Installed in every page before it loads (:func:`new_session_page`: a context's init
#: script), because the run state attribute of the page is not enough: a run that is quick
#: (cached) on a busy machine can go from `notRunning` to `running` and back within one render,
#: so the attribute never changes and a counter of its changes misses the run (6 of 100 page
#: links clicked under load did; the tests then waited 60 s and failed). The server says every
#: run's end in a ForwardMsg whose field 6 (`script_finished`) is a status: 0 finished, 1
#: compile error, 2 ended early for a rerun (not a finished run: the rerun follows), 3 a
#: fragment's run finished. The count goes up two frames after the message came in (the app has handled it and
#: drawn by then); ``window.__stLastChange`` is when a run last started or finished.
RUN_WATCH = r"""(() => {
  if (window.__stRunWatch) return;
  window.__stRunWatch = true;
  window.__stRuns = 0;
  window.__stLastChange = performance.now();
  const NEW_SESSION = 4, SCRIPT_FINISHED = 6, ENDED_FOR_RERUN = 2;
  // The top-level fields of a protobuf message: number -> varint value (true for other types).
  function fields(bytes) {
    const seen = new Map();
    let i = 0;
    const varint = () => {
      let value = 0, shift = 0, b;
      do { b = bytes[i++]; value += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80 && i < bytes.length);
      return value;
    };
    while (i < bytes.length) {
      const key = varint(), number = Math.floor(key / 8), wire = key % 8;
      if (wire === 0) seen.set(number, varint());
      else if (wire === 2) { const length = varint(); i += length; seen.set(number, true); }
      else if (wire === 1) { i += 8; seen.set(number, true); }
      else if (wire === 5) { i += 4; seen.set(number, true); }
      else break;             // not a message we can read: ignore the rest
    }
    return seen;
  }
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        if (!(event.data instanceof ArrayBuffer)) return;
        const msg = fields(new Uint8Array(event.data));
        if (msg.has(NEW_SESSION)) window.__stLastChange = performance.now();
        const status = msg.get(SCRIPT_FINISHED);
        if (typeof status !== 'number') return;
        window.__stLastChange = performance.now();
        if (status === ENDED_FOR_RERUN) return;
        setTimeout(() => requestAnimationFrame(() => requestAnimationFrame(() => {
          window.__stRuns += 1;
          window.__stLastChange = performance.now();
        })), 0);
      });
    }
  };
})();"""

_RUN_COUNTER = "() => window.__stRunWatch ? window.__stRuns : -1"


def new_session_page(browser, viewport=DESKTOP, timeout: float = TIMEOUT_MS):
    """A page in a new browser context (a new Streamlit session) that counts the app's script
    runs (:data:`RUN_WATCH`); its context is ``page.context`` (close it when done)."""
    context = browser.new_context(viewport=viewport)
    context.add_init_script(RUN_WATCH)
    context.set_default_timeout(timeout)
    return context.new_page()


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
    """How many script runs of this page's session have finished since it was loaded."""
    count = page.evaluate(_RUN_COUNTER)
    if count < 0:
        raise RuntimeError("this page does not count script runs: make it with driver.new_session_page")
    return count


@contextmanager
def rerun_after(page, timeout: float = TIMEOUT_MS):
    """``with rerun_after(page): <interact>`` waits for the rerun it causes to finish."""
    before = script_runs(page)
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
    input tabs and its agreement part run only while open), wait for that run to finish; when
    no run has finished within ``grace_ms``, the click caused none: the page is settled."""
    before = script_runs(page)
    target.click()
    try:
        page.wait_for_function(f"() => window.__stRuns > {before}", timeout=grace_ms)
    except Exception:  # noqa: BLE001 - Playwright's timeout: no run finished
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
