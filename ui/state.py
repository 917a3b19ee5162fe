"""The scenario every page works on: kept in the session, mirrored in the URL.

The URL holds the whole scenario as one versioned, validated query parameter (``s``, see
:meth:`sim.model.scenario.Scenario.to_url_token`) and the chosen confidence (``q``), so a link
reproduces the exact numbers on any page, on any server. ``app.py`` calls
:func:`sync_from_url` and :func:`write_url` before the page runs; every later change goes
through :func:`set_scenario` or :func:`set_confidence`, which update the URL at once.

``revision()`` changes whenever the scenario is replaced from outside the Plan page's widgets
(a link, a loaded or uploaded scenario, a stage added or removed); widget keys include it, so
the widgets show the new scenario instead of keeping their old values.
"""

from __future__ import annotations

from functools import lru_cache

import streamlit as st

from sim import Scenario, ScenarioError, load_scenario, scenario_from_url_token
from sim.data.location import DEMO_SCENARIO
from sim.model.confidence import CONFIDENCES, DEFAULT_CONFIDENCE
from ui import DATA_DIR, long_links

DEMO_PATH = DATA_DIR / DEMO_SCENARIO
SCENARIO_PARAM, CONFIDENCE_PARAM = "s", "q"
WRITTEN_TOKENS = 64


@lru_cache(maxsize=1)
def demo() -> Scenario:
    return load_scenario(DEMO_PATH)


def install_guards() -> None:
    """A query string too long for Streamlit reads as a link too long (ui.long_links): from the
    next run on (``python -m ui.serve`` installs it before the first)."""
    long_links.install(SCENARIO_PARAM)


def sync_from_url() -> None:
    """Adopt the scenario (and confidence) of the URL when it differs from the session's."""
    ss = st.session_state
    token = st.query_params.get(SCENARIO_PARAM)
    if token == long_links.TOO_LONG:
        ss["notice"] = ("This link is too long to open (over 524,288 characters: no scenario is that long). "
                        "Showing the demo scenario instead.")
        set_scenario(demo(), external=True)
        return _sync_confidence()
    # A rerun requested while the browser has not yet received this session's last URL update
    # carries an older token that this session wrote itself: not a new link, so ignore it.
    if token and token != ss.get("token") and token not in ss.get("written_tokens", ()):
        try:
            scenario = scenario_from_url_token(token)
        except ScenarioError as exc:
            ss["notice"] = (f"This link's scenario could not be opened ({exc}). "
                            "Showing the demo scenario instead.")
            scenario = demo()
        set_scenario(scenario, external=True)
    elif "scenario" not in ss:
        set_scenario(demo(), external=True)
    _sync_confidence()


def _sync_confidence() -> None:
    ss = st.session_state
    q = st.query_params.get(CONFIDENCE_PARAM)
    if q is not None and q != ss.get("confidence_param"):
        try:
            value = float(q)
        except ValueError:
            value = None
        if value in CONFIDENCES:
            ss["confidence"] = value
        ss["confidence_param"] = q
    ss.setdefault("confidence", DEFAULT_CONFIDENCE)


def write_url() -> None:
    """Put the session's scenario and confidence into the URL (the share link)."""
    ss = st.session_state
    if st.query_params.get(SCENARIO_PARAM) != ss["token"]:
        st.query_params[SCENARIO_PARAM] = ss["token"]
    q = f"{ss.get('confidence', DEFAULT_CONFIDENCE):g}"
    if st.query_params.get(CONFIDENCE_PARAM) != q:
        st.query_params[CONFIDENCE_PARAM] = q
    ss["confidence_param"] = q


def current() -> Scenario:
    return st.session_state["scenario"]


def token() -> str:
    return st.session_state["token"]


def revision() -> int:
    return st.session_state.get("revision", 0)


def confidence() -> float:
    return st.session_state["confidence"]


def set_confidence(value: float) -> None:
    st.session_state["confidence"] = float(value)
    write_url()


def set_scenario(scenario: Scenario, external: bool = False) -> None:
    """Make ``scenario`` the current one; ``external``: replaced from outside the widgets."""
    ss = st.session_state
    ss["scenario"] = scenario
    ss["token"] = scenario.to_url_token()
    if external:
        ss["revision"] = ss.get("revision", 0) + 1
    # Remember what this session put in the URL (bounded): see sync_from_url.
    written = ss.get("written_tokens", [])
    ss["written_tokens"] = ([t for t in written if t != ss["token"]] + [ss["token"]])[-WRITTEN_TOKENS:]
    # The URL follows at once, so that a rerun (st.rerun) does not bring the old one back.
    # Only ``s``: while the URL is being read, its ``q`` has not been adopted yet.
    if st.query_params.get(SCENARIO_PARAM) != ss["token"]:
        st.query_params[SCENARIO_PARAM] = ss["token"]


def pop_notice() -> str | None:
    """A message for the user from the last URL sync (shown once)."""
    return st.session_state.pop("notice", None)


def share_url() -> str:
    """The link to the current page with the current scenario."""
    base = st.context.url or ""
    q = f"{confidence():g}"
    return f"{base}?{SCENARIO_PARAM}={token()}&{CONFIDENCE_PARAM}={q}"
