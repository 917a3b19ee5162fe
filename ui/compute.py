"""Cached runs of the simulation for the pages.

Cached functions take small hashable arguments (the scenario's share token, numbers) and
return summaries (frozen dataclasses of floats and tuples), never raw draws or a Generator.
Every cache is bounded; server.maxCacheDataSize bounds them all together. The caches are
shared by all sessions: ten people opening one link compute it once (Streamlit lets the
others wait for that computation, then read it).

Each public function runs as its session's one run (:mod:`ui.session_runs`): a newer input
or a closed session stops it between chunks of trials (the ``_should_stop`` hook, left out
of the cache key: it does not change the numbers).
"""

from __future__ import annotations

import streamlit as st

from sim import Forecast, Sensitivity, Targets, required_volumes, scenario_from_url_token, simulate
from sim import sensitivity as sensitivity_of
from ui.session_runs import owned

#: Trials per sensitivity run in the app (two runs per uncertain input, common random numbers).
SENSITIVITY_TRIALS = 5_000
#: The confidence search in the app uses at most this many trials (the scenario's if fewer).
SEARCH_TRIALS = 20_000


def forecast(token: str) -> Forecast:
    """``simulate`` with the scenario's own trials and seed: the numbers of the CLI."""
    return owned(_forecast, token)


def targets(token: str, confidence: float) -> Targets:
    return owned(_targets, token, confidence)


def sensitivity(token: str) -> Sensitivity:
    """The tornado's rows and the trials per run behind them (the scenario's, if fewer)."""
    return owned(_sensitivity, token)


@st.cache_data(max_entries=64, show_spinner="Simulating…")
def _forecast(token: str, _should_stop=None) -> Forecast:
    return simulate(scenario_from_url_token(token), should_stop=_should_stop)


@st.cache_data(max_entries=32, show_spinner=False)
def _targets(token: str, confidence: float, _should_stop=None) -> Targets:
    scenario = scenario_from_url_token(token)
    return required_volumes(scenario, confidence, trials=min(scenario.trials, SEARCH_TRIALS),
                            should_stop=_should_stop)


@st.cache_data(max_entries=32, show_spinner=False)
def _sensitivity(token: str, _should_stop=None) -> Sensitivity:
    scenario = scenario_from_url_token(token)
    return sensitivity_of(scenario, trials=min(scenario.trials, SENSITIVITY_TRIALS), should_stop=_should_stop)
