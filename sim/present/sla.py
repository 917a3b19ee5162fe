"""The sales & marketing SLA: monthly commitments per side, and what the plan is expected to
deliver against them (no Streamlit here)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model.forecast import Forecast
from ..model.scenario import OWNERS, Scenario
from ..model.targets import Targets
from .spreadsheet import spreadsheet_csv

SIDE_TITLES = {"marketing": "Marketing", "sales": "Sales", "shared": "Shared"}


def sla_rows(targets: Targets, forecast: Forecast) -> pd.DataFrame:
    """One row per stage and month: the side that owns it, the commitment (the volume the plan
    at the chosen confidence needs), the volume of the expected-value plan, and
    the P10/P50/P90 of what the current plan is expected to deliver."""
    scenario = forecast.scenario
    rows = []
    for k, stage in enumerate(scenario.stages):
        need, expected, fc = targets.at_confidence.stages[k], targets.expected_value.stages[k], forecast.stages[k]
        for t, month in enumerate(scenario.month_labels):
            band = fc.monthly[t]
            rows.append({"side": stage.owner, "stage": stage.name, "month": month,
                         "commitment": need.monthly[t], "expected_value_plan": expected.monthly[t],
                         "current_plan_p10": band.p10, "current_plan_p50": band.p50,
                         "current_plan_p90": band.p90})
    return pd.DataFrame(rows)


def sla_by_side(targets: Targets, forecast: Forecast) -> dict[str, pd.DataFrame]:
    """For each side that owns stages: a table with one row per month (and a last row for the
    period) and one column per stage; each cell is the commitment and, in brackets, the P10–P90
    of what the current plan is expected to deliver. Months as rows keep it narrow on a phone."""
    scenario = forecast.scenario
    months = scenario.month_labels
    out = {}
    for side in OWNERS:
        table = {}
        for k, stage in enumerate(scenario.stages):
            if stage.owner != side:
                continue
            need = targets.at_confidence.stages[k].monthly
            cells = {m: f"{c:,.0f} ({band.p10:,.0f}–{band.p90:,.0f})"
                     for m, c, band in zip(months, need, forecast.stages[k].monthly)}
            cells["Period"] = f"{np.sum(np.asarray(need, dtype=np.float64)):,.0f}"
            table[stage.name] = cells
        if table:
            out[side] = pd.DataFrame(table)
    return out


def sla_csv(targets: Targets, forecast: Forecast) -> str:
    """The SLA table as CSV (long form), safe to open in a spreadsheet (see
    :mod:`sim.present.spreadsheet`)."""
    long = sla_rows(targets, forecast)
    for col in ("commitment", "expected_value_plan", "current_plan_p10", "current_plan_p50", "current_plan_p90"):
        long[col] = long[col].round(1)
    long.insert(3, "confidence", targets.confidence)
    return spreadsheet_csv(long)


def sla_sentences(scenario: Scenario, targets: Targets) -> dict[str, str]:
    """Each side's commitments in one sentence, e.g. "Marketing delivers, per month, 18,200 to
    20,300 Visits, 398 to 444 Leads and 84 to 155 MQLs (230,516, 5,050 and 1,705 in the
    period)" — the lowest and highest month ("to", not a dash: dashes are P10–P90 bands)."""
    out = {}
    for side in OWNERS:
        parts, totals = [], []
        for k, stage in enumerate(scenario.stages):
            if stage.owner != side:
                continue
            monthly = targets.at_confidence.stages[k].monthly
            lo, hi = min(monthly), max(monthly)
            span = f"{lo:,.0f}" if round(lo) == round(hi) else f"{lo:,.0f} to {hi:,.0f}"
            parts.append(f"{span} {stage.name}")
            totals.append(f"{targets.at_confidence.stages[k].total:,.0f}")
        if not parts:
            continue
        listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        listed_totals = totals[0] if len(totals) == 1 else ", ".join(totals[:-1]) + " and " + totals[-1]
        out[side] = (f"{SIDE_TITLES[side]} delivers, per month, {listed} "
                     f"({listed_totals} in the period).")
    return out
