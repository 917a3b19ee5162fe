"""A widget value the page never offered is refused quietly.

A browser sends back only values its widgets offer; a client speaking the WebSocket protocol
directly can send anything for a widget's id (a select slider at position 99, text where a
number belongs). Streamlit 1.67 then raises while registering that widget, and the script run
ends with a traceback in the server's log. :func:`run_page` runs the page and turns exactly
that failure (an exception raised inside Streamlit's widget registration) into one log line
and a short message; every other exception is left alone.
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

_STATE_DIR = Path(st.__file__).resolve().parent / "runtime" / "state"
_log = logging.getLogger("funnel.widgets")


def from_widget_registration(exc: BaseException) -> bool:
    """Whether ``exc`` was raised while Streamlit registered a widget from the client's state."""
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name == "register_widget" and Path(code.co_filename).resolve().parent == _STATE_DIR:
            return True
        tb = tb.tb_next
    return False


def run_page(page) -> None:
    """``page.run()``; a forged widget value stops the page with a message instead of a traceback."""
    try:
        page.run()
    except Exception as exc:
        if not from_widget_registration(exc):
            raise
        _log.warning("a widget value the page does not offer was refused (%s)", type(exc).__name__)
        st.warning("This request held a value the page does not offer, so it was not used. Reload the page.",
                   icon=":material/block:")
        st.stop()
