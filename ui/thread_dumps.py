"""``kill -USR1 <server pid>`` writes the stack of every thread of the server into its log.

For a hosted server that seems stuck (a page that never finishes its run): the dump shows
where each thread is (the script threads of the sessions, the engine's workers, the event
loop) without stopping anything. The browser tests ask for one when a wait for the app times
out, so a failure in CI says where the server was. Python's ``faulthandler`` writes it from
the signal handler, to the process's standard error (the server log), even while every
Python thread is busy.
"""

from __future__ import annotations

import faulthandler
import signal
import sys

#: The signal that asks for a dump (None where the platform has no SIGUSR1).
DUMP_SIGNAL = getattr(signal, "SIGUSR1", None)

_installed: bool | None = None


def install() -> bool:
    """Dump every thread's stack to standard error on :data:`DUMP_SIGNAL` (once per process);
    False where that is not possible."""
    global _installed
    if _installed is None:
        _installed = _register()
    return _installed


def _register() -> bool:
    if DUMP_SIGNAL is None:
        return False
    try:
        faulthandler.register(DUMP_SIGNAL, file=sys.stderr, all_threads=True, chain=False)
    except (AttributeError, ValueError, OSError, RuntimeError):
        return False      # no usable standard error (e.g. closed), or no faulthandler.register
    return True
