"""The check-in's warning when a plan's stage names match no actuals (sim.model.stage_matching)."""

from __future__ import annotations

from sim.model.monthly_actuals import Actuals
from sim.model.scenario import Scenario
from sim.model.stage_matching import actual_stages_unmatched
from sim.present.markdown import escape_markdown as esc

SHOWN = 8


def unmatched_warning(scenario: Scenario, actuals: Actuals) -> str | None:
    """The message, or None when the plan's stages meet the actuals."""
    found = actual_stages_unmatched(scenario, actuals)
    if found is None:
        return None
    listed = ", ".join(f"“{esc(s)}”" for s in found[:SHOWN]) + (" …" if len(found) > SHOWN else "")
    mine = ", ".join(f"“{esc(s)}”" for s in scenario.stage_names)
    return (f"None of this plan's stages ({mine}) has actuals in its months; the actuals there are of {listed}. "
            "Stage names are matched ignoring case and spaces: rename the plan's stages on the Plan page (tab "
            "Stages) to the actuals' names, or import the file again mapping its columns to the plan's stages. "
            "Until then there is nothing to check in against.")
