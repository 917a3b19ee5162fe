"""Plans of record: a scenario saved with its forecast bands, to compare actuals against.

A saved plan keeps the scenario JSON, the seed and trials, the versions of the libraries
that computed it, P(goal), and the forecast's monthly mean/P10/P25/P50/P75/P90 per stage
(arrivals in the month and to date) and for revenue (booked in the month and cumulative).
Plans are never changed once saved; a reset plan (issue: check-in) links to its parent.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata

from ..errors import ScenarioError
from ..model.bands import MEASURES, Band, plan_bands
from ..model.forecast import Distribution
from ..model.months import MONTH_FORMAT, first_day
from ..model.names import fold_name, name_problem, tidy_name
from ..model.scenario import Scenario
from ..model.scenario_io import scenario_from_json
from .store import SCHEMA_VERSION, Store

MAX_PLAN_NAME = 100


@dataclass(frozen=True)
class SavedPlan:
    id: int
    name: str
    saved_at: datetime
    scenario: Scenario
    seed: int
    trials: int
    versions: dict
    p_goal: float
    parent_id: int | None = None
    as_of: str | None = None
    note: str = ""

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "saved_at": self.saved_at.isoformat(timespec="seconds"),
                "scenario": self.scenario.name, "start": self.scenario.start, "months": self.scenario.months,
                "goal": self.scenario.goal, "seed": self.seed, "trials": self.trials,
                "p_goal": self.p_goal, "parent_id": self.parent_id, "as_of": self.as_of,
                "note": self.note, "versions": self.versions}


def library_versions() -> dict:
    out = {"python": platform.python_version(), "store_schema": SCHEMA_VERSION}
    for package in ("numpy", "scipy", "duckdb"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "unknown"
    return out


def check_plan_name(name) -> str:
    """The plan name, tidied (spaces folded); ScenarioError when empty, too long or holding
    control or invisible characters (:func:`~sim.model.names.name_problem`)."""
    text = tidy_name(name or "")
    if not text:
        raise ScenarioError("a plan needs a name")
    if len(text) > MAX_PLAN_NAME:
        raise ScenarioError(f"a plan name has at most {MAX_PLAN_NAME} characters")
    problem = name_problem(text)
    if problem:
        raise ScenarioError(f"a plan name {problem}")
    return text


def save_plan(store: Store, scenario: Scenario, name: str, *, parent_id: int | None = None,
              as_of: str | None = None, note: str = "") -> SavedPlan:
    """Simulate ``scenario`` with its own trials and seed and save it as plan ``name``."""
    name = check_plan_name(name)
    forecast, bands = plan_bands(scenario)
    versions = library_versions()
    with store.transaction() as cur:
        if cur.execute("SELECT count(*) FROM plans WHERE name = ?", [name]).fetchone()[0]:
            raise ScenarioError(f"a plan named '{name}' already exists: plans of record are never "
                                f"overwritten, choose another name")
        if parent_id is not None and not cur.execute("SELECT count(*) FROM plans WHERE id = ?",
                                                      [parent_id]).fetchone()[0]:
            raise ScenarioError(f"there is no plan #{parent_id} to link to")
        plan_id = cur.execute("SELECT coalesce(max(id), 0) + 1 FROM plans").fetchone()[0]
        saved_at = datetime.now().replace(microsecond=0)
        cur.execute("INSERT INTO plans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [plan_id, name, saved_at, scenario.to_json(indent=None), scenario.seed,
                     scenario.trials, json.dumps(versions, sort_keys=True), forecast.p_goal,
                     parent_id, first_day(as_of), str(note or "")])
        cur.executemany("INSERT INTO plan_bands VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [[plan_id, b.measure, None if b.stage is None else fold_name(b.stage),
                          first_day(b.month), b.dist.mean, b.dist.p10, b.dist.p25, b.dist.p50,
                          b.dist.p75, b.dist.p90] for b in bands])
    return SavedPlan(plan_id, name, saved_at, scenario, scenario.seed, scenario.trials, versions,
                     forecast.p_goal, parent_id, as_of, str(note or ""))


def list_plans(store: Store) -> list[SavedPlan]:
    """Every saved plan this version can read, newest first (a plan whose scenario breaks a
    rule added after it was saved, e.g. the stage-name rule, is left out: see
    :func:`unreadable_plans`)."""
    rows = store.cursor().execute(_SELECT + " ORDER BY id DESC").fetchall()
    plans = []
    for row in rows:
        try:
            plans.append(_plan(row))
        except ScenarioError:
            continue
    return plans


def unreadable_plans(store: Store) -> list[str]:
    """A sentence for each saved plan this version cannot read (newest first), saying why."""
    out = []
    for row in store.cursor().execute(_SELECT + " ORDER BY id DESC").fetchall():
        try:
            _plan(row)
        except ScenarioError as exc:
            out.append(f"plan #{row[1]} '{row[0]}' cannot be read by this version: {exc}")
    return out


def load_plan(store: Store, plan: str | int) -> SavedPlan:
    """The one loader of a saved plan: by id (an ``int``), or by name (a ``str``: spaces
    folded, and compared like every name (:func:`fold_name`) when that is unambiguous)."""
    cur = store.cursor()
    if isinstance(plan, int):
        row = cur.execute(_SELECT + " WHERE id = ?", [plan]).fetchone()
        if row is None:
            raise ScenarioError(f"there is no plan #{plan}")
        return _plan(row)
    text = tidy_name(plan or "")
    row = cur.execute(_SELECT + " WHERE name = ?", [text]).fetchone()
    if row is None:
        rows = [r for r in cur.execute(_SELECT).fetchall() if fold_name(r[0]) == fold_name(text)]
        row = rows[0] if len(rows) == 1 else None
    if row is None:
        names = [r[0] for r in cur.execute("SELECT name FROM plans ORDER BY id DESC LIMIT 10").fetchall()]
        known = f" (saved plans: {', '.join(names)})" if names else " (no plan is saved yet)"
        raise ScenarioError(f"there is no plan named '{text}'{known}")
    return _plan(row)


def stored_bands(store: Store, plan: SavedPlan, measure: str) -> list[Band]:
    """The stored bands of one measure, in stage then month order (stage display names)."""
    if measure not in MEASURES:
        raise ValueError(measure)
    names = {fold_name(s): s for s in plan.scenario.stage_names}
    order = {fold_name(s): i for i, s in enumerate(plan.scenario.stage_names)}
    rows = store.cursor().execute(
        f"SELECT stage_key, strftime(month, '{MONTH_FORMAT}'), mean, p10, p25, p50, p75, p90 FROM plan_bands "
        "WHERE plan_id = ? AND measure = ? ORDER BY month", [plan.id, measure]).fetchall()
    rows.sort(key=lambda r: (order.get(r[0], -1), r[1]))
    return [Band(measure, names.get(r[0]) if r[0] is not None else None, r[1], Distribution(*r[2:]))
            for r in rows]


def all_bands(store: Store, plan: SavedPlan) -> list[Band]:
    """Every stored band of ``plan`` (all measures)."""
    return [b for measure in MEASURES for b in stored_bands(store, plan, measure)]


_SELECT = ("SELECT name, id, saved_at, scenario, seed, trials, versions, p_goal, parent_id, "
           f"strftime(as_of, '{MONTH_FORMAT}'), note FROM plans")


def _plan(row) -> SavedPlan:
    name, plan_id, saved_at, scenario, seed, trials, versions, p_goal, parent_id, as_of, note = row
    return SavedPlan(plan_id, name, saved_at, scenario_from_json(scenario), int(seed), int(trials),
                     json.loads(versions), float(p_goal), parent_id, as_of, note)


def delete_plan(store: Store, plan_id: int) -> list[str]:
    """Delete plan of record ``plan_id`` with its check-ins (the plans saved as its resets, and
    theirs) and their stored bands, in one transaction; their names, the plan's first."""
    with store.transaction() as cur:
        rows = cur.execute(
            """WITH RECURSIVE tree(id, depth) AS (
                   SELECT id, 0 FROM plans WHERE id = ?
                   UNION SELECT p.id, t.depth + 1 FROM plans p JOIN tree t ON p.parent_id = t.id)
               SELECT t.id, p.name FROM tree t JOIN plans p ON p.id = t.id ORDER BY t.depth, t.id""",
            [int(plan_id)]).fetchall()
        if not rows:
            raise ScenarioError(f"there is no plan #{plan_id}: it may have been deleted already")
        ids = [i for i, _ in rows]
        cur.execute("DELETE FROM plan_bands WHERE plan_id IN (SELECT unnest(?::INTEGER[]))", [ids])
        cur.execute("DELETE FROM plans WHERE id IN (SELECT unnest(?::INTEGER[]))", [ids])
        cur.execute("DELETE FROM demo_content WHERE kind = 'plan' AND item_id IN (SELECT unnest(?::INTEGER[]))",
                    [ids])
    return [n for _, n in rows]
