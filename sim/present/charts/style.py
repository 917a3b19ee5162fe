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


#: A row label (a stage's name) longer than this many characters goes on two lines, broken at
#: its last space before; each line is drawn up to LABEL_LIMIT pixels.
LABEL_WRAP = 22
LABEL_LIMIT = 190
#: Pixels per row of a chart with one row per stage: two lines of label and a bar.
ROW_STEP = 36


def row_labels(**kw) -> alt.Axis:
    """The axis of a chart's rows (stage names, any length): names longer than LABEL_WRAP
    characters on two lines, so that 1 to 12 stages of up to 40 characters read whole on a
    laptop and a phone. The expression works on the label only (no user text in it)."""
    cut = f"lastindexof(slice(datum.label, 0, {LABEL_WRAP + 1}), ' ')"
    wrap = (f"length(datum.label) > {LABEL_WRAP} && {cut} > 0 ? "
            f"[slice(datum.label, 0, {cut}), slice(datum.label, {cut} + 1)] : datum.label")
    return alt.Axis(labelExpr=wrap, labelLimit=LABEL_LIMIT, **kw)


def by_rows(step: int = ROW_STEP, height: int | None = None) -> dict:
    """The size of a chart with one ``step`` of height per row (per sub-row for grouped bars),
    its title, axes and legend added on top (a "fit" height would squeeze the rows of a chart
    with a legend and few stages, and crowd those of a chart with many); a fixed ``height`` if
    given. Properties to build the chart with (``alt.layer(..., **by_rows())``)."""
    if height is not None:
        return {"height": height}
    return {"height": alt.Step(step), "autosize": alt.AutoSizeParams(type="fit-x", contains="padding")}


def plot_height(height: int) -> dict:
    """The size of a chart whose plot (not counting its title, axes and legend) is ``height``
    pixels high: for a chart whose legend grows with the data (segments, stages), which a "fit"
    height would take from the plot. Properties to build the chart with."""
    return {"height": height, "autosize": alt.AutoSizeParams(type="fit-x", contains="padding")}


def money_axis(title: str) -> alt.Axis:
    """Amounts with SI prefixes ("0.5M", "1M"; billions as "B"), and zero as "0": Vega gives
    every tick of an axis the same prefix, which would label zero "0M"."""
    return alt.Axis(title=title, format="~s",
                    labelExpr="datum.value == 0 ? '0' : replace(datum.label, 'G', 'B')")


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
