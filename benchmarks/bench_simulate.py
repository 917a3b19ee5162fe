"""Benchmark of the Monte Carlo engine against the issue's budgets, in one run.

Run from the repository root (no PYTHONPATH needed)::

    .venv/bin/python benchmarks/bench_simulate.py            # readable report
    .venv/bin/python benchmarks/bench_simulate.py --quick    # fewer repetitions, no 1M/worst-case runs
    .venv/bin/python benchmarks/bench_simulate.py --json     # one JSON document on stdout

What it measures (medians of repeats, wall time with ``time.perf_counter``; the machine is
shared and noisy, so compare ratios measured in the same run):

1. ``simulate(sc, trials=n)`` (draws + summary) of the demo (``data/scenarios/demo.json``) at
   10k, 100k and 1M trials.
2. The *floor* at 100k trials (``benchmarks.baselines.floor_draws``: exactly the random
   numbers the model needs, from numpy's native samplers, nothing else, same chunks and
   threads) and the two baselines of the same model (a per-trial Python loop, extrapolated
   from a few thousand trials, and a straightforward numpy version at 100k trials), whose
   P(goal) must agree with the library's within a few standard errors.
   How the work scales on the pool's two threads: the engine's revenue chunks and the floor's,
   at 100k trials, one after the other in one thread and on the pool (information, no budget);
   and ``simulate``'s two parts at 100k, the draw and the summary (information). Without
   ``--quick``, the floor at 1M trials too. What the floor itself allows is printed beside the
   budgets it bounds: how much faster than the straightforward baseline it is, its time for 1M
   trials, and its own growth with 100 times the volume.
3. The demo with 100 times its volume, at 100k trials, against the demo; the floor at that
   volume against the floor of the demo; and the straightforward
   baseline at that volume (5,000 trials, extrapolated per trial: at 100k trials its value per
   customer would need several GB), against the engine (information, no budget).
4. The confidence search ``required_volumes(sc, 0.8, trials=100_000)``.
5. The two-stage funnel of about 5,000 won deals a year (``data/scenarios/two-stage-5000-deals.json``):
   ``python -m sim forecast`` and ``python -m sim targets`` as commands (interpreter start and
   imports included), wall time and peak resident size (``/usr/bin/time -v``, else the
   children's ``ru_maxrss``).
6. Memory (fresh processes, peak resident size VmHWM): the demo at 1M trials, the demo at 10^7
   visits a month, the worst-case share link (refused by the work budget: time to the refusal),
   and the largest run the budget lets through (36 months, at the most trials allowed).

The ratios of the floor budget and of the 100x budget are medians of pairs run in turn (the
machine's speed drifts over a run; each pair sees about the same machine). Every budget is
printed as PASS/MISS; the script exits 0 whatever the timings.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import numpy as np

from benchmarks.baselines import floor_draws, p_goal, python_loop, straightforward_numpy
from sim.model.engine import make_rng
from sim.model.forecast import simulate
from sim.model.scenario_io import load_scenario
from sim.model.targets import required_volumes

DEMO = REPO_ROOT / "data" / "scenarios" / "demo.json"
TWO_STAGE = REPO_ROOT / "data" / "scenarios" / "two-stage-5000-deals.json"
MIB = 1024 * 1024
AGREEMENT_SE = 4.0
#: Trials of the straightforward baseline at 100x the demo's volume (one value per customer).
BIG_BASELINE_TRIALS = 5_000


def time_runs(fn, repeats: int):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return {"repeats": repeats, "min_s": min(times), "median_s": statistics.median(times)}, result


def paired_runs(fa, fb, repeats: int) -> dict:
    """``fa`` and ``fb`` run in turn, ``repeats`` times: the median and least wall time of each,
    and the median of the pairs' ratios b / a (the machine's speed drifts; the two runs of a
    pair see about the same machine)."""
    times = {"a": [], "b": []}
    for _ in range(repeats):
        for key, fn in (("a", fa), ("b", fb)):
            start = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - start)
    out = {key: {"repeats": repeats, "min_s": min(v), "median_s": statistics.median(v)} for key, v in times.items()}
    out["ratio"] = statistics.median(b / a for a, b in zip(times["a"], times["b"]))
    return out


def agreement(p_ref, n_ref, p_other, n_other) -> dict:
    se = math.sqrt(p_ref * (1 - p_ref) / n_ref + p_other * (1 - p_other) / n_other)
    z = (p_other - p_ref) / se if se > 0 else 0.0
    return {"p_goal": p_other, "trials": n_other, "difference_in_se": z, "agrees": abs(z) <= AGREEMENT_SE}


# A fresh interpreter that runs ``code`` and prints its own peak resident size (VmHWM, reset
# just before the measured part) and the time of that part.
_PROBE = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
def status(field):
    with open('/proc/self/status') as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith(field + ':'))
from sim.model.forecast import simulate
from sim.model.validation import scenario_from_dict
from sim.model.work_budget import max_trials_within_budget
doc = json.loads(sys.argv[2])
simulate(scenario_from_dict({**doc, 'trials': 1000}), detail_trials=100)   # imports, tables
with open('/proc/self/clear_refs', 'w') as f:
    f.write('5')
before = status('VmRSS')
start = time.perf_counter()
error = None
try:
    sc = scenario_from_dict(doc)
    if sys.argv[3] == 'max':
        from dataclasses import replace
        sc = replace(sc, trials=max_trials_within_budget(sc, detail_trials=2048))
    f = simulate(sc)
    result = {'p_goal': f.p_goal, 'trials': f.trials}
except Exception as exc:
    result = {'error': str(exc)[:300]}
print(json.dumps({**result, 'seconds': time.perf_counter() - start, 'before': before,
                  'peak': status('VmHWM')}))
"""


