"""Benchmark (not a test): in a real browser, the time from a slider change to the updated
probability on screen.

Run from the repository root (needs /usr/bin/chromium; `make test` installs it)::

    .venv/bin/python benchmarks/bench_browser.py              # 9 changes, readable report
    .venv/bin/python benchmarks/bench_browser.py --changes 15 --json

What it does: starts `streamlit run app.py` on a free loopback port (the helper of the browser
tests, tests/browser/server.py), opens the Plan page in headless Chromium, opens the Marketing
tab and moves the upper end ("P90") of the "Visits → Leads" conversion-rate slider with the
keyboard: one warm-up change, then N measured changes alternating in direction (PageUp: +1
point, PageDown: -1 point). Before each change the lower end ("P10") moves up one step (0.01
points, not measured), so no scenario repeats: every change is computed afresh, no cache hit.
Each change is a single key press (one committed value, like releasing a dragged slider), and
the next change waits until the script run has finished: key presses in quick
succession interrupt runs, and the app can then revert a change (a known problem of the URL
sync at the time of writing), which would make the numbers meaningless.

Timestamps are taken inside the page (performance.now(), one clock) by an init script:

- key:    the keydown of the change (the moment a user lets go of a dragged slider);
- sent:   the first WebSocket message the browser sends after it (the rerun request; the gap
          from `key` is the slider's debounce in the frontend);
- server: the first WebSocket message received after `sent` that carries the probability
          metric (the server has rerun the script up to the headline); split, with the
          server's own timing (``benchmarks/rerun_timing``: the server starts with it on its
          ``PYTHONPATH``; wall clocks of one machine), into "in srv" (the request's arrival in
          the server → the metric's message handed to the WebSocket) and "to page" (handed →
          the page's ``message`` event: the page handles the messages before it first);
- shown:  the metric's text on screen differs from the previous value (MutationObserver): the
          first answer (from the first trials) when the whole run is not cached;
- whole:  the first message received after `sent` with the whole run's Monte Carlo caption;
- SLA:    the first message received after `sent` with the SLA tables' download button (sent
          right after the tables: the tables are on their way to the screen);
- idle:   the script run has finished (everything below the headline, e.g. the confidence
          search for the SLA, is done).

It prints each change, then median and p90 of each part. Exits 0 whatever the timings.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.browser.driver import PROBABILITY, new_session_page, open_app, open_plan_tab, probability_text, rerun_after, settle
from tests.browser.server import CHROMIUM, StreamlitServer, launch_chromium

TIMEOUT_MS = 120_000

# Timestamps of key presses, WebSocket traffic and metric changes, on the page's own clock.
_PROBE = r"""
(() => {
  const P = window.__bench = {origin: performance.timeOrigin,
                              keys: [], sent: [], metricMsgs: [], finalMsgs: [], slaMsgs: [], shown: [], idle: []};
  document.addEventListener('keydown', () => P.keys.push(performance.now()), true);
  const Native = window.WebSocket;
  const origSend = Native.prototype.send;
  Native.prototype.send = function (data) { P.sent.push(performance.now()); return origSend.call(this, data); };
  const label = /Chance of hitting the goal(?! the SLA)/;
  const decoder = new TextDecoder('utf-8', {fatal: false});
  class Probed extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (ev) => {
        const t = performance.now();
        let text = '';
        if (ev.data instanceof ArrayBuffer) text = decoder.decode(new Uint8Array(ev.data));
        else if (typeof ev.data === 'string') text = ev.data;
        if (label.test(text)) P.metricMsgs.push(t);
        if (/Monte Carlo error: /.test(text)) P.finalMsgs.push(t);
        if (/Download the SLA table/.test(text)) P.slaMsgs.push(t);
      });
    }
  }
  window.WebSocket = Probed;
  const watch = () => {
    const app = document.querySelector("[data-testid='stApp']");
    if (!app) { requestAnimationFrame(watch); return; }
    let last = null, state = app.getAttribute('data-test-script-state');
    // textContent, not innerText: this runs on every DOM change, and innerText makes the
    // browser lay the page out each time (the probe then slowed the page it measured).
    const metricText = () => {
      const m = Array.from(document.querySelectorAll("[data-testid='stMetric']"))
        .find(e => e.textContent.includes('Chance of hitting the goal'));
      const v = m && m.querySelector("[data-testid='stMetricValue']");
      return v ? v.textContent.trim() : null;
    };
    new MutationObserver(() => {
      const now = performance.now();
      const text = metricText();
      if (text !== null && text !== last) { if (last !== null) P.shown.push([now, text]); last = text; }
      const s = app.getAttribute('data-test-script-state');
      if (s === 'notRunning' && state !== 'notRunning') P.idle.push(now);
      state = s;
    }).observe(app, {subtree: true, childList: true, characterData: true, attributes: true,
                     attributeFilter: ['data-test-script-state']});
  };
  watch();
})();
"""


def first_after(times, t0):
    return next((t for t in times if t > t0), None)


def percentile(values, q):
    """Nearest-rank percentile (q in 0..100) of a small sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def server_record(path: Path, sent: float, received: float) -> dict | None:
    """The server's timing of the rerun requested at ``sent`` whose metric the page received at
    ``received`` (ms since the epoch; ``benchmarks/rerun_timing``): the first request to arrive
    after ``sent`` (less 5 ms for the clocks' rounding) whose metric left before ``received``."""
    if not path.exists():
        return None
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if sent - 5 <= record["request"] and record["sent"] <= received + 5:
            return record
    return None


