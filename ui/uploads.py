"""What uploads may hold on the server: only signed-in sessions, few files, on disk, not for long.

Streamlit 1.67 accepts a file at ``/_stcore/upload_file/<session>/<file>`` for any active
session, before the app's own log-in (a self-made XSRF cookie and header pass), keeps every
file in memory, as many as are sent, until the session has been gone for
``server.disconnectedSessionTTL`` and later: 79 files of 50 MB in 30 s took a server down.
It has no setting for any of this, so :func:`install` bounds its upload manager
(``MemoryUploadedFileManager``, one per server, used by the upload route and the widgets):

* a file is accepted only for a session the app has marked as allowed to upload
  (:func:`allow_uploads`, called on every script run: a session signed in, as a viewer or an
  editor; a visitor who has not signed in, or a session resumed from another browser, cannot
  store a byte; only editors' uploads can reach the database, the import checks the role);
* at most :data:`MAX_FILES_PER_SESSION` files and :data:`MAX_BYTES_PER_SESSION` bytes per
  session, :data:`MAX_BYTES_TOTAL` for the whole server (refused with HTTP 413);
* files are written to a spool folder on disk, not kept in memory, and read back when a page
  asks for them;
* a session's files are dropped as soon as it is no longer connected (checked every
  :data:`SWEEP_SECONDS`), and any file after :data:`MAX_AGE_SECONDS`.

:func:`install` patches the manager's class, so it acts on the instance the server already
has; ``python -m ui.serve`` installs it before the server starts, a plain ``streamlit run
app.py`` at the first script run. The size of one request body is Streamlit's
``server.maxUploadSize``; a reverse proxy in front must limit bodies too (README, Hosting).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import time
from pathlib import Path

from starlette.exceptions import HTTPException
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

MAX_FILES_PER_SESSION = 3
MAX_BYTES_PER_SESSION = 100 * 2**20
MAX_BYTES_TOTAL = 1024 * 2**20
MAX_AGE_SECONDS = 30 * 60
SWEEP_SECONDS = 10.0


class _Spool:
    """The uploads on disk: one file per (session, file id), with its size and time."""

    def __init__(self):
        self.lock = threading.RLock()
        self.folder: Path | None = None
        self.files: dict[str, dict[str, tuple[Path, int, float]]] = {}
        self.allowed: set[str] = set()
        self.manager: MemoryUploadedFileManager | None = None      # the server's, once it is used

    def dir(self) -> Path:
        if self.folder is None or not self.folder.exists():
            self.folder = Path(tempfile.mkdtemp(prefix="funnel-uploads-"))
            atexit.register(shutil.rmtree, self.folder, True)
        return self.folder

    def session_bytes(self, session_id: str) -> int:
        return sum(size for _, size, _ in self.files.get(session_id, {}).values())

    def total_bytes(self) -> int:
        return sum(size for files in self.files.values() for _, size, _ in files.values())

    def drop(self, session_id: str, file_id: str | None = None) -> None:
        with self.lock:
            files = self.files.get(session_id, {})
            for fid in [file_id] if file_id is not None else list(files):
                entry = files.pop(fid, None)
                if entry is not None:
                    entry[0].unlink(missing_ok=True)
            if not files:
                self.files.pop(session_id, None)


_SPOOL = _Spool()
_ORIGINAL = {name: getattr(MemoryUploadedFileManager, name)
             for name in ("add_file", "get_files", "remove_file", "remove_session_files")}
_installed = threading.Event()


def _add_file(self, session_id: str, file: UploadedFileRec) -> None:
    size = len(file.data)
    with _SPOOL.lock:
        _SPOOL.manager = self
        if session_id not in _SPOOL.allowed:
            raise HTTPException(status_code=403, detail="Uploads need a sign-in.")
        held = _SPOOL.files.get(session_id, {})
        replaced = held.get(file.file_id)
        count = len(held) + (0 if replaced else 1)
        session = _SPOOL.session_bytes(session_id) - (replaced[1] if replaced else 0) + size
        total = _SPOOL.total_bytes() - (replaced[1] if replaced else 0) + size
        if count > MAX_FILES_PER_SESSION or session > MAX_BYTES_PER_SESSION or total > MAX_BYTES_TOTAL:
            raise HTTPException(status_code=413, detail="Too many uploads held: remove one first.")
        path = _SPOOL.dir() / f"{len(_SPOOL.files)}-{time.monotonic_ns()}.upload"
        path.write_bytes(file.data)
        if replaced:
            replaced[0].unlink(missing_ok=True)
        _SPOOL.files.setdefault(session_id, {})[file.file_id] = (path, size, time.monotonic())
    _ORIGINAL["add_file"](self, session_id, file._replace(data=b""))        # only the record in memory


def _get_files(self, session_id: str, file_ids) -> list[UploadedFileRec]:
    out = []
    for rec in _ORIGINAL["get_files"](self, session_id, file_ids):
        with _SPOOL.lock:
            entry = _SPOOL.files.get(session_id, {}).get(rec.file_id)
        if entry is None:
            continue
        try:
            out.append(rec._replace(data=entry[0].read_bytes()))
        except OSError:
            continue
    return out


def _remove_file(self, session_id: str, file_id: str) -> None:
    _ORIGINAL["remove_file"](self, session_id, file_id)
    _SPOOL.drop(session_id, file_id)


def _remove_session_files(self, session_id: str) -> None:
    _ORIGINAL["remove_session_files"](self, session_id)
    _SPOOL.drop(session_id)
    with _SPOOL.lock:
        _SPOOL.allowed.discard(session_id)


def install() -> None:
    """Bound Streamlit's upload manager (every instance, the running server's included); once."""
    if _installed.is_set():
        return
    MemoryUploadedFileManager.add_file = _add_file
    MemoryUploadedFileManager.get_files = _get_files
    MemoryUploadedFileManager.remove_file = _remove_file
    MemoryUploadedFileManager.remove_session_files = _remove_session_files
    _installed.set()
    threading.Thread(target=_sweep_forever, name="funnel-upload-sweeper", daemon=True).start()


def allow_uploads(allowed: bool) -> None:
    """Let the current session upload files (a signed-in one), or not: called on every script
    run, so a sign-out or a session resumed from another browser loses it."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx
    install()
    ctx = get_script_run_ctx()
    if ctx is not None:
        allow(ctx.uploaded_file_mgr, ctx.session_id, allowed)


