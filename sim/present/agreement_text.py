"""The agreement in plain words, for the Summary, the report and the pages (no Streamlit here).

:func:`rule_sentence` says a handoff rule as both sides would sign it; :func:`terms_lines`
the period, review month, version and signatories; :func:`handoff_table` the monitored
handoff month by month against its rule (met / missed, by how much).
"""

from __future__ import annotations

import pandas as pd

from ..model.agreement import SIDES, Agreement, HandoffRule, month_name, review_month
from ..model.handoff import HandoffMonth
from ..model.names import fold_name
from ..model.scenario import Scenario

SIDE_NAMES = {"marketing": "Marketing", "sales": "Sales", "shared": "The team"}


def _share(x: float) -> str:
    return f"{x:.0%}"


def _owner(scenario: Scenario, stage: str) -> str:
    key = fold_name(stage)
    return next((s.owner for s in scenario.stages if fold_name(s.name) == key), "shared")


def rule_sentence(scenario: Scenario, rule: HandoffRule) -> str:
    """E.g. "Sales responds to 90% of MQLs within 2 business days (accepts them as SQLs or
    rejects them); every one is accepted or rejected within 10 business days (at most 10% left
    unanswered); at least 3 follow-up attempts within 10 days; rejected MQLs go back to
    marketing after 30 days."."""
    a, b = rule.from_stage, rule.to_stage
    taker = SIDE_NAMES[_owner(scenario, b)]
    giver = _owner(scenario, a)
    who = "all" if rule.within_share >= 1 else _share(rule.within_share) + " of"
    response = "contacts, accepts or rejects" if rule.contact_stage else "accepts or rejects"
    parts = [f"{taker} responds to {who} {a} within {rule.days_text(rule.response_days)} "
             f"({response} them; accepted ones become {b})"]
    if rule.acceptance_days is not None:
        left = "none left unanswered" if rule.max_never <= 0 else f"at most {_share(rule.max_never)} left unanswered"
        parts.append(f"every one is accepted or rejected within {rule.days_text(rule.acceptance_days)} ({left})")
    if rule.follow_up is not None:
        f = rule.follow_up
        parts.append(f"at least {f.attempts} follow-up attempt{'s' if f.attempts != 1 else ''} within "
                     f"{f.days} day{'s' if f.days != 1 else ''}")
    if rule.recycle_days is not None:
        back = SIDE_NAMES[giver].lower() if giver != "shared" else "the team"
        parts.append(f"rejected {a} go back to {back} after {rule.recycle_days} day{'s' if rule.recycle_days != 1 else ''}")
    text = "; ".join(parts) + "."
    return f"{text} {rule.note}" if rule.note else text


def terms_lines(scenario: Scenario, agreement: Agreement, *, signatories: bool = True) -> list[str]:
    """The period, the review, the version (and what it replaced), the signatories (unless
    the signature lines show them)."""
    first, last = scenario.month_labels[0], scenario.month_labels[-1]
    review = review_month(agreement, scenario.start, scenario.months)
    lines = [f"Period: {month_name(first)} to {month_name(last)}.",
             f"Review: after {month_name(review)}, once its actuals are in; the agreement is then reset "
             "for the rest of the period (a new version).",
             version_text(agreement)]
    for side in SIDES if signatories else ():
        who = agreement.signatory(side)
        lines.append(f"Signs for {side}: {who}." if who else f"Signs for {side}: (not named yet).")
    return lines


def version_text(agreement: Agreement) -> str:
    """E.g. "Version 2, replacing version 1 on 2027-07-02: reset at the mid-year check-in."."""
    entry = next((c for c in agreement.changes if c.version == agreement.version), None)
    text = f"Version {agreement.version}"
    if entry is not None:
        if entry.replaces is not None:
            text += f", replacing version {entry.replaces}"
        if entry.date:
            text += f" ({entry.date})"
        if entry.note:
            text += f": {entry.note}"
    return text + ("" if text.endswith(".") else ".")


def report_context(scenario: Scenario) -> dict | None:
    """What the one-page report shows of the agreement (None without one): the version and
    review, the handoff rules in words, the definitions, the terms, the signature lines."""
    a = scenario.agreement
    if a is None:
        return None
    review = review_month(a, scenario.start, scenario.months)
    return {
        "kicker": f"Sales & marketing agreement · version {a.version}",
        "review": f"Reviewed after {month_name(review)}",
        "rules": [{"title": f"{h.from_stage} → {h.to_stage}", "text": rule_sentence(scenario, h)} for h in a.handoffs],
        "definitions": [{"stage": s.name, "owner": SIDE_NAMES.get(s.owner, s.owner),
                         "text": a.definition(s.name) or "—"} for s in scenario.stages],
        "terms": terms_lines(scenario, a, signatories=False),
        "signatures": [{"side": SIDE_NAMES[side], "who": a.signatory(side)} for side in SIDES],
    }


def _days(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}".removesuffix(".0")


def handoff_table(months: tuple[HandoffMonth, ...] | list[HandoffMonth]) -> pd.DataFrame:
    """One row per rule and month: records, the share responded to in time and its verdict, the
    median and P90 days to hand-on, the share never picked up and its verdict, and the records
    still inside their window."""
    rows = []
    for m in months:
        r = m.rule
        rows.append({
            "Handoff": f"{r.from_stage} → {r.to_stage}", "Month": m.month, "Records": m.records,
            "In time": m.within_rule,
            "Rule: in time": f"≥ {_share(r.within_share)} within {r.days_text(r.response_days)}",
            "In time vs rule": m.within_verdict,
            "Median days": _days(m.median_days), "P90 days": _days(m.p90_days),
            "Never picked up": m.never,
            "Rule: never": "no window" if r.acceptance_days is None else
            f"≤ {_share(r.max_never)} after {r.days_text(r.acceptance_days)}",
            "Never vs rule": m.never_verdict,
            "Still in window": m.in_window})
    return pd.DataFrame(rows)
