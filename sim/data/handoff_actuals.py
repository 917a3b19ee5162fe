"""The agreement's handoff rules measured on the stored record-level actuals.

Each rule from stage A to stage B (:class:`~sim.model.agreement.HandoffRule`) is measured on
the records with a date for A (:func:`sim.data.record_facts.stage_facts`): the date they
reached B if they did, the day they were lost if they were lost without reaching B (rejected),
as of the last day the data covers (:func:`measure_stored_handoffs`; the maths in
:mod:`sim.model.handoff`). A rule whose stages have no record-level dates in the store (monthly
counts only, or no import with a date column for one of them) is listed as not measurable,
with the columns that would make it measurable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from ..model.agreement import HandoffRule
from ..model.handoff import HandoffMonth, measure_handoff
from ..model.months import first_day, label_of
from ..model.names import fold_name
from ..model.scenario import Scenario
from .record_facts import LOST, stage_facts
from .store import Store


@dataclass(frozen=True)
class Unmeasurable:
    """A rule the stored actuals cannot measure: ``missing``, the stages without record dates."""

    rule: HandoffRule
    missing: tuple[str, ...]

    @property
    def message(self) -> str:
        r = self.rule
        columns = " and ".join(f"'{s} date'" for s in (r.from_stage, r.to_stage))
        return (f"{r.from_stage} → {r.to_stage}: not measurable yet — no record-level dates for "
                f"{' and '.join(self.missing)}. Import a record-level CSV (one row per lead or deal, an id "
                f"column) with a date column for each of the two stages, e.g. {columns}; with an outcome column "
                f"(won / lost / open) and its close date, leads rejected in time count as handled.")

    def to_dict(self) -> dict:
        return {"from": self.rule.from_stage, "to": self.rule.to_stage, "missing": list(self.missing),
                "message": self.message}


@dataclass(frozen=True)
class HandoffReport:
    """Every rule's months (``months``, rule by rule in the agreement's order, then month),
    the rules that cannot be measured, ``as_of``: the last day the data covers (None when
    nothing could be measured), and ``notes``."""

    months: tuple[HandoffMonth, ...]
    unmeasurable: tuple[Unmeasurable, ...]
    as_of: date | None
    #: Sentences on what the figures cannot see (e.g. rejections, when no outcome is imported).
    notes: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.months and not self.unmeasurable

    def to_dict(self) -> dict:
        """The fields ``compare --json`` and ``checkin --json`` add: ``handoff`` (one object per
        rule and month) and ``handoff_not_measurable`` (the rules the actuals cannot measure)."""
        return {"handoff": [m.to_dict() for m in self.months],
                "handoff_not_measurable": [u.to_dict() for u in self.unmeasurable],
                "handoff_notes": list(self.notes)}


def measure_stored_handoffs(store: Store, scenario: Scenario, *, as_of: str | None = None,
                            segment: str | None = None) -> HandoffReport:
    """The scenario's handoff rules measured on the stored records (of ``segment``, or all),
    for the records that reached the rule's first stage in the scenario's months up to
    ``as_of`` ("YYYY-MM"; all of them when None), seen as of the end of ``as_of`` or the latest
    date in the data, whichever is earlier. No agreement, or no rules: an empty report."""
    rules = scenario.agreement.handoffs if scenario.agreement is not None else ()
    if not rules:
        return HandoffReport((), (), None)
    facts = stage_facts(store, segment=segment)
    dates: dict[str, dict[str, date]] = {}           # stage key -> record id -> date reached
    lost: dict[str, date] = {}
    with_outcome: set[str] = set()
    latest = None
    for f in facts:
        dates.setdefault(fold_name(f.stage), {})[f.record_id] = f.reached
        if f.outcome is not None:
            with_outcome.add(f.record_id)
        if f.outcome == LOST and f.closed is not None:
            lost[f.record_id] = f.closed
        for day in (f.reached, f.closed):
            if day is not None and (latest is None or day > latest):
                latest = day
    if as_of is not None:
        end = _last_day(as_of)
        latest = end if latest is None else min(latest, end)
    months = [m for m in scenario.month_labels if as_of is None or m <= as_of]
    found, unmeasurable, notes = [], [], []
    for rule in rules:
        a, b = dates.get(fold_name(rule.from_stage), {}), dates.get(fold_name(rule.to_stage), {})
        missing = tuple(s for s, d in ((rule.from_stage, a), (rule.to_stage, b)) if not d)
        if missing or latest is None:
            unmeasurable.append(Unmeasurable(rule, missing or (rule.from_stage, rule.to_stage)))
            continue
        ids = [r for r, day in a.items() if label_of(day) in months]
        if ids and rule.acceptance_days is not None and not with_outcome.intersection(ids):
            notes.append(f"{rule.from_stage} → {rule.to_stage}: the records carry no outcome (won / lost / open), so "
                         f"a rejection cannot be seen: a record in {rule.from_stage} not handed on counts as never "
                         "picked up. Import the export with its status column (lost, with its close date) to count "
                         "rejections in time as handled.")
        nat = np.datetime64("NaT", "D")
        found.extend(measure_handoff(
            rule,
            np.array([a[r] for r in ids], dtype="datetime64[D]"),
            np.array([b.get(r, nat) for r in ids], dtype="datetime64[D]"),
            np.array([nat if r in b else lost.get(r, nat) for r in ids], dtype="datetime64[D]"),
            np.datetime64(latest, "D"),
            np.array([label_of(a[r]) for r in ids], dtype=object),
            _contacts(rule, dates, ids)))
    return HandoffReport(tuple(found), tuple(unmeasurable), latest if found else None, tuple(notes))


def _contacts(rule: HandoffRule, dates: dict, ids: list[str]) -> np.ndarray | None:
    """The first-contact dates of ``ids`` (NaT where none), or None when the rule names no
    contact stage or the actuals have no dates for it."""
    if rule.contact_stage is None or not dates.get(fold_name(rule.contact_stage)):
        return None
    contacted = dates[fold_name(rule.contact_stage)]
    return np.array([contacted.get(r, np.datetime64("NaT", "D")) for r in ids], dtype="datetime64[D]")


def _last_day(label: str) -> date:
    start = first_day(label)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
