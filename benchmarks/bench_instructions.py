"""Instructions (not time) of the engine's revenue chunks and of the floor, under valgrind.

    .venv/bin/python benchmarks/bench_instructions.py              # the demo, 100k trials
    .venv/bin/python benchmarks/bench_instructions.py --scale 100  # the demo at 100x its volume

Wall times on a shared machine drift by a third within minutes; the number of instructions a
piece of work executes does not (a repeat differs in the last few millions). This counts, with
valgrind's cachegrind (``--cache-sim=no``: instructions only, about 50 times slower than a
plain run), what the demo's revenue chunks of ``--trials`` trials execute one after the other in
one thread (``sim.model.engine._revenue_chunk``, what ``simulate`` draws, without the
stage-detail sample and the summary), and the same for the floor
(``benchmarks.baselines.floor_draws``, one thread). Each figure is the difference between a
process that does the work and one that stops just before it (imports, tables and one warm-up
chunk in both). Use it to compare two versions of the engine: fewer instructions is less work,
although memory stalls and the GIL decide the rest of the time.

Needs ``valgrind`` (Debian's package; not installed by the README's commands: the script says
so and exits 0 without it).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

_PROBE = r"""
import sys
sys.path.insert(0, sys.argv[1])
from sim.model.scenario_io import load_scenario
import sim.model.engine as engine
from sim.model.positional_random import RandomSource
from benchmarks.baselines import floor_draws
what, work, scale, trials = sys.argv[2], sys.argv[3] == 'work', float(sys.argv[4]), int(sys.argv[5])
sc = load_scenario(sys.argv[1] + '/data/scenarios/demo.json')
if scale != 1.0:
    sc = sc.with_top_scaled(scale)
if what == 'engine':
    model, source = engine._Model(sc), RandomSource.from_seed(sc.seed)
    engine._revenue_chunk(model, source, 0, engine.CHUNK, outputs=True)      # warm-up: tables
    if work:
        for start, size in engine._chunks(trials):
            engine._revenue_chunk(model, source, start, size, outputs=True)
else:
    floor_draws(sc, engine.CHUNK, sc.seed, one_thread=True)                   # warm-up
    if work:
        floor_draws(sc, trials, sc.seed, one_thread=True)
"""


def instructions(what: str, work: bool, scale: float, trials: int) -> int:
    """Instructions executed by one probe process (valgrind's "I refs")."""
    out = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                          sys.executable, "-c", _PROBE, str(REPO_ROOT), what, "work" if work else "none",
                          str(scale), str(trials)], capture_output=True, text=True, check=True)
    match = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
    if not match:
        raise RuntimeError(out.stderr[-500:])
    return int(match.group(1).replace(",", ""))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="the demo's top-of-funnel volume times this")
    parser.add_argument("--trials", type=int, default=100_000)
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian's valgrind package): nothing measured")
        return 0
    counts = {}
    for what in ("engine", "floor"):
        counts[what] = instructions(what, True, args.scale, args.trials) - instructions(what, False, args.scale,
                                                                                        args.trials)
    print(f"demo x{args.scale:g} volume, {args.trials:,} trials, one thread (instructions):")
    print(f"  engine's revenue chunks  {counts['engine'] / 1e6:9,.0f} M")
    print(f"  floor                    {counts['floor'] / 1e6:9,.0f} M")
    print(f"  engine / floor           {counts['engine'] / counts['floor']:9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
