"""The web server's main loop wakes once a second, not ten times (ui.server_tick), does uvicorn's
once-a-second work at every wake-up, and still stops when asked."""

from __future__ import annotations

import asyncio
import sys
import threading

import pytest
import uvicorn

from ui import serve, server_tick


@pytest.fixture
def uvicorn_restored(monkeypatch):
    """Whatever a test installs, uvicorn's own main loop is back afterwards."""
    monkeypatch.setattr(uvicorn.Server, "main_loop", uvicorn.Server.main_loop)


def run_in_a_thread_of_its_own(coroutine):
    """``asyncio.run(coroutine)`` on a new thread: the test process's main thread may already
    run an event loop (Playwright's, when the browser tests ran before)."""
    out = {}

    def run():
        try:
            out["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            out["error"] = exc
    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the loop did not end"
    if "error" in out:
        raise out["error"]
    return out["value"]


class RecordingServer:
    """What ``main_loop`` asks of a uvicorn server: ``on_tick(counter)`` -> whether to stop."""

    def __init__(self, ticks_before_exit: int):
        self.counters: list[int] = []
        self.ticks_before_exit = ticks_before_exit

    async def on_tick(self, counter: int) -> bool:
        self.counters.append(counter)
        return len(self.counters) > self.ticks_before_exit


def test_the_loop_sleeps_a_second_between_ticks_and_each_tick_is_a_once_a_second_one(monkeypatch):
    slept = []
    real_sleep = asyncio.sleep

    async def recorded_sleep(seconds, *args, **kwargs):
        slept.append(seconds)
        await real_sleep(0)
    monkeypatch.setattr(asyncio, "sleep", recorded_sleep)
    server = RecordingServer(ticks_before_exit=4)
    run_in_a_thread_of_its_own(server_tick.main_loop(server))
    assert slept == [server_tick.TICK_SECONDS] * 4 and server_tick.TICK_SECONDS == 1.0
    # uvicorn refreshes its Date header (and its notify callback) when counter % 10 == 0.
    assert server.counters == [0, 10, 20, 30, 40]


def test_the_counter_wraps_as_uvicorn_s_does(monkeypatch):
    async def no_sleep(seconds, *args, **kwargs):
        return None
    monkeypatch.setattr(asyncio, "sleep", no_sleep)
    server = RecordingServer(ticks_before_exit=86_401)
    run_in_a_thread_of_its_own(server_tick.main_loop(server))
    assert max(server.counters) < 864_000 and server.counters[-1] == 10
    assert all(c % 10 == 0 for c in server.counters)


async def hello(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain"), (b"content-length", b"5")]})
    await send({"type": "http.response.body", "body": b"hello"})


def test_a_real_uvicorn_server_ticks_once_a_second_answers_and_stops_when_asked(uvicorn_restored):
    assert server_tick.install() and not server_tick.install()       # installed once
    ticks = []

    async def run():
        server = uvicorn.Server(uvicorn.Config(hello, host="127.0.0.1", port=0, lifespan="off", log_level="error"))
        original = server.on_tick

        async def counted(counter):
            ticks.append(counter)
            return await original(counter)
        server.on_tick = counted
        task = asyncio.create_task(server.serve())
        for _ in range(1000):                 # a deadlock guard, not a timing
            if server.started:
                break
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = await reader.read()
        writer.close()
        await asyncio.sleep(1.5)
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)
        return answer

    answer = run_in_a_thread_of_its_own(run())
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"hello") and b"date:" in answer.lower()
    # uvicorn's own tick would have woken about fifteen times in 1.5 s; a tick never comes
    # before its second is over (a slow machine only makes fewer).
    assert 1 <= len(ticks) <= 4 and all(c % 10 == 0 for c in ticks)


@pytest.fixture
def other_guards_stubbed(monkeypatch):
    """``ui.serve.main`` with its other guards not installed (they change the test process)."""
    for module in ("malloc_arenas", "idle_memory_release", "thread_dumps", "uploads", "server_log"):
        monkeypatch.setattr(getattr(serve, module), "install", lambda: None)
    monkeypatch.setattr(serve.state, "install_guards", lambda: None)


def test_python_m_ui_serve_installs_it_before_the_server_starts(uvicorn_restored, other_guards_stubbed, monkeypatch):
    from streamlit.web import cli
    seen = []
    monkeypatch.setattr(cli, "main", lambda: seen.append(uvicorn.Server.main_loop is server_tick.main_loop) or 0)
    monkeypatch.setattr("sys.argv", ["serve"])
    assert serve.main([]) == 0 and seen == [True]


def test_ui_serve_runs_the_app_or_the_page_it_is_given(uvicorn_restored, other_guards_stubbed, monkeypatch):
    """The benchmarks' reference pages are served as the app is: the same guards, another path."""
    from streamlit.web import cli
    argvs = []
    monkeypatch.setattr(cli, "main", lambda: argvs.append(list(sys.argv)) or 0)
    monkeypatch.setattr("sys.argv", ["serve"])
    assert serve.main(["--server.port", "8600"]) == 0
    assert serve.main([], app="benchmarks/one_line_app.py") == 0
    assert argvs == [["streamlit", "run", str(serve.APP), "--server.port", "8600"],
                     ["streamlit", "run", "benchmarks/one_line_app.py"]]
    assert serve.APP.name == "app.py" and serve.APP.is_file()
