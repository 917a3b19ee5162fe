"""Input widgets of the Plan page and the headline numbers shared by pages.

Each input function reads the scenario document ``doc`` (as in the JSON file) and writes the
user's values back into it; the page validates the result with ``scenario_from_dict``. Widget
keys include the scenario's revision (see ui.state), so a replaced scenario shows fresh values.
"""

from __future__ import annotations

import time

import streamlit as st

from sim import Forecast, ScenarioError, WorkBudgetExceeded
from sim.model import editing
from sim.model.names import tidy_name
from sim.model.scenario import MAX_MONTHS, MAX_SEED, MAX_STAGES, OWNERS, Scenario
from sim.present.markdown import escape_markdown as plain
from ui import belief_inputs, compute, state
from ui.scenario_callbacks import applying

TRIAL_CHOICES = (2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000)


_KIND_LABELS = {"one_time": "One-time (in the month of closing)",
                "monthly_recurring": "Monthly fee (every month from closing)"}


# Module-level label functions (not lambdas): widget options must pickle, as session state must.
def kind_label(kind: str) -> str:
    return _KIND_LABELS[kind]


def count_label(n: int) -> str:
    return f"{n:,}"


def percent_label(q: float) -> str:
    return f"{q:.0%}"


#: The Plan page's input tabs; the open one is ``st.session_state[PLAN_TAB_KEY]`` (only its
#: inputs run).
PLAN_TABS = ("Goal & deal", "Marketing", "Sales", "Stages", "Simulation")
PLAN_TAB_KEY = "plan-tab"


def keyer(page: str, rev: int):
    return lambda name: f"{page}-{rev}-{name}"


def goal_and_deal(doc: dict, key, problems: list[str] | None = None) -> None:
    """The goal, the period and (given ``problems``) the deal value (ui.belief_inputs). Each
    field is applied by its callback too (ui.scenario_callbacks), before the page runs."""
    set_name(None, doc, st.text_input("Scenario name", value=doc["name"], max_chars=200,
                                      **applying(key("name"), set_name)))
    c1, c2 = st.columns(2)
    set_goal(None, doc, c1.number_input("Revenue goal", min_value=1.0, value=float(doc["goal"]), step=50_000.0,
                                        format="%.0f", **applying(key("goal"), set_goal)))
    set_baseline(None, doc, c2.number_input(
        "Already certain (baseline)", min_value=0.0, value=float(doc["baseline_revenue"]), step=10_000.0,
        format="%.0f", help="Revenue already banked or contracted for the period.",
        **applying(key("baseline"), set_baseline)))
    c1, c2 = st.columns(2)
    set_start(None, doc, c1.text_input("First month (YYYY-MM)", value=doc["start"], max_chars=7,
                                       **applying(key("start"), set_start)))
    set_months(None, doc, c2.slider("Months", 1, MAX_MONTHS, int(doc["months"]), **applying(key("months"), set_months)))
    if problems is not None:
        st.markdown("**Deal value**")
        belief_inputs.deal_value(doc, key, problems)
        set_deal_kind(None, doc, st.radio("Revenue", ["one_time", "monthly_recurring"], horizontal=True,
                                          index=0 if doc["deal"]["kind"] == "one_time" else 1,
                                          format_func=kind_label, **applying(key("deal-kind"), set_deal_kind)))


# Edits of the scenario document by one input's value (ui.scenario_callbacks.Edit): the page
# applies them as it draws the inputs, the inputs' callbacks before the page runs.
def set_name(_scenario, doc: dict, value: str) -> None:
    doc["name"] = value


def set_goal(_scenario, doc: dict, value: float) -> None:
    doc["goal"] = value


def set_baseline(_scenario, doc: dict, value: float) -> None:
    doc["baseline_revenue"] = value


def set_start(_scenario, doc: dict, value: str) -> None:
    doc["start"] = value


def set_months(_scenario, doc: dict, months: int) -> None:
    if months != doc["months"]:
        editing.resize_horizon(doc, months)


def set_deal_kind(_scenario, doc: dict, kind: str) -> None:
    doc["deal"]["kind"] = kind


def set_trials(_scenario, doc: dict, trials: int) -> None:
    doc["trials"] = int(trials)


def set_seed(_scenario, doc: dict, seed: float) -> None:
    doc["seed"] = int(seed)


def top_of_funnel(doc: dict, scenario: Scenario, key, problems: list[str]) -> None:
    belief_inputs.top_of_funnel(doc, scenario, key, problems)


