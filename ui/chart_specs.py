"""Charts drawn once per scenario (or per plan and data), for every session that shows them.

Building an Altair chart and turning it into Vega-Lite costs tens of milliseconds of CPU per
chart, more than reading the forecast from the cache: ten people opening one link, or looking at
the same plan of record on the Actuals and Check-in pages, would pay it ten times (in
``bench_load.py`` the charts were half of the pages' own CPU). :func:`show` keeps each chart's
Vega-Lite spec (a plain dict, its data already as the Arrow bytes Streamlit sends: a session's
copy of the spec is then a copy of bytes, and Streamlit converts nothing for it) in a shared,
bounded cache under a key that says what determines it (the chart's name, the scenario's token,
its other inputs; for charts of stored data, the database file, its data version and the read's
arguments) and draws the cached spec with
``st.vega_lite_chart`` (the same element ``st.altair_chart`` makes). Every chart of the app is
drawn this way, including the history fit's (keyed by the fit's arguments: each widget change
of that page reran every chart, about 100 ms) and the side-by-side scenarios'.

The app turns charts into specs without Altair's schema validation (``to_dict(validate=False)``):
validation was about 40% of a chart's build (50 ms of the fan chart's 130 ms), paid on every new
scenario. For the same reason Altair's "debug mode" is off in the app: on by default, it checks each
schema object (an axis, a scale, a title) against the schema as it is made, about a quarter of a
chart's build. Every chart builder's spec is validated against the Vega-Lite schema by the unit
tests (tests/unit/test_charts_and_sla.py and the chart gallery), where a wrong spec is a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import streamlit as st
from altair.utils import schemapi
from streamlit import dataframe_util

schemapi.disable_debug_mode()


def show(name: str, key: Hashable, build: Callable) -> None:
    """Draw the chart ``build()`` (an Altair chart) full width; ``(name, key)`` must determine
    it completely (e.g. ``("fan", (token, 320))``): the spec is built once per key."""
    st.vega_lite_chart(spec=_spec(name, key, build), width="stretch")


@st.cache_data(max_entries=256, show_spinner=False)
def _spec(name: str, key: Hashable, _build: Callable) -> dict:
    spec = _build().to_dict(validate=False)
    # The data as Streamlit sends it to the browser (Arrow IPC bytes, made by Streamlit's own
    # conversion), once: given bytes, st.vega_lite_chart passes them on as they are, and a
    # session's copy of the cached spec is a copy of bytes, not of thousands of small dicts.
    for name_, values in spec.get("datasets", {}).items():
        spec["datasets"][name_] = dataframe_util.convert_anything_to_arrow_bytes(values)
    return spec
