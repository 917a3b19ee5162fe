"""A Streamlit page that draws every chart of the app (tests/chart_gallery.py) for
``?stages=N&long=1``, each in a container keyed ``chart-<name>`` for its screenshot."""

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.chart_gallery import gallery_charts  # noqa: E402

st.set_page_config(layout="wide")
stages = int(st.query_params.get("stages", "2"))
long = st.query_params.get("long", "1") == "1"
left, right = st.columns([5, 7])        # the Plan page's proportions: the funnel sits at the right
for name, chart in gallery_charts(stages, long).items():
    with (right if name == "plan-funnel" else st.container()):
        with st.container(key=f"chart-{name}"):
            st.altair_chart(chart, width="stretch")