def stage_rate(doc: dict, scenario: Scenario, k: int, key, problems: list[str]) -> None:
    """Stage k's conversion from the stage before: its belief (ui.belief_inputs) and its lag."""
    stage, prev = scenario.stages[k], scenario.stages[k - 1]
    entry = doc["stages"][k]
    label = f"{plain(prev.name)} → {plain(stage.name)}" + (" (shared)" if stage.owner == "shared" else "")
    with st.container(border=True):
        st.markdown(f"**{label}**")
        belief_inputs.rate(entry, stage.rate, lambda name: key(f"s{k}-{name}"),
                           f"{prev.name} → {stage.name}", problems, stage=k)
        text = st.text_input("Arrives after 0/1/2… months (%)", value=editing.lag_to_text(stage.lag),
                             help="E.g. 30/50/20: 30% the same month, 50% a month later, 20% two "
                                  "months later.", **applying(key(f"s{k}-lag"), set_lag, k))
        try:
            set_lag(scenario, doc, text, k)
        except ScenarioError as exc:
            st.error(str(exc))                 # next to the input ...
            problems.append(str(exc))          # ... and the page keeps the last valid scenario


def set_lag(scenario: Scenario, doc: dict, text: str, k: int) -> None:
    """Stage k's lag as typed; as it was, it keeps its every digit."""
    stage = scenario.stages[k]
    if text.strip() != editing.lag_to_text(stage.lag):
        doc["stages"][k]["lag"] = editing.lag_from_text(text, where=f"{stage.name}: arrival months")


def stage_list(scenario: Scenario, doc: dict, key) -> None:
    """Rename stages, change their owner, add and remove stages."""
    last = len(scenario.stages) - 1
    for k, stage in enumerate(scenario.stages):
        c1, c2, c3 = st.columns([5, 4, 1], vertical_alignment="bottom")
        name = c1.text_input(f"Stage {k + 1}", value=stage.name, max_chars=40, key=key(f"s{k}-name"))
        owner = c2.selectbox("Owner", OWNERS, index=OWNERS.index(stage.owner), key=key(f"s{k}-owner"),
                             label_visibility="collapsed" if k else "visible")
        doc["stages"][k]["owner"] = owner
        if tidy_name(name) != stage.name:
            editing.rename_in_document(doc, k, name)
        removable = k > 0 and len(scenario.stages) > 2
        if c3.button("✕", key=key(f"s{k}-remove"), disabled=not removable,
                     help=f"Remove {plain(stage.name)}" if removable else "This stage cannot be removed"):
            _replace(lambda k=k: editing.remove_stage(scenario, k))
    st.caption(f"The first stage is the top of the funnel; the last ({plain(scenario.stages[last].name)}) "
               "is the customers.")
    with st.form(key("add-stage"), border=True):
        st.markdown("**Add a stage**")
        c1, c2, c3 = st.columns(3)
        name = c1.text_input("Name", max_chars=40, key=key("new-name"))
        after = c2.selectbox("After", [s.name for s in scenario.stages], index=max(0, last - 1),
                             key=key("new-after"))
        owner = c3.selectbox("Owner", OWNERS, key=key("new-owner"))
        if st.form_submit_button("Add stage", disabled=len(scenario.stages) >= MAX_STAGES):
            position = [s.name for s in scenario.stages].index(after) + 1
            _replace(lambda: editing.add_stage(scenario, position, name.strip(), owner))


def _replace(build) -> None:
    try:
        new = build()
    except ScenarioError as exc:
        st.error(str(exc))
        return
    state.set_scenario(new, external=True)
    st.rerun()


def simulation(doc: dict, key) -> None:
    trials = int(doc["trials"])
    options = sorted(set(TRIAL_CHOICES) | {trials})
    set_trials(None, doc, st.select_slider("Simulated years (trials)", options=options, value=trials,
                                           format_func=count_label, **applying(key("trials"), set_trials),
                                           help="More trials: a smaller Monte Carlo error, a slower answer."))
    set_seed(None, doc, st.number_input("Random seed", min_value=0, max_value=MAX_SEED, value=int(doc["seed"]),
                                        step=1, help="The same scenario and seed always give the same numbers.",
                                        **applying(key("seed"), set_seed)))


def too_large(exc: WorkBudgetExceeded, what: str = "") -> None:
    """A run refused by the work budget (before any work): the engine's message (which budget,
    by how much, the most trials that fit) and where the trials are set in the app."""
    text = str(exc)
    st.error(f"{plain(what)}{plain(text[:1].upper() + text[1:])}.\n\nThe trials are *Simulated years* "
             "on the Plan page, tab *Simulation*.", icon=":material/speed:")


def forecast_or_stop(token: str) -> Forecast:
    """The cached forecast; a scenario too large to simulate here gets the budget's message
    and the page stops there (the Plan page's inputs are drawn before, so they can be lowered)."""
    try:
        return compute.forecast(token)
    except WorkBudgetExceeded as exc:
        too_large(exc)
        st.stop()


def first_headline(slot, token: str) -> Forecast | None:
    """Fill ``slot`` (an ``st.empty``) with the headline at once: the forecast when it is ready
    (returned), else a first answer from the first trials, marked as such with its Monte Carlo
    error (None returned: call :func:`refined_headline` once the rest of the page is drawn)."""
    try:
        return draw_first_headline(slot, token)
    except WorkBudgetExceeded as exc:
        too_large(exc)
        st.stop()


