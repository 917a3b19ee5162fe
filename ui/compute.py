"""Cached runs of the simulation for the pages.

Cached functions take small hashable arguments (the scenario's share token, numbers) and
return summaries (frozen dataclasses of floats and tuples), never raw draws or a Generator.
Every cache is bounded; server.maxCacheDataSize bounds them all together.
"""

from __future__ import annotations

import streamlit as st

from sim import Forecast, Sensitivity, Targets, required_volumes, scenario_from_url_token, simulate
from sim import sensitivity as sensitivity_of

#: Trials per sensitivity run in the app (two runs per uncertain input, common random numbers).
SENSITIVITY_TRIALS = 5_000
#: The confidence search in the app uses at most this many trials (the scenario's if fewer).
SEARCH_TRIALS = 20_000


@st.cache_data(max_entries=64, show_spinner="Simulating…")
def forecast(token: str) -> Forecast:
    """``simulate`` with the scenario's own trials and seed: the numbers of the CLI."""
    return simulate(scenario_from_url_token(token))


@st.cache_data(max_entries=32, show_spinner=False)
def targets(token: str, confidence: float) -> Targets:
    scenario = scenario_from_url_token(token)
    return required_volumes(scenario, confidence, trials=min(scenario.trials, SEARCH_TRIALS))


@st.cache_data(max_entries=32, show_spinner=False)
def sensitivity(token: str) -> Sensitivity:
    """The tornado's rows and the trials per run behind them (the scenario's, if fewer)."""
    scenario = scenario_from_url_token(token)
    return sensitivity_of(scenario, trials=min(scenario.trials, SENSITIVITY_TRIALS))
