"""Which stage a column or a long-form row names: a stage the database or the scenario knows
(matched ignoring case and spaces), or a new stage with an acceptable name."""

from __future__ import annotations

import re

from ...model.names import fold_name, tidy_name
from ...model.problems import Problems
from ...model.scenario import MAX_STAGE_NAME

RESERVED = {"month": "month", "revenue": "revenue"}
_NEW_STAGE_RE = re.compile(r"^[\w][\w &/().'#+-]*$")


class StageNames:
    """The stages an import can name: the database's (``db_stages``, key -> name), the
    scenario's, and the new ones this import adds (all in ``known``)."""

    def __init__(self, cur, scenario_stages: tuple[str, ...], problems: Problems):
        self.problems = problems
        known = cur.execute("SELECT key, name FROM stages ORDER BY position").fetchall()
        self.db_stages = {k: n for k, n in known}
        self.known = dict(self.db_stages)
        for s in scenario_stages:
            self.known.setdefault(fold_name(s), tidy_name(s))

    def resolve(self, name: str, where: str) -> tuple[str, str] | None:
        """(key, display name) of a stage named ``name``; a new stage when unknown."""
        display = tidy_name(name)
        key = fold_name(display)
        if key in RESERVED:
            self.problems.add(f"{where}: '{display}' is reserved and cannot be a stage name")
            return None
        if key in self.known:
            return key, self.known[key]
        if len(display) > MAX_STAGE_NAME or not _NEW_STAGE_RE.match(display):
            self.problems.add(f"{where}: '{display}' is not a known stage, and a new stage name must be at "
                              f"most {MAX_STAGE_NAME} characters of letters, digits, spaces and - & / ( ) . ' # +, "
                              f"starting with a letter or digit")
            return None
        self.known[key] = display
        return key, display
