"""A run belongs to its session, on the real server (issue 10): two visitors opening the demo
while a heavy link runs are served before it ends; a closed session or a newer input stops its
run. Clients speak Streamlit's protocol (tests/streamlit_wire.py). Order and log lines only,
never wall-clock budgets (those are benchmarks/bench_fair_share.py's)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from tests.browser.server import StreamlitServer
from tests.conftest import heaviest_link_within_budget
from tests.streamlit_wire import PROBABILITY, WireClient, open_page

STOPPED = "A simulation run was stopped"


@pytest.fixture
def server(tmp_path):
    with StreamlitServer(log_path=tmp_path / "server.log", serve=True,
                         env={"FUNNEL_DB": str(tmp_path / "funnel.duckdb"), "FUNNEL_DEMO_DATA": None}) as srv:
        with WireClient(srv.url) as warm:     # the app's imports done: runs start at once
            assert warm.rerun().finished
        yield srv


def stopped_runs(srv) -> int:
    return srv.log_path.read_text(encoding="utf-8", errors="replace").count(STOPPED)


def wait_for(condition, what, limit=120.0):
    end = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < end, f"gave up waiting: {what}"
        time.sleep(0.05)


def first_answer(client, limit=120.0):
    """Read the session's messages until the probability metric (its first answer) arrives."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    end = time.monotonic() + limit
    while time.monotonic() < end:
        fwd = ForwardMsg()
        fwd.ParseFromString(client.ws.recv(timeout=max(0.1, end - time.monotonic())))
        if (fwd.WhichOneof("type") == "delta" and fwd.delta.WhichOneof("type") == "new_element"
                and fwd.delta.new_element.WhichOneof("type") == "metric"
                and PROBABILITY in fwd.delta.new_element.metric.label):
            return
    raise AssertionError("no first answer")


def start_heavy(srv, seed):
    client = WireClient(srv.url)
    out: dict = {}
    thread = threading.Thread(target=open_page, args=(client, heaviest_link_within_budget(seed), out), daemon=True)
    thread.start()
    return client, out, thread


def test_two_sessions_are_served_while_a_heavy_link_runs_and_closing_it_stops_its_run(server, demo):
    heavy, heavy_out, heavy_thread = start_heavy(server, seed=1)
    # Its first answer shown, the heavy session's whole run (about 14 s of both cores) is going.
    wait_for(lambda: "numbers" in heavy_out, "the heavy link's first answer")
    time.sleep(0.5)
    results = [{}, {}]
    clients = [WireClient(server.url) for _ in results]
    threads = [threading.Thread(target=open_page, args=(c, replace(demo, seed=50 + i).to_url_token(), r))
               for i, (c, r) in enumerate(zip(clients, results))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    for c in clients:
        c.close()
    for r in results:
        assert "numbers" in r and "done" in r and "exception" not in r
    # A first-in-first-out pool served them only after the heavy run's last chunk.
    assert "done" not in heavy_out
    before = stopped_runs(server)
    heavy.close()                            # the visitor closes the tab
    heavy_thread.join(30)
    wait_for(lambda: stopped_runs(server) > before, "the closed session's run stopped")
    assert "done" not in heavy_out


def test_a_newer_input_stops_the_sessions_run_and_serves_the_new_one(server, demo):
    from streamlit.proto.BackMsg_pb2 import BackMsg
    with WireClient(server.url) as client:
        msg = BackMsg()
        msg.rerun_script.query_string = f"s={heaviest_link_within_budget(2)}"
        client.send(msg)                      # the heavy link, not waited for
        first_answer(client)                  # then its whole run (about 14 s of both cores) goes on
        time.sleep(0.5)
        before = stopped_runs(server)
        newer: dict = {}
        # The same session asks for another scenario (what a widget change or a new link does).
        open_page(client, replace(demo, seed=77).to_url_token(), newer)
    assert "numbers" in newer and "done" in newer and "exception" not in newer
    assert stopped_runs(server) > before
