"""What happened: monthly counts per stage and monthly revenue, keyed by ``"YYYY-MM"``.

The data layer reads them from the store (:func:`sim.data.actuals.load_actuals`); the
check-in maths (:mod:`sim.model.checkin`) takes them as plain values.
"""

from __future__ import annotations

from dataclasses import dataclass

from .names import fold_name


@dataclass(frozen=True)
class Actuals:
    """Monthly counts per stage and monthly revenue, as ``"YYYY-MM"`` keyed rows."""

    stages: tuple[str, ...]                          # display names, in funnel order
    counts: tuple[tuple[str, str, int], ...]         # (month, stage, count), by month then stage
    revenue: tuple[tuple[str, float], ...]           # (month, revenue), by month

    @property
    def months(self) -> tuple[str, ...]:
        return tuple(sorted({m for m, _, _ in self.counts} | {m for m, _ in self.revenue}))

    @property
    def empty(self) -> bool:
        return not self.counts and not self.revenue

    def count(self, month: str, stage: str) -> int | None:
        key = fold_name(stage)
        for m, s, c in self.counts:
            if m == month and fold_name(s) == key:
                return c
        return None

    def to_dict(self) -> list[dict]:
        """The JSON of ``python -m sim actuals --json``: count rows, then revenue rows."""
        return ([{"month": m, "stage": s, "count": c} for m, s, c in self.counts]
                + [{"month": m, "revenue": r} for m, r in self.revenue])
