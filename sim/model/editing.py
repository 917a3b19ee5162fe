"""Edits of a scenario, as the Plan page makes them: each returns a new, validated scenario
(or raises :class:`ScenarioError` naming the problem)."""

from __future__ import annotations

import re

from ..errors import ScenarioError
from . import agreement as agreement_document
from .names import fold_name
from .scenario import MAX_STAGES, Scenario
from .validation import scenario_from_dict

DEFAULT_NEW_RATE = {"mean": 0.5, "strength": 20}


def edited(scenario: Scenario, **fields) -> Scenario:
    """The scenario with top-level fields replaced (as in the JSON document)."""
    data = scenario.to_dict()
    data.update(fields)
    return scenario_from_dict(data)


def with_months(scenario: Scenario, months: int) -> Scenario:
    """Change the horizon; a month-by-month top plan is cut or extended with its last value."""
    data = scenario.to_dict()
    resize_horizon(data, months)
    return scenario_from_dict(data)


def resize_horizon(doc: dict, months: int) -> None:
    """Set ``months`` in a scenario document, cutting or extending (with its last value) a
    month-by-month top-of-funnel plan to match."""
    doc["months"] = months
    top = doc["top"]
    if "monthly" in top:
        values = list(top["monthly"])[:months]
        values += [values[-1] if values else 0.0] * (months - len(values))
        top["monthly"] = values


def add_stage(scenario: Scenario, position: int, name: str, owner: str = "shared") -> Scenario:
    """Insert a new stage at ``position`` (1 .. number of stages), converting from the stage
    before it at 50% (uncertain), in the same month."""
    data = scenario.to_dict()
    if len(data["stages"]) >= MAX_STAGES:
        raise ScenarioError(f"a funnel has at most {MAX_STAGES} stages")
    if not 1 <= position <= len(data["stages"]):
        raise ScenarioError("a new stage goes after the top of the funnel")
    data["stages"].insert(position, {"name": name, "owner": owner, "rate": dict(DEFAULT_NEW_RATE),
                                     "lag": [1.0]})
    return scenario_from_dict(data)


def remove_stage(scenario: Scenario, index: int) -> Scenario:
    """Remove stage ``index`` (not the top of the funnel; at least two stages remain). Its
    open pipeline (and its lag) goes with it; the next stage then converts from the stage before."""
    data = scenario.to_dict()
    if index == 0:
        raise ScenarioError("the top of the funnel cannot be removed")
    if len(data["stages"]) <= 2:
        raise ScenarioError("a funnel needs at least two stages")
    removed = data["stages"].pop(index)
    pipeline = data.get("start_pipeline", {})
    key = fold_name(removed["name"])
    pipeline = {k: v for k, v in pipeline.items() if fold_name(k) != key}
    last = fold_name(data["stages"][-1]["name"])
    pipeline = {k: v for k, v in pipeline.items() if fold_name(k) != last}
    data["start_pipeline"] = pipeline
    lags = {k: v for k, v in data.get("start_pipeline_lag", {}).items() if fold_name(k) not in (key, last)}
    data.pop("start_pipeline_lag", None)
    if lags:
        data["start_pipeline_lag"] = lags
    if isinstance(data.get("agreement"), dict):
        agreement_document.remove_from_document(data["agreement"], removed["name"])
    return scenario_from_dict(data)


def rename_stage(scenario: Scenario, index: int, name: str) -> Scenario:
    data = scenario.to_dict()
    rename_in_document(data, index, name)
    return scenario_from_dict(data)


def rename_in_document(doc: dict, index: int, name: str) -> None:
    """Rename stage ``index`` in a scenario document; its open pipeline (and that pipeline's lag)
    follows the name."""
    old = fold_name(doc["stages"][index]["name"])
    doc["stages"][index]["name"] = name
    pipeline = doc.get("start_pipeline", {})
    doc["start_pipeline"] = {(name if fold_name(k) == old else k): v for k, v in pipeline.items()}
    if "start_pipeline_lag" in doc:
        doc["start_pipeline_lag"] = {(name if fold_name(k) == old else k): v
                                     for k, v in doc["start_pipeline_lag"].items()}
    if isinstance(doc.get("agreement"), dict):
        agreement_document.rename_in_document(doc["agreement"], old, name)


def rate_from_range(p10: float, p90: float) -> dict:
    """The rate document for "8 times in 10 between p10 and p90" (fixed when equal)."""
    if p10 > p90:
        p10, p90 = p90, p10
    if p10 == p90:
        return {"fixed": p10}
    return {"p10": p10, "p90": p90}


_SEPARATORS = re.compile(r"[\s/,;]+")


def lag_from_text(text: str, where: str = "lag") -> list[float]:
    """Parse "30/50/20" (percent arriving after 0, 1, 2 months) into probabilities."""
    parts = [p for p in _SEPARATORS.split(text.replace("%", " ").strip()) if p]
    if not parts:
        raise ScenarioError(f"{where}: give the percent arriving after 0, 1, 2… months, e.g. 30/50/20")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ScenarioError(f"{where}: {text!r} is not a list of percentages like 30/50/20") from None
    if any(v < 0 for v in values) or any(v != v for v in values):
        raise ScenarioError(f"{where}: percentages cannot be negative")
    if abs(sum(values) - 100) > 0.5:
        raise ScenarioError(f"{where}: the percentages must add up to 100 (they add up to {sum(values):g})")
    total = sum(values)
    return [v / total for v in values]


_STAGE_PATH = re.compile(r"stages\[(\d+)\](\.rate)?")


def in_words(problem: str, doc: dict) -> str:
    """A validation message with ``stages[i].rate`` paths replaced by the stage's name, as the
    user sees it (e.g. "Leads conversion rate.p10 must be > 0")."""
    stages = doc.get("stages") if isinstance(doc, dict) else None

    def name(match):
        i = int(match.group(1))
        label = stages[i].get("name", f"stage {i + 1}") if stages and i < len(stages) else f"stage {i + 1}"
        return f"{label} conversion rate" if match.group(2) else str(label)
    return _STAGE_PATH.sub(name, problem)


def lag_to_text(lag) -> str:
    return "/".join(f"{100 * p:.4g}" for p in lag)
