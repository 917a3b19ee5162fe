"""The command line's text for the agreement: the review reminder and the handoff table."""

from __future__ import annotations

from ..model.agreement import review_due, review_month, review_status
from ..model.scenario import Scenario
from .rendering import table


def review_fields(scenario: Scenario, as_of: str) -> dict | None:
    """``agreement_review`` of ``checkin --json``: the review month, whether it is due as of
    ``as_of``, and the agreement's version (None without an agreement)."""
    a = scenario.agreement
    if a is None:
        return None
    return {"month": review_month(a, scenario.start, scenario.months),
            "due": review_due(a, scenario.start, scenario.months, as_of), "version": a.version}


def review_text(scenario: Scenario, as_of: str) -> list[str]:
    """"Time to review the agreement ..." when it is due, else when it is (the first lines)."""
    if scenario.agreement is None:
        return []
    due, sentence = review_status(scenario.agreement, scenario.start, scenario.months, as_of)
    if due:
        sentence += " (--save NAME --note WHY saves it.)"
    return [sentence, ""]


def handoff_text(report) -> list[str]:
    """The handoff rules, month by month against the rule; and the rules not measurable."""
    if report.empty:
        return []
    out = [""]
    if report.months:
        out.append(f"Handoff (records seen as of {report.as_of.isoformat()}): responded to in time and never "
                   "picked up, against the rule")
        out += table(["Handoff", "Month", "Records", "In time", "vs rule", "Median d", "P90 d", "Never", "vs rule",
                      "Waiting"],
                     [[f"{m.rule.from_stage} → {m.rule.to_stage}", m.month, f"{m.records:,}", _pct(m.within_rule),
                       m.within_verdict, _days(m.median_days), _days(m.p90_days), _pct(m.never), m.never_verdict,
                       f"{m.in_window:,}"] for m in report.months])
    out += list(report.notes) + [u.message for u in report.unmeasurable]
    return out


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def _days(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}".removesuffix(".0")
