"""Session ids stay out of the server's log (ui.server_log): a session id is enough to resume
the session over the WebSocket (finding 4), and Streamlit logs them."""

from __future__ import annotations

import logging
import uuid

from ui import server_log


def test_ids_in_any_log_record_are_redacted():
    server_log.install()
    server_log.install()                      # once is enough; twice changes nothing
    session = str(uuid.uuid4())
    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(self.format(record))

    logger = logging.getLogger("streamlit.runtime.websocket_session_manager.test")
    logger.propagate = False
    logger.addHandler(Keep())
    logger.warning("Session with id %s is already connected! Reconnecting to existing session.", session)
    logger.warning("PUT /_stcore/upload_file/%s/%s 204", session.upper(), uuid.uuid4())
    logger.warning("nothing to hide %d", 42)
    assert seen == ["Session with id <id> is already connected! Reconnecting to existing session.",
                    "PUT /_stcore/upload_file/<id>/<id> 204", "nothing to hide 42"]
