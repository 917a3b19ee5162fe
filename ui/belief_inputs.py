"""Typed belief inputs of the Plan page: a conversion rate in any of its four forms (or with the
range slider), the deal value, the top-of-funnel plan (a volume with growth, or one number per
month), and the open pipeline at the start with its lag.

Each function reads the scenario document ``doc`` (as in the JSON file) and writes the user's
values back into it only when the user applies new values: showing a belief in another form
changes nothing (the conversions are :mod:`sim.model.belief_forms`'). Typed values sit in a
form: all the fields of a form are applied at once, with Enter or the *Apply* button (one
rerun). A typed value that is not valid is explained next to its field and added to
``problems``; the page then keeps the last valid scenario.
"""

from __future__ import annotations

import math

import streamlit as st

from sim import ScenarioError
from sim.model import belief_forms as forms
from sim.model import editing
from sim.model.beliefs import RateBelief
from sim.model.names import fold_name
from sim.model.scenario import MAX_VOLUME, Scenario
from sim.present.markdown import escape_markdown as plain
from ui import kept_choices
from ui.scenario_callbacks import applying

SLIDER = "slider"
RATE_CHOICES = (forms.RANGE, forms.MEAN, forms.COUNTS, forms.FIXED, SLIDER)
_RATE_LABELS = {forms.RANGE: "P10–P90", forms.MEAN: "Mean & strength", forms.COUNTS: "N of M seen",
                forms.FIXED: "Fixed", SLIDER: "Slider"}
_RATE_MAXES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
_TOP_LABELS = {"constant": "Per month, with growth", "monthly": "One number per month"}
_PER_ROW = 4                     # month fields per row
_DEAL_LABELS = {"range": "Median & P90", "fixed": "Fixed value"}


# Module-level label functions (not lambdas): widget options must pickle, as session state must.
def rate_choice_label(choice: str) -> str:
    return _RATE_LABELS[choice]


def top_choice_label(choice: str) -> str:
    return _TOP_LABELS[choice]


def deal_choice_label(choice: str) -> str:
    return _DEAL_LABELS[choice]


def _percent(x: float | None) -> float | None:
    return None if x is None else _rounded(100.0 * x)


def _rounded(x: float | None) -> float | None:
    """A value as a field shows it: 6 significant digits (63.15, not 63.149999999999999)."""
    return None if x is None else float(f"{x:.6g}")


def _fraction(x: float | None) -> float | None:
    return None if x is None else float(f"{x / 100.0:.12g}")


def _report(exc: ScenarioError, where: str, problems: list[str]) -> None:
    message = f"{where}: {exc}"
    st.error(message)                   # next to the input ...
    problems.append(message)            # ... and the page keeps the last valid scenario


# -- conversion rates ---------------------------------------------------------------------------
def rate(entry: dict, belief: RateBelief, key, where: str, problems: list[str], *, stage: int) -> None:
    """The rate belief of one stage: the form to type it in, its fields, the belief in words.

    ``entry`` is the document of the scenario's stage number ``stage`` (its ``rate`` is replaced
    when new values are applied), ``key(name)`` makes widget keys, ``where`` names the
    conversion in messages."""
    choice = st.radio("Belief as", RATE_CHOICES,
                      index=kept_choices.index(key("form"), RATE_CHOICES, RATE_CHOICES.index(forms.rate_form(belief))),
                      horizontal=True, format_func=rate_choice_label, key=key("form"),
                      on_change=kept_choices.keep, args=(key("form"),),
                      help="The same belief in other words: switching changes nothing until you apply "
                           "new values. P10–P90: 8 times in 10 the rate is between the two. Mean & "
                           "strength: the strength is how many observations the belief is worth. "
                           "N of M seen: M tried, N converted (e.g. 4238 of 6711). Fixed: no "
                           "uncertainty.")
    if choice == SLIDER:
        _rate_slider(entry, belief, key, stage)
    else:
        _typed_rate(entry, belief, choice, key, where, problems)
    if entry["rate"] != belief.to_dict():          # applied in this run: say what it is now
        try:
            belief = forms.rate_belief(entry["rate"])
        except ScenarioError:
            pass                                   # the page says what is wrong with it
    note = belief.describe()
    if choice == forms.COUNTS and not forms.counts_are_exact(belief):
        note += " · no counts give this belief exactly: the nearest are shown"
    st.caption(f"Now: {note}")


