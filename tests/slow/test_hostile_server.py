"""The app's real server against clients that speak Streamlit's protocol directly (no browser:
tests/streamlit_wire.py), as the security test of issue 15 did: clearing every cache without a
log-in, uploading before a log-in, resuming someone else's session, guessing passwords, forging
widget values, a 1 MB link; and the command line working on the database while the app serves.

Each finding is checked where it bit: the server stays up and keeps serving, the write is
refused, the request is not made. Servers run on temporary databases; the password servers read
a secrets file of the test's (``--secrets.files``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg

from sim.data.demo_data import DEMO_PLAN_NAME
from tests.browser.server import StreamlitServer
from tests.streamlit_wire import Run, WireClient
from ui.login_limits import FREE_FAILURES
from ui.uploads import MAX_FILES_PER_SESSION, SWEEP_SECONDS

from ..conftest import ROOT

VIEWER_PASSWORD, EDITOR_PASSWORD = "view-the-plan", "edit-the-plan-3x!"
GENERIC_ERROR = "This app has encountered an error"


@pytest.fixture
def server_factory(tmp_path):
    """``start(name, serve=..., passwords=...)``: a server on a database of its own (demo
    data), its spool folder for uploads under ``tmp_path/<name>/tmp``; stopped afterwards."""
    started = []

    def start(name: str, *, serve: bool = True, passwords: bool = False) -> StreamlitServer:
        folder = tmp_path / name
        (folder / "tmp").mkdir(parents=True)
        options = []
        if passwords:
            secrets = folder / "secrets.toml"
            secrets.write_text(f'[access]\npassword = "{VIEWER_PASSWORD}"\neditor_password = "{EDITOR_PASSWORD}"\n',
                               encoding="utf-8")
            options = ["--secrets.files", str(secrets)]
        srv = StreamlitServer(log_path=folder / "server.log", serve=serve, options=options,
                              env={"FUNNEL_DB": str(folder / "funnel.duckdb"), "FUNNEL_DEMO_DATA": None,
                                   "TMPDIR": str(folder / "tmp")}).start()
        started.append(srv)
        return srv
    yield start
    for srv in started:
        srv.stop()


def problems(run: Run) -> list[str]:
    """Exceptions and error messages a run showed."""
    return ([e.exception.message for e in run.of("exception")]
            + [e.alert.body for e in run.of("alert") if e.alert.format == e.alert.ERROR])


def sign_in(client: WireClient, password: str) -> Run:
    """Type ``password`` into the log-in form and submit it, as the browser sends it."""
    form = client.rerun()
    (box,) = [e.text_input for e in form.of("text_input")]
    (enter,) = [e.button for e in form.of("button")]
    assert box.label == "Password" and enter.is_form_submitter
    msg = BackMsg()
    typed = msg.rerun_script.widget_states.widgets.add()
    typed.id, typed.string_value = box.id, password
    submit = msg.rerun_script.widget_states.widgets.add()
    submit.id, submit.trigger_value = enter.id, True
    client.send(msg)
    return client.collect()


def upload(server: StreamlitServer, session_id: str, cookie: str, size: int = 1000) -> int:
    """PUT one file to a session's upload URL with the client's own XSRF cookie and header
    (a self-made pair passes Streamlit's check); the HTTP status."""
    body = (b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\n'
            + b"x" * size + b"\r\n--B--\r\n")
    request = urllib.request.Request(f"{server.url}/_stcore/upload_file/{session_id}/{uuid.uuid4()}", data=body,
                                     method="PUT", headers={"Content-Type": "multipart/form-data; boundary=B",
                                                            "X-Xsrftoken": cookie,
                                                            "Cookie": f"_streamlit_xsrf={cookie}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def spooled(server_dir: Path) -> list[Path]:
    """The upload files the server holds on disk."""
    return [f for d in (server_dir / "tmp").glob("funnel-uploads-*") for f in d.iterdir()]


def alive(server: StreamlitServer) -> bool:
    with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=10) as response:
        return server.proc.poll() is None and response.read().strip() == b"ok"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def history_size(run: Run) -> int:
    caption = next(t for t in run.texts() if " imports · " in t or " import · " in t)
    return int(caption.split()[0])


# ------------------------------------------------------------------------------------------
# Findings 2 and 11: the store's lifecycle
# ------------------------------------------------------------------------------------------

def test_any_client_clearing_the_caches_breaks_nothing(server_factory):
    """Finding 2: ``clear_cache`` over the WebSocket, with no log-in, emptied
    ``st.cache_resource``; the store was opened again and failed ("the configuration has been
    locked"): Actuals and Check-in broke for everyone until a restart. (A plain ``streamlit run
    app.py``, as on Community Cloud.)"""
    srv = server_factory("clear-cache", serve=False)
    with WireClient(srv.url) as visitor, WireClient(srv.url) as user:
        user.rerun()
        assert not problems(user.rerun("actuals"))
        visitor.rerun()
        for _ in range(3):
            visitor.clear_cache()
            time.sleep(0.5)
            for page in ("actuals", "checkin"):
                run = user.rerun(page)
                assert run.finished and not problems(run), (page, problems(run))
            assert user.rerun("actuals").of("file_uploader"), "the editor can still import"
    assert alive(srv)


def test_the_command_line_reads_and_imports_while_the_app_serves(server_factory, tmp_path):
    """Issue 11's scope: the app held the database open for as long as it ran, so the command
    line could neither read nor import while it served. Now readers of the app (a session
    rerunning Actuals in a loop) and the command line's writes share the file: every import is
    whole in the app at once, no page run fails."""
    srv = server_factory("beside-cli")
    db = tmp_path / "beside-cli" / "funnel.duckdb"
    runs: list[Run] = []
    stop = threading.Event()
    with WireClient(srv.url) as viewer:
        viewer.rerun()
        before = history_size(viewer.rerun("actuals"))

        def keep_reading():
            while not stop.is_set():
                runs.append(viewer.rerun("actuals"))
        reader = threading.Thread(target=keep_reading)
        reader.start()
        try:
            out = cli("history", "--db", str(db), "--json")
            assert out.returncode == 0, out.stderr
            assert len(json.loads(out.stdout)) == before
            for month in range(7, 12):
                f = tmp_path / f"visits-{month}.csv"
                f.write_text(f"month,Visits,revenue\n2027-{month:02d},{12000 + month},{1000 * month}\n",
                             encoding="utf-8")
                out = cli("import", str(f), "--db", str(db))
                assert out.returncode == 0 and out.stdout.startswith(f"Imported {f.name}"), out.stderr
            for command in (["actuals"], ["plan", "list"], ["compare", "--plan", DEMO_PLAN_NAME]):
                out = cli(*command, "--db", str(db))
                assert out.returncode == 0, (command, out.stderr)
        finally:
            stop.set()
            reader.join(300)
        assert len(runs) >= 2 and all(r.finished and not problems(r) for r in runs), [problems(r) for r in runs]
        assert history_size(viewer.rerun("actuals")) == before + 5
    assert alive(srv)


# ------------------------------------------------------------------------------------------
# Findings 3 and 4: uploads and sessions
# ------------------------------------------------------------------------------------------

def test_uploads_need_a_sign_in_and_are_bounded_and_dropped(server_factory, tmp_path):
    """Finding 3: files were accepted before any log-in (a self-made XSRF pair passes), held in
    memory without a bound, and for minutes after the client left. (Viewers may upload: the
    Scenarios page takes scenario files from them; only an editor's import reaches the
    database.)"""
    srv = server_factory("uploads", passwords=True)
    with WireClient(srv.url) as visitor:
        visitor.rerun()
        assert upload(srv, visitor.session_id, visitor.cookie) == 403
    with WireClient(srv.url) as viewer:
        sign_in(viewer, VIEWER_PASSWORD)
        assert upload(srv, viewer.session_id, viewer.cookie) == 204
    editor = WireClient(srv.url)
    sign_in(editor, EDITOR_PASSWORD)
    assert editor.rerun("actuals").of("file_uploader")
    statuses = [upload(srv, editor.session_id, editor.cookie, 200_000) for _ in range(MAX_FILES_PER_SESSION + 1)]
    assert statuses == [204] * MAX_FILES_PER_SESSION + [413]
    held = [f for f in spooled(tmp_path / "uploads") if f.stat().st_size == 200_000]
    assert len(held) == MAX_FILES_PER_SESSION, "the editor's files, on disk"
    editor.close()
    deadline = time.monotonic() + 6 * SWEEP_SECONDS
    while spooled(tmp_path / "uploads") and time.monotonic() < deadline:
        time.sleep(1)
    assert spooled(tmp_path / "uploads") == [], "dropped when the session ended"
    assert alive(srv)


def test_a_session_resumed_from_another_browser_is_not_an_editor_there(server_factory, tmp_path):
    """Finding 4: a session id (seen in upload URLs, proxy logs, server-log warnings), resumed
    through the WebSocket sub-protocol, showed the uploader and Undo without a password, while
    the editor was connected and after. The role holds only for the browser that signed in."""
    srv = server_factory("resume", passwords=True)
    editor = WireClient(srv.url)
    sign_in(editor, EDITOR_PASSWORD)
    page = editor.rerun("actuals")
    assert page.of("file_uploader") and [b for b in page.of("button") if b.button.label == "Yes, undo it"]
    stolen, cookie = editor.session_id, editor.cookie
    with WireClient(srv.url, resume=stolen) as attacker:          # its own browser (XSRF cookie)
        page = attacker.rerun("actuals")
        assert attacker.session_id == stolen, "Streamlit did resume the session"
        assert [e.text_input.label for e in page.of("text_input")] == ["Password"]
        assert not page.of("file_uploader")
        assert not [b for b in page.of("button") if b.button.label == "Yes, undo it"]
        assert upload(srv, stolen, attacker.cookie) == 403
    editor.close()
    with WireClient(srv.url, resume=stolen, cookie=cookie) as back:    # the editor's own browser
        page = back.rerun("actuals")
        assert back.session_id == stolen and page.of("file_uploader")
    log = (tmp_path / "resume" / "server.log").read_text(encoding="utf-8")
    assert "is already connected" in log and "<id>" in log
    assert stolen not in log and not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", log)
    assert "used from another browser" in log


# ------------------------------------------------------------------------------------------
# Findings 5 and 12: guessing, forged values, long links
# ------------------------------------------------------------------------------------------

def test_guessing_passwords_is_limited_across_sessions_and_logged(server_factory, tmp_path):
    """Finding 5: 462 guesses, no lockout, no log line; the one-second delay was per session, so
    ten sessions guessed five a second. Now the source gets a few tries, then waits (the right
    password too), whatever session it opens; each failure is logged without the password."""
    srv = server_factory("guessing", passwords=True)
    for n in range(FREE_FAILURES):
        with WireClient(srv.url) as guesser:                       # a new session each time
            run = sign_in(guesser, f"guess-{n}")
            assert any("Wrong password" in t for t in run.texts())
    with WireClient(srv.url) as guesser:
        run = sign_in(guesser, EDITOR_PASSWORD)
        assert any("Too many wrong passwords" in t for t in run.texts())
        assert not guesser.rerun("actuals").of("file_uploader"), "the right password is not even checked"
    log = (tmp_path / "guessing" / "server.log").read_text(encoding="utf-8")
    assert log.count("wrong password from") == FREE_FAILURES and "refused unchecked" in log
    assert "guess-" not in log and EDITOR_PASSWORD not in log


def test_a_forged_widget_value_is_refused_quietly(server_factory, tmp_path):
    """Finding 12: a value the page never offers (a select slider at position 99), sent for a
    widget's id, gave a traceback in the log; now one line, and the page says it was not used."""
    srv = server_factory("forged")
    with WireClient(srv.url) as client:
        client.rerun()
        page = client.rerun("checkin")
        (confidence,) = [e.slider for e in page.of("slider") if e.slider.label == "Confidence for the reset"]
        msg = BackMsg()
        msg.rerun_script.page_name = "checkin"
        forged = msg.rerun_script.widget_states.widgets.add()
        forged.id = confidence.id
        forged.double_array_value.data.extend([99.0])
        client.send(msg)
        run = client.collect()
        assert not run.of("exception")
        assert any("does not offer" in t for t in run.texts())
        assert not problems(client.rerun("checkin")), "the next request is served as usual"
    log = (tmp_path / "forged" / "server.log").read_text(encoding="utf-8")
    assert "Traceback" not in log and "a widget value the page does not offer was refused" in log


def test_a_forged_value_for_a_widget_with_a_callback_is_refused_quietly(server_factory, tmp_path):
    """The Plan page's inputs apply themselves in their callbacks, before the page runs
    (ui.scenario_callbacks); a forged value reaches the callback first. It is left to the page,
    whose widget guard refuses it: no traceback, the scenario as it was."""
    srv = server_factory("forged-callback")
    with WireClient(srv.url) as client:
        first = client.rerun()
        (kind,) = [e.radio for e in first.of("radio") if e.radio.label == "Revenue"]
        msg = BackMsg()
        forged = msg.rerun_script.widget_states.widgets.add()
        forged.id = kind.id
        forged.int_value = 99                          # the radio offers two options
        client.send(msg)
        run = client.collect()
        assert not run.of("exception")
        assert any("does not offer" in t for t in run.texts())
        again = client.rerun()
        assert not problems(again)
        (kind,) = [e.radio for e in again.of("radio") if e.radio.label == "Revenue"]
        assert kind.default == 0 and kind.options[0].startswith("One-time"), "the demo's revenue kind is kept"
    log = (tmp_path / "forged-callback" / "server.log").read_text(encoding="utf-8")
    assert "Traceback" not in log and "a widget value the page does not offer was refused" in log


def test_a_1_mb_link_is_said_too_long(server_factory):
    """Finding 12: a 1 MB link over the WebSocket was dropped (Streamlit ignores query strings
    over 524,288 characters) and the demo opened without a word."""
    srv = server_factory("long-link")
    with WireClient(srv.url) as client:
        run = client.rerun(query_string="s=s1." + "A" * 2**20)
        assert any("This link is too long to open" in t for t in run.texts())
        assert not problems(run)
    assert alive(srv)
