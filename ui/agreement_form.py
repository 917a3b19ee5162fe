"""The agreement in the app: written on the Plan page, read on the Summary, its review and its
handoff on the Check-in and Actuals pages.

:func:`plan_part` writes the definitions, handoff rules and terms into the scenario document
``doc`` (as in the JSON file; the Plan page validates the result like every other input);
:func:`summary_part` shows the agreement as both heads would sign it; :func:`review_banner`
leads the Check-in page when the review is due; :func:`reset_inputs` asks why the agreement is
reset and when it is next reviewed; :func:`handoff_section` shows the monitored handoff.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import streamlit as st

from sim.model.agreement import (
    MAX_DAYS,
    MAX_SIGNATORY,
    MAX_TEXT,
    SIDES,
    default_review,
    month_name,
    owner_changes,
    review_month,
    review_status,
    starting_agreement,
)
from sim.model.months import label_of
from sim.model.names import fold_name
from sim.model.scenario import Scenario
from sim.present.agreement_text import handoff_table, rule_sentence, terms_lines, version_text
from sim.present.markdown import escape_markdown as esc
from ui import database as stores
from ui import state

#: Whether the Plan page's agreement part is open: ``st.session_state[AGREEMENT_KEY]``.
AGREEMENT_KEY = "plan-agreement"
_SIDE_LABELS = {"marketing": "Marketing", "sales": "Sales"}


# -- the Plan page ------------------------------------------------------------------------------

def plan_part(doc: dict, scenario: Scenario, key) -> None:
    """The "Agreement" part of the Plan page: definitions, handoff rules and terms."""
    # Its inputs run only while it is open (the document keeps the agreement as it is).
    part = st.expander("Agreement: definitions, handoff rules, review", expanded=False,
                       icon=":material/handshake:", key=AGREEMENT_KEY, on_change="rerun")
    if not part.open:
        return
    with part:
        if "agreement" not in doc:
            st.caption("Write down what qualifies a record for each stage, how leads pass from one side to the other "
                       "and when the agreement is reviewed: the Summary and the report then read as an agreement "
                       "both heads can sign, and the check-in measures the handoff.")
            if st.button("Write the agreement", key=key("agr-start"), icon=":material/edit_note:"):
                new = starting_agreement(scenario.stages, scenario.start, scenario.months)
                state.set_scenario(replace(scenario, agreement=new), external=True)
                st.rerun()
            return
        agreement = doc["agreement"]
        terms, definitions, rules = st.tabs(["Terms", "Definitions", "Handoff rules"])
        with terms:
            _terms(agreement, scenario, key)
        with definitions:
            _definitions(agreement, scenario, [str(s.get("name", "")) for s in doc["stages"]], key)
        with rules:
            _rules(agreement, scenario, key)


def _terms(agreement: dict, scenario: Scenario, key) -> None:
    signatories = dict(agreement.get("signatories") or {})
    cols = st.columns(2)
    for col, side in zip(cols, SIDES):
        text = col.text_input(f"Signs for {side}", value=signatories.get(side, ""), max_chars=MAX_SIGNATORY,
                              key=key(f"agr-sign-{side}"), placeholder="Name, role")
        if text.strip():
            signatories[side] = text
        else:
            signatories.pop(side, None)
    agreement["signatories"] = signatories
    months = list(scenario.month_labels)
    current = review_month(scenario.agreement, scenario.start, scenario.months) if scenario.agreement else \
        default_review(scenario.start, scenario.months)
    if current not in months:
        months = sorted({*months, current})
    picked = st.selectbox("Review after", months, index=months.index(current), format_func=month_name,
                          key=key("agr-review"),
                          help="The month whose actuals the review waits for (default: the middle of the period). "
                               "From then on, the Check-in page leads with the review, and its reset saves the next "
                               "version of the agreement.")
    if picked != current or agreement.get("review") is not None:
        agreement["review"] = picked        # a default review stays implicit until changed
    if scenario.agreement is not None:
        st.caption(esc(version_text(scenario.agreement)) + " A new version is saved by the Check-in page's reset.")
        if len(scenario.agreement.changes) > 1:
            st.caption("Change log: " + " · ".join(
                esc(f"v{c.version}" + (f" ({c.date})" if c.date else "") + (f": {c.note}" if c.note else ""))
                for c in scenario.agreement.changes))
    if st.button("Remove the agreement", key=key("agr-remove"), icon=":material/delete:",
                 help="The plan keeps its volumes; the definitions, rules and terms are dropped."):
        state.set_scenario(replace(scenario, agreement=None), external=True)
        st.rerun()


def _definitions(agreement: dict, scenario: Scenario, names: list[str], key) -> None:
    """One text per stage; ``names``: the stages as the document now names them (a stage renamed
    in this run keeps its definition)."""
    st.caption("What qualifies a record for each stage, in your words (e.g. “a lead with a score of at least 60 and "
               "a company e-mail”).")
    found = {}
    for k, stage in enumerate(scenario.stages):
        text = st.text_area(esc(stage.name), value=scenario.agreement.definition(stage.name) if scenario.agreement
                            else "", max_chars=MAX_TEXT, height=68, key=key(f"agr-def-{k}"))
        if text.strip() and k < len(names):
            found[names[k]] = text
    agreement["definitions"] = found


def _rules(agreement: dict, scenario: Scenario, key) -> None:
    changes = owner_changes(scenario.stages)
    have = {(r.get("from"), r.get("to")) for r in agreement.get("handoffs") or [] if isinstance(r, dict)}
    missing = [f"{a} → {b}" for a, b in changes if (a, b) not in have]
    if missing:
        st.warning("The owner changes without a handoff rule at " + esc(", ".join(missing)) + ".",
                   icon=":material/warning:")
    rules = list(agreement.get("handoffs") or [])
    keep = []
    for rule in rules:
        # Keyed by the rule's stages, not its position: removing a rule must not hand its inputs to the next.
        pair = f"{fold_name(rule.get('from', ''))}→{fold_name(rule.get('to', ''))}"
        with st.container(border=True):
            if _rule(rule, pair, key):
                keep.append(rule)
                said = next((h for h in (scenario.agreement.handoffs if scenario.agreement else ())
                             if f"{fold_name(h.from_stage)}→{fold_name(h.to_stage)}" == pair), None)
                if said is not None:
                    st.caption("In words: " + esc(rule_sentence(scenario, said)))
    agreement["handoffs"] = keep
    names = list(scenario.stage_names)
    with st.form(key("agr-add"), border=True):
        st.markdown("**Add a handoff rule**")
        c1, c2 = st.columns(2)
        first = c1.selectbox("From", names[:-1], key=key("agr-add-from"))
        second = c2.selectbox("To", names[1:], key=key("agr-add-to"))
        if st.form_submit_button("Add rule"):
            agreement["handoffs"] = keep + [{"from": first, "to": second, "response_days": 1, "acceptance_days": 5}]


def _rule(rule: dict, i: str, key) -> bool:
    """One rule's inputs; False when it is removed."""
    top = st.columns([6, 1], vertical_alignment="center")
    top[0].markdown(f"**{esc(str(rule.get('from')))} → {esc(str(rule.get('to')))}**")
    if top[1].button("✕", key=key(f"agr-rule-{i}-remove"), help="Remove this rule"):
        return False
    c1, c2, c3 = st.columns(3)
    rule["response_days"] = int(c1.number_input("Respond within (days)", 0, MAX_DAYS, int(rule.get("response_days", 1)),
                                                key=key(f"agr-rule-{i}-response")))
    share = c2.number_input("For at least (%)", 0.0, 100.0, 100 * float(rule.get("within_share", 1.0)), step=5.0,
                            format="%.0f", key=key(f"agr-rule-{i}-share"),
                            help="The share of records responded to in time that the rule asks for (100: every one).")
    rule["within_share"] = round(share / 100, 4)
    business = c3.checkbox("Business days", bool(rule.get("business_days", False)), key=key(f"agr-rule-{i}-business"),
                           help="Count Monday to Friday only.")
    rule["business_days"] = business
    c1, c2, c3 = st.columns(3)
    _optional(rule, "acceptance_days", c1.number_input(
        "Accept or reject within (days)", 0, MAX_DAYS, rule.get("acceptance_days"), key=key(f"agr-rule-{i}-accept"),
        help="The acceptance window; empty: none. After it, a record neither accepted nor rejected counts as never "
             "picked up."))
    never = c2.number_input("Never picked up at most (%)", 0.0, 100.0, 100 * float(rule.get("max_never", 0.0)),
                            step=1.0, format="%.0f", key=key(f"agr-rule-{i}-never"))
    rule["max_never"] = round(never / 100, 4)
    _optional(rule, "recycle_days", c3.number_input(
        "Rejected go back after (days)", 0, MAX_DAYS, rule.get("recycle_days"), key=key(f"agr-rule-{i}-recycle"),
        help="Rejected records are recycled to the other side after this many days; empty: not agreed."))
    c1, c2, c3 = st.columns(3)
    follow = rule.get("follow_up") or {}
    attempts = c1.number_input("Follow-up attempts", 1, 100, follow.get("attempts"), key=key(f"agr-rule-{i}-attempts"),
                               help="The minimum follow-up: this many attempts within the days next to it; empty: "
                                    "not agreed.")
    days = c2.number_input("… within (days)", 1, MAX_DAYS, follow.get("days"), key=key(f"agr-rule-{i}-fdays"))
    if attempts is not None and days is not None:
        rule["follow_up"] = {"attempts": int(attempts), "days": int(days)}
    else:
        rule.pop("follow_up", None)
    contact = c3.text_input("First-contact stage (actuals)", rule.get("contact_stage") or "", max_chars=40,
                            key=key(f"agr-rule-{i}-contact"),
                            help="When the CRM export has a first-contact date, import it as a stage of its own (e.g. "
                                 "“Contacted”) and name it here: a first contact then counts as a response.")
    _optional(rule, "contact_stage", contact.strip() or None)
    note = st.text_input("Note", rule.get("note", ""), max_chars=MAX_TEXT, key=key(f"agr-rule-{i}-note"),
                         placeholder="e.g. rejected MQLs go back to nurture with a reason")
    _optional(rule, "note", note.strip() or None)
    return True


