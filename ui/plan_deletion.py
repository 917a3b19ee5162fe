"""Deleting a plan of record from the Actuals page: editors only, with its check-ins (the plans
saved as its resets), after a confirmation; the actuals stay."""

from __future__ import annotations

import streamlit as st

from sim.data.plans import SavedPlan, delete_plan
from sim.errors import PlannerError
from sim.present.markdown import escape_markdown as esc
from ui import access
from ui import database as stores

CONFIRM = "actuals-delete-confirm"


def check_ins(plan: SavedPlan, plans: list[SavedPlan]) -> list[SavedPlan]:
    """The plans saved as check-ins (resets) of ``plan``, and theirs, in the order saved."""
    found, frontier = [], {plan.id}
    while frontier:
        step = [p for p in plans if p.parent_id in frontier and p not in found]
        found += step
        frontier = {p.id for p in step}
    return sorted(found, key=lambda p: p.id)


def _delete(plan_id: int, name: str, say) -> None:
    if not access.can_edit():          # a callback checks again: session state alone is not trusted
        return
    st.session_state[CONFIRM] = False
    try:
        gone = stores.write(delete_plan, plan_id)
    except PlannerError as exc:
        say("compare", "error", (f"“{name}” was not deleted", list(exc.problems)))
        return
    more = gone[1:]
    say("compare", "success", f"Deleted the plan of record “{esc(gone[0])}”"
        + (f" and its check-in{'s' if len(more) > 1 else ''} " + ", ".join(f"“{esc(n)}”" for n in more) if more else "")
        + ". The actuals are as they were.")


def delete_control(plan: SavedPlan, plans: list[SavedPlan], say) -> None:
    """The "Delete this plan of record" popover (editors only); ``say(tab, kind, body)`` reports."""
    if not access.can_edit():
        return
    resets = check_ins(plan, plans)
    with st.popover("Delete this plan of record", icon=":material/delete:"):
        st.markdown(f"Deletes “{esc(plan.name)}” for good"
                    + (", with its check-ins " + ", ".join(f"“{esc(p.name)}”" for p in resets) if resets else "")
                    + ". The actuals and the imports stay.")
        sure = st.checkbox(f"Yes, delete “{esc(plan.name)}”", key=CONFIRM)
        st.button("Delete", type="primary", key="actuals-delete-plan", disabled=not sure, on_click=_delete,
                  args=(plan.id, plan.name, say), icon=":material/delete_forever:")