_FIELD_LABELS = {"p10": "P10 (%)", "p90": "P90 (%)", "mean": "Mean (%)", "strength": "Strength",
                 "successes": "Converted (N)", "trials": "Tried (M)", "fixed": "Rate (%)"}
_PERCENT_FIELDS = {"p10", "p90", "mean", "fixed"}


def _typed_rate(entry: dict, belief: RateBelief, form: str, key, where: str, problems: list[str]) -> None:
    fields = forms.RATE_FIELDS[form]
    shown = {n: (_percent(v) if n in _PERCENT_FIELDS else _rounded(v))
             for n, v in forms.rate_in_form(belief, form).items()}
    typed = {}
    with st.form(key(f"form-{form}"), border=False, enter_to_submit=True):
        columns = st.columns(len(fields) + 1, vertical_alignment="bottom")
        for column, name in zip(columns, fields):
            if name in _PERCENT_FIELDS:
                typed[name] = column.number_input(
                    _FIELD_LABELS[name], min_value=0.0, max_value=100.0, value=shown[name],
                    step=0.1, format="%g", key=key(f"{form}-{name}"))
            else:
                typed[name] = column.number_input(
                    _FIELD_LABELS[name], min_value=0.0, max_value=forms.MAX_COUNT, value=shown[name],
                    step=1.0, format="%g", key=key(f"{form}-{name}"))
        applied = columns[-1].form_submit_button("Apply", key=key(f"{form}-apply"))
    if not applied:
        return
    if all(_same(typed[n], shown[n]) for n in fields):
        return                           # nothing typed: the belief stays as it is
    values = {n: (_fraction(v) if n in _PERCENT_FIELDS else v) for n, v in typed.items()}
    try:
        entry["rate"] = forms.rate_document(form, values)
    except ScenarioError as exc:
        _report(exc, where, problems)


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)


def _rate_max(p90: float) -> float:
    return next((m for m in _RATE_MAXES if m >= 2 * p90), 1.0)


def _rate_slider(entry: dict, belief: RateBelief, key, stage: int) -> None:
    if key("max") not in st.session_state:          # the slider's range, kept once chosen
        st.session_state[key("max")] = _rate_max(float(belief.ppf(0.9)))
    top = st.session_state[key("max")]
    step = top / 1000
    start = _slider_start(belief, top)
    picked = st.slider(
        "Conversion rate: 8 times in 10 between", 100 * step, 100 * top,
        (100 * start[0], 100 * start[1]), step=100 * step, format="%.2f%%",
        help="The P10 and P90 of your belief about the rate; drag both ends together for a rate "
             "known exactly.", **applying(key("rate"), set_slider_rate, stage, top))
    _slider_rate(entry, picked, start)


def _slider_start(belief: RateBelief, top: float) -> tuple[float, float]:
    """Where the rate slider (0 to ``top`` in 1,000 steps) shows ``belief``: its P10 and P90."""
    step = top / 1000
    lo, hi = (round(float(v) / step) * step for v in belief.ppf([0.1, 0.9]))
    return min(max(lo, step), top), min(max(hi, step), top)


def _slider_rate(entry: dict, picked: tuple[float, float], start: tuple[float, float]) -> None:
    """The slider's P10 and P90 (in %) as the stage's rate, if moved from ``start`` (where it
    showed the stage's belief)."""
    picked = (round(picked[0] / 100, 10), round(picked[1] / 100, 10))
    if picked != (round(start[0], 10), round(start[1], 10)):
        entry["rate"] = editing.rate_from_range(*picked)


