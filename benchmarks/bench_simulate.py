"""Benchmark of the Monte Carlo engine against the performance targets, in one run.

Run from the repository root (no PYTHONPATH needed)::

    .venv/bin/python benchmarks/bench_simulate.py            # readable report
    .venv/bin/python benchmarks/bench_simulate.py --quick    # fewer repetitions, smaller baseline
    .venv/bin/python benchmarks/bench_simulate.py --json     # one JSON document on stdout

What it measures, on the demo scenario (``data/scenarios/demo.json``, or ``--scenario``):

1. ``simulate(sc, n, make_rng(seed))`` (draws + summary) at 10k, 100k and 1M trials: min and
   median wall time over several repetitions (``time.perf_counter``), trials per second.
2. Peak memory of a 1M-trial ``simulate`` in a fresh Python process: the increase of the peak
   resident set size over the process's resident size just before the run (Linux: VmHWM,
   reset before the run; see ``_MEMORY_PROBE`` for why not ``ru_maxrss``), and, as a
   cross-check, the peak of the memory traced by ``tracemalloc`` (numpy reports its array
   buffers to it) during a second 1M run.
3. The confidence search ``required_volumes(sc, 0.8, trials=100_000)``.
4. Two baselines simulating the same model (``benchmarks/baselines.py``): a per-trial Python
   loop (timed on a few thousand trials, extrapolated to 100k) and a straightforward numpy
   implementation at 100k trials. Speed-ups of ``simulate`` are ratios of the best times
   measured in this run; each baseline's P(goal) is compared with ``simulate``'s, in Monte
   Carlo standard errors (they simulate the same model, so they must agree within a few).

The targets (100k simulate + summarise < 250 ms, aim 150 ms; 1M < 3 s with peak memory
< 1 GiB; confidence search at 100k < 1.5 s) are judged on the median time and printed as
PASS/MISS labels. The script exits 0 whatever the timings: benchmarks never fail on time.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import numpy as np

from benchmarks.baselines import p_goal, python_loop, straightforward_numpy
from sim.model.engine import make_rng
from sim.model.forecast import simulate
from sim.model.scenario_io import load_scenario
from sim.model.targets import required_volumes

DEFAULT_SCENARIO = REPO_ROOT / "data" / "scenarios" / "demo.json"
MIB = 1024 * 1024

# Targets from the issue (seconds, MiB).
TARGET_100K_S, AIM_100K_S = 0.250, 0.150
TARGET_1M_S = 3.0
TARGET_PEAK_MIB = 1024.0
TARGET_SEARCH_S = 1.5
AGREEMENT_SE = 4.0          # baselines must agree with simulate within this many std. errors


# -- measuring -----------------------------------------------------------------------------

def time_runs(fn, repeats: int) -> tuple[dict, object]:
    """Call ``fn()`` ``repeats`` times; return the timing summary and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    summary = {"repeats": repeats, "min_ms": 1e3 * min(times),
               "median_ms": 1e3 * statistics.median(times), "runs_ms": [1e3 * t for t in times]}
    return summary, result


# Runs in a fresh interpreter, so that the peak resident size belongs to this run alone.
#
# On Linux the peak is read from /proc/self/status (VmHWM, the peak resident size of this
# process's memory map), reset just before the run (``5`` into /proc/self/clear_refs).
# ``getrusage(RUSAGE_SELF).ru_maxrss`` is not used there: Linux carries it over fork and exec,
# so a child started by this (by then large) benchmark process reports the parent's peak.
# Elsewhere the probe falls back to ru_maxrss (a lower bound of the increase).
_MEMORY_PROBE = r"""
import json, resource, sys, time, tracemalloc
sys.path.insert(0, sys.argv[1])
from sim.model.engine import make_rng
from sim.model.forecast import simulate
from sim.model.scenario_io import load_scenario

def status_bytes(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None

def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False

def maxrss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)

sc = load_scenario(sys.argv[2])
trials, seed = int(sys.argv[3]), int(sys.argv[4])
simulate(sc, 1_000, make_rng(seed))        # imports, thread pool, lazy set-up: not part of the run
linux = status_bytes("VmHWM") is not None
reset = linux and reset_peak()
before = status_bytes("VmRSS") if linux else maxrss_bytes()
peak_before = status_bytes("VmHWM") if linux else maxrss_bytes()
start = time.perf_counter()
forecast = simulate(sc, trials, make_rng(seed))
seconds = time.perf_counter() - start
peak_after = status_bytes("VmHWM") if linux else maxrss_bytes()
del forecast
tracemalloc.start()
forecast = simulate(sc, trials, make_rng(seed))
traced_peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
method = ("VmHWM, reset before the run" if reset else "VmHWM") if linux else "ru_maxrss"
print(json.dumps({"method": method, "before": before, "peak_before": peak_before,
                  "peak_after": peak_after, "seconds": seconds, "traced_peak": traced_peak}))
"""