def one_change(page, thumb, key: str, what: str, timings: Path) -> dict:
    """One key press on ``thumb`` (one committed value, like releasing a dragged slider); waits
    until the script run it causes has finished, then reads the page's timestamps and the
    server's (``timings``)."""
    before = probability_text(page)
    counts = page.evaluate("() => ({shown: __bench.shown.length, idle: __bench.idle.length})")
    thumb.focus()  # resolved while the app is idle
    page.keyboard.press(key)
    page.wait_for_function("(n) => __bench.idle.length > n", arg=counts["idle"], timeout=TIMEOUT_MS)
    settle(page, TIMEOUT_MS)
    b = page.evaluate("() => __bench")
    t_key = b["keys"][-1]
    t_sent = first_after(b["sent"], t_key)
    t_server = first_after(b["metricMsgs"], t_sent) if t_sent is not None else None
    # A change whose probability rounds to the same text shows no new value: reported as such.
    t_shown, after = next(((t, text) for t, text in b["shown"][counts["shown"]:]), (None, before))
    t_idle = first_after(b["idle"], t_key)
    t_final = first_after(b["finalMsgs"], t_sent) if t_sent is not None else None
    t_sla = first_after(b["slaMsgs"], t_sent) if t_sent is not None else None
    def ms(a, z):
        return None if a is None or z is None else z - a

    record = server_record(timings, b["origin"] + t_sent, b["origin"] + t_server) \
        if t_sent is not None and t_server is not None else None
    return {"key": key, "what": what, "value": thumb.get_attribute("value"),
            "before": before, "after": after,
            "shown_ms": ms(t_key, t_shown), "debounce_ms": ms(t_key, t_sent),
            "server_ms": ms(t_sent, t_server),
            "in_server_ms": ms(record["request"], record["sent"]) if record else None,
            "to_page_ms": ms(record["sent"], b["origin"] + t_server) if record else None,
            "render_ms": ms(t_server, t_shown),
            "final_ms": ms(t_key, t_final), "sla_ms": ms(t_key, t_sla), "idle_ms": ms(t_key, t_idle)}


