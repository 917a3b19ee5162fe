"""The "From history" page's reads: the history fit and the backtest of the database's actuals,
cached by the data version and the page's choices (small, hashable arguments; the typed scenario
as its URL token), bounded."""

from __future__ import annotations

import streamlit as st

from sim.data.funnel_history import load_funnel_history
from sim.errors import ScenarioError
from sim.model.backtest import Backtest, backtest
from sim.model.history_fit import FitOptions, HistoryFit, fit_history
from sim.model.scenario_io import scenario_from_url_token
from ui import database as stores


@st.cache_data(max_entries=8, show_spinner=False)
def fit(version: tuple, stages: tuple[str, ...], segment: str | None, token: str, first: str, last: str,
        weight: float | None, growth: float, months: int) -> HistoryFit | tuple[str, ...]:
    """The fit of the window ``first`` .. ``last`` (the scenario of ``token`` keeps what the history
    cannot give), or the problems that stopped it."""
    history = stores.read_or_stop(load_funnel_history, stages=stages, segment=segment)
    try:
        return fit_history(history, FitOptions(first=first, last=last, weight=weight, growth=growth, months=months,
                                               label=segment), scenario_from_url_token(token))
    except ScenarioError as exc:
        return exc.problems


@st.cache_data(max_entries=4, show_spinner=False)
def run_backtest(version: tuple, stages: tuple[str, ...], segment: str | None, token: str, horizon: int,
                 fit_months: int, origins: int, growth: float) -> Backtest | tuple[str, ...]:
    """The backtest (or the problem that stopped it)."""
    history = stores.read_or_stop(load_funnel_history, stages=stages, segment=segment)
    try:
        return backtest(history, horizon=horizon, fit_months=fit_months, origins=origins, growth=growth,
                        typed=scenario_from_url_token(token))
    except ScenarioError as exc:
        return exc.problems
