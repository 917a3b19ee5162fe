"""The charts' look: colours, axes and sizes shared by every chart."""

from __future__ import annotations

import altair as alt

from ...model.bands import ABOVE, BELOW, INSIDE

OWNER_COLORS = {"marketing": "#7c3aed", "sales": "#059669", "shared": "#64748b"}
BAND_COLOR = "#2563eb"
GOAL_COLOR = "#dc2626"
ACTUAL_COLOR = "#0f172a"
#: An actual's colour by where it falls in the plan's band (sim.model.bands).
STATUS_COLORS = {BELOW: "#dc2626", INSIDE: "#0f172a", ABOVE: "#059669"}


def owner_scale(owners=OWNER_COLORS):
    """Colours by owner; the legend lists only the owners present."""
    present = [o for o in OWNER_COLORS if o in set(owners)]
    return alt.Scale(domain=present, range=[OWNER_COLORS[o] for o in present])


def rows_height(rows: int, per_row: int = 30, overhead: int = 110) -> int:
    """Total height for a chart with one band per row: Vega-Lite's "fit" autosize counts the
    title, legend and axes inside the height, so they are added on top of the bands."""
    return overhead + per_row * max(rows, 1)


def money_axis(title: str) -> alt.Axis:
    return alt.Axis(title=title, format="~s", labelExpr="replace(datum.label, 'G', 'B')")


def month_axis(first: str) -> alt.Axis:
    """An axis of "YYYY-MM" months labelled "Jan 27", "Feb", …, "Dec", "Jan 28" (short enough
    for a phone screen); labels that would overlap are thinned out."""
    names = "['Jan','Feb','Mar','Apr','May','Jun','Jul','Aug','Sep','Oct','Nov','Dec']"
    month = "toNumber(slice(datum.value, 5, 7))"
    year = "' ' + slice(datum.value, 2, 4)"
    expr = (f"{names}[{month} - 1] + ({month} == 1 || datum.value == '{first}' ? {year} : '')")
    return alt.Axis(labelAngle=0, labelExpr=expr, labelOverlap=True)


def status_scale() -> alt.Scale:
    """Colours of the band statuses, low to high."""
    return alt.Scale(domain=list(STATUS_COLORS), range=list(STATUS_COLORS.values()))
