"""Every chart of the app for a funnel of any number of stages, from inputs computed in code
(no database): the browser test of the charts' sizes (tests/browser/test_browser_charts.py)
draws them in a real browser through tests/browser/chart_gallery_app.py and screenshots each,
and unit tests check their sizes. Long names are as long as the Plan page allows (40)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sim import required_volumes, sensitivity, simulate
from sim.data.actuals import SegmentBreakdown
from sim.data.plans import SavedPlan
from sim.data.variance import PlanComparison, RevenueVariance, StageVariance
from sim.model.bands import band_status, plan_bands
from sim.model.checkin import check_in
from sim.model.monthly_actuals import Actuals
from sim.model.validation import scenario_from_dict
from sim.present import charts

SHORT_NAMES = ("Visits", "Leads", "MQLs", "SQLs", "Proposals", "Demos", "Trials", "Offers", "Contracts",
               "Signed", "Onboarded", "Customers")
LONG_WORDS = ("Engaged opportunities", "Qualified by the regional team", "Discovery meeting held",
              "Technical evaluation finished", "Proposal sent to procurement", "Negotiation with legal",
              "Security review passed", "Verbal commitment given", "Contract sent for signature",
              "Purchase order received", "Onboarding call completed", "Won deals (first invoice paid)")


def stage_names(stages: int, long: bool) -> list[str]:
    if long:
        return [f"{LONG_WORDS[(i * 5) % 12]} ({i + 1})"[:40] if i < stages - 1 else
                "Won deals - contract signed and invoiced"[:40] for i in range(stages)]
    if stages == 2:
        return ["Engaged opportunities", "Won deals"]
    return list(SHORT_NAMES[:stages - 1]) + ["Customers"]


def gallery_scenario(stages: int, long: bool = True):
    """A funnel of ``stages`` stages whose P(goal) is neither 0 nor 1; few trials."""
    names = stage_names(stages, long)
    rate = 0.7 if stages > 6 else 0.4
    per_month = 60_000.0 if stages > 6 else 3_000.0 if stages > 2 else 600.0
    doc = {
        "schema": 1, "name": f"{stages} stages", "start": "2027-01", "months": 12, "goal": 1.0,
        "top": {"per_month": per_month, "growth": 0.01, "noise_cv": 0.1},
        "stages": [{"name": names[0], "owner": "marketing"}] + [
            {"name": n, "owner": "marketing" if k < stages // 2 else "sales",
             "rate": {"mean": rate, "strength": 80}, "lag": [0.5, 0.5]} for k, n in enumerate(names[1:], 1)],
        "deal": {"median": 5000.0, "p90": 12000.0, "kind": "one_time"},
        "start_pipeline": {names[0]: int(per_month)},
        "trials": 2000, "seed": 7,
    }
    sc = scenario_from_dict(doc)
    expected = simulate(sc).revenue.p50
    return replace(sc, goal=round(expected * 1.05, -3))


def gallery_charts(stages: int, long: bool = True) -> dict[str, object]:
    """Every chart the pages draw, by name, for a funnel of ``stages`` stages."""
    sc = gallery_scenario(stages, long)
    forecast, bands = plan_bands(sc)
    targets = required_volumes(sc, 0.8, trials=1000)
    tornado = sensitivity(sc, trials=500)
    as_of = sc.month_labels[5]
    done = sc.month_labels[:6]
    arrivals = [b for b in bands if b.measure == "arrivals"]
    # Actuals: the plan's median times a factor that walks through below / inside / above.
    factors = (0.6, 0.95, 1.0, 1.05, 1.5)
    counts = tuple((b.month, b.stage, int(round(b.dist.p50 * factors[(i * 7) % 5])))
                   for i, b in enumerate(arrivals) if b.month in done)
    revenue_bands = {b.month: b for b in bands if b.measure == "revenue"}
    revenue = tuple((m, float(revenue_bands[m].dist.p50) * 0.9) for m in done)
    actuals = Actuals(tuple(sc.stage_names), counts, revenue)
    check = check_in(sc, actuals, as_of, trials=1000)
    plan = SavedPlan(1, "Plan of record", datetime(2027, 1, 1), sc, sc.seed, sc.trials, {}, forecast.p_goal)
    owner = {s.name: s.owner for s in sc.stages}
    band_of = {(b.month, b.stage): b.dist for b in arrivals}
    stage_rows = tuple(StageVariance(m, s, owner[s], c, band_of[m, s].p10, band_of[m, s].p50, band_of[m, s].p90,
                                     c - band_of[m, s].p50,
                                     (c - band_of[m, s].p50) / band_of[m, s].p50 if band_of[m, s].p50 else None,
                                     band_status(c, band_of[m, s].p10, band_of[m, s].p90)) for m, s, c in counts)
    cumulative = {b.month: b.dist for b in bands if b.measure == "cumulative_revenue"}
    revenue_rows, total = [], 0.0
    for m in sc.month_labels:
        got = dict(revenue).get(m)
        total = total + got if got is not None else total
        cum = cumulative[m]
        revenue_rows.append(RevenueVariance(
            m, got, revenue_bands[m].dist.p10, revenue_bands[m].dist.p50, revenue_bands[m].dist.p90,
            total if got is not None else None, cum.p10, cum.p25, cum.p50, cum.p75, cum.p90,
            band_status(total, cum.p10, cum.p90) if got is not None else None))
    comparison = PlanComparison(plan, stage_rows, tuple(revenue_rows), ())
    segments = ("Enterprise accounts in the DACH region", "Mid-market", "Small business", "Partners")
    split = SegmentBreakdown(tuple((g, 10) for g in segments),
                             tuple((m, s, g, max(c // (i + 1), 0)) for m, s, c in counts
                                   for i, g in enumerate(segments)),
                             tuple((m, g, r / (i + 1)) for m, r in revenue for i, g in enumerate(segments)))
    other = replace(sc, name="The same, 20% more at the top", top=sc.top.scaled(1.2))
    forecasts = {sc.name: forecast, other.name: simulate(other)}
    return {
        "plan-funnel": charts.funnel(targets, forecast),
        "forecast-fan": charts.fan_chart(forecast),
        "forecast-histogram": charts.revenue_histogram(forecast),
        "forecast-stage-volumes": charts.stage_volumes(forecast),
        "forecast-tornado": charts.tornado(tornado.rows, forecast.p_goal),
        "actuals-plan-vs-actual": charts.plan_vs_actual_fan(comparison),
        "actuals-heatmap": charts.variance_heatmap(comparison),
        "actuals-stage-vs-plan": charts.stage_vs_plan(comparison, arrivals, sc.stages[-1].name),
        "actuals-segments": charts.segment_bars(split, sc.stages[1].name),
        "checkin-fan": charts.checkin_fan(check),
        "checkin-position": charts.checkin_position(check),
        "checkin-rates": charts.rate_updates(check),
        "scenarios-p-goal": charts.side_by_side_p_goal(forecasts),
        "scenarios-distributions": charts.side_by_side_distributions(forecasts),
    }


def schema_lookups(monkeypatch) -> list[str]:
    """Record (in the list returned) every encoding Altair builds from a plain dict or a shorthand
    string (``SchemaBase.from_dict``): each such call hashes Altair's whole schema again, about
    2.5 ms, so the chart builders pass channel objects (``alt.Y("p50:Q")``, ``alt.XValue(0)``)."""
    from altair.utils import schemapi
    calls: list[str] = []
    original = schemapi.SchemaBase.from_dict.__func__

    def recording(cls, dct, validate=True):
        calls.append(f"{cls.__name__}: {dct!r}")
        return original(cls, dct, validate)
    monkeypatch.setattr(schemapi.SchemaBase, "from_dict", classmethod(recording))
    return calls
