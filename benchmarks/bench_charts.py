"""Benchmark: building the app's charts (issue 10: server CPU per journey, the Forecast page).

    .venv/bin/python benchmarks/bench_charts.py [--repeats 15]

A new scenario's charts are built once (ui.chart_specs caches them), but every scenario of a
journey is new: the Plan page's funnel after each change, the Forecast page's fan chart,
histogram, stage volumes and tornado when it opens. Prints the CPU of each chart's build, from
the builder to the Vega-Lite dict (``to_dict(validate=False)``, as ``ui.chart_specs`` does),
medians of ``--repeats`` builds, with Altair's "debug mode" (its default: every schema object
checked as it is made) and without it (the app's), for the demo and for the browser gallery's
funnel of twelve stages of long names (``tests/chart_gallery.py``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from altair.utils import schemapi  # noqa: E402

from sim import load_scenario, required_volumes, sensitivity, simulate  # noqa: E402
from sim.present import charts  # noqa: E402


def build_ms(build, repeats: int) -> float:
    """Median CPU milliseconds of ``build().to_dict(validate=False)`` (one build first, not counted)."""
    build().to_dict(validate=False)
    times = []
    for _ in range(repeats):
        start = time.process_time()
        build().to_dict(validate=False)
        times.append(time.process_time() - start)
    return 1000 * statistics.median(times)


def page_charts(scenario) -> dict:
    """The builders of the charts a new scenario needs on the Plan and Forecast pages."""
    forecast = simulate(scenario)
    targets = required_volumes(scenario, 0.8, trials=min(scenario.trials, 20_000))
    tornado = sensitivity(scenario, trials=min(scenario.trials, 5_000))
    return {
        "Plan: funnel": lambda: charts.funnel(targets, forecast),
        "Forecast: fan chart": lambda: charts.fan_chart(forecast),
        "Forecast: histogram": lambda: charts.revenue_histogram(forecast),
        "Forecast: stage volumes": lambda: charts.stage_volumes(forecast),
        "Forecast: tornado": lambda: charts.tornado(tornado.rows, forecast.p_goal),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args(argv)
    from tests.chart_gallery import gallery_scenario
    funnels = {"demo": load_scenario(REPO_ROOT / "data" / "scenarios" / "demo.json"),
               "12 stages, long names": gallery_scenario(12)}
    debug = schemapi.DEBUG_MODE
    try:
        for label, scenario in funnels.items():
            rows = []
            for name, build in page_charts(scenario).items():
                rows.append((name, *(_timed(build, mode, args.repeats) for mode in (True, False))))
            page = [r for r in rows if r[0].startswith("Forecast")]
            rows.append(("Forecast page (the four)", sum(r[1] for r in page), sum(r[2] for r in page)))
            print(f"\n{label}\n{'chart':30s} {'debug mode (ms)':>16s} {'app (ms)':>10s}")
            for name, on, off in rows:
                print(f"{name:30s} {on:16.1f} {off:10.1f}")
    finally:
        schemapi.DEBUG_MODE = debug
    return 0


def _timed(build, mode: bool, repeats: int) -> float:
    schemapi.DEBUG_MODE = mode
    return build_ms(build, repeats)


if __name__ == "__main__":
    sys.exit(main())