def allow(manager: MemoryUploadedFileManager, session_id: str, allowed: bool) -> None:
    """Let session ``session_id`` of ``manager`` upload files, or not (its files are dropped)."""
    with _SPOOL.lock:
        if allowed:
            _SPOOL.allowed.add(session_id)
        else:
            _SPOOL.allowed.discard(session_id)
    if not allowed and session_id in _SPOOL.files:
        manager.remove_session_files(session_id)


def sweep(now: float | None = None, is_active=None) -> None:
    """Drop the files of sessions no longer connected (``is_active(session_id)``; default: the
    running server's), and any file older than :data:`MAX_AGE_SECONDS`."""
    now = time.monotonic() if now is None else now
    if is_active is None:
        is_active = _server_session_check()
    with _SPOOL.lock:
        held = {sid: dict(files) for sid, files in _SPOOL.files.items()}
        allowed = set(_SPOOL.allowed)
    for sid in set(held) | allowed:
        if is_active is not None and not is_active(sid):
            if _SPOOL.manager is not None:
                _ORIGINAL["remove_session_files"](_SPOOL.manager, sid)
            _SPOOL.drop(sid)
            with _SPOOL.lock:
                _SPOOL.allowed.discard(sid)
            continue
        for fid, (_, _, added) in held.get(sid, {}).items():
            if now - added > MAX_AGE_SECONDS:
                _SPOOL.drop(sid, fid)


def held_bytes() -> int:
    """Bytes of uploads held on disk (all sessions)."""
    with _SPOOL.lock:
        return _SPOOL.total_bytes()


def _server_session_check():
    from streamlit.runtime import Runtime
    if not Runtime.exists():
        return None
    return Runtime.instance().is_active_session


def _sweep_forever() -> None:
    while True:
        time.sleep(SWEEP_SECONDS)
        try:
            sweep()
        except Exception:  # noqa: BLE001 - the sweeper must outlive any one failure
            pass
