"""Validate the deal-value sums of the engine against exact sums of lognormal values.

For each deal skew (p90/median) and count m, the Kolmogorov–Smirnov distance between the sum
drawn by ``sim.model.deal_value_sums`` (exact top values + validated bulk) and the exact sum of m
lognormal values:

* m <= 256: against brute-force sums (numpy lognormals), two-sample KS, N draws each;
* m > 256: against the exact distribution computed by ``sim.model.lognormal_sum_cdf`` (lattice FFT),
  one-sample KS of N engine draws.

Prints the table as a Python literal (paste it into ``VALIDATION`` in
``sim/model/deal_value_sums.py``) and a summary. Takes a few minutes on 2 cores::

    .venv/bin/python scripts/validate_deal_value_sums.py [--draws N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.model.beliefs import Z90
from sim.model.deal_value_sums import ValueSums
from sim.model.lognormal_sum_cdf import lognormal_sum_cdf
from sim.model.positional_random import VALUES, RandomSource

SKEWS = (1.05, 1.2, 1.5, 2.0, 3.0, 5.0, 8.0, 12.0, 22.0, 30.0)
COUNTS = (5, 6, 8, 12, 20, 40, 100, 256, 1_000, 3_000, 10_000, 100_000, 1_000_000)
BRUTE_FORCE_MAX = 256


def engine_sums(sigma: float, m: int, n: int, seed: int) -> np.ndarray:
    states = RandomSource.from_seed(seed).cell_states(VALUES, np.arange(n), m)
    return ValueSums(1.0, sigma).sums(np.full(n, m), states)


def brute_force_sums(sigma: float, m: int, n: int, rng) -> np.ndarray:
    out = np.empty(n)
    block = max(1, 20_000_000 // m)
    for s in range(0, n, block):
        k = min(block, n - s)
        out[s:s + k] = rng.lognormal(0.0, sigma, size=(k, m)).sum(axis=1)
    return out


def oracle_window(sample: np.ndarray) -> tuple[float, float]:
    """[x_lo, x_hi] around the sample's range, 20% wider on each side."""
    lo, hi = np.quantile(sample, [1e-6, 1 - 1e-6])
    return max(lo - 0.2 * (hi - lo), 0.0), hi + 0.2 * (hi - lo)


def ks_against_oracle(sample: np.ndarray, sigma: float, m: int, points: int = 2 ** 20) -> float:
    x, cdf, outside = lognormal_sum_cdf(sigma, m, *oracle_window(sample), points)
    assert outside < 1e-5, outside
    s = np.sort(sample)
    f = np.interp(s, x, cdf)
    k = np.arange(1, s.size + 1) / s.size
    return float(max(np.max(k - f), np.max(f - (k - 1.0 / s.size))))


def validate(skew: float, m: int, n: int, seed: int) -> float:
    sigma = np.log(skew) / Z90
    sample = engine_sums(sigma, m, n, seed)
    if m <= BRUTE_FORCE_MAX:
        exact = brute_force_sums(sigma, m, n, np.random.default_rng(seed + 1))
        return float(stats.ks_2samp(sample, exact).statistic)
    return ks_against_oracle(sample, sigma, m)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, default=1_000_000, help="draws per comparison")
    args = parser.parse_args(argv)
    rows = []
    start = time.perf_counter()
    for i, skew in enumerate(SKEWS):
        for j, m in enumerate(COUNTS):
            ks = validate(skew, m, args.draws, seed=1000 * i + j)
            rows.append((skew, m, round(ks, 5)))
            print(f"# p90/median {skew:>5}  m {m:>9,}  KS {ks:.4%}", file=sys.stderr, flush=True)
    noise = 1.36 * np.sqrt(2 / args.draws)
    print(f"# {args.draws:,} draws per comparison (two-sample KS 95% noise {noise:.3%}); "
          f"{time.perf_counter() - start:.0f} s")
    print("VALIDATION = (")
    for skew, m, ks in rows:
        print(f"    ({skew}, {m}, {ks}),")
    print(")")
    print(f"# largest: {max(r[2] for r in rows):.4%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
