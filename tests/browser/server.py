"""Start the app with `streamlit run` on a free loopback port, and launch headless Chromium.

Shared by the real-browser tests (tests/browser/) and benchmarks/bench_browser.py. The server's
output goes to a log file (a pipe nobody reads can fill up and block the server); readiness is
`GET /_stcore/health` answering `ok`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from ui.thread_dumps import DUMP_SIGNAL  # makes the app write its threads' stacks into its log

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]
#: The app is idle (no script run in progress): wait for this after every interaction.
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
#: Default timeout of every wait, in milliseconds.
TIMEOUT_MS = 60_000


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamlitServer:
    """`python -m streamlit run app.py` on 127.0.0.1:<free port>, logging to a file.

    ``env``: variables added to (or, with None, removed from) the server's environment, e.g.
    ``{"FUNNEL_DB": "/tmp/x/funnel.duckdb"}`` for a database of its own. ``serve``: start it as
    the README's hosting command does, ``python -m ui.serve`` (the app's server guards in place
    before the first request; another ``app`` is served the same way). ``options``: more ``streamlit run`` options, e.g.
    ``["--secrets.files", "/tmp/x/secrets.toml"]``."""

    def __init__(self, log_path: str | Path | None = None, app: str = "app.py",
                 env: dict[str, str | None] | None = None, serve: bool = False,
                 options: list[str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if log_path is None:
            fd, log_path = tempfile.mkstemp(prefix="streamlit-", suffix=".log")
            os.close(fd)
        self.log_path = Path(log_path)
        self.app = app
        self.env = dict(env or {})
        self.serve = serve
        self.options = list(options or [])
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self, timeout: float = 60.0) -> StreamlitServer:
        if not self.serve:
            start = [sys.executable, "-m", "streamlit", "run", self.app]
        elif self.app == "app.py":
            start = [sys.executable, "-m", "ui.serve"]
        else:                   # another page, served the same way (ui.serve's main with its path)
            start = [sys.executable, "-c", "import sys; from ui.serve import main; "
                     f"sys.exit(main(sys.argv[1:], app={str(self.app)!r}))"]
        cmd = start + ["--server.address", "127.0.0.1", "--server.port", str(self.port),
                       "--server.headless", "true", "--browser.gatherUsageStats", "false",
                       "--server.fileWatcherType", "none", *self.options]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        for name, value in self.env.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = str(value)
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {self.proc.returncode} before it was "
                                   f"ready; log tail:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200 and r.read().strip() == b"ok":
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"streamlit was not healthy within {timeout:.0f} s; log tail:\n"
                                   f"{self.log_tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    def thread_dump(self, wait: float = 3.0) -> str:
        """The stack of every thread of the server now (``ui.thread_dumps``: SIGUSR1 makes it
        write them into its log), read from the log; a note when there is none."""
        if self.proc is None or self.proc.poll() is not None or DUMP_SIGNAL is None:
            return "(the server is not running)"
        if not self._catches(DUMP_SIGNAL):       # its default action would end the server
            return "(no dump: the server does not catch SIGUSR1 yet: no page has run)"
        try:
            start = self.log_path.stat().st_size
        except OSError:
            return "(no server log)"
        os.kill(self.proc.pid, DUMP_SIGNAL)
        deadline, size = time.monotonic() + wait, start
        while time.monotonic() < deadline:       # until the dump has stopped growing
            time.sleep(0.3)
            grown = self.log_path.stat().st_size
            if grown > start and grown == size:
                break
            size = grown
        with open(self.log_path, "rb") as log:
            log.seek(start)
            text = log.read().decode("utf-8", errors="replace")
        return text or "(no dump: the app never ran ui.thread_dumps.install)"

    def _catches(self, signum: int) -> bool:
        """Whether the server has a handler for ``signum`` (Linux: its SigCgt mask)."""
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return False
        caught = next((line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), "0")
        return bool(int(caught, 16) >> (signum - 1) & 1)

    def __enter__(self) -> StreamlitServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def launch_chromium(playwright):
    """Headless Debian Chromium with the flags that work in containers and CI."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


def wait_idle(page, timeout: float = TIMEOUT_MS) -> None:
    """Wait until Streamlit has finished running the script for the last interaction."""
    page.wait_for_selector(IDLE, state="attached", timeout=timeout)
