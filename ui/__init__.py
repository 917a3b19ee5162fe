"""Streamlit glue shared by the pages: the scenario in the session and the URL, cached runs.

Pages in app_pages/ stay thin; the simulation itself is in sim/ (which never imports
Streamlit).
"""
