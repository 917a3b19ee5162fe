"""The command line's text for the agreement: the review reminder and the handoff table."""

from __future__ import annotations

from ..model.agreement import review_due, review_month
from ..model.scenario import Scenario
from ..present.agreement_text import handoff_table, review_status
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
    due, sentence = review_status(scenario, scenario.agreement, as_of)
    if due:
        sentence += " (--save NAME --note WHY saves it.)"
    return [sentence, ""]


def handoff_text(report) -> list[str]:
    """The handoff rules, month by month against the rule; and the rules not measurable."""
    if report.empty:
        return []
    out = [""]
    if report.months:
        frame = handoff_table(report.months)
        out.append(f"Handoff (records seen as of {report.as_of.isoformat()}): responded to in time and never "
                   "picked up, against the rule")
        out += table(["Handoff", "Month", "Records", "In time", "vs rule", "Median d", "P90 d", "Never", "vs rule",
                      "Waiting"],
                     [[r["Handoff"], r["Month"], f"{r['Records']:,}", _pct(r["In time"]), r["In time vs rule"],
                       r["Median days"], r["P90 days"], _pct(r["Never picked up"]), r["Never vs rule"],
                       f"{r['Still in window']:,}"] for r in frame.to_dict("records")])
    out += list(report.notes) + [u.message for u in report.unmeasurable]
    return out


def _pct(x) -> str:
    return "-" if x is None or x != x else f"{x:.0%}"
