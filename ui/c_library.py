"""A function of the process's C library (glibc's malloc tuning), or None where there is none."""

from __future__ import annotations

import ctypes
import ctypes.util


def c_function(name: str, argtypes: list, restype=ctypes.c_int):
    """The C library's function ``name`` with its argument and result types, or None where the
    library or the function is not there (musl has no ``mallopt`` arenas nor ``malloc_trim``)."""
    library = ctypes.util.find_library("c")
    if not library:
        return None
    try:
        function = getattr(ctypes.CDLL(library), name)
    except (OSError, AttributeError):
        return None
    function.argtypes = argtypes
    function.restype = restype
    return function
