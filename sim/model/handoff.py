"""Monitoring a handoff rule from record dates: per month, how the handoff went against the rule.

For a rule "records reaching stage A are handed on to stage B within N days" (see
:class:`~sim.model.agreement.HandoffRule`), each record that reached A on day ``a`` may have
reached B on day ``b`` (handed on) or been lost on day ``r`` without reaching B (rejected).
Everything is seen as of day ``D`` (the last day the data covers): a date after ``D`` is not
known yet. Days are calendar days, or business days (Monday to Friday: the weekdays after
``a`` up to and including ``b``) when the rule says so; a ``b`` before ``a`` counts 0.

Per month of reaching A:

* **within rule**: the share responded to within N days, of the records whose response is
  known: responded to (handed on, rejected, or, when the rule names a contact stage,
  contacted) within N days by ``D``, or more than N days past ``a`` by the day after ``D``
  without one (no later response could be in time). A record still inside its response time
  counts in neither the share nor its denominator; a late response counts as missed.
* **median / P90 days**: of the records handed on by ``D`` (linear interpolation between
  order statistics, numpy's and pandas' default).
* **never**: with an acceptance window of M days, the share neither handed on nor rejected
  within M days, of the records whose window is over or who were handled in it; records still
  inside their window are counted apart (``in_window``).

Each is compared with the rule: within rule at least its ``within_share``, never at most its
``max_never``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .agreement import HandoffRule

_EPS = 1e-12


@dataclass(frozen=True)
class HandoffMonth:
    """The handoff ``rule`` for the ``records`` that reached its first stage in ``month``:
    ``within_rule`` (share, None when no record's outcome is known yet), ``median_days`` and
    ``p90_days`` of the ``handed_on`` ones (None when none), ``never`` (share, None without an
    acceptance window or with no window over), ``in_window``: records still inside their
    acceptance window (or response time, without one) and not handled yet."""

    rule: HandoffRule
    month: str
    records: int
    handed_on: int
    within_rule: float | None
    median_days: float | None
    p90_days: float | None
    never: float | None
    in_window: int

    @property
    def within_met(self) -> bool | None:
        return None if self.within_rule is None else self.within_rule + _EPS >= self.rule.within_share

    @property
    def never_met(self) -> bool | None:
        return None if self.never is None else self.never <= self.rule.max_never + _EPS

    @property
    def within_verdict(self) -> str:
        """"met", "met (N pts above)", "missed by N pts" or "not known yet"."""
        return _verdict(self.within_rule, self.within_met, self.rule.within_share, "above")

    @property
    def never_verdict(self) -> str:
        """As :attr:`within_verdict` for the share never picked up ("no window" without one)."""
        if self.rule.acceptance_days is None:
            return "no window"
        return _verdict(self.never, self.never_met, self.rule.max_never, "below")

    def to_dict(self) -> dict:
        return {"from": self.rule.from_stage, "to": self.rule.to_stage, "month": self.month,
                "records": self.records, "handed_on": self.handed_on, "within_rule": self.within_rule,
                "median_days": self.median_days, "p90_days": self.p90_days, "never": self.never,
                "in_window": self.in_window, "rule": self.rule.terms(),
                "within_met": self.within_met, "never_met": self.never_met}


def _verdict(value: float | None, met: bool | None, target: float, word: str) -> str:
    if value is None or met is None:
        return "not known yet"
    gap = 100 * abs(value - target)
    if met:
        return "met" if gap < 0.5 else f"met ({gap:.0f} pts {word})"
    return f"missed by {gap:.0f} pts"


def elapsed_days(start: np.ndarray, end: np.ndarray, business: bool) -> np.ndarray:
    """Days from ``start`` to ``end`` (datetime64[D] arrays of one length): calendar days, or
    the weekdays after ``start`` up to and including ``end``; never below 0."""
    if business:
        days = np.busday_count(start + 1, end + 1)
    else:
        days = (end - start).astype("int64")
    return np.maximum(days, 0)


def measure_handoff(rule: HandoffRule, reached: np.ndarray, handed: np.ndarray, rejected: np.ndarray,
                    as_of_day: np.datetime64, months: np.ndarray, contacted: np.ndarray | None = None) -> list[HandoffMonth]:
    """The rule's figures per month (see the module's docstring). One entry per record:
    ``reached`` (day it reached the rule's first stage), ``handed`` (day it reached the second,
    NaT if never), ``rejected`` (day it was lost without reaching the second, NaT if not),
    ``contacted`` (day of its first contact, NaT if none; None: not recorded), all
    datetime64[D]; ``months``: the "YYYY-MM" label of each ``reached``. Months in order, those
    with records only."""
    day = np.datetime64(as_of_day, "D")
    reached = np.asarray(reached, dtype="datetime64[D]")
    keep = ~np.isnat(reached) & (reached <= day)
    reached = reached[keep]
    months = np.asarray(months, dtype=object)[keep]

    def days_to(events) -> tuple[np.ndarray, np.ndarray]:
        """(happened by the as-of day, days from reaching to it: 0 where it did not happen)."""
        events = np.asarray(events, dtype="datetime64[D]")[keep]
        happened = ~np.isnat(events) & (events <= day)
        return happened, elapsed_days(reached, np.where(happened, events, reached), rule.business_days)

    is_handed, days = days_to(handed)
    is_rejected, rejected_days = days_to(rejected)
    responses = [(is_handed, days), (is_rejected, rejected_days)]
    if contacted is not None:
        responses.append(days_to(contacted))
    first = np.min([np.where(h, d, np.iinfo(np.int64).max) for h, d in responses], axis=0)
    responded = first < np.iinfo(np.int64).max
    past = elapsed_days(reached, np.full(reached.shape, day + 1), rule.business_days)
    within = responded & (first <= rule.response_days)
    response_known = within | (past > rule.response_days)
    if rule.acceptance_days is not None:
        window = rule.acceptance_days
        handled = (is_handed & (days <= window)) | (is_rejected & (rejected_days <= window))
        over = past > window
        never_known, never, waiting = handled | over, ~handled & over, ~handled & ~over
    else:
        never_known = never = None
        waiting = ~response_known
    out = []
    for month in sorted(set(months.tolist())):
        m = months == month
        n_known = int(response_known[m].sum())
        spans = days[m & is_handed]
        median, p90 = (float(v) for v in np.percentile(spans, [50, 90])) if spans.size else (None, None)
        share_never = None
        if never_known is not None and never_known[m].any():
            share_never = float(never[m].sum() / never_known[m].sum())
        out.append(HandoffMonth(rule, month, int(m.sum()), int(is_handed[m].sum()),
                                float(within[m].sum() / n_known) if n_known else None,
                                median, p90, share_never, int(waiting[m].sum())))
    return out
