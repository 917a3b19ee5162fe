"""Which stage a column or a long-form row names: a stage the database or the scenario knows
(matched ignoring case and spaces), or a new stage with an acceptable name (the one stage-name
rule, :func:`sim.model.names.stage_name_problem`, which the scenario's names obey too)."""

from __future__ import annotations

from ...model.names import STAGE_NAME_RULE, fold_name, stage_name_problem, tidy_name
from ...model.problems import Problems

RESERVED = {"month": "month", "revenue": "revenue"}


class StageNames:
    """The stages an import can name: the database's (``db_stages``, key -> name), the
    scenario's, and the new ones this import adds (all in ``known``)."""

    def __init__(self, cur, scenario_stages: tuple[str, ...], problems: Problems):
        self.problems = problems
        known = cur.execute("SELECT key, name FROM stages ORDER BY position").fetchall()
        self.db_stages = {k: n for k, n in known}
        self.known = dict(self.db_stages)
        for s in scenario_stages:
            if fold_name(s) in self.known:
                continue
            problem = stage_name_problem(s)
            if problem:     # a validated scenario never has one; a caller of the library might
                self.problems.add(f"the scenario's stage '{tidy_name(s)}' {problem}")
                continue
            self.known[fold_name(s)] = tidy_name(s)

    def resolve(self, name: str, where: str) -> tuple[str, str] | None:
        """(key, display name) of a stage named ``name``; a new stage when unknown."""
        display = tidy_name(name)
        key = fold_name(display)
        if key in RESERVED:
            self.problems.add(f"{where}: '{display}' is reserved and cannot be a stage name")
            return None
        if key in self.known:
            return key, self.known[key]
        if stage_name_problem(display):
            self.problems.add(f"{where}: '{display}' is not a known stage, and a new stage name must be "
                              f"{STAGE_NAME_RULE}")
            return None
        self.known[key] = display
        return key, display
