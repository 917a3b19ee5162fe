"""A run belongs to its session (ui.session_runs): Streamlit's requests read as the engine's
stop hook, one run at a time per session. Behaviour only, never timing."""

from __future__ import annotations

import threading

import pytest
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests

from sim.model.run_cancellation import RunCancelled
from ui import session_runs


def test_a_run_is_superseded_by_a_newer_input_or_a_closed_session():
    requests = ScriptRequests()
    assert not session_runs.superseded(requests)          # running, nothing asked
    requests.request_rerun(RerunData(query_string="s=new"))
    assert session_runs.superseded(requests)               # a newer input (without fast reruns)
    closed = ScriptRequests()
    closed.request_stop()                                  # a closed session, or fast reruns
    assert session_runs.superseded(closed)


def test_a_fragments_own_rerun_does_not_cancel_the_script_run():
    requests = ScriptRequests()
    requests.request_rerun(RerunData(fragment_id="f1"))
    assert not session_runs.superseded(requests)
    scoped = ScriptRequests()
    scoped.request_rerun(RerunData(fragment_id="f1", is_fragment_scoped_rerun=True))
    assert session_runs.superseded(scoped)


def test_an_unknown_shape_never_cancels():
    assert not session_runs.superseded(object())


def test_the_hook_stops_the_engine(demo):
    from sim import simulate
    requests = ScriptRequests()
    requests.request_stop()
    with pytest.raises(RunCancelled):
        simulate(demo, trials=3 * 4096, should_stop=session_runs.stop_hook(requests))


def test_one_run_at_a_time_per_session_and_sessions_do_not_wait_for_each_other():
    first_in, release = threading.Event(), threading.Event()
    order = []

    def first():
        with session_runs.session_turn("A", lambda: False):
            first_in.set()
            release.wait(30)
            order.append("A1 done")

    thread = threading.Thread(target=first, daemon=True)
    thread.start()
    first_in.wait(30)
    with session_runs.session_turn("B", lambda: False):    # another session: not blocked
        order.append("B ran")
    second_started = threading.Event()

    def second():
        with session_runs.session_turn("A", lambda: False):
            second_started.set()
            order.append("A2 ran")

    other = threading.Thread(target=second, daemon=True)
    other.start()
    assert not second_started.wait(0.3)                    # A's second run waits for the first
    release.set()
    thread.join(30)
    other.join(30)
    assert order == ["B ran", "A1 done", "A2 ran"]
    assert session_runs._session_locks == {}               # nothing kept once the runs are done


def test_a_run_replaced_while_waiting_for_its_turn_is_cancelled():
    held, release = threading.Event(), threading.Event()

    def holder():
        with session_runs.session_turn("S", lambda: False):
            held.set()
            release.wait(30)

    thread = threading.Thread(target=holder, daemon=True)
    thread.start()
    held.wait(30)
    with pytest.raises(RunCancelled), session_runs.session_turn("S", lambda: True):
        pass
    release.set()
    thread.join(30)


def test_outside_a_session_a_computation_runs_as_it_is():
    assert session_runs.owned(lambda x, _should_stop: (x, _should_stop), 3) == (3, None)