def summarise(rows, field):
    values = [r[field] for r in rows if r[field] is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "p90": percentile(values, 90),
            "min": min(values), "max": max(values), "n": len(values)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--changes", type=int, default=9, help="measured slider changes (default 9)")
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    ap.add_argument("--no-server-timing", action="store_true",
                    help="no timing inside the server (no 'in srv' and 'to page' columns)")
    args = ap.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: install Debian's chromium package", file=sys.stderr)
        return 0
    from playwright.sync_api import sync_playwright

    log = REPO_ROOT / "test-artifacts" / "logs" / "bench-browser.log"
    rows, warmup = [], None
    started = time.perf_counter()
    timing_dir = tempfile.TemporaryDirectory()
    timings = Path(timing_dir.name) / "reruns.jsonl"
    # benchmarks/rerun_timing/sitecustomize.py times each rerun inside the server (see there).
    path = os.pathsep.join(filter(None, [str(Path(__file__).with_name("rerun_timing")), os.environ.get("PYTHONPATH")]))
    server_env = {} if args.no_server_timing else {"PYTHONPATH": path, "BENCH_RERUN_TIMING": str(timings)}
    with timing_dir, StreamlitServer(log_path=log, env=server_env) as srv, sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = new_session_page(browser, {"width": 1400, "height": 1200}, TIMEOUT_MS)
            page.context.add_init_script(_PROBE)
            t0 = time.perf_counter()
            open_app(page, srv.url, expect_text=PROBABILITY, timeout=TIMEOUT_MS)
            first_load = time.perf_counter() - t0
            open_plan_tab(page, "Marketing")          # a rerun: only the open tab's inputs run
            form = (page.get_by_test_id("stVerticalBlock").filter(has_text="Visits → Leads")
                    .filter(has=page.get_by_test_id("stRadio")).last)
            with rerun_after(page):                                 # the rate is typed by default
                form.get_by_test_id("stRadio").get_by_text("Slider", exact=True).click()
            box = (page.get_by_test_id("stVerticalBlock").filter(has_text="Visits → Leads")
                   .filter(has=page.get_by_test_id("stSlider")).last)
            slider = box.get_by_test_id("stSlider").filter(has_text="Conversion rate")
            upper = slider.get_by_role("slider", name="end")
            lower = slider.get_by_role("slider", name="start")
            # Measured: the P90 one page up (+1 point), then one page down (-1 point). Before
            # each change the P10 moves up by one step (not measured), so no scenario repeats
            # and every measured change is computed afresh (no cache hit).
            warmup = one_change(page, lower, "ArrowRight", "P10", timings)
            while len(rows) < args.changes:
                if rows:
                    one_change(page, lower, "ArrowRight", "P10", timings)
                up = len(rows) % 2 == 0
                rows.append(one_change(page, upper, "PageUp" if up else "PageDown", "P90", timings))
        finally:
            browser.close()

    fields = ["shown_ms", "debounce_ms", "server_ms", "in_server_ms", "to_page_ms", "render_ms", "final_ms",
              "sla_ms", "idle_ms"]
    summary = {f: summarise(rows, f) for f in fields}
    if args.json:
        print(json.dumps({"first_load_s": first_load, "warmup": warmup, "changes": rows,
                          "summary": summary}, indent=2))
        return 0
    print(f"Browser benchmark: Plan page, 'Visits → Leads' rate slider (P90), {args.changes} changes "
          f"after a warm-up; server log {log}")
    print(f"first page load (goto → idle): {first_load:.2f} s; whole run {time.perf_counter() - started:.1f} s")
    head = (f"{'#':>4} {'change (key → new value)':<26} {'probability':<17} {'shown':>8} {'debounce':>9} {'server':>8} "
            f"{'in srv':>8} {'to page':>8} {'render':>8} {'whole':>8} {'SLA':>8} {'run done':>9}")
    print(head)
    print("-" * len(head))

    def fmt(v):
        return f"{v:8.0f}" if v is not None else "       -"

    for i, r in enumerate([warmup] + rows):
        tag = "warm" if i == 0 else str(i)
        keys = f"{r['what']} {r['key']} → {float(r['value']):.2f}%"
        change = f"{r['before']} → {r['after']}"
        print(f"{tag:>4} {keys:<26} {change:<17} {fmt(r['shown_ms'])} {fmt(r['debounce_ms']):>9} "
              f"{fmt(r['server_ms'])} {fmt(r['in_server_ms'])} {fmt(r['to_page_ms'])} {fmt(r['render_ms'])} "
              f"{fmt(r['final_ms'])} {fmt(r['sla_ms'])} {fmt(r['idle_ms']):>9}")
    print("-" * len(head))
    for name in ("median", "p90"):
        vals = [summary[f][name] if summary[f] else None for f in fields]
        print(f"{name:>6}{'':<42} {fmt(vals[0])} {fmt(vals[1]):>9} "
              + " ".join(fmt(v) for v in vals[2:8]) + f" {fmt(vals[8]):>9}")
    print("(milliseconds; shown = key press → new probability on screen (a first answer from the first "
          "trials when the whole run is not cached) = debounce + server + render; server = rerun request sent → "
          "message with the new metric received, of which in srv = the request's arrival in the server → that "
          "message handed to the WebSocket (timed inside the server) and to page = handed → received by the "
          "page (the page handles the messages before it, on the cores the server also uses); "
          "whole = key press → the whole run's probability received; "
          "SLA = key press → the SLA tables received; run done = key press → script run finished)")
    budgets = {"shown_ms": 200, "sla_ms": 600}
    for f, budget in budgets.items():
        med = summary[f]["median"] if summary[f] else None
        verdict = "no data" if med is None else ("met" if med <= budget else "not met")
        print(f"budget {f}: median {fmt(med).strip()} ms against {budget} ms: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
