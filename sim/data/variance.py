"""Plan versus actual: each month and stage's actual count against a saved plan's band.

Computed in SQL from the plan's stored bands and the store's effective actuals: actual, plan
P50, the P10–P90 band, the signed variance (absolute and relative to the P50) and whether the
actual is below, inside or above the band; revenue month by month and cumulative against the
plan's fan chart: the baseline plus every month's actual revenue through the last month with
any actual, a month without a revenue actual counted as 0 (as the check-in counts it) and
named in ``missing_revenue_months``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model.bands import ABOVE, BELOW, INSIDE, band_status
from ..model.months import MONTH_FORMAT
from ..model.names import fold_name
from .plans import SavedPlan
from .store import Store


@dataclass(frozen=True)
class StageVariance:
    month: str
    stage: str
    owner: str
    actual: int
    p10: float
    p50: float
    p90: float
    variance: float             # actual - P50
    variance_pct: float | None  # (actual - P50) / P50; None when the P50 is 0
    status: str                 # below | inside | above the P10–P90 band

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class RevenueVariance:
    month: str
    actual: float | None               # booked in the month (None: no actual yet)
    p10: float
    p50: float
    p90: float
    cumulative_actual: float | None    # baseline + actuals to date (None after the last month with actuals)
    cumulative_p10: float
    cumulative_p25: float
    cumulative_p50: float
    cumulative_p75: float
    cumulative_p90: float
    status: str | None                 # the cumulative actual against the cumulative band

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class PlanComparison:
    plan: SavedPlan
    stages: tuple[StageVariance, ...]
    revenue: tuple[RevenueVariance, ...]
    unplanned_stages: tuple[str, ...]      # stages with actuals that the plan does not have
    #: Months through the last with actuals that have no revenue actual (counted as 0).
    missing_revenue_months: tuple[str, ...] = ()

    @property
    def months_with_actuals(self) -> tuple[str, ...]:
        months = {r.month for r in self.stages} | {r.month for r in self.revenue if r.actual is not None}
        return tuple(sorted(months))

    @property
    def empty(self) -> bool:
        return not self.months_with_actuals

    def to_dict(self) -> dict:
        return {"plan": self.plan.name, "plan_id": self.plan.id, "goal": self.plan.scenario.goal,
                "months_with_actuals": list(self.months_with_actuals),
                "stages": [r.to_dict() for r in self.stages],
                "revenue": [r.to_dict() for r in self.revenue],
                "unplanned_stages": list(self.unplanned_stages),
                "missing_revenue_months": list(self.missing_revenue_months)}


def band_status_sql(value: str, p10: str, p90: str) -> str:
    """:func:`sim.model.bands.band_status` as SQL, over the columns ``value``, ``p10`` and ``p90``
    (column names written here, never user text)."""
    return f"CASE WHEN {value} < {p10} THEN '{BELOW}' WHEN {value} > {p90} THEN '{ABOVE}' ELSE '{INSIDE}' END"


def _actuals_sql(segment: str | None) -> tuple[str, str, list]:
    """The SQL of the actual counts and revenue (all, or one segment's: ``?`` parameters)."""
    if segment is None:
        return "actual_counts", "actual_revenue", []
    return ("(SELECT month, stage_key, sum(count)::BIGINT AS count FROM counts_by_segment WHERE segment = ? "
            "GROUP BY ALL)",
            "(SELECT month, sum(revenue) AS revenue FROM revenue_by_segment WHERE segment = ? GROUP BY ALL)",
            [segment])


def compare_plan(store: Store, plan: SavedPlan, *, segment: str | None = None) -> PlanComparison:
    """Compare ``plan`` with the actuals in ``store``, month by month and stage by stage;
    ``segment``: with that segment's actuals only (for a plan made for that segment)."""
    sc = plan.scenario
    counts_sql, revenue_sql, seg = _actuals_sql(segment)
    order = {fold_name(s.name): i for i, s in enumerate(sc.stages)}
    stage_of = {fold_name(s.name): s for s in sc.stages}
    cur = store.cursor()
    rows = cur.execute(
        f"""SELECT strftime(b.month, '{MONTH_FORMAT}'), b.stage_key, a.count, b.p10, b.p50, b.p90,
                   a.count - b.p50,
                   CASE WHEN b.p50 > 0 THEN (a.count - b.p50) / b.p50 END,
                   {band_status_sql('a.count', 'b.p10', 'b.p90')}
            FROM plan_bands b JOIN {counts_sql} a ON a.month = b.month AND a.stage_key = b.stage_key
            WHERE b.plan_id = ? AND b.measure = 'arrivals'""", [*seg, plan.id]).fetchall()
    rows.sort(key=lambda r: (order[r[1]], r[0]))
    stages = tuple(StageVariance(m, stage_of[k].name, stage_of[k].owner, int(a), p10, p50, p90, v, pct, s)
                   for m, k, a, p10, p50, p90, v, pct, s in rows)

    revenue_rows = cur.execute(
        f"""SELECT strftime(b.month, '{MONTH_FORMAT}'), a.revenue, b.p10, b.p50, b.p90,
                   c.p10, c.p25, c.p50, c.p75, c.p90
            FROM plan_bands b
            JOIN plan_bands c ON c.plan_id = b.plan_id AND c.month = b.month AND c.measure = 'cumulative_revenue'
            LEFT JOIN {revenue_sql} a ON a.month = b.month
            WHERE b.plan_id = ? AND b.measure = 'revenue'
            ORDER BY b.month""", [*seg, plan.id]).fetchall()
    revenue, missing = _revenue_rows(revenue_rows, {r.month for r in stages}, sc.baseline_revenue)

    unplanned = cur.execute(
        f"""SELECT DISTINCT s.name, s.position FROM {counts_sql} a JOIN stages s ON s.key = a.stage_key
            WHERE a.month BETWEEN (SELECT min(month) FROM plan_bands WHERE plan_id = ?)
                              AND (SELECT max(month) FROM plan_bands WHERE plan_id = ?)
            ORDER BY s.position""", [*seg, plan.id, plan.id]).fetchall()
    unplanned_names = tuple(n for n, _ in unplanned if fold_name(n) not in order)
    return PlanComparison(plan, stages, revenue, unplanned_names, missing)


def _revenue_rows(rows, count_months: set[str], baseline: float):
    """The revenue rows and the months without a revenue actual: cumulative through the last
    month with any actual (counts or revenue), a missing month counted as 0."""
    reported = count_months | {r[0] for r in rows if r[1] is not None}
    last = max(reported, default=None)
    out, missing, running = [], [], baseline
    for month, actual, p10, p50, p90, c10, c25, c50, c75, c90 in rows:
        if last is not None and month <= last:
            running += 0.0 if actual is None else actual
            if actual is None:
                missing.append(month)
            cumulative, status = running, band_status(running, c10, c90)
        else:
            cumulative = status = None
        out.append(RevenueVariance(month, actual, p10, p50, p90, cumulative, c10, c25, c50, c75, c90, status))
    return tuple(out), tuple(missing)
