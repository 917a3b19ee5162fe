"""nginx in front of the app, configured with the README's own nginx blocks.

Shared by the browser tests (tests/browser/test_browser_proxy.py) and benchmarks/bench_load.py:
the README's hosting section is what runs. :func:`readme_config` takes its two ``nginx``
blocks (the ``server`` block, and the locations that go inside it), puts the second into the
first, and changes only what a loopback test must: listen on a free loopback port without TLS,
proxy to the app's port, and read Streamlit's files from this environment's package folder.
Debian's ``nginx`` package provides /usr/sbin/nginx (``make test`` installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import streamlit

from .server import ROOT, free_port

NGINX = Path(os.environ.get("NGINX", "/usr/sbin/nginx"))
README = ROOT / "README.md"
#: Where the README's examples have Streamlit's package folder.
README_STREAMLIT = "/srv/planner/.venv/lib/python3.11/site-packages/streamlit"
README_UPSTREAM = "http://127.0.0.1:8501"


def readme_blocks(readme: Path = README) -> list[str]:
    """The README's ``nginx`` code blocks, in order."""
    return re.findall(r"^```nginx\n(.*?)^```", readme.read_text(encoding="utf-8"), flags=re.S | re.M)


def readme_config(port: int, upstream: str, streamlit_dir: Path, work: Path) -> str:
    """A whole nginx.conf: the README's server block with its extra locations, on
    127.0.0.1:``port`` (no TLS) in front of ``upstream``, files from ``streamlit_dir``; logs,
    pid and temporary files in ``work``."""
    server, locations = readme_blocks()
    for needed in ("listen 443 ssl;", README_UPSTREAM):
        if needed not in server:
            raise ValueError(f"README's nginx server block no longer has {needed!r}: update tests/browser/proxy.py")
    if README_STREAMLIT not in locations:
        raise ValueError(f"README's nginx locations no longer read {README_STREAMLIT!r}: update tests/browser/proxy.py")
    body = server.replace("listen 443 ssl;", f"listen 127.0.0.1:{port};").replace(README_UPSTREAM, upstream)
    body = body[:body.rindex("}")] + locations.replace(README_STREAMLIT, str(streamlit_dir)) + "}\n"
    temp = " ".join(f"{kind}_temp_path {work / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # As root, nginx's workers would run as nobody, who may not reach a checkout under /root.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (f"{user}worker_processes 1;\npid {work / 'nginx.pid'};\nerror_log {work / 'error.log'};\n"
            f"events {{ worker_connections 1024; }}\n"
            f"http {{\n    include /etc/nginx/mime.types;\n    access_log {work / 'access.log'};\n    {temp}\n"
            f"{body}}}\n")


class ReverseProxy:
    """nginx on 127.0.0.1:<free port> with :func:`readme_config`, in front of ``upstream``
    (the app's URL); ``access_log()`` gives the requests it saw."""

    def __init__(self, upstream: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.upstream = upstream
        self.work = Path(tempfile.mkdtemp(prefix="nginx-"))
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 20.0) -> ReverseProxy:
        conf = self.work / "nginx.conf"
        conf.write_text(readme_config(self.port, self.upstream, Path(streamlit.__file__).parent, self.work))
        self.proc = subprocess.Popen([str(NGINX), "-p", str(self.work), "-e", str(self.work / "error.log"),
                                      "-c", str(conf), "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with code {self.proc.returncode}: {self.error_log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/static/", timeout=2):
                    pass
                return self
            except urllib.error.HTTPError:
                return self                  # nginx answers (a 403/404 for a folder)
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"nginx did not answer within {timeout:.0f} s: {self.error_log()}")
            time.sleep(0.1)

    def error_log(self) -> str:
        path = self.work / "error.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def access_log(self) -> list[str]:
        """The request lines nginx logged (``GET /summary?s=... HTTP/1.1`` and the status)."""
        path = self.work / "access.log"
        return path.read_text(errors="replace").splitlines() if path.exists() else []

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.work, ignore_errors=True)

    def __enter__(self) -> ReverseProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
