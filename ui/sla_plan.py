""""Make the SLA the plan": the top-of-funnel plan scaled by the SLA's factor becomes the
scenario (and so the share link), on the Summary page."""

from __future__ import annotations

import streamlit as st

from sim import Targets
from sim.model.scenario import Scenario
from sim.present.describe import SAME_SCALE, scale_text
from ui import state

_ADOPTED = "sla-adopted"


def _adopt(scale: float, confidence: float) -> None:
    scenario = state.current()
    state.set_scenario(scenario.with_top_scaled(scale), external=True)
    st.session_state[_ADOPTED] = (f"The SLA is now the plan: the top of the funnel is {scale_text(scale)} times "
                                  f"what it was, for P(goal) ≥ {confidence:.0%}; the share link follows.")


def adopt_button(scenario: Scenario, targets: Targets) -> None:
    """The button (and, after a click, what it did). Disabled when the plan already is the SLA
    or when no volume reaches the confidence."""
    done = st.session_state.pop(_ADOPTED, None)
    if done:
        st.success(done, icon=":material/check:")
    scale = targets.at_confidence.scale
    already = abs(scale - 1.0) < SAME_SCALE
    why = ("The plan already is the SLA." if already else
           "No top-of-funnel volume within reach gives this confidence." if not targets.reachable else
           f"Multiply the top-of-funnel plan by {scale_text(scale)}: the SLA's volumes become the scenario's "
           "(and the share link's); the rates and deal value stay.")
    st.button("Make the SLA the plan", key="summary-adopt-sla", icon=":material/published_with_changes:",
              on_click=_adopt, args=(scale, targets.confidence), disabled=already or not targets.reachable,
              help=why)
