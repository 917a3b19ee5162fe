"""The Plan page sends the new probability before its inputs, on the real server: a moved input
applies itself in its callback (ui.scenario_callbacks), so the page draws the headline of the
edited scenario first, and the browser shows it before it has handled the fifty-odd input
elements. Clients speak Streamlit's protocol (tests/streamlit_wire.py); order only, never time."""

from __future__ import annotations

from dataclasses import replace

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg

from sim import load_scenario, simulate
from tests.browser.server import StreamlitServer
from tests.streamlit_wire import PROBABILITY, WireClient

from ..conftest import DEMO_PATH

INPUTS = ("number_input", "text_input", "slider", "radio", "selectbox", "button_group")


@pytest.fixture
def client(tmp_path):
    with StreamlitServer(log_path=tmp_path / "server.log", serve=True,
                         env={"FUNNEL_DB": str(tmp_path / "funnel.duckdb"), "FUNNEL_DEMO_DATA": None}) as srv:
        with WireClient(srv.url) as client:
            yield client


def probabilities(run) -> list[tuple[int, str]]:
    """(position among the run's elements, value) of each probability metric the run sent."""
    return [(i, e.metric.body) for i, e in enumerate(run.elements)
            if e.WhichOneof("type") == "metric" and PROBABILITY in e.metric.label]


def first_input(run) -> int:
    return next(i for i, e in enumerate(run.elements) if e.WhichOneof("type") in INPUTS)


def change(client: WireClient, widget_id: str, value: float):
    msg = BackMsg()
    state = msg.rerun_script.widget_states.widgets.add()
    state.id = widget_id
    state.double_value = value
    client.send(msg)
    run = client.collect()
    assert run.finished and not run.of("exception")
    return run


def test_a_moved_input_brings_the_new_probability_before_any_input(client):
    demo = load_scenario(DEMO_PATH)
    opened = client.rerun()
    assert probabilities(opened)[0][0] < first_input(opened)
    (goal,) = [e.number_input for e in opened.of("number_input") if e.number_input.label == "Revenue goal"]

    # A goal no simulated year reaches: the first probability of the run is already the new one.
    run = change(client, goal.id, 100 * demo.goal)
    shown = probabilities(run)
    assert shown[0][0] < first_input(run), "the headline is drawn before the inputs"
    assert shown[0][1] == "0.0%" != f"{simulate(demo).p_goal:.1%}"
    assert shown[-1][1] == f"{simulate(replace(demo, goal=100 * demo.goal)).p_goal:.1%}"

    # Back to a reachable goal: the first answer (first trials), then the whole run's.
    lower = 0.9 * demo.goal
    run = change(client, goal.id, lower)
    shown = probabilities(run)
    assert shown[0][0] < first_input(run)
    assert shown[0][1] != "0.0%"
    assert shown[-1][1] == f"{simulate(replace(demo, goal=lower)).p_goal:.1%}"
