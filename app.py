"""Funnel SLA Planner: the Streamlit entry point.

Page config, navigation and the shared scenario (session + URL); each page lives in
app_pages/ (not pages/: a top-level pages/ folder switches Streamlit into its legacy
multipage mode). The simulation is in sim/.
"""

import streamlit as st

from sim.present.markdown import escape_markdown
from ui import access, idle_memory_release, malloc_arenas, server_log, settings_polling, state, thread_dumps, uploads, widget_guard

malloc_arenas.install()          # two malloc arenas (idem; once per process)
idle_memory_release.install()    # freed memory given back when the server is idle (idem)
thread_dumps.install()           # kill -USR1 <pid>: every thread's stack into the log (idem)
server_log.install()             # no session ids in the log (python -m ui.serve does it at start)
settings_polling.install()       # settings files looked at every 5 s, not 0.2 s (idem)
state.install_guards()           # a link too long for Streamlit is said so (idem)
st.set_page_config(page_title="Funnel SLA Planner", page_icon=":material/query_stats:", layout="wide")

uploads.allow_uploads(access.current_role() is not None)     # no upload before a sign-in
role = access.gate()             # stops here until signed in, when access is restricted
state.sync_from_url()
state.write_url()
pg = st.navigation([
    st.Page("app_pages/plan.py", title="Plan", icon=":material/tune:", default=True),
    st.Page("app_pages/forecast.py", title="Forecast", icon=":material/insights:"),
    st.Page("app_pages/summary.py", title="Summary", icon=":material/summarize:"),
    st.Page("app_pages/scenarios.py", title="Scenarios", icon=":material/compare:"),
    st.Page("app_pages/actuals.py", title="Actuals", icon=":material/fact_check:"),
    st.Page("app_pages/history.py", title="From history", icon=":material/history:"),
    st.Page("app_pages/checkin.py", title="Check-in", icon=":material/event_available:"),
], position="top")
access.account_bar(role)
notice = state.pop_notice()
if notice:
    st.warning(escape_markdown(notice), icon=":material/link_off:")   # it quotes the link's text
widget_guard.run_page(pg)      # a forged widget value: refused quietly, not a traceback
