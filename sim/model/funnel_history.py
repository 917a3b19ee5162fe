"""The funnel's history in memory, as arrays: what a history fit and a backtest read.

Months are whole numbers here (``year·12 + month − 1``, see :func:`month_index`), so that a
window, a cohort's age and a lag are differences of integers. The data layer fills a
:class:`FunnelHistory` from the store (:func:`sim.data.funnel_history.load_funnel_history`);
the tests build one from generated records directly.

* **Records** (one row each): ``reached[r, k]``, the month record r reached stage k (−1:
  never); ``outcome[r]`` (:data:`UNKNOWN`, :data:`WON`, :data:`LOST`, :data:`OPEN`) and
  ``closed[r]``, the month it was won or lost (−1: not known).
* **Monthly counts** per stage (what the actuals count, monthly imports included): ``counts[k,
  i]`` for month ``first_month + i``, ``counted[k, i]`` whether any actual states it.
* **Revenue** per month (``revenue[i]``, ``revenue_known[i]``), and the **amounts** that count
  as revenue (won, or of unknown outcome), each with the month it was booked.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .months import month_label, parse_month

UNKNOWN, WON, LOST, OPEN = 0, 1, 2, 3
OUTCOME_CODES = {None: UNKNOWN, "won": WON, "lost": LOST, "open": OPEN}


def month_index(label: str) -> int:
    """``"2027-03"`` -> 2027·12 + 2."""
    year, month = parse_month(label)
    return year * 12 + month - 1


def index_label(index: int) -> str:
    """The inverse of :func:`month_index`."""
    return month_label(int(index) // 12, int(index) % 12 + 1)


@dataclass(frozen=True, eq=False)
class FunnelHistory:
    stages: tuple[str, ...]
    reached: np.ndarray            # (R, K) int32 month index, −1 never
    outcome: np.ndarray            # (R,) int8
    closed: np.ndarray             # (R,) int32 month index, −1 not known
    first_month: int               # month index of column 0 of counts / revenue
    counts: np.ndarray             # (K, M) float64
    counted: np.ndarray            # (K, M) bool
    revenue: np.ndarray            # (M,) float64
    revenue_known: np.ndarray      # (M,) bool
    amounts: np.ndarray            # (A,) float64: the amounts that count as revenue
    amount_months: np.ndarray      # (A,) int32: the month each was booked
    #: Months the first stage's records cover only in part (its first dates after the 7th, its
    #: last ones more than a week before the month's end): (month index, "from the 20th").
    partial: tuple[tuple[int, str], ...] = ()

    @property
    def months(self) -> int:
        return int(self.counts.shape[1])

    @property
    def last_month(self) -> int:
        return self.first_month + self.months - 1

    @property
    def empty(self) -> bool:
        return self.months == 0 or not (self.counted.any() or self.revenue_known.any())

    def data_months(self) -> tuple[int, int] | None:
        """The first and last month any count or revenue is known for (None: nothing)."""
        known = self.counted.any(axis=0) | self.revenue_known
        if not known.any():
            return None
        where = np.flatnonzero(known)
        return self.first_month + int(where[0]), self.first_month + int(where[-1])

    def series(self, k: int, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        """Stage k's monthly counts from ``first`` to ``last`` (month indices) and whether each
        month is stated (months outside the history: not stated)."""
        return _window(self.counts[k], self.counted[k], self.first_month, first, last)

    def revenue_series(self, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        return _window(self.revenue, self.revenue_known, self.first_month, first, last)

    def passed_through(self) -> tuple[FunnelHistory, tuple[int, ...]]:
        """The history with skipped stages filled in: a record that reached a later stage without
        an earlier one (after its first) passed through it in the month of the next stage it
        reached (CRMs let a deal jump stages; the funnel's model does not). Also the number of
        records filled in per stage."""
        R = self.reached
        if R.size == 0:
            return self, tuple(0 for _ in self.stages)
        big = np.iinfo(np.int32).max
        K = R.shape[1]
        filled = R.copy()
        counts = [0] * K
        ahead = np.full(R.shape[0], big, dtype=np.int32)         # the earliest month of a later stage
        started = np.zeros((R.shape[0], K), dtype=bool)          # at or after the record's first stage
        started[:, 0] = R[:, 0] >= 0
        for k in range(1, K):
            started[:, k] = started[:, k - 1] | (R[:, k] >= 0)
        for k in range(K - 1, -1, -1):
            fill = (R[:, k] < 0) & started[:, k] & (ahead < big)
            filled[fill, k] = ahead[fill]
            counts[k] = int(np.count_nonzero(fill))
            np.minimum(ahead, np.where(R[:, k] >= 0, R[:, k], big), out=ahead)
        return replace(self, reached=filled), tuple(counts)

    def through(self, last: int) -> FunnelHistory:
        """The history as it was known at the end of month ``last``: later stage dates are
        dropped, outcomes closed later are still open, later months and amounts are cut."""
        reached = np.where(self.reached > last, -1, self.reached)
        later = self.closed > last
        outcome = np.where(later & (self.outcome != UNKNOWN), OPEN, self.outcome).astype(np.int8)
        closed = np.where(later, -1, self.closed)
        keep = max(0, min(self.months, last - self.first_month + 1))
        booked = self.amount_months <= last
        return replace(self, reached=reached, outcome=outcome, closed=closed, counts=self.counts[:, :keep],
                       counted=self.counted[:, :keep], revenue=self.revenue[:keep],
                       revenue_known=self.revenue_known[:keep], amounts=self.amounts[booked],
                       amount_months=self.amount_months[booked])


def _window(values, known, origin: int, first: int, last: int):
    n = max(0, last - first + 1)
    out, ok = np.zeros(n), np.zeros(n, dtype=bool)
    lo, hi = max(first, origin), min(last, origin + values.size - 1)
    if hi >= lo:
        out[lo - first:hi - first + 1] = values[lo - origin:hi - origin + 1]
        ok[lo - first:hi - first + 1] = known[lo - origin:hi - origin + 1]
    return out, ok


def history_from_records(stages: tuple[str, ...], reached: np.ndarray, outcome=None, closed=None,
                         amounts=None, amount_months=None) -> FunnelHistory:
    """A history of records alone (the tests' generated data): the monthly counts are the
    records' counts, the revenue the amounts' sums per month."""
    reached = np.asarray(reached, dtype=np.int32)
    R, K = reached.shape
    outcome = np.zeros(R, dtype=np.int8) if outcome is None else np.asarray(outcome, dtype=np.int8)
    closed = np.full(R, -1, dtype=np.int32) if closed is None else np.asarray(closed, dtype=np.int32)
    amounts = np.zeros(0) if amounts is None else np.asarray(amounts, dtype=np.float64)
    amount_months = np.zeros(0, dtype=np.int32) if amount_months is None else np.asarray(amount_months, dtype=np.int32)
    dated = reached[reached >= 0]
    if not dated.size:
        return FunnelHistory(stages, reached, outcome, closed, 0, np.zeros((K, 0)), np.zeros((K, 0), dtype=bool),
                             np.zeros(0), np.zeros(0, dtype=bool), amounts, amount_months)
    first = int(min(dated.min(), amount_months.min() if amount_months.size else dated.min()))
    last = int(max(dated.max(), amount_months.max() if amount_months.size else dated.max()))
    M = last - first + 1
    counts = np.zeros((K, M))
    for k in range(K):
        col = reached[:, k]
        counts[k] = np.bincount(col[col >= 0] - first, minlength=M)
    revenue = np.bincount(amount_months - first, weights=amounts, minlength=M) if amounts.size else np.zeros(M)
    return FunnelHistory(stages, reached, outcome, closed, first, counts, np.ones((K, M), dtype=bool),
                         revenue, np.ones(M, dtype=bool), amounts, amount_months)
