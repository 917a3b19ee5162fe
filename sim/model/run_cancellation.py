"""Stopping a run early: the hook a caller (e.g. a web session whose input changed) passes in.

Every long entry point (``simulate``, ``draw``, ``required_volumes``, ``sensitivity``) takes
``should_stop``: a callable returning True, or a ``threading.Event``; it is checked before
each chunk of trials and between the steps of a chunk (a chunk of a heavy scenario takes
seconds), and a set flag ends the run with :class:`RunCancelled` (nothing partial is
returned).
"""

from __future__ import annotations


class RunCancelled(Exception):
    """The run was stopped by its ``should_stop`` hook before it finished."""


def never_stop() -> None:
    """The check of a run that nothing stops."""


def stop_check(should_stop):
    """A function that raises :class:`RunCancelled` once ``should_stop`` says so (None: never)."""
    if should_stop is None:
        return never_stop
    test = should_stop.is_set if hasattr(should_stop, "is_set") else should_stop
    if not callable(test):
        raise TypeError("should_stop must be a callable returning a bool, or a threading.Event")

    def check():
        if test():
            raise RunCancelled("the run was stopped before it finished")
    return check