def _optional(doc: dict, field: str, value) -> None:
    if value is None:
        doc.pop(field, None)
    else:
        doc[field] = int(value) if isinstance(value, float) and value.is_integer() else value


# -- the Summary --------------------------------------------------------------------------------

def summary_part(scenario: Scenario, today: date | None = None) -> None:
    """The agreement as both heads would sign it: the review, the handoff rules, the
    definitions and the terms (nothing without an agreement: a hint where to write one)."""
    agreement = scenario.agreement
    if agreement is None:
        st.caption("No agreement is written for this plan yet: the Plan page's “Agreement” part holds the stage "
                   "definitions, the handoff rules and the review date.")
        return
    due, sentence = review_status(agreement, scenario.start, scenario.months, label_of(today or date.today()))
    st.markdown("#### The agreement")
    if due:
        st.warning(esc(sentence.replace("Check the volumes and the handoff below, then save", "On the Check-in "
                                        "page, check the volumes and the handoff, then save")), icon=":material/event:")
    else:
        st.info(esc(sentence), icon=":material/event:")
    left, right = st.columns(2, gap="large")
    # Each heading with its list in one element: every element costs each viewer of a shared link.
    rules = ("\n".join(f"- **{esc(h.from_stage)} → {esc(h.to_stage)}**: {esc(rule_sentence(scenario, h))}"
                       for h in agreement.handoffs) if agreement.handoffs else ":gray[No handoff rule yet.]")
    left.markdown(f"**Handoff rules**\n\n{rules}\n\n**Terms**\n\n"
                  + "\n".join(f"- {esc(line)}" for line in terms_lines(scenario, agreement)))
    right.markdown("**Definitions: what qualifies a record for each stage**\n\n"
                   + "\n".join(f"- **{esc(s.name)}** ({s.owner}): {esc(agreement.definition(s.name) or '—')}"
                                for s in scenario.stages))


