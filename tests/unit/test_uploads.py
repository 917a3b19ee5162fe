"""What uploads may hold (ui.uploads), on Streamlit's own upload manager: only sessions allowed
to upload (editors'), a few files each, on disk, dropped when the session is gone.

Finding 3: ``/_stcore/upload_file/<session>/<id>`` accepted files before any log-in; 79 files of
50 MB in 30 s took a password-protected server down; 12 x 50 MB held +600 MB for minutes
after the client left. The route itself is exercised on a real server in
tests/slow/test_hostile_server.py.
"""

from __future__ import annotations

import pytest
from starlette.exceptions import HTTPException
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

from ui import uploads

MB = 2**20


@pytest.fixture
def manager():
    uploads.install()
    mgr = MemoryUploadedFileManager("/_stcore/upload_file")
    yield mgr
    for session in ("editor", "visitor", "other"):
        mgr.remove_session_files(session)


def rec(file_id: str, size: int) -> UploadedFileRec:
    return UploadedFileRec(file_id=file_id, name=f"{file_id}.csv", type="text/csv", data=b"x" * size)


def status(call) -> int | None:
    try:
        call()
    except HTTPException as exc:
        return exc.status_code
    return None


def test_a_session_not_allowed_to_upload_stores_nothing(manager):
    assert status(lambda: manager.add_file("visitor", rec("f1", 10))) == 403
    assert manager.get_files("visitor", ["f1"]) == [] and uploads.held_bytes() == 0


def test_an_editors_files_are_kept_on_disk_and_read_back(manager):
    uploads.allow(manager, "editor", True)
    manager.add_file("editor", rec("f1", 3 * MB))
    assert manager.file_storage["editor"]["f1"].data == b"", "only the record stays in memory"
    (back,) = manager.get_files("editor", ["f1"])
    assert back.data == b"x" * 3 * MB and back.name == "f1.csv"
    (path, size, _), = uploads._SPOOL.files["editor"].values()
    assert path.stat().st_size == size == 3 * MB
    manager.remove_file("editor", "f1")
    assert not path.exists() and uploads.held_bytes() == 0


def test_a_session_holds_a_few_files_and_a_bounded_size(manager):
    uploads.allow(manager, "editor", True)
    for i in range(uploads.MAX_FILES_PER_SESSION):
        manager.add_file("editor", rec(f"f{i}", 10))
    assert status(lambda: manager.add_file("editor", rec("one-more", 10))) == 413
    manager.add_file("editor", rec("f0", 20))                       # the same file again replaces it
    manager.remove_session_files("editor")
    uploads.allow(manager, "editor", True)
    manager.add_file("editor", rec("big", uploads.MAX_BYTES_PER_SESSION - 10))
    assert status(lambda: manager.add_file("editor", rec("small", 11))) == 413
    assert uploads.held_bytes() == uploads.MAX_BYTES_PER_SESSION - 10


def test_the_whole_server_holds_a_bounded_size(manager, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_BYTES_TOTAL", 100)
    for session in ("editor", "other"):
        uploads.allow(manager, session, True)
    manager.add_file("editor", rec("a", 60))
    assert status(lambda: manager.add_file("other", rec("b", 41))) == 413
    manager.add_file("other", rec("b", 40))


def test_losing_the_right_to_upload_drops_the_files(manager):
    uploads.allow(manager, "editor", True)
    manager.add_file("editor", rec("f1", 10))
    uploads.allow(manager, "editor", False)
    assert manager.get_files("editor", ["f1"]) == [] and uploads.held_bytes() == 0
    assert status(lambda: manager.add_file("editor", rec("f2", 10))) == 403


def test_the_sweep_drops_sessions_that_are_gone_and_old_files(manager):
    for session in ("editor", "other"):
        uploads.allow(manager, session, True)
    manager.add_file("editor", rec("f1", 10))
    manager.add_file("other", rec("f2", 10))
    uploads.sweep(is_active=lambda sid: sid == "other")
    assert manager.get_files("editor", ["f1"]) == [] and manager.get_files("other", ["f2"]) != []
    assert status(lambda: manager.add_file("editor", rec("f3", 10))) == 403, "a session gone is no longer allowed"
    (_, _, added), = uploads._SPOOL.files["other"].values()
    uploads.sweep(now=added + uploads.MAX_AGE_SECONDS + 1, is_active=lambda sid: True)
    assert manager.get_files("other", ["f2"]) == [] and uploads.held_bytes() == 0
