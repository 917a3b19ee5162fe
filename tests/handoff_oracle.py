"""The handoff KPIs computed independently with pandas, row by row, from what the README and
:mod:`sim.model.handoff` say they are: shared by the unit test of the maths and the integration
test on imported records."""

from __future__ import annotations

import pandas as pd

from sim.model.agreement import HandoffRule


def pandas_days(start: pd.Timestamp, end: pd.Timestamp, business: bool) -> int:
    """Days from start to end: calendar, or the weekdays in (start, end] (pandas' business-day calendar)."""
    if business:
        return max(len(pd.bdate_range(start + pd.Timedelta(days=1), end)), 0) if end > start else 0
    return max((end - start).days, 0)


def pandas_oracle(records: pd.DataFrame, rule: HandoffRule, as_of: pd.Timestamp, with_contacts: bool) -> pd.DataFrame:
    """Per month of ``reached``: records, handed on, the share in time, median and P90 days to
    hand-on, the share never picked up, the records still inside their window. ``records``:
    columns reached, handed, rejected, contacted (Timestamps or NaT)."""
    rows = []
    n, m = rule.response_days, rule.acceptance_days
    for r in records.itertuples():
        known = {k: getattr(r, k) for k in ("handed", "rejected", "contacted")
                 if pd.notna(getattr(r, k)) and getattr(r, k) <= as_of}
        if not with_contacts:
            known.pop("contacted", None)
        days = {k: pandas_days(r.reached, v, rule.business_days) for k, v in known.items()}
        first = min(days.values()) if days else None
        past = pandas_days(r.reached, as_of + pd.Timedelta(days=1), rule.business_days)
        in_time = first is not None and first <= n
        handled = any(k in days and days[k] <= m for k in ("handed", "rejected"))
        rows.append({"month": r.reached.strftime("%Y-%m"),
                     "in_time": in_time, "response_known": in_time or past > n,
                     "handed_days": days.get("handed"),
                     "never": not handled and past > m, "never_known": handled or past > m,
                     "waiting": not handled and past <= m})
    frame = pd.DataFrame(rows)
    out = []
    for month, g in frame.groupby("month"):
        spans = g["handed_days"].dropna()
        decided = g[g["response_known"]]
        out.append({"month": month, "records": len(g), "handed_on": len(spans),
                    "within_rule": decided["in_time"].mean() if len(decided) else None,
                    "median_days": spans.quantile(0.5) if len(spans) else None,
                    "p90_days": spans.quantile(0.9) if len(spans) else None,
                    "never": g.loc[g["never_known"], "never"].mean() if g["never_known"].any() else None,
                    "in_window": int(g["waiting"].sum())})
    return pd.DataFrame(out)
