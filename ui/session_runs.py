"""A simulation run belongs to the browser session that asked for it.

- **A newer input or a closed session cancels it.** Streamlit marks a script run that is to be
  replaced (a widget changed: with ``runner.fastReruns``, the default, the old run is told to
  stop and a new one starts at once) or ended (the browser went away): :func:`superseded` reads
  that mark, and the run's ``should_stop`` hook (checked by the engine before each chunk of
  trials and between the steps of a chunk, on any thread) stops the run there with
  ``RunCancelled``. The script is then handed
  back to Streamlit, which reruns it with the new input or ends it.
- **One simulation at a time per session.** :func:`owned` runs a computation under the
  session's own lock: the new run of a session waits until its previous run (just cancelled)
  has let go, so a session never has two simulations on the cores.
- **Sessions share the cores fairly.** That is the engine's pool (:mod:`sim.model.fair_pool`):
  the chunks of different runs are served in turn, least attained service first, so a heavy
  run cannot hold the workers while others wait behind all its chunks.

Outside a Streamlit session (tests, a download built on a thread of its own) a computation
runs as it is, without a hook.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import contextmanager

import streamlit as st
from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from sim.model.run_cancellation import RunCancelled

#: How often a run waiting for its session's previous run checks whether it is itself replaced.
_WAIT_POLL_SECONDS = 0.05

_log = logging.getLogger("funnel.runs")
_registry = threading.Lock()
_session_locks: dict[str, list] = {}        # session id -> [lock, number of runs using it]


def superseded(requests) -> bool:
    """Whether the script run that ``requests`` (its ``ScriptRequests``) belongs to is to end:
    a stop (closed session, or replaced under fast reruns) or a rerun that preempts the whole
    script (not a fragment's own rerun, which waits for the script). Read without consuming
    the request: Streamlit acts on it at its next yield point. Streamlit 1.67's private state,
    read defensively: an unknown shape never cancels anything."""
    state = getattr(requests, "_state", None)
    if state == ScriptRequestType.STOP:
        return True
    if state == ScriptRequestType.RERUN:
        data = getattr(requests, "_rerun_data", None)
        queue = getattr(data, "fragment_id_queue", None) or []
        return not (queue and not getattr(data, "is_fragment_scoped_rerun", False))
    return False


class stop_hook:  # noqa: N801 - used as a function: stop_hook(requests)()
    """The engine's ``should_stop`` for the script run that ``requests`` belongs to; logs the
    first time it stops the run (one line per stopped run)."""

    def __init__(self, requests):
        self.requests = requests
        self.fired = False

    def __call__(self) -> bool:
        if not superseded(self.requests):
            return False
        if not self.fired:
            self.fired = True
            _log.info("A simulation run was stopped: its session has a newer input or was closed.")
        return True


@contextmanager
def session_turn(session_id: str, should_stop: Callable[[], bool]):
    """Hold the session's run lock: wait (checking ``should_stop``) while another run of the
    same session still holds it."""
    with _registry:
        entry = _session_locks.setdefault(session_id, [threading.Lock(), 0])
        entry[1] += 1
    lock = entry[0]
    try:
        while not lock.acquire(timeout=_WAIT_POLL_SECONDS):
            if should_stop():
                raise RunCancelled("replaced by a newer input while waiting for the previous run")
        try:
            yield
        finally:
            lock.release()
    finally:
        with _registry:
            entry[1] -= 1
            if entry[1] == 0 and _session_locks.get(session_id) is entry:
                del _session_locks[session_id]


def owned(compute: Callable, *args):
    """``compute(*args, _should_stop=hook)`` as the current session's one run; a cancelled run
    hands the script back to Streamlit (rerun with the newer input, or end)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    requests = getattr(ctx, "script_requests", None)
    if ctx is None or requests is None:
        return compute(*args, _should_stop=None)
    hook = stop_hook(requests)
    try:
        with session_turn(ctx.session_id, hook):
            return compute(*args, _should_stop=hook)
    except RunCancelled:
        yield_check = getattr(ctx, "yield_check", None)
        if yield_check is not None:
            yield_check()          # raises Streamlit's rerun or stop for the pending request
        st.stop()
