"""How many wrong passwords the log-in accepts: per source and in total, with back-off.

Guessing is limited where it cannot be escaped by opening more sessions: per source (the
client's address; behind a proxy, the header the proxy sets, see ui.access) and for the whole
server. A source gets :data:`FREE_FAILURES` wrong passwords in :data:`WINDOW` seconds; after
that, each further failure doubles its wait (from :data:`FIRST_BACKOFF` seconds up to
:data:`MAX_BACKOFF`), and while it waits every attempt is refused unchecked, the right password
too. When the whole server sees :data:`GLOBAL_FAILURES` failures within a minute (a guessing
campaign from many addresses), every attempt waits until the minute's count drops again. A
right password clears its source's failures.

No Streamlit here: the clock is passed in, so the rules are tested directly.
"""

from __future__ import annotations

import threading
from collections import deque

FREE_FAILURES = 5
WINDOW = 15 * 60.0
FIRST_BACKOFF = 30.0
MAX_BACKOFF = 15 * 60.0
GLOBAL_FAILURES = 20
GLOBAL_WINDOW = 60.0
#: Sources remembered at most (the oldest are forgotten first): memory stays bounded.
MAX_SOURCES = 10_000


class GuessLimiter:
    """Failed log-ins by source and in total; :meth:`wait` says how long a source must wait
    before its next attempt may be checked (0: now). Thread-safe."""

    def __init__(self, *, free: int = FREE_FAILURES, window: float = WINDOW, first_backoff: float = FIRST_BACKOFF,
                 max_backoff: float = MAX_BACKOFF, global_failures: int = GLOBAL_FAILURES,
                 global_window: float = GLOBAL_WINDOW, max_sources: int = MAX_SOURCES):
        self.free, self.window = free, window
        self.first_backoff, self.max_backoff = first_backoff, max_backoff
        self.global_failures, self.global_window = global_failures, global_window
        self.max_sources = max_sources
        self._lock = threading.Lock()
        self._by_source: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()

    def _recent(self, source: str, now: float) -> deque[float]:
        failures = self._by_source.get(source, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def wait(self, source: str, now: float) -> float:
        """Seconds ``source`` must wait before an attempt is checked (0: it may try now)."""
        with self._lock:
            while self._all and self._all[0] <= now - self.global_window:
                self._all.popleft()
            waits = [0.0]
            if len(self._all) >= self.global_failures:
                waits.append(self._all[len(self._all) - self.global_failures] + self.global_window - now)
            failures = self._recent(source, now)
            over = len(failures) - self.free
            if over >= 0:
                backoff = min(self.first_backoff * 2 ** over, self.max_backoff)
                waits.append(failures[-1] + backoff - now)
            return max(waits)

    def failed(self, source: str, now: float) -> int:
        """Record a wrong password from ``source``; its failures in the window."""
        with self._lock:
            failures = self._recent(source, now)
            failures.append(now)
            self._by_source.pop(source, None)
            self._by_source[source] = failures          # most recent last (forgotten last)
            while len(self._by_source) > self.max_sources:
                self._by_source.pop(next(iter(self._by_source)))
            self._all.append(now)
            return len(failures)

    def succeeded(self, source: str) -> None:
        """A right password: the source's failures are forgiven."""
        with self._lock:
            self._by_source.pop(source, None)
