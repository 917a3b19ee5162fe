"""The settings files are looked at every few seconds, not five times a second, when the server
watches nothing else (ui.settings_polling); a change is still picked up."""

from __future__ import annotations

import threading
import time

import pytest
from streamlit import config
from streamlit.watcher import polling_path_watcher
from streamlit.watcher.polling_path_watcher import PollingPathWatcher

from ui import settings_polling


@pytest.fixture
def watcher_type(monkeypatch):
    monkeypatch.setattr(polling_path_watcher, "_POLLING_PERIOD_SECS", polling_path_watcher._POLLING_PERIOD_SECS)
    before = config.get_option("server.fileWatcherType")

    def set_to(value):
        config.set_option("server.fileWatcherType", value)
    yield set_to
    config.set_option("server.fileWatcherType", before)


def looks(path, seconds: float) -> int:
    """How many times a polling watcher of ``path`` looks at it in ``seconds``."""
    watcher = PollingPathWatcher(str(path), lambda _path: None, allow_nonexistent=True)
    count = 0
    original = watcher._check_if_path_changed

    def counted():
        nonlocal count
        count += 1
        original()
    watcher._check_if_path_changed = counted
    time.sleep(seconds)
    watcher.close()
    return count


def test_with_no_file_watching_the_settings_are_looked_at_every_few_seconds(watcher_type, monkeypatch, tmp_path):
    watcher_type("none")
    monkeypatch.setattr(settings_polling, "POLL_SECONDS", 1.0)      # the test waits less than 5 s
    assert settings_polling.install()
    # Streamlit's 0.2 s would look 7 times in 1.5 s; a look never comes before its wait is over.
    assert looks(tmp_path / "config.toml", 1.5) <= 2


def test_a_changed_setting_is_still_picked_up(watcher_type, monkeypatch, tmp_path):
    watcher_type("none")
    monkeypatch.setattr(settings_polling, "POLL_SECONDS", 0.3)
    assert settings_polling.install()
    path = tmp_path / "config.toml"
    path.write_text("[server]\n", encoding="utf-8")
    changed = threading.Event()
    watcher = PollingPathWatcher(str(path), lambda _path: changed.set())
    try:
        time.sleep(0.1)
        path.write_text("[server]\nmaxUploadSize = 10\n", encoding="utf-8")
        assert changed.wait(30)
    finally:
        watcher.close()


@pytest.mark.parametrize("kind", ["auto", "poll", "watchdog"])
def test_development_watching_is_left_as_streamlit_has_it(watcher_type, kind):
    watcher_type(kind)
    polling_path_watcher._POLLING_PERIOD_SECS = 0.2        # Streamlit's own (the fixture restores what was)
    assert not settings_polling.install()
    assert polling_path_watcher._POLLING_PERIOD_SECS == 0.2
