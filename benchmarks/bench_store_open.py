"""Benchmark: what opening the database costs, per operation (the app and the command line open
it for each read or write and close it; nothing holds it in between).

    .venv/bin/python benchmarks/bench_store_open.py [--repeat 50]

On a copy of the demo's database (the seeded one the app makes), times: a writer's open and
close (connect, lock-down, schema check, staged-copy sweep); a reader's open and close
(read-only); a reader's open + the data version (what every Actuals and Check-in page run does
before it uses its cached results, when the files changed); what those page runs do instead
when the files did not change (a ``stat`` of the file and its write-ahead log,
``file_state``); the same data version on a connection held open (the old design, for
comparison); and the Actuals page's overview read (plans, history, stages) in one read-only
open. Prints the median and the 90th percentile of each, in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.data.actuals import data_version
from sim.data.demo_data import seed_demo
from sim.data.history import import_history, known_stages
from sim.data.plans import list_plans
from sim.data.store import Store, file_state

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


def timed(action, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(1000 * (time.perf_counter() - start))
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "funnel.duckdb"
        with Store(db) as store:
            seed_demo(store, DATA_DIR)

        def writer():
            Store(db).close()

        def reader():
            Store(db, read_only=True).close()

        def reader_version():
            with Store(db, read_only=True) as store:
                data_version(store)

        def overview():
            with Store(db, read_only=True) as store:
                list_plans(store), import_history(store), known_stages(store)

        results = {"writer: open + close": timed(writer, args.repeat),
                   "reader: open + close": timed(reader, args.repeat),
                   "reader: open + data version + close": timed(reader_version, args.repeat),
                   "files unchanged: file_state (stat of the file and its log)": timed(lambda: file_state(db),
                                                                                        args.repeat)}
        with Store(db, read_only=True) as held:
            results["data version on a held connection (old design)"] = timed(lambda: data_version(held),
                                                                              args.repeat)
        results["reader: open + plans, history, stages + close"] = timed(overview, args.repeat)
    width = max(map(len, results))
    for name, (median, p90) in results.items():
        print(f"{name:<{width}}  median {median:7.2f} ms   p90 {p90:7.2f} ms")


if __name__ == "__main__":
    main()