def measure_memory(scenario_path: Path, trials: int, seed: int) -> dict:
    """Peak memory of one ``simulate`` of ``trials`` trials, measured in a fresh process: the
    peak resident size during the run minus the resident size just before it."""
    proc = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, str(REPO_ROOT), str(scenario_path), str(trials), str(seed)],
        capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        return {"error": lines[-1] if lines else f"exit status {proc.returncode}"}
    raw = json.loads(proc.stdout.strip().splitlines()[-1])
    return {
        "trials": trials,
        "method": raw["method"],
        "peak_increase_mib": (raw["peak_after"] - raw["before"]) / MIB,
        "process_rss_before_mib": raw["before"] / MIB,
        "process_peak_before_mib": raw["peak_before"] / MIB,
        "process_peak_rss_mib": raw["peak_after"] / MIB,
        "tracemalloc_peak_mib": raw["traced_peak"] / MIB,
        "fresh_process_ms": 1e3 * raw["seconds"],
    }


def agreement(p_ref: float, n_ref: int, p_other: float, n_other: int) -> dict:
    """Difference of two independent P(goal) estimates, in combined Monte Carlo std. errors."""
    se = math.sqrt(p_ref * (1 - p_ref) / n_ref + p_other * (1 - p_other) / n_other)
    diff = p_other - p_ref
    z = diff / se if se > 0 else (0.0 if diff == 0 else math.inf)
    return {"p_goal": p_other, "trials": n_other, "difference": diff, "std_error": se,
            "difference_in_se": z, "agrees": abs(z) <= AGREEMENT_SE}


def judge(name: str, value, limit: float, measured: str, target: str, note: str | None = None) -> dict:
    """A target from the issue and whether ``value`` (None: not measured) is below ``limit``."""
    return {"name": name, "measured": measured, "target": target,
            "pass": value is not None and value < limit, "note": note}


# -- the benchmark -------------------------------------------------------------------------

def machine_facts() -> dict:
    return {
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "numpy": np.__version__,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "machine": platform.machine(),
    }


