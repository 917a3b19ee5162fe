"""Plan inputs applied to the scenario by their ``on_change`` callbacks, before the page runs.

Streamlit sends a page's elements in the order the script draws them. The Plan page reads its
inputs by drawing them, so the headline used to follow some fifty input elements, which the
browser handles one by one before it shows the new probability. A widget that changes the
scenario by itself (a slider, a number, a lag) gets :func:`apply` as its callback: Streamlit
runs it before the page's script, with the widget's new value, so the page starts from the
edited scenario and draws the headline first.

The page still reads every input as it draws it, with the same ``edit`` function, and that
reading decides: the callback only applies early what the page would apply anyway (the same
document, so the page then finds no change). A value the callback cannot apply (not valid, or
a value the widget never offers) is left to the page, which says what is wrong with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import streamlit as st

from sim.model.scenario import Scenario
from sim.model.validation import scenario_from_dict
from ui import state

#: ``edit(scenario, doc, value, *args)`` writes a widget's value into ``doc`` (the document of
#: ``scenario``, as in the JSON file) when it differs from the scenario's.
Edit = Callable[..., None]

_log = logging.getLogger("funnel.inputs")


def apply(key: str, edit: Edit, *args) -> None:
    """``on_change`` callback of the Plan widget ``key``: make the scenario with its new value
    the current one at once, if it is valid."""
    scenario: Scenario = state.current()
    doc = scenario.to_dict()
    try:
        edit(scenario, doc, st.session_state[key], *args)
        edited = scenario_from_dict(doc)
    except Exception as exc:       # noqa: BLE001 - the page's own reading reports it (or refuses it)
        _log.debug("input %s left to the page (%s)", key, type(exc).__name__)
        return
    if edited != scenario:
        state.set_scenario(edited)


def applying(key: str, edit: Edit, *args) -> dict:
    """The keyword arguments that give a widget the key ``key`` and :func:`apply` as its
    callback: ``st.slider(..., **applying(key, edit, k))``."""
    return {"key": key, "on_change": apply, "args": (key, edit, *args)}
