"""A Streamlit client that speaks the server's protocol directly, as an attacker's script does.

No browser: an HTTP request for the XSRF cookie, then the WebSocket ``/_stcore/stream`` with
the sub-protocol ``streamlit, <xsrf token>, <session id to resume>``, BackMsg protobufs out
(``rerun_script``, ``clear_cache``) and ForwardMsg protobufs in (the new session's id, the
elements a script run draws). Used by the hostile-server tests (tests/slow/test_hostile_server.py).
"""

from __future__ import annotations

import time
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

XSRF_COOKIE = "_streamlit_xsrf"
PROBABILITY = "Chance of hitting the goal"


def xsrf_cookie(server_url: str) -> str:
    """A fresh browser's XSRF cookie, as Streamlit sets it on the first page request."""
    with urllib.request.urlopen(server_url + "/_stcore/health", timeout=30) as response:
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            if XSRF_COOKIE in cookie:
                return cookie[XSRF_COOKIE].value
    raise RuntimeError("the server set no XSRF cookie")


@dataclass
class Run:
    """What one script run sent: every element (``Element`` protos, in order) and whether it
    finished."""

    elements: list = field(default_factory=list)
    finished: bool = False

    def of(self, kind: str) -> list:
        return [e for e in self.elements if e.WhichOneof("type") == kind]

    def texts(self) -> list[str]:
        """The text of every markdown, alert, heading and caption element."""
        out = []
        for e in self.elements:
            kind = e.WhichOneof("type")
            if kind in ("markdown", "alert", "heading"):
                out.append(getattr(e, kind).body)
        return out


class WireClient:
    """One WebSocket connection to a Streamlit server: a new session, or ``resume`` one by id.
    ``cookie``: the XSRF cookie to present (default: a fresh one, i.e. another browser)."""

    def __init__(self, server_url: str, *, resume: str | None = None, cookie: str | None = None):
        self.url = server_url
        self.cookie = cookie or xsrf_cookie(server_url)
        ws_url = server_url.replace("http://", "ws://") + "/_stcore/stream"
        protocols = ["streamlit", self.cookie] + ([resume] if resume else [])
        self._connection = connect(ws_url, subprotocols=protocols, max_size=None, open_timeout=30,
                                   additional_headers={"Cookie": f"{XSRF_COOKIE}={self.cookie}",
                                                       "Origin": server_url})
        self.ws = self._connection.__enter__()
        self.session_id: str | None = None

    def send(self, msg: BackMsg) -> None:
        self.ws.send(msg.SerializeToString())

    def rerun(self, page: str = "", query_string: str = "", timeout: float = 120.0) -> Run:
        """Ask for a script run of ``page`` (its URL path, "" for the default page) and collect
        what it sends until it finishes."""
        msg = BackMsg()
        msg.rerun_script.query_string = query_string
        msg.rerun_script.page_name = page
        self.send(msg)
        return self.collect(timeout)

    def clear_cache(self) -> None:
        msg = BackMsg()
        msg.clear_cache = True
        self.send(msg)

    def collect(self, timeout: float = 120.0) -> Run:
        run = Run()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data = self.ws.recv(timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                self.session_id = fwd.new_session.initialize.session_id
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                run.elements.append(fwd.delta.new_element)
            elif kind == "script_finished":
                run.finished = True
                if fwd.script_finished in (ForwardMsg.FINISHED_SUCCESSFULLY,
                                           ForwardMsg.FINISHED_EARLY_FOR_RERUN,
                                           ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY):
                    break
        return run

    def close(self) -> None:
        self._connection.__exit__(None, None, None)

    def __enter__(self) -> WireClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_page(client: WireClient, token: str, out: dict, timeout: float = 300.0) -> None:
    """Ask for the Plan page with ``token``; record when the probability metric arrived and
    when the script run finished (seconds from the request)."""
    msg = BackMsg()
    msg.rerun_script.query_string = f"s={token}"
    msg.rerun_script.page_name = ""
    t0 = time.perf_counter()
    client.send(msg)
    deadline = t0 + timeout
    while time.perf_counter() < deadline:
        try:
            data = client.ws.recv(timeout=max(0.1, deadline - time.perf_counter()))
        except (TimeoutError, ConnectionClosed):
            break
        fwd = ForwardMsg()
        fwd.ParseFromString(data)
        kind = fwd.WhichOneof("type")
        if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
            element = fwd.delta.new_element
            if element.WhichOneof("type") == "metric" and PROBABILITY in element.metric.label:
                out.setdefault("numbers", time.perf_counter() - t0)
            if element.WhichOneof("type") == "exception":
                out["exception"] = element.exception.message
        elif kind == "script_finished" and fwd.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
            out["done"] = time.perf_counter() - t0
            return