def run(args, log) -> dict:
    scenario_path = Path(args.scenario).resolve()
    sc = load_scenario(scenario_path)
    seed = sc.seed
    quick = args.quick
    report = {"machine": machine_facts(), "quick": quick,
              "scenario": {"path": str(scenario_path), "name": sc.name, "stages": len(sc.stages),
                           "months": sc.months, "seed": seed,
                           "top_per_month_mean": float(np.mean(sc.top.monthly))}}
    log("machine", report["machine"])

    # Warm-up: imports, the thread pool and scipy's lazy set-up are not part of any timing.
    simulate(sc, 10_000, make_rng(seed))

    # 1. simulate + summarise at 10k, 100k, 1M trials.
    plan = [(10_000, 3 if quick else 5), (100_000, 3 if quick else 5), (1_000_000, 1 if quick else 2)]
    report["simulate"] = []
    forecast_100k = None
    for trials, repeats in plan:
        timing, forecast = time_runs(lambda n=trials: simulate(sc, n, make_rng(seed)), repeats)
        timing.update(trials=trials, trials_per_s=trials / (timing["min_ms"] / 1e3),
                      p_goal=forecast.p_goal)
        if trials == 100_000:
            forecast_100k = forecast
            median = timing["median_ms"]
            timing["target"] = judge(
                "simulate + summarise, 100k trials", median, 1e3 * TARGET_100K_S, f"{median:.0f} ms",
                f"< {1e3 * TARGET_100K_S:.0f} ms",
                f"aim < {1e3 * AIM_100K_S:.0f} ms: {'met' if median < 1e3 * AIM_100K_S else 'not met'}")
        if trials == 1_000_000:
            median = timing["median_ms"]
            timing["target"] = judge("simulate + summarise, 1M trials", median, 1e3 * TARGET_1M_S,
                                     f"{median / 1e3:.2f} s", f"< {TARGET_1M_S:g} s")
        report["simulate"].append(timing)
        log("simulate", timing)
        del forecast

    # 2. Peak memory of a 1M-trial run, in a fresh process.
    memory = measure_memory(scenario_path, 1_000_000, seed)
    increase = memory.get("peak_increase_mib")
    memory["target"] = judge("peak memory increase, 1M trials", increase, TARGET_PEAK_MIB,
                             "n/a" if increase is None else f"{increase:.0f} MiB",
                             f"< {TARGET_PEAK_MIB / 1024:g} GiB")
    report["memory_1m"] = memory
    log("memory", report["memory_1m"])

    # 3. Confidence search at 100k trials.
    timing, targets = time_runs(lambda: required_volumes(sc, 0.8, trials=100_000), 1 if quick else 2)
    timing.update(trials=100_000, confidence=0.8, scale=targets.at_confidence.scale,
                  p_goal=targets.at_confidence.p_goal, reachable=targets.reachable,
                  deterministic_scale=targets.deterministic.scale)
    timing["target"] = judge("confidence search (80%), 100k trials", timing["median_ms"],
                             1e3 * TARGET_SEARCH_S, f"{timing['median_ms'] / 1e3:.2f} s",
                             f"< {TARGET_SEARCH_S:g} s")
    report["confidence_search"] = timing
    log("search", timing)

    # 4. Baselines: the same model, simulated the obvious ways.
    sim_100k = next(t for t in report["simulate"] if t["trials"] == 100_000)
    p_lib, n_lib = forecast_100k.p_goal, forecast_100k.trials

    loop_trials = 500 if quick else 2_000
    timing, revenue = time_runs(lambda: python_loop(sc, loop_trials, make_rng(seed + 1)), 1)
    per_trial_s = timing["min_ms"] / 1e3 / loop_trials
    timing.update(trials=loop_trials, trials_per_s=1.0 / per_trial_s,
                  extrapolated_100k_ms=1e3 * per_trial_s * 100_000)
    timing["speedup_of_simulate"] = timing["extrapolated_100k_ms"] / sim_100k["min_ms"]
    timing["agreement"] = agreement(p_lib, n_lib, p_goal(sc, revenue), loop_trials)
    report["python_loop"] = timing
    log("python_loop", timing)

    timing, revenue = time_runs(lambda: straightforward_numpy(sc, 100_000, make_rng(seed + 2)),
                                1 if quick else 2)
    timing.update(trials=100_000, trials_per_s=100_000 / (timing["min_ms"] / 1e3))
    timing["speedup_of_simulate"] = timing["min_ms"] / sim_100k["min_ms"]
    timing["agreement"] = agreement(p_lib, n_lib, p_goal(sc, revenue), revenue.size)
    report["straightforward_numpy"] = timing
    log("straightforward_numpy", timing)
    report["simulate_100k_p_goal"] = {"p_goal": p_lib, "trials": n_lib,
                                      "wilson_95": list(forecast_100k.p_goal_ci)}

    # 5. Targets, all together (machine facts: at the top of the report).
    report["targets"] = [t["target"] for t in report["simulate"] if "target" in t]
    report["targets"] += [report["memory_1m"]["target"], report["confidence_search"]["target"]]
    return report


# -- output --------------------------------------------------------------------------------

def _fmt_ms(ms: float) -> str:
    return f"{ms / 1e3:.2f} s" if ms >= 10_000 else f"{ms:.1f} ms"


def _fmt_rate(per_s: float) -> str:
    return f"{per_s / 1e6:.2f} M/s" if per_s >= 1e6 else f"{per_s / 1e3:.1f} k/s"


