"""The actuals by segment: one stage's (or the revenue's) months as bars stacked by segment."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ...data.actuals import SegmentBreakdown
from .style import month_axis, plot_height

#: Segments drawn one by one; the others are summed as "other segments".
MAX_SEGMENTS_DRAWN = 10
OTHER = "other segments"
REVENUE = "revenue"


def segment_bars(split: SegmentBreakdown, stage: str, *, height: int = 220) -> alt.Chart:
    """``stage``'s count per month (or, for ``"revenue"``, the revenue), stacked by segment: the
    largest segments by name, the rest as one "other segments" bar."""
    if stage == REVENUE:
        rows = [{"month": m, "segment": g, "value": r} for m, g, r in split.revenue]
    else:
        rows = [{"month": m, "segment": g, "value": c} for m, s, g, c in split.counts if s == stage]
    data = pd.DataFrame(rows, columns=["month", "segment", "value"])
    totals = data.groupby("segment")["value"].sum().sort_values(ascending=False)
    keep = list(totals.index[:MAX_SEGMENTS_DRAWN])
    data.loc[~data["segment"].isin(keep), "segment"] = OTHER
    data = data.groupby(["month", "segment"], as_index=False)["value"].sum()
    order = keep + ([OTHER] if OTHER in set(data["segment"]) else [])
    data["segment_rank"] = [order.index(g) for g in data["segment"]]   # computed here: no user text in an expression
    money = stage == REVENUE
    first = data["month"].min() if not data.empty else "2000-01"
    return alt.Chart(data, width="container", **plot_height(height), title=alt.TitleParams(
        f"{'Revenue' if money else stage} by segment, per month", anchor="start")).mark_bar().encode(
        x=alt.X("month:O", title=None, axis=month_axis(first)),
        y=alt.Y("value:Q", title="revenue" if money else "per month", stack="zero"),
        color=alt.Color("segment:N", sort=order, scale=alt.Scale(scheme="tableau10"),
                        legend=alt.Legend(title="Segment", orient="bottom", columns=3, labelLimit=320)),
        order=alt.Order("segment_rank:Q"),
        tooltip=[alt.Tooltip("month:O", title="Month"), alt.Tooltip("segment:N", title="Segment"),
                 alt.Tooltip("value:Q", title="Revenue" if money else stage, format=",.0f")],
    )
