"""Benchmark: how fast the command line answers (never a timed test: numbers to read).

    .venv/bin/python benchmarks/bench_cli.py [--repeat 5]

Runs, each ``--repeat`` times in a new process, ``python -m sim --help`` and ``python -m sim
forecast data/scenarios/demo.json`` (20,000 trials, the sensitivity at 20,000 trials per run)
and prints the median and best wall times against the targets (issue 12: 0.5 s and 1.5 s).
Then splits one forecast, in a new process, into its parts: importing the library (and which
part of that is ``scipy.special``, what the engine uses), reading the scenario, the
simulation, the sensitivity; and says whether the forecast loaded ``scipy.stats`` or
``scipy.optimize`` (it should not: each costs seconds to import on this machine class).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "scenarios" / "demo.json"
TARGETS = {"help": 0.5, "forecast": 1.5}

PHASES = """
import json, sys, time
t0 = time.perf_counter()
import scipy.special
t1 = time.perf_counter()
from sim import load_scenario, sensitivity, simulate
t2 = time.perf_counter()
scenario = load_scenario(sys.argv[1])
t3 = time.perf_counter()
simulate(scenario, trials=scenario.trials, seed=scenario.seed)
t4 = time.perf_counter()
sensitivity(scenario, trials=min(scenario.trials, 20_000), seed=scenario.seed)
t5 = time.perf_counter()
print(json.dumps({"import scipy.special (and numpy)": t1 - t0, "import the rest of sim": t2 - t1,
                  "read the scenario": t3 - t2, "simulate (20,000 trials)": t4 - t3,
                  "sensitivity (2 runs per input)": t5 - t4,
                  "loaded scipy.stats / scipy.optimize": ["scipy.stats" in sys.modules,
                                                          "scipy.optimize" in sys.modules]}))
"""


def wall(args: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    runs = {"help": ["--help"], "forecast": ["forecast", str(DEMO)]}
    print(f"python {sys.version.split()[0]}, {args.repeat} runs each, new process every run")
    for name, argv in runs.items():
        times = [wall(argv) for _ in range(args.repeat)]
        print(f"python -m sim {' '.join(argv[:1] + ['data/scenarios/demo.json'] if len(argv) > 1 else argv)}: "
              f"median {statistics.median(times):.2f} s, best {min(times):.2f} s (target <= {TARGETS[name]} s)")
    out = subprocess.run([sys.executable, "-c", PHASES, str(DEMO)], cwd=ROOT, check=True, capture_output=True,
                         text=True).stdout
    print("one forecast, in parts:")
    for phase, value in json.loads(out).items():
        print(f"  {phase:36s} {value:.2f} s" if isinstance(value, float) else f"  {phase:36s} {value}")


if __name__ == "__main__":
    main()
