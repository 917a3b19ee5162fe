"""Server-side timing of the Plan page's reruns, for ``bench_browser.py`` (never loaded by the app).

``bench_browser.py`` starts the server with this folder on ``PYTHONPATH`` and
``BENCH_RERUN_TIMING`` naming a file; Python then imports this module at start-up. It wraps
four of Streamlit's internals (1.67) and writes one JSON line per rerun request that reaches
the probability metric: wall-clock times (ms since the epoch: the browser's clock on the same
machine) of the request's arrival, the script run's start, the metric handed to the session
and the metric's message written to the WebSocket. The benchmark matches them to the changes
it makes, and so splits its "server" figure into the server's part and the browser's.

Without the variable nothing is imported or changed. If Streamlit's internals have moved, it
says so on stderr and changes nothing.
"""

import os

if os.environ.get("BENCH_RERUN_TIMING"):
    import json
    import sys
    import time

    def _install(path: str) -> None:
        from streamlit.runtime import app_session
        from streamlit.runtime.scriptrunner import script_runner
        from streamlit.runtime.scriptrunner_utils import script_run_context
        from streamlit.web.server.starlette import starlette_websocket

        out = open(path, "a", buffering=1)
        run = {}                                # the rerun being timed (one session: the benchmark's)

        def now() -> float:
            return time.time() * 1000.0

        def is_metric(msg) -> bool:
            return (msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof("type") == "new_element"
                    and msg.delta.new_element.WhichOneof("type") == "metric")

        handle_backmsg = app_session.AppSession.handle_backmsg

        def timed_backmsg(self, msg):
            if msg.WhichOneof("type") == "rerun_script":
                run.clear()
                run["request"] = now()
            return handle_backmsg(self, msg)

        run_script = script_runner.ScriptRunner._run_script

        def timed_run(self, rerun_data):
            if "request" in run and "start" not in run:
                run["start"] = now()
            return run_script(self, rerun_data)

        enqueue = script_run_context.ScriptRunContext.enqueue

        def timed_enqueue(self, msg):
            if "start" in run and "metric" not in run and is_metric(msg):
                run["metric"] = now()
            return enqueue(self, msg)

        async def timed_sender(self):
            # StarletteSessionClient._sender, plus the time the metric's message was written.
            from starlette.websockets import WebSocketDisconnect
            try:
                while True:
                    payload = await self._send_queue.get()
                    await self._websocket.send_bytes(payload)
                    if "metric" in run and "sent" not in run and b"Chance of hitting the goal" in payload:
                        run["sent"] = now()
                        out.write(json.dumps(run) + "\n")
            except WebSocketDisconnect:
                pass
            except Exception:  # noqa: BLE001 - as Streamlit's own sender: logged, the socket closed
                starlette_websocket._LOGGER.exception("Error sending websocket payload")
            finally:
                self._closed.set()

        client = starlette_websocket.StarletteSessionClient
        for owner, name in ((app_session.AppSession, "handle_backmsg"), (script_runner.ScriptRunner, "_run_script"),
                            (script_run_context.ScriptRunContext, "enqueue"), (client, "_sender")):
            if not callable(getattr(owner, name, None)):
                raise AttributeError(f"{owner.__name__}.{name}")
        app_session.AppSession.handle_backmsg = timed_backmsg
        script_runner.ScriptRunner._run_script = timed_run
        script_run_context.ScriptRunContext.enqueue = timed_enqueue
        client._sender = timed_sender

    try:
        _install(os.environ["BENCH_RERUN_TIMING"])
    except Exception as exc:  # noqa: BLE001 - a benchmark's diagnostic: never stop the server
        print(f"rerun timing not installed ({type(exc).__name__}: {exc})", file=sys.stderr)
