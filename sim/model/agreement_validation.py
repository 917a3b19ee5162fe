"""Validation of a scenario's ``agreement`` section: every field checked, every problem
reported with its path (``agreement.handoffs[0].response_days must be >= 0 (got -1)``).

:func:`read_agreement` is called by :func:`sim.model.validation.scenario_from_dict` with the
scenario's stages (already read): definitions and rules must name them.
"""

from __future__ import annotations

from datetime import date

from .agreement import (
    MAX_CHANGES,
    MAX_DAYS,
    MAX_FOLLOW_UP_ATTEMPTS,
    MAX_SIGNATORY,
    MAX_TEXT,
    SIDES,
    Agreement,
    Change,
    FollowUp,
    HandoffRule,
)
from .months import parse_month
from .names import fold_name, name_problem, stage_name_problem, tidy_name
from .problems import Problems, describe

FIRST_YEAR, LAST_YEAR = 1900, 2999
_KEYS = {"version", "review", "signatories", "definitions", "handoffs", "changes"}
_RULE_KEYS = {"from", "to", "response_days", "business_days", "within_share", "acceptance_days", "max_never",
              "follow_up", "recycle_days", "note", "contact_stage"}
_CHANGE_KEYS = {"version", "replaces", "date", "note"}
MAX_VERSION = 10_000


def read_agreement(pr: Problems, data, stages) -> Agreement | None:
    """The agreement of a scenario document's ``agreement`` section (``stages``: the scenario's,
    or None when they are invalid: then the names are not checked against them)."""
    where = "agreement"
    if pr.mapping(data, where) is None:
        return None
    before = len(pr.items)
    pr.unknown_keys(data, _KEYS, where)
    version = pr.number(data, "version", where, default=1, minimum=1, maximum=MAX_VERSION, integer=True)
    review = _read_review(pr, data)
    signatories = _read_signatories(pr, data.get("signatories", {}))
    definitions = _read_definitions(pr, data.get("definitions", {}), stages)
    handoffs = _read_handoffs(pr, data.get("handoffs", []), stages)
    changes = _read_changes(pr, data.get("changes", []), version)
    if len(pr.items) > before or version is None:
        return None
    return Agreement(version=version, review=review, signatories=signatories, definitions=definitions,
                     handoffs=handoffs, changes=changes)


def _text(pr: Problems, value, where: str, limit: int, *, required: bool = False) -> str | None:
    """Text typed by a person: tidied (spaces folded); None (and a problem) when it is not
    text, too long, or holds control or invisible characters."""
    if not isinstance(value, str):
        pr.add(where, f"must be text, not {describe(value)}")
        return None
    text = tidy_name(value)
    if required and not text:
        pr.add(where, "must be non-empty text")
        return None
    if len(text) > limit:
        pr.add(where, f"must be at most {limit:,} characters (got {len(text):,})")
        return None
    problem = name_problem(text)
    if problem:
        pr.add(where, problem)
        return None
    return text


def _read_review(pr: Problems, data: dict) -> str | None:
    if "review" not in data:
        return None
    value = data["review"]
    parsed = parse_month(value)
    if parsed is None or not FIRST_YEAR <= parsed[0] <= LAST_YEAR:
        pr.add("agreement.review", "must be a month written YYYY-MM, e.g. \"2027-06\"")
        return None
    return value


def _read_signatories(pr: Problems, data) -> tuple[tuple[str, str], ...]:
    if pr.mapping(data, "agreement.signatories") is None:
        return ()
    out = []
    for side in data:
        where = f"agreement.signatories.{side}"
        if side not in SIDES:
            pr.add(where, f"is not a side (sides: {', '.join(SIDES)})")
            continue
        text = _text(pr, data[side], where, MAX_SIGNATORY)
        if text:
            out.append((side, text))
    return tuple(sorted(out, key=lambda p: SIDES.index(p[0])))


def _stage_index(stages) -> dict[str, int]:
    return {fold_name(s.name): i for i, s in enumerate(stages)}


def _stage_list(stages) -> str:
    return ", ".join(s.name for s in stages)


def _read_definitions(pr: Problems, data, stages) -> tuple[tuple[str, str], ...]:
    if pr.mapping(data, "agreement.definitions") is None:
        return ()
    index = _stage_index(stages) if stages is not None else None
    found: dict[int, tuple[str, str]] = {}
    for key, value in data.items():
        where = f"agreement.definitions[{key!r}]"
        text = _text(pr, value, where, MAX_TEXT)
        if index is None:
            continue
        i = index.get(fold_name(key))
        if i is None:
            pr.add(where, f"names no stage (stages: {_stage_list(stages)})")
        elif i in found:
            pr.add(where, f"repeats stage {stages[i].name!r} (names are case-insensitive)")
        elif text:
            found[i] = (stages[i].name, text)
    return tuple(found[i] for i in sorted(found))


