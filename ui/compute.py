"""Cached runs of the simulation for the pages.

Cached functions take small hashable arguments (the scenario's share token, numbers) and
return summaries (frozen dataclasses of floats and tuples), never raw draws or a Generator.
Being immutable, the forecast, first answer, search and sensitivity are cached as shared
objects (``st.cache_resource``): every viewer gets the same object, where ``st.cache_data``
would unpickle a copy for each (about a millisecond of the server's CPU per viewer). Every
cache is bounded by its number of entries (a forecast of 12 stages and 36 months is
44 kB pickled); server.maxCacheDataSize bounds the ``st.cache_data`` ones (the SLA file here, chart
specs, the database's views) together. The caches are shared by all sessions: ten people
opening one link compute it once (Streamlit lets the others wait for that computation, then
read it).

Each public function runs as its session's one run (:mod:`ui.session_runs`): a newer input
or a closed session stops it before its next chunk of trials or step of a chunk (the
``_should_stop`` hook, left out of the cache key: it does not change the numbers).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import streamlit as st

from sim import Forecast, ScenarioError, Sensitivity, Targets, required_volumes, scenario_from_url_token, simulate
from sim import sensitivity as sensitivity_of
from sim.model.engine import period_revenue
from sim.model.forecast import DETAIL_TRIALS, ConfidenceInterval, Distribution, distributions, wilson_interval
from sim.model.scenario import Scenario
from sim.model.targets import expected_value_plan
from sim.model.work_budget import check_run_budget
from sim.present.sla import sla_csv
from ui.session_runs import owned

#: Trials per sensitivity run in the app (two runs per uncertain input, common random numbers).
SENSITIVITY_TRIALS = 5_000
#: The confidence search in the app uses at most this many trials (the scenario's if fewer).
SEARCH_TRIALS = 20_000
#: A first answer from the first trials (a quarter of a chunk: the same random numbers as the full
#: run's first trials), shown while the whole run goes on; only for scenarios with at least twice
#: as many. 2,048 rather than 4,096: ~25 ms sooner on screen (bench_browser.py), for an error of
#: ±2.2 rather than ±1.5 points (95%, at 50%), shown until the whole run's answer replaces it.
PREVIEW_TRIALS = 2_048

_finished_lock = threading.Lock()
_finished: OrderedDict[str, None] = OrderedDict()     # tokens whose forecast this process has made


def forecast(token: str) -> Forecast:
    """``simulate`` with the scenario's own trials and seed: the numbers of the CLI."""
    result = owned(_forecast, token)
    with _finished_lock:
        _finished[token] = None
        _finished.move_to_end(token)
        while len(_finished) > 64:
            _finished.popitem(last=False)
    return result


def forecast_ready(token: str) -> bool:
    """Whether the forecast of ``token`` has been made here lately (then it comes from the
    cache: no first answer needed), or the scenario is too small for a first answer."""
    with _finished_lock:
        if token in _finished:
            return True
    return scenario_from_url_token(token).trials < 2 * PREVIEW_TRIALS


@dataclass(frozen=True)
class FirstAnswer:
    """What the headline shows, from the first trials of the run only (the same numbers as
    the whole run's first trials): P(goal) with its (wider) Monte Carlo error, the revenue."""

    scenario: Scenario
    trials: int
    p_goal: float
    p_goal_ci: ConfidenceInterval
    revenue: Distribution

    @property
    def gap(self) -> float:
        return self.scenario.goal - self.revenue.p50


def preview(token: str) -> FirstAnswer:
    """The headline of the first ``PREVIEW_TRIALS`` trials (the period's revenue only: no months,
    no stage detail), in a fraction of the whole run's time."""
    return owned(_preview, token)


def targets(token: str, confidence: float) -> Targets:
    """The confidence search; it starts from this session's last answer (scaled by the change
    of the expected-value plan), which changes its cost, never its answer."""
    last = st.session_state.get("last-search")

    def hint() -> float | None:
        """Worked out only when the search runs: a cached answer (every viewer of a shared
        link but the first) does not pay for it."""
        if last and last[0] == confidence and last[1] > 0 and last[2] > 0:
            try:
                return last[2] * expected_value_plan(scenario_from_url_token(token)).scale / last[1]
            except ScenarioError:
                return None
        return None
    result = owned(_targets, token, confidence, hint)
    if result.reachable:
        st.session_state["last-search"] = (confidence, result.expected_value.scale, result.at_confidence.scale)
    return result


def sensitivity(token: str) -> Sensitivity:
    """The tornado's rows and the trials per run behind them (the scenario's, if fewer)."""
    return owned(_sensitivity, token)


@st.cache_resource(max_entries=64, show_spinner="Simulating…")
def _forecast(token: str, _should_stop=None) -> Forecast:
    return simulate(scenario_from_url_token(token), should_stop=_should_stop)


@st.cache_resource(max_entries=64, show_spinner=False)
def _preview(token: str, _should_stop=None) -> FirstAnswer:
    scenario = scenario_from_url_token(token)
    # A scenario whose whole run is refused gets the refusal now, not a first answer.
    check_run_budget(scenario, detail_trials=min(scenario.trials, DETAIL_TRIALS))
    n = min(scenario.trials, PREVIEW_TRIALS)
    total = period_revenue(scenario, trials=n, should_stop=_should_stop) + scenario.baseline_revenue
    hits = int(np.count_nonzero(total >= scenario.goal))
    return FirstAnswer(scenario, n, hits / n, ConfidenceInterval(*wilson_interval(hits, n), 0.95),
                       distributions(total)[0])


@st.cache_resource(max_entries=32, show_spinner=False)
def _targets(token: str, confidence: float, _start_scale=None, _should_stop=None) -> Targets:
    """(``_start_scale``, a function that returns the search's first scale or None, is left out
    of the cache key: the answer does not depend on it.)"""
    scenario = scenario_from_url_token(token)
    return required_volumes(scenario, confidence, trials=min(scenario.trials, SEARCH_TRIALS),
                            start_scale=_start_scale() if _start_scale else None, should_stop=_should_stop)


@st.cache_resource(max_entries=32, show_spinner=False)
def _sensitivity(token: str, _should_stop=None) -> Sensitivity:
    scenario = scenario_from_url_token(token)
    return sensitivity_of(scenario, trials=min(scenario.trials, SENSITIVITY_TRIALS), should_stop=_should_stop)


def sla_file(token: str, confidence: float, targets: Targets, forecast: Forecast) -> str:
    """The SLA table as CSV (``sim.present.sla.sla_csv``), built once per scenario and
    confidence and shared by the sessions that show its download button."""
    return _sla_file(token, confidence, targets, forecast)


@st.cache_data(max_entries=64, show_spinner=False)
def _sla_file(token: str, confidence: float, _targets: Targets, _forecast: Forecast) -> str:
    return sla_csv(_targets, _forecast)