#: Seconds the Plan page waits after drawing new numbers in its headline, before it draws its
#: inputs. Without it the server's event loop sends the headline together with the fifty-odd
#: input elements drawn right after it (the script holds the GIL), and the browser handles them
#: all before it shows the new probability. With it, the headline goes alone and is on screen
#: before the inputs arrive: slider → probability 267 and 272 → 192 and 199 ms median in
#: alternating runs of bench_browser.py, 260 and 348 → 214 and 201 ms with the browser and the
#: server on separate cores; 0.01 s was too short, 0.1 s delayed the SLA (5 December, 20:35).
HEADLINE_HEAD_START = 0.03


def headline_before_inputs(slot, token: str) -> Forecast | None:
    """:func:`draw_first_headline`, then, if its numbers are new to this session, a pause of
    :data:`HEADLINE_HEAD_START` for the headline to reach the screen before the inputs."""
    last = st.session_state.get("last-headline")
    forecast = draw_first_headline(slot, token)
    if not last or last[0] != token:
        time.sleep(HEADLINE_HEAD_START)
    return forecast


def draw_first_headline(slot, token: str) -> Forecast | None:
    """:func:`first_headline`, but a scenario too large to simulate here raises
    ``WorkBudgetExceeded`` (before anything is drawn) instead of stopping the page."""
    if compute.forecast_ready(token):
        forecast = compute.forecast(token)
        with slot.container():
            headline(forecast)
        return forecast
    first = compute.preview(token)
    with slot.container():
        headline(first, preliminary=True)
    return None


def refined_headline(slot, token: str) -> Forecast:
    """The whole forecast, in ``slot`` in place of the first answer."""
    forecast = forecast_or_stop(token)
    with slot.container():
        headline(forecast)
    return forecast


def targets_or_stop(token: str, confidence: float, *, before_stop=None):
    """The cached confidence search, with a spinner; a scenario whose goal cannot be reached,
    or too large to search here, gets its message and the page stops there (never a traceback),
    after ``before_stop()`` (e.g. the whole forecast in place of a first answer)."""
    try:
        with st.spinner(f"Searching the volumes for P(goal) ≥ {confidence:.0%}…"):
            return compute.targets(token, confidence)
    except WorkBudgetExceeded as exc:
        too_large(exc)
    except ScenarioError as exc:
        st.error(str(exc))
    if before_stop is not None:
        before_stop()
    st.stop()


def headline(forecast: Forecast, *, with_goal: bool = False, with_delta: bool = True,
             preliminary: bool = False) -> None:
    """P(goal) with its Monte Carlo error, expected revenue and the gap to the goal (and the
    goal itself, ``with_goal``); ``with_delta``: P(goal)'s change since the last scenario;
    ``preliminary``: a first answer from fewer trials than the scenario's (said so, with its
    error), to be replaced by the whole run's."""
    sc = forecast.scenario
    lo, hi = forecast.p_goal_ci.low, forecast.p_goal_ci.high
    last = st.session_state.get("last-headline")
    delta = None
    if with_delta and last and last[0] != state.token():
        delta = f"{100 * (forecast.p_goal - last[1]):+.1f} pts"
    if not preliminary and (not last or last[0] != state.token()):
        st.session_state["last-headline"] = (state.token(), forecast.p_goal)
    if with_goal:
        c0, c1, c2, c3 = st.columns(4)
        c0.metric("Goal", f"{sc.goal:,.0f}",
                  help=(f"Revenue in the period, of which {sc.baseline_revenue:,.0f} is already certain."
                        if sc.baseline_revenue else "Revenue in the period."))
    else:
        c1, c2, c3 = st.columns(3)
    c1.metric("Chance of hitting the goal", f"{forecast.p_goal:.1%}", delta=delta,
              help=f"Share of {forecast.trials:,} simulated years that reach the goal; 95% Monte Carlo "
                   f"interval {lo:.1%}–{hi:.1%}.")
    c2.metric("Expected revenue", f"{forecast.revenue.mean:,.0f}",
              help=f"P10 {forecast.revenue.p10:,.0f} · P50 {forecast.revenue.p50:,.0f} · "
                   f"P90 {forecast.revenue.p90:,.0f} (baseline included)")
    gap = forecast.gap
    c3.metric("Gap to goal (median year)" if gap > 0 else "Ahead of goal (median year)", f"{abs(gap):,.0f}",
              help=f"Goal {sc.goal:,.0f} minus the median simulated revenue {forecast.revenue.p50:,.0f}.")
    if preliminary:
        st.caption(f"First answer from the first {forecast.trials:,} of {sc.trials:,} trials: Monte Carlo error "
                   f"±{100 * (hi - lo) / 2:.1f} points (95%). Refining…")
    elif not with_goal:
        st.caption(f"Monte Carlo error: ±{100 * (hi - lo) / 2:.1f} points (95%), {forecast.trials:,} trials, "
                   f"seed {sc.seed}.")
