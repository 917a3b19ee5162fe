"""Names typed by people (stages, scenarios, plans, CSV columns): the one rule that folds them.

Two names are the same when they are equal ignoring case and runs of white space: ``Leads``,
`` leads `` and ``LEADS`` are one stage. :func:`tidy_name` is the name as shown (spaces
folded), :func:`fold_name` the key it is compared on.
"""

from __future__ import annotations


def tidy_name(name) -> str:
    """``name`` with surrounding space removed and inner runs of white space folded to one."""
    return " ".join(str(name).split())


def fold_name(name) -> str:
    """The key names are matched on: spaces tidied, case folded."""
    return tidy_name(name).casefold()
