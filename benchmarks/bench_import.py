"""Benchmark: import a 1,000,000-row records CSV and compute the monthly counts.

    .venv/bin/python benchmarks/bench_import.py [--rows 1000000] [--repeat 3]

Generates a lead-level export (id, four stage dates filled in a funnel-like pattern, an
amount for won records; about 60 MB) in a temporary folder, then for each repeat imports it
into a fresh temporary database (decode, stage, DuckDB CSV read, validation in SQL, one
transaction) and reads the effective monthly counts and revenue (``load_actuals``). Prints
the median and each run's times. Target (issue 4): import + monthly counts under 5 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.data.actuals import load_actuals
from sim.data.ingest import ImportOptions, import_csv
from sim.data.store import Store

OPTIONS = ImportOptions(format="records", id_column="Lead ID", amount_column="Amount", mapping=(
    ("Created", "Leads"), ("MQL date", "MQLs"), ("SQL date", "SQLs"), ("Won date", "Customers")))


def make_export(rows: int, path: Path, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2026-01-01")
    created = start + rng.integers(0, 540, rows).astype("timedelta64[D]")
    reached = [created]
    for p, gap in ((0.35, 20), (0.35, 25), (0.3, 40)):
        nxt = reached[-1] + rng.integers(0, gap, rows).astype("timedelta64[D]")
        keep = (rng.random(rows) < p) & ~np.isnat(reached[-1])
        reached.append(np.where(keep, nxt, np.datetime64("NaT")))
    amount = np.where(~np.isnat(reached[-1]), np.round(rng.lognormal(np.log(24000), 0.54, rows), 2), np.nan)
    cols = [np.char.add("L-", np.arange(rows).astype(str))]
    for r in reached:
        text = r.astype(str)
        cols.append(np.where(text == "NaT", "", text))
    cols.append(np.where(np.isnan(amount), "", np.char.mod("%.2f", amount)))
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("Lead ID,Created,MQL date,SQL date,Won date,Amount\n")
        block = 200_000
        for lo in range(0, rows, block):
            f.write("\n".join(",".join(row) for row in zip(*(c[lo:lo + block] for c in cols))))
            f.write("\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "export.csv"
        t0 = time.perf_counter()
        make_export(args.rows, csv_path)
        size = csv_path.stat().st_size
        print(f"generated {args.rows:,} rows, {size / 2**20:.1f} MB in {time.perf_counter() - t0:.1f} s")
        data = csv_path.read_bytes()
        totals, imports, counts = [], [], []
        for i in range(args.repeat):
            with Store(Path(tmp) / f"bench-{i}.duckdb") as store:
                t0 = time.perf_counter()
                result = import_csv(store, data, csv_path.name, options=OPTIONS, max_bytes=2**31)
                t1 = time.perf_counter()
                actuals = load_actuals(store)
                t2 = time.perf_counter()
            imports.append(t1 - t0)
            counts.append(t2 - t1)
            totals.append(t2 - t0)
            print(f"run {i + 1}: import {t1 - t0:.2f} s, monthly counts {t2 - t1:.3f} s "
                  f"({len(actuals.counts)} month-stage counts, {len(actuals.revenue)} revenue months; "
                  f"{result.rows:,} rows imported)")
        print(f"median: import {statistics.median(imports):.2f} s + monthly counts "
              f"{statistics.median(counts):.3f} s = {statistics.median(totals):.2f} s (target < 5 s)")


if __name__ == "__main__":
    main()
