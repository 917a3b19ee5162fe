"""A share link too long for Streamlit is said so, not silently dropped.

Streamlit 1.67 ignores a query string over 524,288 characters (or 1,000 parameters): the page
opened the demo scenario without a word. :func:`install` wraps the sanitising Streamlit applies
to each run's query string so that such a query string becomes ``?s=<TOO_LONG>`` (short: the
long one is still dropped, as Streamlit means it to be), which the app's URL sync (ui.state)
reports like any other link it cannot open.
"""

from __future__ import annotations

import threading

TOO_LONG = "too-long-link"
_lock = threading.Lock()
_installed = False


def install(param: str) -> None:
    """From now on, an oversized query string reads as ``param=TOO_LONG`` (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        from streamlit.runtime import app_session
        from streamlit.runtime.state import query_params
        sanitize = query_params.sanitize_query_string

        def sanitize_or_mark(query_string: str) -> str:
            kept = sanitize(query_string)
            return kept if kept or not query_string else f"{param}={TOO_LONG}"

        # Both places Streamlit calls it: a session's run request, and the parsing of st.query_params.
        app_session.sanitize_query_string = sanitize_or_mark
        query_params.sanitize_query_string = sanitize_or_mark
        _installed = True
