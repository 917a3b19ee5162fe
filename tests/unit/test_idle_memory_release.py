"""The server gives freed memory back when idle (ui.idle_memory_release)."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from ui.idle_memory_release import IdleMemoryRelease

REPO = Path(__file__).resolve().parents[2]


class Process:
    """A fake process: CPU seconds and resident MiB set by the test, releases counted."""

    def __init__(self):
        self.cpu, self.rss, self.calls = 10.0, 300.0, 0

    def release(self):
        self.calls += 1
        self.rss = 250.0


def watcher(p: Process) -> IdleMemoryRelease:
    return IdleMemoryRelease(p.release, resident=lambda: p.rss, cpu_seconds=lambda: p.cpu,
                             period=5.0, idle_share=0.05, idle_seconds=15.0, min_growth_mib=8.0)


def test_releases_only_after_idle_periods_in_a_row_and_only_when_memory_grew():
    p = Process()
    w = watcher(p)
    for _ in range(4):
        assert not w.look()               # idle, but nothing grew since the start
    p.rss, p.cpu = 400.0, p.cpu + 4.0     # a run: busy (4 s of CPU in a 5 s period)
    assert not w.look()
    p.cpu += 0.2                          # 0.2 s: under 5% of a core over 5 s, idle
    assert not w.look()
    assert not w.look()                   # two idle periods in a row: 10 s, not yet 15
    p.cpu += 0.3                          # 0.3 s: busy by the rule, the count starts again
    assert not w.look()
    assert not w.look() and not w.look()
    assert w.look() and p.calls == 1 and p.rss == 250.0     # the third idle period in a row
    for _ in range(4):
        assert not w.look()               # still idle, nothing new to give back
    p.rss = 255.0                         # grew by less than the threshold
    assert not w.look()
    p.rss = 270.0
    assert w.look() and p.calls == 2 and w.releases == 2


# Memory freed below a block still in use stays with the process until malloc_trim: 120 MiB of
# 64 KiB arrays (under glibc's mmap threshold, so from the heap), all but the last freed.
_PROBE = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
from ui import idle_memory_release as imr
if sys.argv[2] == "release":
    assert imr.install(period=0.2, idle_seconds=0.6) and imr.install()
arrays = [np.ones(8192) for _ in range(1920)]
keep = arrays[-1]
del arrays
before = imr.resident_mib()
deadline = time.monotonic() + float(sys.argv[3])
while time.monotonic() < deadline and imr.resident_mib() > before - 60:
    time.sleep(0.1)
time.sleep(0.5)
print(before, imr.resident_mib())
"""


def resident(mode: str, wait_seconds: float) -> tuple[float, float]:
    done = subprocess.run([sys.executable, "-c", _PROBE, str(REPO), mode, str(wait_seconds)], capture_output=True, text=True,
                          timeout=120, check=True)
    before, after = map(float, done.stdout.split())
    return before, after


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_an_idle_process_gives_freed_heap_memory_back():
    before, after = resident("keep", 3.0)
    assert after > before - 10            # without it, the freed 120 MiB stay resident
    before, after = resident("release", 20.0)   # 0.2 s looks, 0.6 s idle: within seconds
    assert after < before - 100