# -- the Check-in page --------------------------------------------------------------------------

def review_banner(scenario: Scenario, as_of: str) -> None:
    """"Time to review the agreement" when the actuals reach the review month; else when."""
    if scenario.agreement is None:
        return
    due, sentence = review_status(scenario.agreement, scenario.start, scenario.months, as_of)
    if due:         # an info callout, not a warning: a review is the plan working, not a fault
        head, rest = (part.strip() for part in sentence.split(":", 1))
        st.info(f"**{esc(head)}.** {esc(rest[:1].upper() + rest[1:])}", icon=":material/handshake:")
    else:
        st.caption(esc(sentence))


def reset_inputs(scenario: Scenario, months_left: tuple[str, ...], key: str) -> dict:
    """In the reset's save form, with an agreement: why it is reset (its change log) and the
    next review month; the keyword arguments of ``save_reset``."""
    if scenario.agreement is None or not months_left:
        return {}
    st.caption(f"Saves version {scenario.agreement.version + 1} of the agreement, linked to version "
               f"{scenario.agreement.version}.")
    note = st.text_input("Why the agreement is reset", max_chars=MAX_TEXT, key=f"{key}-note",
                         placeholder="e.g. leads below plan: marketing adds a webinar series")
    default = default_review(months_left[0], len(months_left))
    review = st.selectbox("Next review after", list(months_left), index=list(months_left).index(default),
                          format_func=month_name, key=f"{key}-review")
    return {"note": note.strip(), "review": review}