def probe(doc: dict, mode: str = "plain") -> dict:
    out = subprocess.run([sys.executable, "-c", _PROBE, str(REPO_ROOT), json.dumps(doc), mode],
                         capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def command(args: list[str], repeats: int) -> dict:
    """Wall time (median) and peak resident size of ``python -m sim ARGS``."""
    gnu_time = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)
    times, peaks = [], []
    for _ in range(repeats):
        with tempfile.NamedTemporaryFile("r", suffix=".txt") as report:
            cmd = [sys.executable, "-m", "sim", *args]
            if gnu_time:
                cmd = [gnu_time, "-v", "-o", report.name] + cmd
            start = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT)
            times.append(time.perf_counter() - start)
            if proc.returncode != 0:
                return {"error": proc.stderr.strip()[-300:]}
            if gnu_time:
                with open(report.name) as lines:
                    line = next(x for x in lines if "Maximum resident set size" in x)
                peaks.append(int(line.split()[-1]) * 1024)
    return {"median_s": statistics.median(times), "min_s": min(times),
            "peak_mib": max(peaks) / MIB if peaks else None}


def judge(name, measured: str, ok: bool | None, target: str, note: str = "") -> dict:
    return {"name": name, "measured": measured, "target": target, "pass": bool(ok), "note": note}


def machine_facts() -> dict:
    return {"date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(), "numpy": np.__version__, "cpu_count": os.cpu_count(),
            "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
            "platform": platform.platform()}


def pool_scaling(sc, trials: int, repeats: int) -> dict:
    """Median wall times of the engine's revenue chunks (what ``simulate`` draws, without the
    stage detail and the summary) and of the floor, for ``trials`` trials, one chunk after the
    other in this thread and on the engine's pool, alternating; and the speed-ups."""
    from sim.model.engine import _chunks, _Model, _revenue_chunk, run_parallel
    from sim.model.positional_random import RandomSource

    model, source = _Model(sc), RandomSource.from_seed(sc.seed)
    jobs = [(lambda s=s, n=n: _revenue_chunk(model, source, s, n, outputs=True)) for s, n in _chunks(trials)]
    ways = {"engine_one_thread_s": lambda: [job() for job in jobs],
            "engine_pool_s": lambda: run_parallel(jobs),
            "floor_one_thread_s": lambda: floor_draws(sc, trials, sc.seed, one_thread=True),
            "floor_pool_s": lambda: floor_draws(sc, trials, sc.seed)}
    times = {key: [] for key in ways}
    for _ in range(repeats):
        for key, way in ways.items():
            start = time.perf_counter()
            way()
            times[key].append(time.perf_counter() - start)
    out = {key: statistics.median(v) for key, v in times.items()}
    out["engine_speedup"] = out["engine_one_thread_s"] / out["engine_pool_s"]
    out["floor_speedup"] = out["floor_one_thread_s"] / out["floor_pool_s"]
    return out


