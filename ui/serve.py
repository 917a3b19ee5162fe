"""``python -m ui.serve [streamlit options]``: ``streamlit run app.py`` with the app's server
guards in place before the first request.

A plain ``streamlit run app.py`` works too, but runs nothing of the app's until a session runs
the script: until then the upload bounds (:mod:`ui.uploads`), the log redaction
(:mod:`ui.server_log`) and the notice of links too long (:mod:`ui.long_links`) are not there.
This starts the same server, in this process, after installing them, limiting malloc to two
arenas before any thread starts (:mod:`ui.malloc_arenas`), giving freed memory back when the
server falls idle (:mod:`ui.idle_memory_release`), waking the web server's main loop once a
second instead of ten times (:mod:`ui.server_tick`) and setting ``kill -USR1`` to dump
every thread's stack into the log (:mod:`ui.thread_dumps`). Options are those of ``streamlit
run`` (e.g. ``--server.port 8501``). :func:`main` takes another page in ``app`` (the
benchmarks serve their reference pages with the same server).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ui import idle_memory_release, malloc_arenas, server_log, server_tick, state, thread_dumps, uploads

APP = Path(__file__).resolve().parent.parent / "app.py"


def main(argv: list[str], app: str | Path = APP) -> int:
    malloc_arenas.install()     # before any thread of the server
    idle_memory_release.install()
    server_tick.install()
    thread_dumps.install()
    uploads.install()
    server_log.install()
    state.install_guards()
    from streamlit.web import cli
    sys.argv = ["streamlit", "run", str(app), *argv]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
