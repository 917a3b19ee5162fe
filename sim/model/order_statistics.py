"""``order_statistics``: the values at given ranks of an array's sorted order, exactly, without
sorting the whole array.

A forecast's summary needs ten order statistics (the two neighbours of each of five percentiles)
of each of about 26 rows of one value per trial. Sorting each row (``np.sort``) costs about
4 ms per 100,000 values; ``np.partition`` at the ten ranks about 2.3 ms. This module finds the
same values in about a quarter of the sort's time:

* **Whole numbers in a narrow range** (customers): one count of each value (``np.bincount``),
  cumulated; rank r holds the first value whose cumulated count exceeds r.
* **Short rows** (under ``SHORT_ROW`` values, e.g. a first answer's 2,048 trials):
  ``np.partition`` at the ranks.
* **Anything else** (revenue): a strided sample of the row (every ``SAMPLE_EVERY``-th value) is
  sorted, and around each wanted rank two of the sample's values bracket it with a margin of
  ``MARGIN_SE`` binomial standard errors of the sample. One pass counts the values below the
  bracket, one takes the values inside it; ``np.partition`` of those few gives the ranks within.
  The sorted order of the row is the values below the bracket, then the bracket's values in
  order, then the values above, so the result is exact (ties included) **whenever the wanted
  ranks fall inside the bracket**, which is checked. If they do not (a row of a few repeated
  values, a row whose order is not random, NaN), the row is partitioned whole instead. Either way
  the answer is ``np.sort(row)[ranks]``, bit for bit; only the time differs.
"""

from __future__ import annotations

import math

import numpy as np

#: One value in this many goes into the sample that places the brackets.
SAMPLE_EVERY = 16
#: Half-width of a bracket, in binomial standard errors of the sample's rank (plus one value):
#: a rank outside its bracket (then the whole row is partitioned) happens to about one row in a
#: hundred of random values (five brackets of two sides, about 0.13% each).
MARGIN_SE = 3.0
#: Rows shorter than this are partitioned whole: there ``np.partition`` at the ten ranks is
#: faster than the brackets' passes (10 against 80 µs for 2,048 values; the two meet near 15,000).
SHORT_ROW = 1_024 * SAMPLE_EVERY


def order_statistics(row: np.ndarray, ranks) -> np.ndarray:
    """``np.sort(row)[ranks]`` for a one-dimensional ``row`` and 0-based ``ranks``."""
    ranks = np.asarray(ranks, dtype=np.intp)
    if row.dtype.kind in "iu" and row.size:
        least = row.min()
        if int(row.max()) - int(least) <= 4 * row.size:
            cumulated = np.cumsum(np.bincount(row - least))
            return np.searchsorted(cumulated, ranks, side="right") + least
    if row.size >= SHORT_ROW and ranks.size:
        values = _bracketed(row, ranks)
        if values is not None:
            return values
    return np.partition(row, ranks)[ranks]


def _brackets(ranks: np.ndarray):
    """Groups of ranks close together (a percentile's two neighbours): (low, high, positions)."""
    groups: list[list] = []
    for i in np.argsort(ranks, kind="stable"):
        r = int(ranks[i])
        if groups and r - groups[-1][1] <= 1:
            groups[-1][1] = r
            groups[-1][2].append(i)
        else:
            groups.append([r, r, [i]])
    return groups


def _bracketed(row: np.ndarray, ranks: np.ndarray) -> np.ndarray | None:
    """The order statistics through a sample's brackets, or None if a rank fell outside its own."""
    n = row.size
    sample = np.sort(row[::SAMPLE_EVERY])
    m = sample.size
    out = np.empty(ranks.size, dtype=row.dtype)
    for low, high, positions in _brackets(ranks):
        # Where the ranks' values sit in the sample, widened by the sample's own spread.
        q_low, q_high = low / (n - 1), high / (n - 1)
        start = math.floor(q_low * (m - 1) - MARGIN_SE * math.sqrt(m * q_low * (1 - q_low)) - 1)
        stop = math.ceil(q_high * (m - 1) + MARGIN_SE * math.sqrt(m * q_high * (1 - q_high)) + 1)
        below, inside = 0, None
        if start > 0:
            floor_value = sample[start]
            below = int(np.count_nonzero(row < floor_value))
            inside = row >= floor_value
        if stop < m - 1:
            under_ceiling = row <= sample[stop]
            inside = under_ceiling if inside is None else np.logical_and(inside, under_ceiling,
                                                                            out=inside)
        kept = row if inside is None else row[inside]
        within = ranks[positions] - below
        if within.min() < 0 or within.max() >= kept.size:
            return None
        out[positions] = np.partition(kept, within)[within]
    return out
