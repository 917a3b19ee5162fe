"""Load test (not a test): N real browser sessions at once against one server.

    .venv/bin/python benchmarks/bench_load.py                      # 10 sessions, 3 waves
    .venv/bin/python benchmarks/bench_load.py --sessions 20 --waves 2 --changes 3 --json

Starts `streamlit run app.py` on a free loopback port with a temporary database (seeded with
the demo's actuals), then runs WAVES waves. In each wave, SESSIONS headless Chromium sessions
(separate browser contexts: separate Streamlit sessions) start together and each:

1. opens the Plan page with its own scenario (the demo with a seed of its own, so no session
   is served from another's cache) and waits for the first result;
2. makes CHANGES changes to the "Visits → Leads" rate slider (keyboard, one committed value
   each) and times each from the key press to the updated probability on screen (and the run
   finished);
3. opens the Forecast, Actuals and Check-in pages and times each until its run finished;
4. closes (the session goes away, as when an executive closes the tab).

It reports p50/p95/max of the time to an updated result and of the page opens, the errors
(timeouts, Streamlit exception boxes), the CPU seconds the server and the browsers used in each
wave (on a 2-core machine the browsers are part of the load: compare the two), and the
server's resident memory (VmRSS of the server process) before the first wave and after each
wave, to show whether memory keeps growing as sessions come and go (every cache is bounded).
Exits 0 whatever the timings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from sim import load_scenario
from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, IDLE, StreamlitServer

TIMEOUT_MS = 180_000
PROBABILITY = "Chance of hitting the goal"
_METRIC_JS = """(label) => {
  const m = Array.from(document.querySelectorAll("[data-testid='stMetric']")).find(e => e.innerText.includes(label));
  const v = m && m.querySelector("[data-testid='stMetricValue']");
  return v ? v.innerText.trim() : null; }"""


#: Resolves when the script run after the next interaction has finished, with the times (ms from
#: now) when the metric showed a new value (null if it did not) and when the run ended.
_WATCH_JS = """([label, old]) => new Promise((resolve) => {
  const t0 = performance.now();
  const app = document.querySelector("[data-testid='stApp']");
  let running = false, changed = null;
  const value = () => {
    const m = Array.from(document.querySelectorAll("[data-testid='stMetric']")).find(e => e.innerText.includes(label));
    const v = m && m.querySelector("[data-testid='stMetricValue']");
    return v ? v.innerText.trim() : null; };
  const observer = new MutationObserver(() => {
    const v = value();
    if (changed === null && v !== null && v !== old) changed = performance.now() - t0;
    const state = app.getAttribute('data-test-script-state');
    if (state === 'running') running = true;
    if (running && state === 'notRunning') { observer.disconnect(); resolve({changed, done: performance.now() - t0}); }
  });
  observer.observe(app, {subtree: true, childList: true, characterData: true, attributes: true});
})"""


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (MiB), from /proc."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def cpu_seconds(match) -> float:
    """CPU seconds (user + system) used so far by the live processes whose /proc/<pid>/cmdline
    satisfies ``match``."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if not match(cmdline):
                continue
            fields = stat.read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def pct(values, q):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


async def settled(page):
    await page.wait_for_selector(IDLE, state="attached", timeout=TIMEOUT_MS)
    await page.wait_for_function(
        """() => Array.from(document.querySelectorAll("[data-testid='stVegaLiteChart']"))
                 .every(c => c.querySelector('svg.marks, canvas'))""", timeout=TIMEOUT_MS)


async def session(playwright, url: str, token: str, changes: int, out: dict) -> None:
    # A browser of its own per session (one browser's contexts share its network service and
    # its per-host connection limit, which stalls ten Streamlit sessions opening at once).
    browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        t0 = time.perf_counter()
        await page.goto(f"{url}/?s={token}", timeout=TIMEOUT_MS)
        await page.get_by_text(PROBABILITY).first.wait_for(timeout=TIMEOUT_MS)
        await settled(page)
        out["first_load"].append(time.perf_counter() - t0)
        await page.get_by_role("tab", name="Marketing").click()
        form = (page.get_by_test_id("stVerticalBlock").filter(has_text="Visits → Leads")
                .filter(has=page.get_by_test_id("stRadio")).last)
        await form.get_by_test_id("stRadio").get_by_text("Slider", exact=True).click()   # typed by default
        await page.get_by_test_id("stSlider").filter(has_text="Conversion rate").first.wait_for(timeout=TIMEOUT_MS)
        await settled(page)
        box = (page.get_by_test_id("stVerticalBlock").filter(has_text="Visits → Leads")
               .filter(has=page.get_by_test_id("stSlider")).last)
        upper = box.get_by_test_id("stSlider").filter(has_text="Conversion rate").get_by_role("slider", name="end")
        for i in range(changes):
            before = await page.evaluate(_METRIC_JS, PROBABILITY)
            await upper.focus()
            # Observe from before the key press: when the metric changes and when the run ends.
            watch = asyncio.create_task(page.evaluate(_WATCH_JS, [PROBABILITY, before]))
            await asyncio.sleep(0.05)
            await page.keyboard.press("PageUp" if i % 2 == 0 else "ArrowDown")
            seen = await watch
            if seen["changed"] is None:
                out["unchanged"] += 1            # the same rounded value: no visible change
            else:
                out["updated"].append(seen["changed"] / 1000)
            out["run_done"].append(seen["done"] / 1000)
            await settled(page)
        for name in ("Forecast", "Actuals", "Check-in"):
            t0 = time.perf_counter()
            await page.get_by_role("link", name=name).first.click()
            await page.wait_for_function(
                """() => document.querySelector("[data-testid='stApp'][data-test-script-state='running']") === null""",
                timeout=TIMEOUT_MS)
            await settled(page)
            await page.wait_for_timeout(50)
            await settled(page)
            out["pages"].setdefault(name, []).append(time.perf_counter() - t0)
        out["exceptions"] += await page.get_by_test_id("stException").count()
    except Exception as exc:  # noqa: BLE001 - counted and reported, the load goes on
        out["errors"].append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
    finally:
        await context.close()
        await browser.close()


