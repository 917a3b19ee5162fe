"""How often the server looks at its settings files for changes: every few seconds, not five
times a second.

Streamlit watches ``config.toml`` (the project's and the user's) and the secrets files by
polling, whatever ``server.fileWatcherType`` says: one thread per file wakes every 0.2 s,
looks at the file and schedules the next look. An idle server of the app used 5.5–6 ms of CPU
a second doing so, paid during every page open (``bench_load.py`` prints the idle figure). With
``fileWatcherType = "none"`` (this app's setting: no rerun on save, as hosted), :func:`install`
makes each look wait :data:`POLL_SECONDS` instead: a changed setting is still picked up, a few
seconds later. In development (``--server.fileWatcherType auto`` or ``poll``, where Streamlit may
poll the app's own files too) it changes nothing.
"""

from __future__ import annotations

from streamlit import config
from streamlit.watcher import polling_path_watcher

#: Seconds between two looks at a settings file (Streamlit's own: 0.2).
POLL_SECONDS = 5.0


def install() -> bool:
    """Slow the settings files' polling when nothing else is watched; whether it did."""
    if config.get_option("server.fileWatcherType") != "none":
        return False
    polling_path_watcher._POLLING_PERIOD_SECS = POLL_SECONDS    # read by each look before it sleeps
    return True
