"""The server gives freed memory back to the system once it has been idle for a while.

With two malloc arenas (:mod:`ui.malloc_arenas`) the server's resident size is bounded, but
memory freed after a run stays in glibc's heaps wherever a block still in use sits above it:
``bench_load.py`` read 330–436 MiB after waves of the same ten sessions, swinging by a fifth
from wave to wave with what the last runs happened to leave. glibc's ``malloc_trim(0)`` returns
every whole free page of every arena (``madvise``) in a few milliseconds; but pages used again
afterwards are faulted back in, and on this machine class a fault costs several microseconds:
releasing after every two idle seconds cost each viewer of a shared link about 10 ms of server
CPU more (a release between the first viewer and the next ones: 40 MiB faulted back in). So
it waits for a quiet server: a daemon thread looks every :data:`PERIOD_SECONDS`, and releases
when the process has used less than :data:`IDLE_CPU_SHARE` of a core in each period for
:data:`IDLE_SECONDS` and its resident size grew by at least :data:`MIN_GROWTH_MIB` since the
last release. A busy server is never trimmed; an idle one at most once per growth. Where the C
library is not glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from collections.abc import Callable

from ui.c_library import c_function

#: Seconds between two looks.
PERIOD_SECONDS = 5.0
#: A period is idle when the process used less than this share of one core in it.
IDLE_CPU_SHARE = 0.05
#: Released after this many seconds of idle periods in a row.
IDLE_SECONDS = 30.0
#: Released only when the resident size grew by this much since the last release.
MIN_GROWTH_MIB = 8.0

_PAGE_MIB = os.sysconf("SC_PAGE_SIZE") / 2 ** 20 if hasattr(os, "sysconf") else 4096 / 2 ** 20


def resident_mib() -> float:
    """This process's resident size (MiB), from ``/proc/self/statm``; 0 where there is none."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE_MIB
    except (OSError, IndexError, ValueError):
        return 0.0


def _malloc_trim() -> Callable[[], object] | None:
    trim = c_function("malloc_trim", [ctypes.c_size_t])
    return None if trim is None else (lambda: trim(0))


class IdleMemoryRelease:
    """The decision, one look at a time (:meth:`look`), the process's clocks injectable."""

    def __init__(self, release: Callable[[], object], *, resident: Callable[[], float] = resident_mib,
                 cpu_seconds: Callable[[], float] = time.process_time, period: float = PERIOD_SECONDS,
                 idle_share: float = IDLE_CPU_SHARE, idle_seconds: float = IDLE_SECONDS,
                 min_growth_mib: float = MIN_GROWTH_MIB):
        self._release, self._resident, self._cpu = release, resident, cpu_seconds
        self.period, self.idle_share, self.min_growth_mib = period, idle_share, min_growth_mib
        self.idle_looks = max(1, round(idle_seconds / period))
        self._last_cpu = cpu_seconds()
        self._idle_in_a_row = 0
        self._after_release = resident()
        self.releases = 0

    def look(self) -> bool:
        """One look, a period after the previous one; whether it released."""
        cpu = self._cpu()
        idle = cpu - self._last_cpu < self.idle_share * self.period
        self._last_cpu = cpu
        self._idle_in_a_row = self._idle_in_a_row + 1 if idle else 0
        if self._idle_in_a_row < self.idle_looks or self._resident() - self._after_release < self.min_growth_mib:
            return False
        self._release()
        self.releases += 1
        self._after_release = self._resident()
        self._last_cpu = self._cpu()      # the release's own CPU is not the server's work
        return True

    def run_forever(self) -> None:
        while True:
            time.sleep(self.period)
            self.look()


_installed: IdleMemoryRelease | None | bool = None
_lock = threading.Lock()


def install(period: float = PERIOD_SECONDS, idle_seconds: float = IDLE_SECONDS) -> bool:
    """Start the releasing thread (once per process); False where malloc_trim is not there."""
    global _installed
    with _lock:
        if _installed is None:
            release = _malloc_trim()
            if release is None:
                _installed = False
            else:
                _installed = IdleMemoryRelease(release, period=period, idle_seconds=idle_seconds)
                threading.Thread(target=_installed.run_forever, name="idle-memory-release",
                                 daemon=True).start()
        return _installed is not False
