"""Server-side timing of the Plan page's reruns, for ``bench_browser.py`` (never loaded by the app).

``bench_browser.py`` starts the server with this folder on ``PYTHONPATH`` and
``BENCH_RERUN_TIMING`` naming a file; Python then imports this module at start-up. It wraps
two of Streamlit's methods (1.67) and writes one JSON line per rerun request that reaches a
metric: the wall-clock times (ms since the epoch: the browser's clock on the same machine) of
the request's arrival and of the first metric's message handed to the WebSocket (its send
queue, drained at once by the event loop). The benchmark matches them to the changes it makes,
and so splits its "server" figure into the server's part and the browser's.

Without the variable nothing is imported or changed. If Streamlit's methods have moved, it
says so on stderr and changes nothing.
"""

import os

if os.environ.get("BENCH_RERUN_TIMING"):
    import json
    import sys
    import time

    def _install(path: str) -> None:
        from streamlit.runtime import app_session
        from streamlit.web.server.starlette import starlette_websocket

        session, client = app_session.AppSession, starlette_websocket.StarletteSessionClient
        handle_backmsg, write_forward_msg = session.handle_backmsg, client.write_forward_msg
        out = open(path, "a", buffering=1)
        run = {}                                # the rerun being timed (one session: the benchmark's)

        def timed_backmsg(self, msg):
            if msg.WhichOneof("type") == "rerun_script":
                run.clear()
                run["request"] = time.time() * 1000.0
            return handle_backmsg(self, msg)

        def timed_write(self, msg):
            write_forward_msg(self, msg)
            if ("request" in run and "sent" not in run and msg.WhichOneof("type") == "delta"
                    and msg.delta.WhichOneof("type") == "new_element"
                    and msg.delta.new_element.WhichOneof("type") == "metric"):
                run["sent"] = time.time() * 1000.0
                out.write(json.dumps(run) + "\n")

        session.handle_backmsg = timed_backmsg
        client.write_forward_msg = timed_write

    try:
        _install(os.environ["BENCH_RERUN_TIMING"])
    except Exception as exc:  # noqa: BLE001 - a benchmark's diagnostic: never stop the server
        print(f"rerun timing not installed ({type(exc).__name__}: {exc})", file=sys.stderr)