def _read_handoffs(pr: Problems, data, stages) -> tuple[HandoffRule, ...]:
    if not isinstance(data, list):
        pr.add("agreement.handoffs", f"must be a list, not {describe(data)}")
        return ()
    limit = max(1, len(stages) * (len(stages) - 1) // 2) if stages else 66
    if len(data) > limit:
        pr.add("agreement.handoffs", f"must have at most {limit} rules (one per pair of stages)")
        return ()
    rules, seen = [], {}
    for i, rule in enumerate(data):
        read = _read_rule(pr, rule, f"agreement.handoffs[{i}]", stages)
        if read is None:
            continue
        pair = (fold_name(read.from_stage), fold_name(read.to_stage))
        if pair in seen:
            pr.add(f"agreement.handoffs[{i}]", f"repeats the rule {read.from_stage} → {read.to_stage} "
                                               f"(handoffs[{seen[pair]}])")
            continue
        seen[pair] = i
        rules.append(read)
    return tuple(rules)


def _read_end(pr: Problems, rule: dict, end: str, where: str, stages) -> tuple[str, int] | None:
    if end not in rule:
        pr.add(f"{where}.{end}", "is missing")
        return None
    name = rule[end]
    if not isinstance(name, str):
        pr.add(f"{where}.{end}", f"must be a stage name, not {describe(name)}")
        return None
    if stages is None:
        return None
    i = _stage_index(stages).get(fold_name(name))
    if i is None:
        pr.add(f"{where}.{end}", f"names no stage ({name!r}; stages: {_stage_list(stages)})")
        return None
    return stages[i].name, i


def _read_rule(pr: Problems, rule, where: str, stages) -> HandoffRule | None:
    if pr.mapping(rule, where) is None:
        return None
    before = len(pr.items)
    pr.unknown_keys(rule, _RULE_KEYS, where)
    first = _read_end(pr, rule, "from", where, stages)
    second = _read_end(pr, rule, "to", where, stages)
    if first and second and second[1] <= first[1]:
        pr.add(f"{where}.to", f"must be a stage after {first[0]!r} (the funnel's order: {_stage_list(stages)})")
    days = dict(minimum=0, maximum=MAX_DAYS, integer=True)
    response = pr.number(rule, "response_days", where, **days)
    business = rule.get("business_days", False)
    if not isinstance(business, bool):
        pr.add(f"{where}.business_days", f"must be true or false, not {describe(business)}")
    acceptance = pr.number(rule, "acceptance_days", where, required=False, **days)
    if acceptance is not None and response is not None and acceptance < response:
        pr.add(f"{where}.acceptance_days", f"must be at least response_days ({response}): a record is handed on "
                                           "before it is accepted")
    within = pr.number(rule, "within_share", where, default=1.0, minimum=0, maximum=1)
    never = pr.number(rule, "max_never", where, default=0.0, minimum=0, maximum=1)
    follow_up = _read_follow_up(pr, rule.get("follow_up"), f"{where}.follow_up") if "follow_up" in rule else None
    recycle = pr.number(rule, "recycle_days", where, required=False, **days)
    note = _text(pr, rule.get("note", ""), f"{where}.note", MAX_TEXT)
    contact = rule.get("contact_stage")
    if contact is not None:
        problem = stage_name_problem(contact) if isinstance(contact, str) else "must be a stage name"
        if problem:
            pr.add(f"{where}.contact_stage", problem)
        else:
            contact = tidy_name(contact)
    if len(pr.items) > before or first is None or second is None:
        return None
    return HandoffRule(first[0], second[0], response, business, acceptance, float(within), float(never),
                       follow_up, recycle, note, contact)


def _read_follow_up(pr: Problems, data, where: str) -> FollowUp | None:
    if pr.mapping(data, where) is None:
        return None
    pr.unknown_keys(data, {"attempts", "days"}, where)
    attempts = pr.number(data, "attempts", where, minimum=1, maximum=MAX_FOLLOW_UP_ATTEMPTS, integer=True)
    days = pr.number(data, "days", where, minimum=1, maximum=MAX_DAYS, integer=True)
    return None if attempts is None or days is None else FollowUp(attempts, days)


def _read_changes(pr: Problems, data, version: int | None) -> tuple[Change, ...]:
    if not isinstance(data, list):
        pr.add("agreement.changes", f"must be a list, not {describe(data)}")
        return ()
    if len(data) > MAX_CHANGES:
        pr.add("agreement.changes", f"must have at most {MAX_CHANGES} entries")
        return ()
    out: list[Change] = []
    for i, entry in enumerate(data):
        where = f"agreement.changes[{i}]"
        if pr.mapping(entry, where) is None:
            continue
        before = len(pr.items)
        pr.unknown_keys(entry, _CHANGE_KEYS, where)
        number = pr.number(entry, "version", where, minimum=1, maximum=MAX_VERSION, integer=True)
        replaces = pr.number(entry, "replaces", where, required=False, minimum=1, maximum=MAX_VERSION, integer=True)
        when = _read_date(pr, entry, where)
        note = _text(pr, entry.get("note", ""), f"{where}.note", MAX_TEXT)
        if number is not None:
            if version is not None and number > version:
                pr.add(f"{where}.version", f"must be at most the agreement's version ({version})")
            elif out and number <= out[-1].version:
                pr.add(f"{where}.version", f"must be after the entry before it (version {out[-1].version})")
            if replaces is not None and replaces >= number:
                pr.add(f"{where}.replaces", f"must be an earlier version than {number}")
        if len(pr.items) == before:
            out.append(Change(number, note or "", when, replaces))
    return tuple(out)


def _read_date(pr: Problems, entry: dict, where: str) -> str | None:
    if "date" not in entry:
        return None
    value = entry["date"]
    try:
        day = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        day = None
    if day is None or not FIRST_YEAR <= day.year <= LAST_YEAR:
        pr.add(f"{where}.date", "must be a date written YYYY-MM-DD, e.g. \"2027-07-01\"")
        return None
    return value
