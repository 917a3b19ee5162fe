"""Names of saved scenarios: unique, compared ignoring case and runs of spaces.

The Scenarios page keeps saved scenarios under unique names; "Current" and "Demo" are taken
by the two scenarios that are always there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from ..errors import ScenarioError
from .names import fold_name, name_problem, tidy_name
from .scenario import MAX_NAME, Scenario, file_stem

CURRENT = "Current"
DEMO = "Demo"
#: Names that saved scenarios cannot take: the two scenarios that are always available.
RESERVED = (CURRENT, DEMO)
DEFAULT_NAME = "Untitled scenario"

def is_taken(name: str, taken: Iterable[str]) -> bool:
    """Whether ``name`` equals one of ``taken`` or a reserved name, ignoring case and spaces."""
    keys = {fold_name(t) for t in (*taken, *RESERVED)}
    return fold_name(name) in keys


def unique_name(name: str, taken: Iterable[str], max_length: int = MAX_NAME) -> str:
    """``name`` (cleaned, at most ``max_length`` characters), or ``name (2)``, ``name (3)``, …
    if it is already taken (or reserved); an empty name becomes "Untitled scenario"."""
    base = tidy_name(name)[:max_length].rstrip() or DEFAULT_NAME
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
    """The same scenario under another name (the name is part of the scenario and its link);
    :class:`ScenarioError` for a name validation would refuse (empty, too long, control or
    invisible characters)."""
    if scenario.name == name:
        return scenario
    problem = "must be non-empty text" if not str(name).strip() else (
        f"must be at most {MAX_NAME} characters" if len(name) > MAX_NAME else name_problem(name))
    if problem:
        raise ScenarioError(f"the name {problem}")
    return replace(scenario, name=name)


def same_inputs(a: Scenario, b: Scenario) -> bool:
    """Whether two scenarios give the same numbers (everything equal but the name)."""
    return replace(a, name="") == replace(b, name="")


def find_same(scenario: Scenario, saved: Mapping[str, Scenario]) -> str | None:
    """The name of the first saved scenario with the same inputs as ``scenario``, if any."""
    return next((name for name, other in saved.items() if same_inputs(scenario, other)), None)


def json_file_name(name: str) -> str:
    """A safe file name for a scenario's JSON: ``Northwind — FY2027`` -> ``northwind-fy2027.json``."""
    return f"{file_stem(name)}.json"
