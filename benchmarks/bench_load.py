"""Load test (not a test): N real browser sessions at once against one server.

    .venv/bin/python benchmarks/bench_load.py                      # 10 sessions, 5 waves
    .venv/bin/python benchmarks/bench_load.py --sessions 20 --waves 2 --changes 3 --json

Starts the app (`python -m ui.serve`) on a free loopback port with a temporary database (seeded
with the demo's actuals). After one session (the warm-up), the idle server's CPU over 15 s. First,
many viewers of one link: one browser opens the Summary page of a shared link, then SESSIONS
browsers open another link at once; the server's CPU for each (budget: ten cost at most 1.5×
one), and the same for a page of one line (``benchmarks/one_line_app.py``, on a server of its own
started the same way): what Streamlit itself costs per viewer.
Then it runs WAVES waves. In each wave, SESSIONS headless Chromium browsers, started before the
wave (so that starting them does not compete with the server during the wave), open their
sessions together and each:

1. opens the Plan page with its own scenario (the demo with a seed of its own, so no session
   is served from another's cache) and waits for the first result;
2. makes CHANGES changes to the "Visits → Leads" rate slider (keyboard, one committed value
   each) and times each from the key press to the updated probability on screen (and the run
   finished);
3. opens the Forecast, Actuals and Check-in pages and times each until its run finished;
4. closes (the session goes away, as when an executive closes the tab).

The browsers reach the app through nginx with the README's own configuration
(``tests/browser/proxy.py``; Debian's ``nginx`` package, which ``make test`` installs): it
serves Streamlit's static files (about 100 requests, 10 MB per new browser: ~0.35 s of the
server's CPU each), the pages' HTML, the icon and the page-address probes from disk, as hosted.
Without nginx (or with ``--no-nginx``) the browsers serve the static files to themselves from
disk and the app server answers the rest; ``--static-from-server`` lets the app server serve
everything (no proxy at all).
It reports the server's own figures separately, read from /proc for the server process (CPU
time is the server's whatever the browsers take): CPU per wave and per session journey (budget
2.5 s; and, measured in this process before the server starts, how much of it the simulations
themselves take: the same journey's first answers, forecasts, searches and sensitivity without
Streamlit), and resident memory (VmRSS) after the warm-up and after each wave, read once the
server has been idle long enough to give freed memory back (``ui.idle_memory_release``: 30 s;
``--pause``) (budget: at most 600 MiB after five waves, flat over the last two; every cache is
bounded). Then the times seen
in the browsers (p50/p95/max to an updated result and of the page opens: on a 2-core machine
the ten browsers take most of the CPU, so these measure the machine more than the app), and
the errors (timeouts, Streamlit exception boxes). Exits 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
from tests.browser.proxy import NGINX, ReverseProxy
from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, IDLE, StreamlitServer
from ui import idle_memory_release

TIMEOUT_MS = 180_000
#: Seconds of an idle server measured after the warm-up (its polling, its timers).
IDLE_SECONDS = 15.0
#: Seconds after a wave before reading the server's memory: an idle server gives freed memory
#: back after half a minute of idle looks (``ui.idle_memory_release``), seen at the next look.
RELEASE_AFTER_SECONDS = idle_memory_release.IDLE_SECONDS + 2 * idle_memory_release.PERIOD_SECONDS
PROBABILITY = "Chance of hitting the goal"
# textContent, not innerText: the watcher below reads the metric on every DOM change, and
# innerText makes the browser lay the page out each time.
_METRIC_JS = """(label) => {
  const m = Array.from(document.querySelectorAll("[data-testid='stMetric']")).find(e => e.textContent.includes(label));
  const v = m && m.querySelector("[data-testid='stMetricValue']");
  return v ? v.textContent.trim() : null; }"""


#: Resolves when the script run after the next interaction has finished, with the times (ms from
#: now) when the metric showed a new value (null if it did not) and when the run ended.
_WATCH_JS = """([label, old]) => new Promise((resolve) => {
  const t0 = performance.now();
  const app = document.querySelector("[data-testid='stApp']");
  let running = false, changed = null;
  const value = () => {
    const m = Array.from(document.querySelectorAll("[data-testid='stMetric']")).find(e => e.textContent.includes(label));
    const v = m && m.querySelector("[data-testid='stMetricValue']");
    return v ? v.textContent.trim() : null; };
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


STATIC_DIR = Path(__import__("streamlit").__file__).parent / "static" / "static"


async def from_proxy(route) -> None:
    """Serve one of Streamlit's static files (``/static/...``) from disk, as a reverse proxy in
    front of the app does (README, hosting): the app server never sees these requests."""
    path = STATIC_DIR / route.request.url.split("/static/", 1)[1].split("?", 1)[0]
    if path.is_file():
        await route.fulfill(path=str(path), headers={"Cache-Control": "public, max-age=31536000, immutable"})
    else:
        await route.continue_()


#: What stands in front of the app server: "nginx" (the README's configuration), "browser" (no
#: proxy; the browsers serve Streamlit's static files to themselves, from disk) or "none" (the
#: app server serves everything: --static-from-server).
FRONT = "nginx" if NGINX.exists() else "browser"
FRONTS = {"nginx": "through nginx with the README's configuration: static files, page HTML, icon and probes from disk",
          "browser": "no nginx: Streamlit's static files from disk by the browsers, the rest from the app server",
          "none": "no proxy: everything from the app server"}


@contextlib.contextmanager
def front(app_url: str):
    """The URL the browsers open: nginx's in front of ``app_url`` (FRONT "nginx"), else the app's."""
    if FRONT != "nginx":
        yield app_url
        return
    with ReverseProxy(app_url) as proxy:
        yield proxy.url


async def launch(playwright, n: int) -> list:
    """``n`` browsers, each with a page, started before the wave (so that starting Chromium does
    not compete with the server during the wave). A browser of its own per session: one
    browser's contexts share its network service and its per-host connection limit, which
    stalls ten Streamlit sessions opening at once."""
    async def one():
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = await browser.new_context(viewport={"width": 1400, "height": 1000})
        if FRONT == "browser":
            await context.route("**/static/**", from_proxy)
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        return browser, page
    return [await one() for _ in range(n)]


async def close_all(browsers) -> None:
    for browser, _ in browsers:
        await browser.close()


async def open_link(page, url: str, out: dict) -> None:
    """An executive opens a shared link of the Summary page and reads it (charts drawn)."""
    try:
        t0 = time.perf_counter()
        await page.goto(url, timeout=TIMEOUT_MS)
        await page.get_by_text(PROBABILITY).first.wait_for(timeout=TIMEOUT_MS)
        await settled(page)
        out["link_open"].append(time.perf_counter() - t0)
        out["exceptions"] += await page.get_by_test_id("stException").count()
    except Exception as exc:  # noqa: BLE001 - counted and reported, the load goes on
        out["errors"].append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}")


async def session(page, url: str, token: str, changes: int, out: dict) -> None:
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
        await page.goto("about:blank")        # the session goes away, as when a tab is closed


def simulation_cpu(demo, changes: int) -> float:
    """CPU seconds of the simulations one journey asks of the Plan and Forecast pages, run here
    without Streamlit (same scenarios, same trials as ``ui.compute``): a first answer, the
    forecast and the confidence search for the opened scenario and after each slider change
    (the rate's P90 as the session moves it), then the Forecast page's sensitivity. The part of
    a journey's server CPU that is the model's own work, whatever the web framework."""
    import resource

    from streamlit import logger as streamlit_logger

    from sim import required_volumes, sensitivity, simulate
    from sim.model.editing import rate_from_range
    from sim.model.engine import period_revenue
    from sim.model.validation import scenario_from_dict
    streamlit_logger.set_log_level("error")             # its caches warn when there is no server
    from ui.compute import PREVIEW_TRIALS, SEARCH_TRIALS, SENSITIVITY_TRIALS

    def cpu():
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    simulate(replace(demo, seed=1), trials=2_000)              # imports and first tables: not counted
    scenario, last = replace(demo, seed=10_000), None
    p90s = [0.026]
    for i in range(changes):
        p90s.append(round(p90s[-1] + (0.01 if i % 2 == 0 else -0.0001), 6))
    start = cpu()
    for k, p90 in enumerate(p90s):
        if k:
            doc = scenario.to_dict()
            doc["stages"][1]["rate"] = rate_from_range(0.018, p90)
            scenario = scenario_from_dict(doc)
        period_revenue(scenario, trials=min(scenario.trials, PREVIEW_TRIALS))
        simulate(scenario)
        last = required_volumes(scenario, 0.8, trials=min(scenario.trials, SEARCH_TRIALS),
                                start_scale=last).at_confidence.scale
    sensitivity(scenario, trials=min(scenario.trials, SENSITIVITY_TRIALS))
    return cpu() - start


async def one_line_page(sessions: int) -> dict:
    """Streamlit's own floor: the server CPU of one viewer, then of SESSIONS at once, opening a
    page of one line (``benchmarks/one_line_app.py``) on a server of its own, the same way."""
    used, errors = await app_viewers_cpu(str(Path(__file__).with_name("one_line_app.py")), [1, sessions])
    return {**viewers_figures(used[0], used[1], sessions), "errors": errors}


async def app_viewers_cpu(app: str, groups: list[int]) -> tuple[list[float], list[str]]:
    """The server CPU seconds of each group of viewers (``groups``: how many browsers open the
    page at once, one group after the other) of the page ``app`` on a server of its own, after
    one viewer not counted (imports, the first run); and the errors seen."""
    from playwright.async_api import async_playwright
    out = {"link_open": [], "errors": [], "exceptions": 0}
    # Served as the app is (ui.serve: its web-server tick, malloc arenas, idle memory release).
    with StreamlitServer(app=app, serve=True) as srv, front(srv.url) as url:
        async with async_playwright() as p:
            await viewers_cpu(p, srv.proc.pid, url, 1, out)     # imports and first run: not counted
            used = [await viewers_cpu(p, srv.proc.pid, url, n, out) for n in groups]
    return used, out["errors"]


async def viewers_cpu(playwright, pid: int, link: str, n: int, out: dict) -> float:
    """Server CPU seconds while ``n`` browsers, started beforehand, open ``link`` at once."""
    browsers = await launch(playwright, n)
    await asyncio.sleep(1.0)
    cpu0 = server_cpu(pid)
    await asyncio.gather(*(open_link(page, link, out) for _, page in browsers))
    await asyncio.sleep(0.5)
    used = server_cpu(pid) - cpu0
    await close_all(browsers)
    return used


def viewers_figures(one: float, many: float, sessions: int) -> dict:
    """One viewer's and SESSIONS viewers' server CPU (s), and what each viewer after the first adds."""
    return {"one": round(one, 3), "ten": round(many, 3), "per_extra_viewer": round((many - one) / (sessions - 1), 3)}


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) the server process has used so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(args) -> dict:
    from playwright.async_api import async_playwright
    demo = load_scenario(REPO_ROOT / "data" / "scenarios" / "demo.json")
    report = {"sessions": args.sessions, "waves": args.waves, "changes": args.changes, "rss_mib": [], "waves_s": [],
              "server_cpu_s": [], "server_cpu_per_journey_s": [], "front": FRONT}
    out = {"first_load": [], "updated": [], "run_done": [], "pages": {}, "errors": [], "exceptions": 0,
           "unchanged": 0, "link_open": []}
    report["simulation_cpu_per_journey_s"] = round(simulation_cpu(demo, args.changes), 2)
    with tempfile.TemporaryDirectory() as tmp:
        log = REPO_ROOT / "test-artifacts" / "logs" / "bench-load.log"
        with (StreamlitServer(log_path=log, serve=True, env={"FUNNEL_DB": str(Path(tmp) / "funnel.duckdb")}) as srv,
              front(srv.url) as url):
            pid = srv.proc.pid
            async with async_playwright() as p:
                # One session first, so that the database exists and the imports are warm.
                warm = {k: ([] if isinstance(v, list) else {} if isinstance(v, dict) else 0) for k, v in out.items()}
                browsers = await launch(p, 1)
                await session(browsers[0][1], url, demo.to_url_token(), 1, warm)
                await close_all(browsers)
                report["rss_mib"].append(round(rss_mib(pid), 1))
                # The server's CPU with no session at all: paid during every measurement below.
                cpu0 = server_cpu(pid)
                await asyncio.sleep(IDLE_SECONDS)
                report["idle_server_cpu_ms_per_s"] = round((server_cpu(pid) - cpu0) / IDLE_SECONDS * 1e3, 1)

                # Many viewers of one link: one executive alone, then ten at once (new links each,
                # so neither is served from the other's cache). Server CPU only.
                if args.shared_link:
                    shared = {n: await viewers_cpu(p, pid, f"{url}/summary?s="
                                                   f"{replace(demo, seed=seed).to_url_token()}&q=0.8", n, out)
                              for n, seed in ((1, 900), (args.sessions, 901))}
                    report["shared_link_server_cpu_s"] = {**viewers_figures(shared[1], shared[args.sessions],
                                                                            args.sessions),
                                                          "ratio": round(shared[args.sessions] / shared[1], 2)}

                for wave in range(args.waves):
                    tokens = [replace(demo, seed=10_000 + wave * 1000 + i).to_url_token() for i in range(args.sessions)]
                    browsers = await launch(p, args.sessions)     # before the wave: not counted in it
                    await asyncio.sleep(1.0)
                    cpu0 = server_cpu(pid)
                    t0 = time.perf_counter()
                    await asyncio.gather(*(session(page, url, t, args.changes, out)
                                           for (_, page), t in zip(browsers, tokens)))
                    report["waves_s"].append(round(time.perf_counter() - t0, 1))
                    used = server_cpu(pid) - cpu0
                    report["server_cpu_s"].append(round(used, 1))
                    report["server_cpu_per_journey_s"].append(round(used / args.sessions, 2))
                    await close_all(browsers)
                    await asyncio.sleep(args.pause)
                    report["rss_mib"].append(round(rss_mib(pid), 1))
    if args.shared_link:
        report["one_line_page_server_cpu_s"] = await one_line_page(args.sessions)

    def summary(v):
        return None if not v else {"p50": round(statistics.median(v), 2), "p95": round(pct(v, 95), 2),
                                   "max": round(max(v), 2), "n": len(v)}

    report.update({
        "first_load_s": summary(out["first_load"]), "slider_to_updated_result_s": summary(out["updated"]),
        "slider_to_run_done_s": summary(out["run_done"]), "shared_link_open_s": summary(out["link_open"]),
        "page_open_s": {k: summary(v) for k, v in out["pages"].items()},
        "errors": out["errors"], "exception_boxes": out["exceptions"], "unchanged_results": out["unchanged"]})
    return report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--waves", type=int, default=5)
    ap.add_argument("--no-shared-link", dest="shared_link", action="store_false",
                    help="skip the many-viewers-of-one-link phase")
    ap.add_argument("--changes", type=int, default=3)
    ap.add_argument("--pause", type=float, default=RELEASE_AFTER_SECONDS,
                    help="seconds after a wave before reading memory (default: long enough for an idle "
                         "server to give freed memory back)")
    ap.add_argument("--no-nginx", action="store_true",
                    help="no nginx in front: the browsers serve Streamlit's static files to themselves, the app the rest")
    ap.add_argument("--static-from-server", action="store_true",
                    help="no proxy at all: the app server serves everything, Streamlit's static files too")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    global FRONT
    FRONT = "none" if args.static_from_server else "browser" if args.no_nginx or not NGINX.exists() else "nginx"
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: install Debian's chromium package", file=sys.stderr)
        return 0
    report = asyncio.run(run(args))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"Load test: {args.sessions} sessions at once × {args.waves} waves, {args.changes} slider changes each, "
          f"then Forecast, Actuals and Check-in (browsers started before each wave; server figures from /proc; "
          f"{FRONTS[FRONT]})")
    if "shared_link_server_cpu_s" in report:
        shared = report["shared_link_server_cpu_s"]
        print(f"one Summary link: server CPU for 1 viewer {shared['one']} s, for {args.sessions} at once "
              f"{shared['ten']} s: ×{shared['ratio']} (budget ×1.5: {'met' if shared['ratio'] <= 1.5 else 'not met'}); "
              f"open times {report['shared_link_open_s']}")
        floor = report["one_line_page_server_cpu_s"]
        print(f"  each viewer after the first: {shared['per_extra_viewer'] * 1e3:.0f} ms of server CPU (a one-line "
              f"Streamlit page, the same way: {floor['per_extra_viewer'] * 1e3:.0f} ms; the budget leaves "
              f"{shared['one'] / 2 / (args.sessions - 1) * 1e3:.0f} ms)")
    print(f"idle server (no session, after the warm-up): {report['idle_server_cpu_ms_per_s']} ms of CPU a second")
    per = report["server_cpu_per_journey_s"]
    print(f"server CPU per session journey (s), per wave: {per} (budget 2.5 s: "
          f"{'met' if per and statistics.median(per) <= 2.5 else 'not met'} at the median)")
    print(f"  of which the simulations themselves (Plan and Forecast pages, without Streamlit, in this "
          f"process): {report['simulation_cpu_per_journey_s']} s")
    print(f"wave durations (s): {report['waves_s']}; server CPU per wave (s): {report['server_cpu_s']}")
    rss = report["rss_mib"]
    flat = len(rss) >= 3 and rss[-1] <= 1.05 * rss[-2]      # flat: the last wave adds at most 5% (a fall is memory given back)
    print(f"server memory (MiB): after warm-up, then after each wave: {rss} (budget: <= 600 after the waves "
          f"and flat over the last two: {'met' if rss and max(rss) <= 600 and flat else 'not met'})")
    for key in ("first_load_s", "slider_to_updated_result_s", "slider_to_run_done_s"):
        print(f"{key:<28} {report[key]}")
    for name, s in report["page_open_s"].items():
        print(f"open {name:<23} {s}")
    print(f"errors: {len(report['errors'])} {report['errors'][:5]}; exception boxes: {report['exception_boxes']}; "
          f"changes with no visible change: {report['unchanged_results']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
