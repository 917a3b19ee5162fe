"""Altair charts (no Streamlit here), by family around one fan-chart helper (:mod:`.fan`):
one forecast (:mod:`.forecast`), scenarios side by side (:mod:`.side_by_side`), a plan against
the actuals (:mod:`.plan_vs_actual`), the actuals by segment (:mod:`.segments`) and a check-in (:mod:`.checkin`); colours and axes in
:mod:`.style`.

Every function returns an ``alt.Chart`` (or layer) sized by its container ("container"
width), so the same chart serves the app, a phone screen and the one-page report.

A chart of several layers is made by one ``alt.layer(...)`` call that also gives its size and
title, the data its layers share passed once, to the layer chart: Altair copies every layer
each time a layer chart is made (each ``+``, each ``.properties``) and converts a table once per
layer that names it, which was about half of a chart's build (the fan chart: 52 → 21 ms). The
helpers of shared layers (:mod:`.fan`) give layers, not layer charts.
"""

from .checkin import checkin_fan, checkin_position, rate_updates
from .forecast import fan_chart, funnel, revenue_histogram, stage_volumes, tornado
from .plan_vs_actual import plan_vs_actual_fan, stage_vs_plan, variance_heatmap
from .segments import segment_bars
from .side_by_side import side_by_side_distributions, side_by_side_p_goal

__all__ = ["checkin_fan", "checkin_position", "fan_chart", "funnel", "plan_vs_actual_fan", "rate_updates",
           "revenue_histogram", "segment_bars", "side_by_side_distributions", "side_by_side_p_goal", "stage_volumes",
           "stage_vs_plan", "tornado", "variance_heatmap"]
