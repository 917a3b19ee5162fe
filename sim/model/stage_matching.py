"""Whether a plan's stages meet the actuals: stage names are matched case- and
space-insensitively; a plan none of whose stages has a count in its months checks in against
nothing (every stage "no data", the revenue alone deciding), which the check-in says instead."""

from __future__ import annotations

from .monthly_actuals import Actuals
from .names import fold_name
from .scenario import Scenario


def actual_stages_unmatched(scenario: Scenario, actuals: Actuals) -> tuple[str, ...] | None:
    """None when some stage of ``scenario`` has an actual count in its months (or no stage of
    the actuals has one there); else the actuals' stages that do, none of which the plan has."""
    months = set(scenario.month_labels)
    counted = [s for m, s, _ in actuals.counts if m in months]
    if not counted:
        return None
    planned = {fold_name(s) for s in scenario.stage_names}
    if any(fold_name(s) in planned for s in counted):
        return None
    return tuple(dict.fromkeys(counted))
