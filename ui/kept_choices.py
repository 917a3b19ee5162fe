"""Choices that outlive a closed tab.

The Plan page runs only the open tab's inputs (and the agreement's while it is open). Streamlit
forgets the value of a widget that did not run, so a widget shows its default again when its
tab opens. That is right for the values in the scenario (the default *is* the scenario's value);
for a choice that is not in the scenario, e.g. the form a belief is typed in (P10–P90, counts,
the slider), the choice is kept here, by widget key, and shown again.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

_PREFIX = "kept-choice:"


def index(key: str, options: Sequence, default: int) -> int:
    """The index to show: the choice kept for ``key``, else ``default``."""
    chosen = st.session_state.get(_PREFIX + key)
    return list(options).index(chosen) if chosen in options else default


def keep(key: str) -> None:
    """``on_change`` callback of the widget ``key``: keep its new value."""
    st.session_state[_PREFIX + key] = st.session_state[key]
