"""Funnel SLA Planner: the Streamlit entry point.

Page config and navigation only; each page lives in app_pages/ (not pages/: a top-level
pages/ folder switches Streamlit into its legacy multipage mode). The simulation is in sim/.
"""

import streamlit as st

st.set_page_config(page_title="Funnel SLA Planner", layout="wide")

pg = st.navigation([
    st.Page("app_pages/overview.py", title="Overview", default=True),
])
pg.run()
