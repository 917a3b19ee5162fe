"""The agreement: what the two sides sign besides the volumes (frozen dataclasses).

A plan's optional ``agreement`` holds, in the user's words, what qualifies a record for each
stage (**definitions**), the **handoff rules** where a record passes from one side to the
other (the response time, the acceptance window, the minimum follow-up, what happens to
rejected records), and the **terms**: the review month, who signs for each side, the version
and the change log (every reset is a new version linked to the one it replaces, with a note).

:mod:`sim.model.agreement_validation` reads one from a scenario document, checking every
field; :meth:`Agreement.to_dict` gives back the same document. The period is the scenario's
(``start`` and ``months``); the review month defaults to the middle of it (:func:`review_month`).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace

from .months import months_from, parse_month
from .names import fold_name

#: The sides that sign (a "shared" stage is owned by both).
SIDES = ("marketing", "sales")
MAX_DAYS = 365
MAX_TEXT = 500            # characters of a definition or a note
MAX_SIGNATORY = 120       # characters of a signatory ("Dana Ruiz, VP Marketing")
MAX_CHANGES = 100
MAX_FOLLOW_UP_ATTEMPTS = 100


@dataclass(frozen=True)
class FollowUp:
    """At least ``attempts`` contact attempts within ``days`` days."""

    attempts: int
    days: int

    def to_dict(self) -> dict:
        return {"attempts": self.attempts, "days": self.days}


@dataclass(frozen=True)
class HandoffRule:
    """Records reaching ``from_stage`` are handed on to ``to_stage`` (reach it) within
    ``response_days`` (business days, Monday to Friday, when ``business_days``), for at least
    ``within_share`` of them (1: every one); each is accepted (reaches ``to_stage``) or rejected
    (lost) within ``acceptance_days`` (None: no window), and at most ``max_never`` of them are
    left neither; ``follow_up``: the minimum follow-up; ``recycle_days``: rejected records go
    back to the first side after that many days (None: not agreed). A response is a hand-on,
    a rejection, or a first contact (the date of ``contact_stage`` in the actuals)."""

    from_stage: str
    to_stage: str
    response_days: int
    business_days: bool = False
    acceptance_days: int | None = None
    within_share: float = 1.0
    max_never: float = 0.0
    follow_up: FollowUp | None = None
    recycle_days: int | None = None
    note: str = ""
    #: A stage of the actuals (not of the funnel) whose date is a record's first contact, when
    #: the CRM export has one ("Contacted" from a "First contact" column): a response too.
    contact_stage: str | None = None

    @property
    def unit(self) -> str:
        return "business days" if self.business_days else "days"

    def days_text(self, n: int) -> str:
        """``n`` in the rule's unit: "1 business day", "5 days"."""
        word = "business day" if self.business_days else "day"
        return f"{n:,} {word}{'' if n == 1 else 's'}"

    def terms(self) -> dict:
        """The measurable part of the rule, as the handoff monitoring reports it."""
        return {"response_days": self.response_days, "business_days": self.business_days,
                "within_share": self.within_share, "acceptance_days": self.acceptance_days,
                "max_never": self.max_never, "contact_stage": self.contact_stage}

    def to_dict(self) -> dict:
        out: dict = {"from": self.from_stage, "to": self.to_stage, "response_days": self.response_days}
        if self.business_days:
            out["business_days"] = True
        if self.within_share != 1.0:
            out["within_share"] = self.within_share
        if self.acceptance_days is not None:
            out["acceptance_days"] = self.acceptance_days
        if self.max_never != 0.0:
            out["max_never"] = self.max_never
        if self.follow_up is not None:
            out["follow_up"] = self.follow_up.to_dict()
        if self.recycle_days is not None:
            out["recycle_days"] = self.recycle_days
        if self.contact_stage is not None:
            out["contact_stage"] = self.contact_stage
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Change:
    """One entry of the change log: ``version`` came into force on ``date`` ("YYYY-MM-DD", or
    None), replacing version ``replaces`` (None for the first), for the reason in ``note``."""

    version: int
    note: str = ""
    date: str | None = None
    replaces: int | None = None

    def to_dict(self) -> dict:
        out: dict = {"version": self.version}
        if self.replaces is not None:
            out["replaces"] = self.replaces
        if self.date is not None:
            out["date"] = self.date
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Agreement:
    """The agreement's text and terms (see the module's docstring). ``definitions``: (stage,
    what qualifies a record) in the funnel's order; ``signatories``: (side, who signs);
    ``review``: the review month "YYYY-MM" (None: the middle of the period)."""

    version: int = 1
    review: str | None = None
    signatories: tuple[tuple[str, str], ...] = ()
    definitions: tuple[tuple[str, str], ...] = ()
    handoffs: tuple[HandoffRule, ...] = ()
    changes: tuple[Change, ...] = ()

    def definition(self, stage: str) -> str:
        key = fold_name(stage)
        return next((text for name, text in self.definitions if fold_name(name) == key), "")

    def signatory(self, side: str) -> str:
        return dict(self.signatories).get(side, "")

    def to_dict(self) -> dict:
        out: dict = {"version": self.version}
        if self.review is not None:
            out["review"] = self.review
        if self.signatories:
            out["signatories"] = dict(self.signatories)
        if self.definitions:
            out["definitions"] = dict(self.definitions)
        if self.handoffs:
            out["handoffs"] = [h.to_dict() for h in self.handoffs]
        if self.changes:
            out["changes"] = [c.to_dict() for c in self.changes]
        return out


