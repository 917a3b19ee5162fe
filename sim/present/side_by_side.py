"""Scenarios side by side: the tables of the Scenarios page (no Streamlit here).

Any saved scenarios (see :mod:`sim.model.scenario_names`) are set side by side in two tables:

* :func:`outcome_table` — one row per scenario: goal, P(goal) with its 95% Monte Carlo
  interval, expected revenue and P10/P50/P90 (baseline included);
* :func:`volume_table` — one row per scenario: the factor on the top-of-funnel plan that
  gives the chosen confidence and the volume each stage must then reach in the period.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import pandas as pd

from ..model.forecast import Forecast
from ..model.names import fold_name
from ..model.targets import Targets
from .markdown import escape_markdown

OUTCOME_COLUMNS = ("Goal", "P(goal)", "95% interval", "Expected revenue", "P10", "P50", "P90")
SCALE_COLUMN = "Plan ×"
NOTE_COLUMN = "Note"


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
            key = fold_name(name)
            if key in keys:
                pos = keys.index(key)
            else:
                pos += 1
                merged.insert(pos, name)
                keys.insert(pos, key)
    return merged


def _stage_column(name: str) -> str:
    """Stage columns are the stage names, kept apart from the table's own columns."""
    return f"{name} (stage)" if fold_name(name) in {fold_name(SCALE_COLUMN), fold_name(NOTE_COLUMN)} else name


def volume_table(targets: Mapping[str, Targets | str]) -> pd.DataFrame:
    """One row per scenario (the index): the factor on its top-of-funnel plan that gives the
    targets' confidence (``Plan ×``) and the volume each stage must reach in the period under
    that plan (expected values). Stages of all scenarios, in funnel order; NaN where a scenario
    has no such stage. A value that is a string (an error message) gives a row of NaN with that
    message in ``Note``; a confidence out of reach is noted too."""
    names = merged_stage_names(
        [s.name for s in t.at_confidence.stages] for t in targets.values() if not isinstance(t, str))
    keys = [fold_name(n) for n in names]
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
                row[1 + keys.index(fold_name(stage.name))] = stage.total
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
