"""The smallest Streamlit page, for ``bench_load.py``: what one more viewer costs the server
whatever the app does (a session, its WebSocket, one script run, one element)."""

import streamlit as st

st.write("Chance of hitting the goal")
