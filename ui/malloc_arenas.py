"""Two malloc arenas for the server process, so that its resident memory stays bounded.

glibc gives a thread that finds the allocator busy an arena of its own, up to eight per core.
The server has many threads that allocate: Streamlit's script thread of every page run, the
engine's workers, the event loop. Memory freed in one arena serves only later allocations of
that arena, so each arena keeps its own free space and the resident size grows with their
number: ``bench_load.py`` saw 345 MiB after the warm-up and about 600 MiB after five waves of
ten sessions with the default arenas. :func:`install` asks for :data:`ARENAS` (glibc's
``mallopt(M_ARENA_MAX)``, the setting behind ``MALLOC_ARENA_MAX``); it acts on the arenas made
after it, so ``python -m ui.serve`` calls it before the server starts any thread (a plain
``streamlit run app.py`` at the first script run). Where the C library is not glibc it does
nothing.
"""

from __future__ import annotations

import ctypes

from ui.c_library import c_function

#: glibc's ``M_ARENA_MAX`` parameter of ``mallopt``.
M_ARENA_MAX = -8
ARENAS = 2


_installed: bool | None = None


def install() -> bool:
    """Limit malloc to :data:`ARENAS` arenas from now on (once per process); False where that
    is not possible."""
    global _installed
    if _installed is None:
        _installed = _limit_arenas()
    return _installed


def _limit_arenas() -> bool:
    mallopt = c_function("mallopt", [ctypes.c_int, ctypes.c_int])
    return mallopt is not None and mallopt(M_ARENA_MAX, ARENAS) == 1
