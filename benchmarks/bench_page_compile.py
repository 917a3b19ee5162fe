"""Benchmark: compiling the app's pages, with and without Streamlit's "magic" (issue 10).

    .venv/bin/python benchmarks/bench_page_compile.py [--repeats 10]

Streamlit compiles a page the first time a session runs it and keeps the bytecode until no
session is left (then it empties that cache): a visitor to an idle server pays the compilation
of each page they open. With ``runner.magicEnabled`` (Streamlit's default) each page is first
rewritten so that bare expressions are written to it; the app turns it off
(``.streamlit/config.toml``). Prints each page's CPU milliseconds both ways (medians).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from streamlit.runtime.scriptrunner import magic

REPO_ROOT = Path(__file__).resolve().parents[1]


def compile_ms(source: str, path: str, with_magic: bool, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        compile(magic.add_magic(source, path) if with_magic else source, path, "exec")
        times.append(time.process_time() - start)
    return 1000 * statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args(argv)
    scripts = [REPO_ROOT / "app.py", *sorted((REPO_ROOT / "app_pages").glob("*.py"))]
    print(f"{'page':16s} {'with magic (ms)':>16s} {'without (ms)':>13s}")
    totals = [0.0, 0.0]
    for script in scripts:
        source = script.read_text(encoding="utf-8")
        row = [compile_ms(source, str(script), m, args.repeats) for m in (True, False)]
        totals = [t + r for t, r in zip(totals, row)]
        print(f"{script.name:16s} {row[0]:16.1f} {row[1]:13.1f}")
    print(f"{'all':16s} {totals[0]:16.1f} {totals[1]:13.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