def simulate_parts(sc, trials: int, repeats: int) -> dict:
    """Median wall times of ``simulate``'s two parts: the draw (``engine.draw``, the stage-detail
    sample included) and the summary (``forecast.summarise``: percentiles, months, stages), which
    the floor does not have."""
    from sim.model.engine import draw
    from sim.model.forecast import DETAIL_TRIALS, summarise

    draws, summaries = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        drawn = draw(sc, trials=trials, detail_trials=DETAIL_TRIALS)
        middle = time.perf_counter()
        summarise(sc, drawn)
        draws.append(middle - start)
        summaries.append(time.perf_counter() - middle)
    return {"draw_s": statistics.median(draws), "summary_s": statistics.median(summaries)}


def run(args, log) -> dict:
    quick = args.quick
    demo = load_scenario(DEMO)
    report = {"machine": machine_facts(), "quick": quick, "targets": []}
    log(f"machine: {report['machine']}")
    simulate(demo, trials=10_000)                       # warm-up: imports, tables, thread pool
    repeats = 3 if quick else 5

    # 1. simulate + summarise.
    sims = {}
    for trials in (10_000, 100_000) + (() if quick else (1_000_000,)):
        timing, forecast = time_runs(lambda n=trials: simulate(demo, trials=n), repeats if trials < 1e6 else 3)
        timing["p_goal"] = forecast.p_goal
        sims[trials] = timing
        log(f"simulate demo {trials:>9,} trials: median {timing['median_s'] * 1e3:8.1f} ms "
            f"(min {timing['min_s'] * 1e3:.1f}), P(goal) {forecast.p_goal:.4f}")
    report["simulate"] = sims
    t100 = sims[100_000]["median_s"]
    p100 = sims[100_000]["p_goal"]

    # 2. Floor and baselines at 100k.
    against_floor = paired_runs(lambda: floor_draws(demo, 100_000, demo.seed), lambda: simulate(demo, trials=100_000),
                                2 * repeats)
    floor = against_floor["a"]
    report["floor_100k"] = floor
    report["simulate_100k_paired_with_floor"] = against_floor["b"]
    log(f"floor (numpy's samplers, same draws, same threads), 100k: median {floor['median_s'] * 1e3:.1f} ms; "
        f"in turn with simulate (median {against_floor['b']['median_s'] * 1e3:.1f} ms): x{against_floor['ratio']:.3f} "
        f"(median of the pairs)")
    scaling = pool_scaling(demo, 100_000, repeats)
    report["pool_scaling_100k"] = scaling
    log(f"on the pool's threads against one thread, 100k: engine's chunks {scaling['engine_one_thread_s'] * 1e3:.0f} -> "
        f"{scaling['engine_pool_s'] * 1e3:.0f} ms (x{scaling['engine_speedup']:.2f}), floor "
        f"{scaling['floor_one_thread_s'] * 1e3:.0f} -> {scaling['floor_pool_s'] * 1e3:.0f} ms (x{scaling['floor_speedup']:.2f})")
    parts = simulate_parts(demo, 100_000, repeats)
    report["simulate_parts_100k"] = parts
    log(f"simulate in parts, 100k: the draw {parts['draw_s'] * 1e3:.0f} ms, the summary {parts['summary_s'] * 1e3:.0f} ms")
    straight, revenue = time_runs(lambda: straightforward_numpy(demo, 100_000, make_rng(demo.seed + 2)), 1 if quick else 3)
    straight["agreement"] = agreement(p100, 100_000, p_goal(demo, revenue), revenue.size)
    report["straightforward_numpy_100k"] = straight
    loop_trials = 500 if quick else 2_000
    loop, revenue = time_runs(lambda: python_loop(demo, loop_trials, make_rng(demo.seed + 1)), 1)
    loop["extrapolated_100k_s"] = loop["median_s"] / loop_trials * 100_000
    loop["agreement"] = agreement(p100, 100_000, p_goal(demo, revenue), loop_trials)
    report["python_loop"] = loop
    log(f"straightforward numpy, 100k: {straight['median_s']:.2f} s ({straight['agreement']['difference_in_se']:+.1f} SE); "
        f"python loop: {loop['extrapolated_100k_s']:.0f} s per 100k ({loop['agreement']['difference_in_se']:+.1f} SE)")
    ratio_floor = against_floor["ratio"]
    speedup = straight["median_s"] / t100
    # What the floor itself allows: ">= 8x the baseline" asks for at most baseline / 8, i.e.
    # (baseline / floor) / 8 times the floor.
    floor_speedup = straight["median_s"] / floor["median_s"]
    report["targets"].append(judge("demo 100k vs floor", f"{ratio_floor:.2f}x floor", ratio_floor <= 1.6, "<= 1.6x floor",
                                   f"in turn: {against_floor['b']['median_s'] * 1e3:.0f} ms vs "
                                   f"{floor['median_s'] * 1e3:.0f} ms, median of {2 * repeats} pairs"))
    report["targets"].append(judge("demo 100k vs straightforward numpy", f"{speedup:.1f}x faster", speedup >= 8,
                                   ">= 8x faster", f"{straight['median_s']:.2f} s vs {t100 * 1e3:.0f} ms; the floor itself "
                                   f"{floor_speedup:.1f}x faster: 8x means <= {floor_speedup / 8:.2f}x floor"))
    if 1_000_000 in sims:
        t1m = sims[1_000_000]["median_s"]
        floor_1m, _ = time_runs(lambda: floor_draws(demo, 1_000_000, demo.seed), 3)
        report["floor_1m"] = floor_1m
        log(f"floor, 1M trials: median {floor_1m['median_s']:.2f} s")
        report["targets"].append(judge("demo 1M trials", f"{t1m:.2f} s", t1m <= 2.0, "<= 2 s",
                                       f"the floor itself {floor_1m['median_s']:.2f} s"))

    # 3. 100x the volume.
    big = demo.with_top_scaled(100.0)
    simulate(big, trials=4_096)
    against_demo = paired_runs(lambda: simulate(demo, trials=100_000), lambda: simulate(big, trials=100_000), repeats)
    t_big = against_demo["b"]
    report["demo_100x_volume_100k"] = t_big
    ratio_big = against_demo["ratio"]
    log(f"simulate demo x100 volume, 100k: median {t_big['median_s'] * 1e3:.1f} ms, in turn with the demo "
        f"({against_demo['a']['median_s'] * 1e3:.1f} ms): {ratio_big:.2f}x the demo (median of the pairs)")
    # The floor's own growth with the volume (its large cohorts' months: numpy's multinomial).
    floor_growth = paired_runs(lambda: floor_draws(demo, 100_000, demo.seed), lambda: floor_draws(big, 100_000, demo.seed),
                               repeats)
    report["floor_100x_volume_100k"] = floor_growth["b"]
    log(f"floor x100 volume, 100k: median {floor_growth['b']['median_s'] * 1e3:.1f} ms, in turn with the floor of the demo "
        f"({floor_growth['a']['median_s'] * 1e3:.1f} ms): {floor_growth['ratio']:.2f}x (median of the pairs)")
    report["targets"].append(judge("demo with 100x volume vs demo", f"{ratio_big:.2f}x", ratio_big <= 2.0, "<= 2x",
                                   f"the floor itself {floor_growth['ratio']:.2f}x"))
    # The straightforward baseline draws a value per customer: at 100x the volume (about 4,700
    # customers a year) 100k trials would need several GB, so it runs BIG_BASELINE_TRIALS trials
    # and is extrapolated per trial (information: the ">= 8x" budget is the demo's).
    base_big, _ = time_runs(lambda: straightforward_numpy(big, BIG_BASELINE_TRIALS, make_rng(demo.seed + 2)), 1)
    base_big["trials"] = BIG_BASELINE_TRIALS
    base_big["extrapolated_100k_s"] = base_big["median_s"] / BIG_BASELINE_TRIALS * 100_000
    base_big["engine_speedup"] = base_big["extrapolated_100k_s"] / t_big["median_s"]
    report["straightforward_numpy_100x_volume"] = base_big
    log(f"straightforward numpy at 100x the volume, {BIG_BASELINE_TRIALS:,} trials: {base_big['median_s']:.2f} s, "
        f"{base_big['extrapolated_100k_s']:.1f} s per 100k: the engine {base_big['engine_speedup']:.1f}x faster")

    # 4. Confidence search.
    search, targets = time_runs(lambda: required_volumes(demo, 0.8, trials=100_000), 1 if quick else 3)
    search["scale"], search["p_goal"] = targets.at_confidence.scale, targets.at_confidence.p_goal
    report["confidence_search_100k"] = search
    log(f"confidence search (80%), 100k trials: median {search['median_s']:.2f} s, scale {search['scale']:.4f}, "
        f"P(goal) {search['p_goal']:.4f}")

    # 5. The 5,000-deal funnel through the command line.
    cli_repeats = 2 if quick else 3
    fc = command(["forecast", str(TWO_STAGE)], cli_repeats)
    tg = command(["targets", str(TWO_STAGE)], cli_repeats)
    report["two_stage_cli"] = {"forecast": fc, "targets": tg}
    log(f"two-stage 5,000 deals: forecast {fc.get('median_s', 0):.2f} s, peak {fc.get('peak_mib')} MiB; "
        f"targets {tg.get('median_s', 0):.2f} s, peak {tg.get('peak_mib')} MiB")
    report["targets"].append(judge("5,000-deal funnel: python -m sim forecast", f"{fc.get('median_s', math.nan):.2f} s",
                                   fc.get("median_s", 99) <= 1.5, "<= 1.5 s"))
    report["targets"].append(judge("5,000-deal funnel: python -m sim targets", f"{tg.get('median_s', math.nan):.2f} s",
                                   tg.get("median_s", 99) <= 3.0, "<= 3 s"))
    peak = max(x for x in (fc.get("peak_mib"), tg.get("peak_mib"), 0) if x is not None)
    report["targets"].append(judge("5,000-deal funnel: peak memory", f"{peak:.0f} MiB", 0 < peak <= 500, "<= 500 MB"))

    # 6. Memory in fresh processes.
    demo_doc = json.loads(DEMO.read_text())
    if not quick:
        m1 = probe({**demo_doc, "trials": 1_000_000})
        report["memory_demo_1m"] = m1
        log(f"demo 1M trials, fresh process: peak {m1.get('peak', 0) / MIB:.0f} MiB, {m1.get('seconds', 0):.2f} s")
    visits = probe({**demo_doc, "top": {**demo_doc["top"], "per_month": 1e7}})
    report["demo_1e7_visits"] = visits
    log(f"demo at 10^7 visits a month (20k trials): {visits.get('seconds', 0):.2f} s, peak "
        f"{visits.get('peak', 0) / MIB:.0f} MiB, {visits.get('error') or 'ran'}")
    report["targets"].append(judge("demo at 10^7 visits a month runs", "ran" if "p_goal" in visits else visits.get("error", "?"),
                                   "p_goal" in visits, "runs", f"{visits.get('seconds', 0):.2f} s"))
    from tests.conftest import worst_case_link
    worst = probe(worst_case_link())
    report["worst_case_link"] = worst
    log(f"worst-case link (2M trials, 36 months, 12 stages, 13-month lags): {worst.get('error', 'ran')[:90]} "
        f"after {worst.get('seconds', 0) * 1e3:.0f} ms, peak {worst.get('peak', 0) / MIB:.0f} MiB")
    peaks = [worst.get("peak", 0)]
    if not quick:
        cheap = worst_case_link(months=36, stages=2, lag_entries=1)
        cheap["top"]["per_month"], cheap["start_pipeline"], cheap["deal"]["kind"] = 100.0, {}, "one_time"
        largest = probe(cheap, mode="max")
        report["largest_within_budget"] = largest
        peaks.append(largest.get("peak", 0))
        log(f"largest run within budget (36 months, {largest.get('trials', 0):,} trials): "
            f"{largest.get('seconds', 0):.1f} s, peak {largest.get('peak', 0) / MIB:.0f} MiB")
    report["targets"].append(judge("peak memory of the worst case", f"{max(peaks) / MIB:.0f} MiB", max(peaks) <= 1024 * MIB,
                                   "<= 1 GiB", "worst-case link refused by the budget"
                                   + ("; largest run within budget measured" if not quick else "")))
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, no 1M-trial and largest runs")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the report")
    args = parser.parse_args(argv)
    log = (lambda line: print(f"[bench] {line}", file=sys.stderr, flush=True)) if args.json else \
        (lambda line: print(line, flush=True))
    report = run(args, log)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    print("\nbudgets (wall times are medians; the machine is shared: compare ratios within a run)")
    for t in report["targets"]:
        note = f"   ({t['note']})" if t["note"] else ""
        print(f"  [{'PASS' if t['pass'] else 'MISS'}] {t['name']:<42} {t['measured']:>14}  target {t['target']}{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
