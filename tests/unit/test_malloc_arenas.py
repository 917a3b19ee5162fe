"""The server's malloc arenas are limited (ui.malloc_arenas): counted by glibc itself."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Eight threads allocate at once (numpy arrays, as the server's threads do); then glibc's
# malloc_stats() writes one "Arena i:" section per arena to stderr.
_PROBE = r"""
import ctypes, ctypes.util, sys, threading
import numpy as np
sys.path.insert(0, sys.argv[1])
if sys.argv[2] == "limited":
    from ui import malloc_arenas
    assert malloc_arenas.install() and malloc_arenas.install()
barrier = threading.Barrier(8)
def work():
    barrier.wait()
    for _ in range(200):
        arrays = [np.ones(1000 + i) for i in range(50)]
        del arrays
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
ctypes.CDLL(ctypes.util.find_library("c")).malloc_stats()
"""


def arenas(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", _PROBE, str(REPO), mode], capture_output=True, text=True,
                          timeout=120, check=True)
    return sum(1 for line in done.stderr.splitlines() if line.startswith("Arena "))


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_install_limits_malloc_to_two_arenas_where_threads_would_make_more():
    assert arenas("default") > 2          # the probe does make glibc open more arenas
    assert 1 <= arenas("limited") <= 2