def set_slider_rate(scenario: Scenario, doc: dict, picked: tuple[float, float], stage: int, top: float) -> None:
    """The rate slider's edit of stage number ``stage`` (ui.scenario_callbacks)."""
    _slider_rate(doc["stages"][stage], picked, _slider_start(scenario.stages[stage].rate, top))


# -- deal value ----------------------------------------------------------------------------------
def deal_value(doc: dict, key, problems: list[str]) -> None:
    """The deal value: typed median and P90 (or one fixed value), and the kind of revenue."""
    deal = doc["deal"]
    fixed = float(deal["p90"]) == float(deal["median"])
    choice = st.radio("Deal value as", tuple(_DEAL_LABELS), horizontal=True,
                      index=kept_choices.index(key("deal-form"), tuple(_DEAL_LABELS), 1 if fixed else 0),
                      format_func=deal_choice_label, key=key("deal-form"),
                      on_change=kept_choices.keep, args=(key("deal-form"),))
    with st.form(key(f"deal-{choice}"), border=False, enter_to_submit=True):
        if choice == "range":
            c1, c2, c3 = st.columns([4, 4, 2], vertical_alignment="bottom")
            median = c1.number_input("Typical deal (median)", min_value=0.0, value=float(deal["median"]),
                                     step=1_000.0, format="%.0f", key=key("deal-median"))
            p90 = c2.number_input("Large deal (1 in 10 above)", min_value=0.0, value=float(deal["p90"]),
                                  step=1_000.0, format="%.0f", key=key("deal-p90"),
                                  help="The P90 of the deal value; equal to the median for a fixed value.")
        else:
            c1, c3 = st.columns([8, 2], vertical_alignment="bottom")
            median = c1.number_input("Every deal's value", min_value=0.0, value=float(deal["median"]),
                                     step=1_000.0, format="%.0f", key=key("deal-fixed"))
            p90 = median
        applied = c3.form_submit_button("Apply", key=key(f"deal-{choice}-apply"))
    if applied and (median, p90) != (float(deal["median"]), float(deal["p90"])):
        try:
            doc["deal"] = forms.deal_document(median, p90, deal["kind"])
        except ScenarioError as exc:
            _report(exc, "Deal value", problems)