def default_review(start: str, months: int) -> str:
    """The middle of the period: the month after which half of it is behind (June of a year
    from January; the third month of six)."""
    return months_from(start, months)[(months - 1) // 2]


def review_month(agreement: Agreement, start: str, months: int) -> str:
    """The agreement's review month: its own, or the middle of the period."""
    return agreement.review or default_review(start, months)


def owner_changes(stages) -> list[tuple[str, str]]:
    """(from, to) of every pair of consecutive stages whose owner changes from one side to the
    other (marketing -> sales): where the agreement needs a handoff rule."""
    return [(a.name, b.name) for a, b in zip(stages, stages[1:])
            if a.owner != b.owner and {a.owner, b.owner} <= set(SIDES)]


def starting_agreement(stages, start: str, months: int) -> Agreement:
    """A first version to edit: a handoff rule at every change of owner (handed on within 1
    business day, accepted or rejected within 5), the review in the middle of the period."""
    rules = tuple(HandoffRule(a, b, response_days=1, business_days=True, acceptance_days=5)
                  for a, b in owner_changes(stages))
    return Agreement(version=1, review=default_review(start, months), handoffs=rules,
                     changes=(Change(1, note="first version"),))


def next_version(agreement: Agreement, *, note: str, date: str | None, review: str | None) -> Agreement:
    """The agreement's next version (a reset): the same text and rules, the version number
    one up, a change-log entry linked to the version it replaces, and the new review month."""
    new = agreement.version + 1
    entry = Change(new, note=note, date=date, replaces=agreement.version)
    return replace(agreement, version=new, review=review, changes=(*agreement.changes, entry)[-MAX_CHANGES:])


def review_due(agreement: Agreement, start: str, months: int, month: str) -> bool:
    """Whether the review is due as of ``month`` ("YYYY-MM", the actuals' last month): once the
    review month's actuals are in."""
    return month >= review_month(agreement, start, months)


def month_name(label: str) -> str:
    """"2027-06" -> "June 2027"."""
    year, month = parse_month(label)
    return f"{calendar.month_name[month]} {year}"


def review_status(agreement: Agreement, start: str, months: int, month: str) -> tuple[bool, str]:
    """(due, sentence) of the review as of ``month`` ("YYYY-MM": the check-in's as-of month,
    or this month): due once the review month's actuals are in."""
    review = review_month(agreement, start, months)
    if review_due(agreement, start, months, month):
        return True, (f"Time to review the agreement: the review was set for after {month_name(review)} "
                      f"(version {agreement.version}). Check the volumes and the handoff below, then save the "
                      "reset as the next version.")
    return False, f"The agreement (version {agreement.version}) is reviewed after {month_name(review)}."


def rename_in_document(agreement: dict, old: str, new: str) -> None:
    """Call stage ``old`` ``new`` in an agreement document's definitions and rules (the Plan
    page renames a stage in the scenario document; the agreement follows)."""
    key = fold_name(old)
    definitions = agreement.get("definitions")
    if isinstance(definitions, dict):
        agreement["definitions"] = {(new if fold_name(k) == key else k): v for k, v in definitions.items()}
    for rule in agreement.get("handoffs") or ():
        if isinstance(rule, dict):
            for end in ("from", "to"):
                if isinstance(rule.get(end), str) and fold_name(rule[end]) == key:
                    rule[end] = new


def remove_from_document(agreement: dict, stage: str) -> None:
    """Drop stage ``stage``'s definition and the rules from or to it from an agreement document."""
    key = fold_name(stage)
    definitions = agreement.get("definitions")
    if isinstance(definitions, dict):
        agreement["definitions"] = {k: v for k, v in definitions.items() if fold_name(k) != key}
    if isinstance(agreement.get("handoffs"), list):
        agreement["handoffs"] = [r for r in agreement["handoffs"] if not isinstance(r, dict) or key not in
                                 (fold_name(r.get("from", "")), fold_name(r.get("to", "")))]