# -- the handoff, on the Check-in and Actuals pages -----------------------------------------------

def handoff_section(version: tuple, scenario: Scenario, as_of: str | None = None, segment: str | None = None) -> None:
    """The handoff rules measured on the records (up to ``as_of``) against the rule; the
    columns that would make a rule measurable when the records lack its dates."""
    if scenario.agreement is None or not scenario.agreement.handoffs:
        return
    report = stores.handoff(version, scenario.to_url_token(), as_of, segment)
    st.markdown("#### Handoff against the agreement")
    if report.months:
        for rule in scenario.agreement.handoffs:
            rows = [m for m in report.months if m.rule == rule]
            if not rows:
                continue
            missed = [m for m in rows if m.within_met is False or m.never_met is False]
            last = rows[-1]
            badge = (f":red-badge[{len(missed)} of {len(rows)} months missed the rule]" if missed
                     else f":green-badge[the rule is met in all {len(rows)} months]")
            st.markdown(f"**{esc(rule.from_stage)} → {esc(rule.to_stage)}** {badge}  \n"
                        f"{esc(rule_sentence(scenario, rule))}  \n{last.month}: {_pct(last.within_rule)} responded "
                        f"to in time, {_pct(last.never)} never picked up, {last.in_window:,} still inside their "
                        "window.")
        table = handoff_table(report.months)
        st.dataframe(table, hide_index=True, width="stretch", column_config={
            "Handoff": st.column_config.TextColumn(pinned=True),
            "In time": st.column_config.NumberColumn(format="percent"),
            "Never picked up": st.column_config.NumberColumn(format="percent")})
        st.caption(f"Records seen as of {report.as_of.isoformat()}, by the month they reached the first stage. In time: "
                   "the share responded to (handed on, rejected, or contacted when the rule names a first-contact "
                   "stage) within the response time, of those whose answer is known; median and P90: days to hand-on "
                   "of those handed on; never picked up: neither accepted nor rejected within the acceptance window, "
                   "of those whose window is over. Records still inside their window count in neither.")
    for note in report.notes:
        st.caption(esc(note))
    for gap in report.unmeasurable:
        st.info(esc(gap.message), icon=":material/info:")


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"
