"""Session ids stay out of the server's log.

A Streamlit session id is enough to resume that session over the WebSocket (with its session
state), and Streamlit 1.67 logs them (``Session with id … is already connected``, ``Ignoring
reconnect to … session id …``), as do request logs of upload URLs
(``/_stcore/upload_file/<session>/<file>``). :func:`install` rewrites every log record's text
so that each id (a UUID) reads ``<id>``. The app does not rely on ids being secret (sign-ins
are tied to the browser, see ui.access), but a log should not hand them out.
"""

from __future__ import annotations

import logging
import re
import threading

UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_lock = threading.Lock()
_installed = False


def redact(text: str) -> str:
    """``text`` with every UUID replaced by ``<id>``."""
    return UUID.sub("<id>", text)


#: The app's own loggers (``funnel.access``, ``funnel.database``, ...) are below this one.
APP_LOGGER = "funnel"


def install() -> None:
    """Redact ids in every log record made from now on, by any logger, and write the app's own
    log lines as Streamlit writes its lines (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        from streamlit.logger import get_logger
        get_logger(APP_LOGGER)          # its handler and format, at the level Streamlit is set to
        make_record = logging.getLogRecordFactory()

        def redacting_record(*args, **kwargs):
            record = make_record(*args, **kwargs)
            try:
                text = record.getMessage()
            except Exception:  # noqa: BLE001 - a malformed record is logging's to report
                return record
            if UUID.search(text):
                record.msg, record.args = redact(text), None
            return record

        logging.setLogRecordFactory(redacting_record)
        _installed = True
