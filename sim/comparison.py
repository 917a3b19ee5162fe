"""Comparing scenarios: names for saved scenarios and the side-by-side tables (no Streamlit here).

The Scenarios page keeps saved scenarios under unique names (compared ignoring case and runs
of spaces; "Current" and "Demo" are taken by the two scenarios that are always there) and
compares any of them in two tables built here:

* :func:`outcome_table` — one row per scenario: goal, P(goal) with its 95% Monte Carlo
  interval, expected revenue and P10/P50/P90 (baseline included);
* :func:`volume_table` — one row per scenario: the factor on the top-of-funnel plan that
  gives the chosen confidence and the volume each stage must then reach in the period.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import replace

import pandas as pd

from .forecast import Forecast
from .markdown import escape_markdown
from .scenario import MAX_NAME, Scenario, file_stem, normalise_stage_name
from .targets import Targets

CURRENT = "Current"
DEMO = "Demo"
#: Names that saved scenarios cannot take: the two scenarios that are always available.
RESERVED = (CURRENT, DEMO)
DEFAULT_NAME = "Untitled scenario"

OUTCOME_COLUMNS = ("Goal", "P(goal)", "95% interval", "Expected revenue", "P10", "P50", "P90")
SCALE_COLUMN = "Plan ×"
NOTE_COLUMN = "Note"


# -- names ------------------------------------------------------------------------------------

def clean_name(text: str) -> str:
    """``text`` with surrounding space removed and inner runs of space folded to one."""
    return " ".join(str(text).split())


def name_key(name: str) -> str:
    """The key names are compared on: case-insensitive, spaces folded (as stage names are)."""
    return normalise_stage_name(name)


def is_taken(name: str, taken: Iterable[str]) -> bool:
    """Whether ``name`` equals one of ``taken`` or a reserved name, ignoring case and spaces."""
    keys = {name_key(t) for t in (*taken, *RESERVED)}
    return name_key(name) in keys


def unique_name(name: str, taken: Iterable[str], max_length: int = MAX_NAME) -> str:
    """``name`` (cleaned, at most ``max_length`` characters), or ``name (2)``, ``name (3)``, …
    if it is already taken (or reserved); an empty name becomes "Untitled scenario"."""
    base = clean_name(name)[:max_length].rstrip() or DEFAULT_NAME
    taken = list(taken)
    if not is_taken(base, taken):
        return base
    n = 2
    while True:
        suffix = f" ({n})"
        candidate = base[:max_length - len(suffix)].rstrip() + suffix
        if not is_taken(candidate, taken):
            return candidate
        n += 1


def renamed(scenario: Scenario, name: str) -> Scenario:
    """The same scenario under another name (the name is part of the scenario and its link)."""
    return scenario if scenario.name == name else replace(scenario, name=name)


def same_inputs(a: Scenario, b: Scenario) -> bool:
    """Whether two scenarios give the same numbers (everything equal but the name)."""
    return replace(a, name="") == replace(b, name="")


def find_same(scenario: Scenario, saved: Mapping[str, Scenario]) -> str | None:
    """The name of the first saved scenario with the same inputs as ``scenario``, if any."""
    return next((name for name, other in saved.items() if same_inputs(scenario, other)), None)


def json_file_name(name: str) -> str:
    """A safe file name for a scenario's JSON: ``Northwind — FY2027`` -> ``northwind-fy2027.json``."""
    return f"{file_stem(name)}.json"


# -- tables -----------------------------------------------------------------------------------

def outcome_table(forecasts: Mapping[str, Forecast]) -> pd.DataFrame:
    """One row per scenario (the index, in the given order): goal, P(goal) (a fraction) and its
    95% Monte Carlo interval (text, e.g. ``51.6%–52.9%``), expected revenue and its P10/P50/P90,
    baseline included."""
    rows = []
    for fc in forecasts.values():
        lo, hi = fc.p_goal_ci.low, fc.p_goal_ci.high
        r = fc.revenue
        rows.append((fc.scenario.goal, fc.p_goal, f"{lo:.1%}–{hi:.1%}", r.mean, r.p10, r.p50, r.p90))
    frame = pd.DataFrame(rows, columns=list(OUTCOME_COLUMNS), index=list(forecasts))
    frame.index.name = "Scenario"
    return frame


def merged_stage_names(stage_lists: Iterable[Iterable[str]]) -> list[str]:
    """Stage names of several funnels merged in funnel order, matched ignoring case and spaces
    (first spelling kept); a stage only one funnel has comes right after its predecessor."""
    merged: list[str] = []
    keys: list[str] = []
    for names in stage_lists:
        pos = -1
        for name in names:
            key = normalise_stage_name(name)
            if key in keys:
                pos = keys.index(key)
            else:
                pos += 1
                merged.insert(pos, name)
                keys.insert(pos, key)
    return merged


def _stage_column(name: str) -> str:
    """Stage columns are the stage names, kept apart from the table's own columns."""
    return f"{name} (stage)" if name_key(name) in {name_key(SCALE_COLUMN), name_key(NOTE_COLUMN)} else name


def volume_table(targets: Mapping[str, Targets | str]) -> pd.DataFrame:
    """One row per scenario (the index): the factor on its top-of-funnel plan that gives the
    targets' confidence (``Plan ×``) and the volume each stage must reach in the period under
    that plan (expected values). Stages of all scenarios, in funnel order; NaN where a scenario
    has no such stage. A value that is a string (an error message) gives a row of NaN with that
    message in ``Note``; a confidence out of reach is noted too."""
    names = merged_stage_names(
        [s.name for s in t.at_confidence.stages] for t in targets.values() if not isinstance(t, str))
    keys = [normalise_stage_name(n) for n in names]
    columns = [SCALE_COLUMN, *(_stage_column(n) for n in names)]
    rows, notes = [], []
    for t in targets.values():
        row = [math.nan] * len(columns)
        if isinstance(t, str):
            notes.append(t)
        else:
            plan = t.at_confidence
            row[0] = plan.scale
            for stage in plan.stages:
                row[1 + keys.index(normalise_stage_name(stage.name))] = stage.total
            notes.append("" if t.reachable else
                         f"{t.confidence:.0%} out of reach: ×{plan.scale:,.0f} gives {plan.p_goal:.0%}")
        rows.append(row)
    frame = pd.DataFrame(rows, columns=columns, index=list(targets), dtype=float)
    if any(notes):
        frame[NOTE_COLUMN] = notes
    frame.index.name = "Scenario"
    return frame


# -- messages ---------------------------------------------------------------------------------

def upload_error_markdown(file_name: str, problems: Iterable[str]) -> str:
    """The message for a scenario file that cannot be loaded: the file and every problem."""
    items = "\n".join(f"- {escape_markdown(p)}" for p in problems)
    return (f"**{escape_markdown(file_name)}** is not a valid scenario; nothing was changed.\n\n"
            f"{items}")