async def run(args) -> dict:
    from playwright.async_api import async_playwright
    demo = load_scenario(REPO_ROOT / "data" / "scenarios" / "demo.json")
    report = {"sessions": args.sessions, "waves": args.waves, "changes": args.changes, "rss_mib": [], "waves_s": []}
    out = {"first_load": [], "updated": [], "run_done": [], "pages": {}, "errors": [], "exceptions": 0,
           "unchanged": 0}
    with tempfile.TemporaryDirectory() as tmp:
        log = REPO_ROOT / "test-artifacts" / "logs" / "bench-load.log"
        with StreamlitServer(log_path=log, env={"FUNNEL_DB": str(Path(tmp) / "funnel.duckdb")}) as srv:
            async with async_playwright() as p:
                # One session first, so that the database exists and the imports are warm.
                warm = {k: ([] if isinstance(v, list) else {} if isinstance(v, dict) else 0) for k, v in out.items()}
                await session(p, srv.url, demo.to_url_token(), 1, warm)
                report["rss_mib"].append(round(rss_mib(srv.proc.pid), 1))
                report["server_cpu_s"], report["browser_cpu_s"] = [], []

                def is_server(c):
                    return "streamlit" in c and " run " in c

                def is_browser(c):
                    return "chrom" in c.lower() and "streamlit" not in c

                for wave in range(args.waves):
                    server0, browser0 = cpu_seconds(is_server), cpu_seconds(is_browser)
                    tokens = [replace(demo, seed=10_000 + wave * 1000 + i).to_url_token() for i in range(args.sessions)]
                    t0 = time.perf_counter()
                    await asyncio.gather(*(session(p, srv.url, t, args.changes, out) for t in tokens))
                    report["waves_s"].append(round(time.perf_counter() - t0, 1))
                    # Browsers of closed contexts are gone: their CPU is counted while alive only,
                    # so this is a lower bound for the browsers.
                    report["server_cpu_s"].append(round(cpu_seconds(is_server) - server0, 1))
                    report["browser_cpu_s"].append(round(cpu_seconds(is_browser) - browser0, 1))
                    await asyncio.sleep(args.pause)
                    report["rss_mib"].append(round(rss_mib(srv.proc.pid), 1))
    def summary(v):
        return None if not v else {"p50": round(statistics.median(v), 2), "p95": round(pct(v, 95), 2),
                                   "max": round(max(v), 2), "n": len(v)}

    report.update({
        "first_load_s": summary(out["first_load"]), "slider_to_updated_result_s": summary(out["updated"]),
        "slider_to_run_done_s": summary(out["run_done"]),
        "page_open_s": {k: summary(v) for k, v in out["pages"].items()},
        "errors": out["errors"], "exception_boxes": out["exceptions"], "unchanged_results": out["unchanged"]})
    return report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--waves", type=int, default=3)
    ap.add_argument("--changes", type=int, default=3)
    ap.add_argument("--pause", type=float, default=5.0, help="seconds after a wave before reading memory")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: install Debian's chromium package", file=sys.stderr)
        return 0
    report = asyncio.run(run(args))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"Load test: {args.sessions} sessions at once × {args.waves} waves, {args.changes} slider changes each, "
          f"then Forecast, Actuals and Check-in")
    print(f"wave durations (s): {report['waves_s']}; server CPU per wave (s): {report['server_cpu_s']}; "
          f"browsers' CPU per wave (s, lower bound): {report['browser_cpu_s']}")
    for key in ("first_load_s", "slider_to_updated_result_s", "slider_to_run_done_s"):
        print(f"{key:<28} {report[key]}")
    for name, s in report["page_open_s"].items():
        print(f"open {name:<23} {s}")
    print(f"errors: {len(report['errors'])} {report['errors'][:5]}; exception boxes: {report['exception_boxes']}; "
          f"changes with no visible change: {report['unchanged_results']}")
    print(f"server memory (MiB): after warm-up, then after each wave: {report['rss_mib']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
