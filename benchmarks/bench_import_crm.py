"""Benchmark: import a 1,000,000-row stage-history CSV and a 200,000-row workbook (issue 11).

    .venv/bin/python benchmarks/bench_import_crm.py [--history-rows 1000000] [--workbook-rows 200000] [--repeat 3]

1. A HubSpot-like stage-history report (deal id, CRM stage, ISO date, amount on the won rows,
   lead source; about 45 MB): deals pass through some of four open stages and end won, lost or
   open. Each repeat imports it into a fresh database with four CRM stages mapped, the lost
   stage marked and the source as segment, then reads the monthly counts (``load_actuals``).
   Target: ≤ 5 s.
2. An opportunity workbook (.xlsx, written by xlsxwriter: text ids, real Excel dates, numbers,
   Won/Lost/Engaging/Prospecting outcomes) of 200,000 rows. Each repeat imports it (the sheet
   read by python-calamine in its own process, then validated and written like a CSV file) and
   reads the monthly counts. Target: ≤ 10 s.

Prints each run's times and the medians. Generating the files is not timed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.data.actuals import load_actuals
from sim.data.ingest import ImportOptions, import_csv
from sim.data.store import Store

OPEN_STAGES = ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "contractsent")
HISTORY_OPTIONS = ImportOptions(
    format="history", id_column="deal_id", amount_column="amount", segment_column="source",
    mapping=(("appointmentscheduled", "Leads"), ("qualifiedtobuy", "SQLs"), ("presentationscheduled", "Proposals"),
             ("closedwon", "Customers")), lost_stages=("closedlost",))
WORKBOOK_OPTIONS = ImportOptions(
    format="records", id_column="opportunity_id", amount_column="close_value", segment_column="sales_agent",
    mapping=(("engage_date", "Engaged"), ("close_date", "Customers")), outcome_column="deal_stage",
    won_values=("Won",), lost_values=("Lost",))


def make_history(rows: int, path: Path, seed: int = 11, days: int = 540) -> int:
    """About ``rows`` rows of stage history, deals starting over ``days`` days from 2026-01-01;
    returns the number written."""
    rng = np.random.default_rng(seed)
    deals = rows // 3
    reached = rng.integers(1, len(OPEN_STAGES) + 1, deals)
    end = rng.random(deals)
    outcome = np.where(end < 0.3, 1, np.where(end < 0.65, 2, 0))        # 1 won, 2 lost, 0 open
    start = np.datetime64("2026-01-01") + rng.integers(0, days, deals).astype("timedelta64[D]")
    sources = np.array(["Organic", "Paid", "Referral", "Events", "Partner"])
    source = sources[rng.integers(0, len(sources), deals)]
    ids = np.char.add("D", np.arange(deals).astype(str))
    parts = []
    day = start.copy()
    for k, stage in enumerate(OPEN_STAGES):
        keep = reached > k
        parts.append((ids[keep], stage, day[keep], "", source[keep]))
        day = day + rng.integers(0, 30, deals).astype("timedelta64[D]")
    won, lost = outcome == 1, outcome == 2
    amounts = np.char.mod("%.2f", np.round(rng.lognormal(np.log(24000), 0.5, deals), 2))
    parts.append((ids[won], "closedwon", day[won], amounts[won], source[won]))
    parts.append((ids[lost], "closedlost", day[lost], "0", source[lost]))
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("deal_id,stage,date,amount,source\n")
        for rid, stage, days, amount, src in parts:
            n = len(rid)
            stage_col = np.full(n, stage)
            amount_col = amount if isinstance(amount, np.ndarray) else np.full(n, amount)
            lines = np.char.add(np.char.add(np.char.add(np.char.add(np.char.add(np.char.add(np.char.add(
                np.char.add(rid, ","), stage_col), ","), days.astype(str)), ","), amount_col), ","), src)
            f.write("\n".join(lines.tolist()))
            f.write("\n")
            written += n
    return written


def make_workbook(rows: int, path: Path, seed: int = 12) -> None:
    import xlsxwriter
    rng = np.random.default_rng(seed)
    stage = rng.choice(["Won", "Lost", "Engaging", "Prospecting"], size=rows, p=(0.48, 0.29, 0.14, 0.09))
    engage = rng.integers(0, 430, rows)
    close = engage + rng.integers(1, 140, rows)
    value = np.round(rng.lognormal(7.5, 0.9, rows))
    agents = ["Moses Frase", "Darcel Schlecht", "Zane Levy", "Anna Snelling", "Vicki Laflamme"]
    products = ["GTX Plus Basic", "GTXPro", "MG Special", "GTX Basic", "MG Advanced"]
    base = datetime(2016, 10, 20)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    dates = book.add_format({"num_format": "m/d/yyyy"})
    sheet = book.add_worksheet("sales_pipeline")
    sheet.write_row(0, 0, ["opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date",
                           "close_date", "close_value"])
    for i in range(rows):
        r, s = i + 1, stage[i]
        sheet.write_string(r, 0, f"O{i:08d}")
        sheet.write_string(r, 1, agents[i % 5])
        sheet.write_string(r, 2, products[(i * 7) % 5])
        sheet.write_string(r, 3, f"Account {i % 85}")
        sheet.write_string(r, 4, s)
        if s != "Prospecting":
            sheet.write_datetime(r, 5, base + timedelta(days=int(engage[i])), dates)
        if s in ("Won", "Lost"):
            sheet.write_datetime(r, 6, base + timedelta(days=int(close[i])), dates)
            sheet.write_number(r, 7, float(value[i]) if s == "Won" else 0.0)
    book.close()


def timed(label: str, data: bytes, name: str, options: ImportOptions, tmp: Path, repeat: int, target: float) -> None:
    totals = []
    for i in range(repeat):
        with Store(tmp / f"{label}-{i}.duckdb") as store:
            t0 = time.perf_counter()
            result = import_csv(store, data, name, options=options, max_bytes=2**31)
            t1 = time.perf_counter()
            actuals = load_actuals(store)
            t2 = time.perf_counter()
        totals.append(t2 - t0)
        print(f"  run {i + 1}: import {t1 - t0:.2f} s + monthly counts {t2 - t1:.3f} s = {t2 - t0:.2f} s "
              f"({result.rows:,} rows; {len(actuals.counts)} month-stage counts; outcomes {result.outcomes})")
    print(f"  median {statistics.median(totals):.2f} s (target ≤ {target:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history-rows", type=int, default=1_000_000)
    parser.add_argument("--workbook-rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        history = tmp / "deal-stage-history.csv"
        t0 = time.perf_counter()
        rows = make_history(args.history_rows, history)
        print(f"stage history: {rows:,} rows, {history.stat().st_size / 2**20:.1f} MB "
              f"(generated in {time.perf_counter() - t0:.1f} s)")
        timed("history", history.read_bytes(), history.name, HISTORY_OPTIONS, tmp, args.repeat, 5)
        book = tmp / "sales_pipeline.xlsx"
        t0 = time.perf_counter()
        make_workbook(args.workbook_rows, book)
        print(f"workbook: {args.workbook_rows:,} rows, {book.stat().st_size / 2**20:.1f} MB "
              f"(generated in {time.perf_counter() - t0:.1f} s)")
        timed("workbook", book.read_bytes(), book.name, WORKBOOK_OPTIONS, tmp, args.repeat, 10)


if __name__ == "__main__":
    main()