# -- top of the funnel ---------------------------------------------------------------------------
def top_of_funnel(doc: dict, scenario: Scenario, key, problems: list[str]) -> None:
    """The top stage's plan: a volume per month with growth, or one number per month."""
    top, first = doc["top"], scenario.stages[0].name
    st.markdown(f"**{plain(first)}** (top of the funnel)")
    choice = st.radio("Plan as", tuple(_TOP_LABELS), horizontal=True,
                      index=kept_choices.index(key("top-form"), tuple(_TOP_LABELS), 0 if "per_month" in top else 1),
                      format_func=top_choice_label, key=key("top-form"),
                      on_change=kept_choices.keep, args=(key("top-form"),),
                      help="Switching changes nothing until you apply: a constant with growth cannot "
                           "hold a seasonal plan, so applying it replaces the months' numbers.")
    noise = float(top.get("noise_cv", 0.1))
    if choice == "constant":
        per_month, growth = forms.top_as_constant(scenario.top)
        per_month, growth = _rounded(per_month), _fraction(_rounded(100 * growth))
        with st.form(key("top-constant"), border=False, enter_to_submit=True):
            c1, c2, c3 = st.columns([4, 4, 2], vertical_alignment="bottom")
            typed = c1.number_input(f"{plain(first)} per month", min_value=0.0, max_value=MAX_VOLUME,
                                    value=per_month, step=500.0, format="%g", key=key("top-volume"))
            typed_growth = c2.number_input("Growth per month (%)", min_value=-100.0, max_value=1000.0,
                                           value=100 * growth, step=0.1, format="%g", key=key("top-growth"))
            applied = c3.form_submit_button("Apply", key=key("top-constant-apply"))
        if applied and not (_same(typed, per_month) and _same(typed_growth / 100, growth)):
            doc["top"] = {"per_month": float(typed), "growth": typed_growth / 100, "noise_cv": noise}
    else:
        shown = [_rounded(v) for v in forms.top_as_monthly(scenario.top)]
        with st.form(key("top-monthly-form"), border=False, enter_to_submit=True):
            values = []
            for row in range(0, scenario.months, _PER_ROW):
                columns = st.columns(_PER_ROW)
                for column, t in zip(columns, range(row, min(row + _PER_ROW, scenario.months))):
                    values.append(column.number_input(
                        scenario.month_labels[t], min_value=0.0, max_value=MAX_VOLUME, value=shown[t],
                        step=100.0, format="%g", key=key(f"top-m{t}")))
            applied = st.form_submit_button("Apply", key=key("top-monthly-apply"))
        if applied and ("monthly" not in top or any(not _same(a, b) for a, b in zip(values, shown))):
            try:
                doc["top"] = forms.monthly_document(values, noise, scenario.months)
            except ScenarioError as exc:
                _report(exc, f"{first} plan", problems)
    cv = st.slider("Month-to-month variation (%)", 0, 50, int(round(100 * noise)),
                   help="How far a real month strays from plan (coefficient of variation).",
                   **applying(key("top-noise"), set_noise))
    set_noise(scenario, doc, cv)


def set_noise(_scenario, doc: dict, cv: int) -> None:
    """The month-to-month variation in %, if moved: else the noise keeps its every digit (e.g.
    0.123 fitted)."""
    if cv != int(round(100 * float(doc["top"].get("noise_cv", 0.1)))):
        doc["top"]["noise_cv"] = cv / 100


# -- open pipeline at the start -------------------------------------------------------------------
def open_pipeline(doc: dict, scenario: Scenario, key, problems: list[str]) -> None:
    """Open pipeline at the start for every stage but the last (customers already won are the
    baseline revenue), with the lag in which it moves on to the next stage."""
    st.markdown("**Open at the start** — units already in a stage when the period begins, and when "
                "they move on (by default, as the next stage's own lag)")
    counts = scenario.pipeline_counts()
    own_lags = {fold_name(n): lag for n, lag in scenario.pipeline_lags}
    names = [entry["name"] for entry in doc["stages"]]      # as renamed in this run, if they were
    pipeline, lags = {}, {}
    for j, stage in enumerate(scenario.stages[:-1]):
        following = scenario.stages[j + 1]
        c1, c2 = st.columns([2, 3])
        count = c1.number_input(f"Open {plain(stage.name)}", min_value=0, max_value=int(MAX_VOLUME),
                                value=int(counts[j]), step=1, key=key(f"p{j}-count"))
        shown = editing.lag_to_text(scenario.pipeline_lag(j))
        text = c2.text_input(f"Reach {plain(following.name)} after 0/1/2… months (%)", value=shown,
                             key=key(f"p{j}-lag"),
                             help=f"When the open {plain(stage.name)} reach {plain(following.name)}: "
                                  "e.g. 30/50/20. The next stage's own lag unless changed.")
        if count:
            pipeline[names[j]] = int(count)
        own = own_lags.get(fold_name(stage.name))
        if text.strip() != shown:
            try:
                lags[names[j]] = editing.lag_from_text(text, where=f"Open {stage.name}: arrival months")
            except ScenarioError as exc:
                st.error(str(exc))
                problems.append(str(exc))
        elif own is not None:
            lags[names[j]] = list(own)
    doc["start_pipeline"] = pipeline
    if lags:
        doc["start_pipeline_lag"] = lags
    else:
        doc.pop("start_pipeline_lag", None)
