"""Benchmark: plan from history and the backtest on a 1,000,000-row stage history (issue 13).

    .venv/bin/python benchmarks/bench_fit.py [--rows 1000000] [--origins 12] [--fit-months 6] [--repeat 3]

The stage history of benchmarks/bench_import_crm.py (deals through four stages, ending won,
lost or open; about 330,000 deals over some 20 months) is imported once (not timed). Then:

1. **Fit**: read the history from the database (``load_funnel_history``) and fit the scenario
   (``fit_history``), as ``python -m sim fit`` does. Target: ≤ 2 s.
2. **Backtest**: ``--origins`` rolling origins, each a fit on the ``--fit-months`` months before it
   and a 2,000-trial simulation of up to 12 months after it, as ``python -m sim backtest`` does
   (the history read once; deals start on the 577 days from 2026-01-01 to 2027-07-31, so its
   first stage has 19 whole months, and 6 months of fit (the lags reach 4 months) leave 12 of
   the 13 possible origins). Target (12 origins): ≤ 15 s.

Prints each run's times (wall clock, and the process's CPU time over all its threads: on shared
cores the wall clock also counts the waits for other processes) and the medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import scipy.optimize  # noqa: F401  (imported once, as in a running app: not timed)
from bench_import_crm import HISTORY_OPTIONS, make_history

from sim.data.funnel_history import load_funnel_history
from sim.data.ingest import import_csv
from sim.data.store import Store
from sim.model.backtest import backtest
from sim.model.history_fit import fit_history

STAGES = ("Leads", "SQLs", "Proposals", "Customers")
HISTORY_DAYS = 577


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--origins", type=int, default=12)
    parser.add_argument("--fit-months", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        csv = tmp / "deal-stage-history.csv"
        rows = make_history(args.rows, csv, days=HISTORY_DAYS)
        path = tmp / "history.duckdb"
        t0 = time.perf_counter()
        with Store(path) as store:
            import_csv(store, csv.read_bytes(), csv.name, options=HISTORY_OPTIONS, max_bytes=2**31)
        print(f"stage history: {rows:,} rows imported in {time.perf_counter() - t0:.1f} s (not timed below)")
        fits, tests = [], []
        for i in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            with Store(path, read_only=True) as store:
                history = load_funnel_history(store, stages=STAGES)
            t1 = time.perf_counter()
            fit = fit_history(history)
            t2, c2 = time.perf_counter(), time.process_time()
            fits.append(t2 - t0)
            print(f"  fit run {i + 1}: read {t1 - t0:.2f} s + fit {t2 - t1:.2f} s = {t2 - t0:.2f} s, CPU {c2 - c0:.2f} s "
                  f"({history.reached.shape[0]:,} records, window {fit.first} to {fit.last})")
            t0, c0 = time.perf_counter(), time.process_time()
            with Store(path, read_only=True) as store:
                history = load_funnel_history(store, stages=STAGES)
            result = backtest(history, fit_months=args.fit_months, origins=args.origins)
            t1, c1 = time.perf_counter(), time.process_time()
            tests.append(t1 - t0)
            print(f"  backtest run {i + 1}: {t1 - t0:.2f} s, CPU {c1 - c0:.2f} s ({len(result.origins)} origins, "
                  f"{len(result.skipped)} skipped; {result.sentence()})")
        print(f"fit: median {statistics.median(fits):.2f} s (target ≤ 2 s)")
        print(f"backtest: median {statistics.median(tests):.2f} s (target ≤ 15 s for 12 origins)")


if __name__ == "__main__":
    main()