class TextLog:
    """Prints each section of the readable report as soon as it is measured."""

    def __init__(self, out=sys.stdout):
        self.out = out

    def p(self, line=""):
        print(line, file=self.out, flush=True)

    def __call__(self, section, data):
        getattr(self, "_" + section)(data)

    def _machine(self, m):
        self.p("Funnel SLA Planner: simulation benchmark")
        self.p(f"date {m['date']}   python {m['python']} ({m['implementation']})   numpy {m['numpy']}   "
               f"cpu_count {m['cpu_count']}")
        self.p(f"platform {m['platform']}")
        self.p()
        self.p("simulate(sc, n, make_rng(seed))  (draws + summary)")
        self.p(f"  {'trials':>9}  {'runs':>4}  {'min':>10}  {'median':>10}  {'trials/s (best)':>16}  P(goal)   "
               "target (on the median)")

    @staticmethod
    def _label(target) -> str:
        if not target:
            return ""
        note = f" ({target['note']})" if target.get("note") else ""
        return f"target {target['target']}{note}: {'PASS' if target['pass'] else 'MISS'}"

    def _simulate(self, t):
        self.p(f"  {t['trials']:>9,}  {t['repeats']:>4}  {_fmt_ms(t['min_ms']):>10}  "
               f"{_fmt_ms(t['median_ms']):>10}  {_fmt_rate(t['trials_per_s']):>16}  {t['p_goal']:.4f}   "
               f"{self._label(t.get('target'))}".rstrip())

    def _memory(self, m):
        self.p()
        if "error" in m:
            self.p(f"peak memory, 1M trials (fresh process): could not measure: {m['error']}")
            self.p(f"  {self._label(m['target'])}")
            return
        self.p(f"peak memory, 1M trials (fresh process; peak resident size from {m['method']})")
        self.p(f"  peak RSS increase {m['peak_increase_mib']:.0f} MiB   {self._label(m['target'])}")
        self.p(f"    (RSS just before the run {m['process_rss_before_mib']:.0f} MiB, process peak "
               f"{m['process_peak_rss_mib']:.0f} MiB)")
        self.p(f"  tracemalloc peak  {m['tracemalloc_peak_mib']:.0f} MiB  (second run, same process)")
        self.p(f"  time in the fresh process {_fmt_ms(m['fresh_process_ms'])}")

    def _search(self, t):
        self.p()
        self.p("required_volumes(sc, 0.8, trials=100_000)  (confidence search)")
        self.p(f"  runs {t['repeats']}  min {_fmt_ms(t['min_ms'])}  median {_fmt_ms(t['median_ms'])}   "
               f"scale {t['scale']:.4f} (deterministic {t['deterministic_scale']:.4f})  "
               f"P(goal) at scale {t['p_goal']:.4f}  reachable {t['reachable']}")
        self.p(f"  {self._label(t['target'])}")
        self.p()
        self.p("baselines (benchmarks/baselines.py: the same model, simulated stage by stage)")

    def _agreement(self, a):
        verdict = "agrees" if a["agrees"] else f"DISAGREES (> {AGREEMENT_SE:g} SE)"
        return (f"P(goal) {a['p_goal']:.4f} on {a['trials']:,} trials, "
                f"{a['difference']:+.4f} = {a['difference_in_se']:+.2f} SE vs simulate: {verdict}")

    def _python_loop(self, t):
        self.p(f"  python_loop            {t['trials']:>7,} trials  {_fmt_ms(t['min_ms']):>10}  "
               f"{_fmt_rate(t['trials_per_s']):>10}  -> {_fmt_ms(t['extrapolated_100k_ms'])} per 100k "
               f"(extrapolated)  simulate is {t['speedup_of_simulate']:.0f}x faster")
        self.p(f"                         {self._agreement(t['agreement'])}")

    def _straightforward_numpy(self, t):
        runs = f"best of {t['repeats']}" if t["repeats"] > 1 else "1 run"
        self.p(f"  straightforward_numpy  {t['trials']:>7,} trials  {_fmt_ms(t['min_ms']):>10}  "
               f"{_fmt_rate(t['trials_per_s']):>10}  ({runs}, median {_fmt_ms(t['median_ms'])})  "
               f"simulate is {t['speedup_of_simulate']:.1f}x faster")
        self.p(f"                         {self._agreement(t['agreement'])}")

    def targets(self, report):
        s = report["simulate_100k_p_goal"]
        self.p(f"  simulate at 100k: P(goal) {s['p_goal']:.4f} (95% Wilson {s['wilson_95'][0]:.4f}"
               f"–{s['wilson_95'][1]:.4f}); speed-ups are ratios of best times in this run")
        self.p()
        self.p("targets (judged on the median; the benchmark never fails on time)")
        for t in report["targets"]:
            label = "PASS" if t["pass"] else "MISS"
            note = f"   ({t['note']})" if t.get("note") else ""
            self.p(f"  [{label}] {t['name']:<38} {t['measured']:>9}  target {t['target']}{note}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and a smaller loop baseline")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the report")
    parser.add_argument("--scenario", default=str(DEFAULT_SCENARIO), help="scenario JSON (default: the demo)")
    args = parser.parse_args(argv)
    if args.json:
        def log(section, data):
            print(f"[bench] {section} done", file=sys.stderr, flush=True)
        report = run(args, log)
        print(json.dumps(report, indent=2))
    else:
        text = TextLog()
        report = run(args, text)
        text.targets(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
