"""The table of a history fit: per stage, the fitted rate with its band, the counts behind it, the
naive rate, what the belief is worth, and the lag (the From history page shows it)."""

from __future__ import annotations

import pandas as pd

from ..model.history_fit import HistoryFit

PERCENT_COLUMNS = ("Rate", "P10", "P90", "Naive rate")
COUNT_COLUMNS = ("Converted", "Exposed", "Worth (cases)")


def stage_table(result: HistoryFit) -> pd.DataFrame:
    rows = []
    for fit, stage in zip(result.stages[1:], result.scenario.stages[1:]):
        belief = stage.rate
        lo, hi = (float(v) for v in belief.ppf([0.1, 0.9])) if not belief.is_fixed else (belief.mean,) * 2
        r = fit.rate
        rows.append({"Stage": stage.name, "Rate": belief.mean, "P10": lo, "P90": hi, "Rate from": fit.rate_from,
                     "Converted": None if r is None else r.successes, "Exposed": None if r is None else r.exposure,
                     "Naive rate": None if r is None else r.naive, "Worth (cases)": None if r is None else r.strength,
                     "Lag (months)": ", ".join(f"{v:.2f}" for v in stage.lag), "Lag from": fit.lag_from})
    return pd.DataFrame(rows)
