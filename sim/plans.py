"""Plans of record: a scenario saved with its forecast bands, to compare actuals against.

A saved plan keeps the scenario JSON, the seed and trials, the versions of the libraries
that computed it, P(goal), and the forecast's monthly mean/P10/P25/P50/P75/P90 per stage
(arrivals in the month and to date) and for revenue (booked in the month and cumulative).
Plans are never changed once saved; a reset plan (issue: check-in) links to its parent.
"""

from __future__ import annotations

import json
import platform
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from importlib import metadata

import numpy as np

from .engine import draw
from .errors import ScenarioError
from .forecast import DETAIL_TRIALS, Distribution, Forecast, distributions, summarise
from .scenario import Scenario, normalise_stage_name, scenario_from_json
from .store import SCHEMA_VERSION, Store
from .work_budget import check_run_budget

MAX_PLAN_NAME = 100
MEASURES = ("arrivals", "cumulative_arrivals", "revenue", "cumulative_revenue")


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


@dataclass(frozen=True)
class Band:
    """One stored band: ``measure`` of ``stage`` (None for revenue) in ``month``."""

    measure: str
    stage: str | None
    month: str
    dist: Distribution


def library_versions() -> dict:
    out = {"python": platform.python_version(), "store_schema": SCHEMA_VERSION}
    for package in ("numpy", "scipy", "duckdb"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "unknown"
    return out


def check_plan_name(name) -> str:
    """The plan name, tidied (spaces folded); ScenarioError when empty, too long or odd."""
    text = " ".join(str(name or "").split())
    if not text:
        raise ScenarioError("a plan needs a name")
    if len(text) > MAX_PLAN_NAME:
        raise ScenarioError(f"a plan name has at most {MAX_PLAN_NAME} characters")
    if any(unicodedata.category(ch)[0] == "C" for ch in text):
        raise ScenarioError("a plan name cannot contain control characters")
    return text


def plan_bands(scenario: Scenario, trials: int | None = None, seed: int | None = None) -> tuple[Forecast, list[Band]]:
    """Simulate ``scenario`` (its own trials and seed by default) and return the forecast and
    the bands a plan of record stores. The numbers equal ``simulate(scenario)``'s."""
    trials = scenario.trials if trials is None else int(trials)
    seed = scenario.seed if seed is None else int(seed)
    check_run_budget(scenario, trials=trials, detail_trials=DETAIL_TRIALS)
    draws = draw(scenario, trials=trials, seed=seed, detail_trials=DETAIL_TRIALS)
    forecast = summarise(scenario, draws, seed)
    T, K = scenario.months, len(scenario.stages)
    bands: list[Band] = []
    months = scenario.month_labels
    cumulative_stages: list[list[Distribution]] = []
    if draws.arrivals is not None and draws.arrivals.shape[0]:
        detail = np.cumsum(draws.arrivals[:, :K - 1, :], axis=2)      # (d, K-1, T)
        flat = distributions(detail.reshape(detail.shape[0], -1).T)
        cumulative_stages = [flat[k * T:(k + 1) * T] for k in range(K - 1)]
    cumulative_stages.append(distributions(np.cumsum(draws.revenue.new_customers[:T], axis=0)))
    for k, stage in enumerate(forecast.stages):
        for t, month in enumerate(months):
            bands.append(Band("arrivals", stage.name, month, stage.monthly[t]))
            bands.append(Band("cumulative_arrivals", stage.name, month, cumulative_stages[k][t]))
    for m in forecast.months:
        bands.append(Band("revenue", None, m.month, m.revenue))
        bands.append(Band("cumulative_revenue", None, m.month, m.cumulative))
    return forecast, bands


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
                     parent_id, _first_of(as_of), str(note or "")])
        cur.executemany("INSERT INTO plan_bands VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [[plan_id, b.measure, None if b.stage is None else normalise_stage_name(b.stage),
                          _first_of(b.month), b.dist.mean, b.dist.p10, b.dist.p25, b.dist.p50,
                          b.dist.p75, b.dist.p90] for b in bands])
    return SavedPlan(plan_id, name, saved_at, scenario, scenario.seed, scenario.trials, versions,
                     forecast.p_goal, parent_id, as_of, str(note or ""))


def list_plans(store: Store) -> list[SavedPlan]:
    """Every saved plan, newest first."""
    rows = store.cursor().execute(_SELECT + " ORDER BY id DESC").fetchall()
    return [_plan(r) for r in rows]


def load_plan(store: Store, name: str) -> SavedPlan:
    """The plan named ``name`` (spaces folded, case-insensitive when unambiguous)."""
    text = " ".join(str(name or "").split())
    cur = store.cursor()
    row = cur.execute(_SELECT + " WHERE name = ?", [text]).fetchone()
    if row is None:
        rows = cur.execute(_SELECT + " WHERE lower(name) = lower(?)", [text]).fetchall()
        row = rows[0] if len(rows) == 1 else None
    if row is None:
        names = [r[0] for r in cur.execute("SELECT name FROM plans ORDER BY id DESC LIMIT 10").fetchall()]
        known = f" (saved plans: {', '.join(names)})" if names else " (no plan is saved yet)"
        raise ScenarioError(f"there is no plan named '{text}'{known}")
    return _plan(row)


def load_plan_by_id(store: Store, plan_id: int) -> SavedPlan:
    row = store.cursor().execute(_SELECT + " WHERE id = ?", [int(plan_id)]).fetchone()
    if row is None:
        raise ScenarioError(f"there is no plan #{plan_id}")
    return _plan(row)


def stored_bands(store: Store, plan: SavedPlan, measure: str) -> list[Band]:
    """The stored bands of one measure, in stage then month order (stage display names)."""
    if measure not in MEASURES:
        raise ValueError(measure)
    names = {normalise_stage_name(s): s for s in plan.scenario.stage_names}
    order = {normalise_stage_name(s): i for i, s in enumerate(plan.scenario.stage_names)}
    rows = store.cursor().execute(
        "SELECT stage_key, strftime(month, '%Y-%m'), mean, p10, p25, p50, p75, p90 FROM plan_bands "
        "WHERE plan_id = ? AND measure = ? ORDER BY month", [plan.id, measure]).fetchall()
    rows.sort(key=lambda r: (order.get(r[0], -1), r[1]))
    return [Band(measure, names.get(r[0]) if r[0] is not None else None, r[1], Distribution(*r[2:]))
            for r in rows]


def all_bands(store: Store, plan: SavedPlan) -> list[Band]:
    """Every stored band of ``plan`` (all measures)."""
    return [b for measure in MEASURES for b in stored_bands(store, plan, measure)]


_SELECT = ("SELECT name, id, saved_at, scenario, seed, trials, versions, p_goal, parent_id, "
           "strftime(as_of, '%Y-%m'), note FROM plans")


def _plan(row) -> SavedPlan:
    name, plan_id, saved_at, scenario, seed, trials, versions, p_goal, parent_id, as_of, note = row
    return SavedPlan(plan_id, name, saved_at, scenario_from_json(scenario), int(seed), int(trials),
                     json.loads(versions), float(p_goal), parent_id, as_of, note)


def _first_of(month: str | None) -> date | None:
    if month is None:
        return None
    year, mon = (int(x) for x in str(month)[:7].split("-"))
    return date(year, mon, 1)
