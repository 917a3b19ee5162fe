"""AppTest: a share link beyond the work budget (issue 10's worst case) is refused before any
work, on every page that simulates, with the budget's message and where to lower the trials;
never a traceback. On the Plan page the inputs are still there to lower them."""

from __future__ import annotations

import pytest

from sim import WorkBudgetExceeded, simulate
from sim.model.validation import scenario_from_dict

from ..conftest import worst_case_link
from .apptest import PROBABILITY, open_app, open_tab

WHERE = "The trials are Simulated years on the Plan page, tab Simulation."


@pytest.fixture(scope="module")
def worst_case():
    sc = scenario_from_dict(worst_case_link())
    with pytest.raises(WorkBudgetExceeded) as refused:
        simulate(sc)
    return sc, str(refused.value)


def refusal(at) -> str:
    """The one error on the page, without the Markdown escapes."""
    assert not at.exception, [e.value for e in at.exception]
    messages = [e.value.replace("\\", "") for e in at.error]
    assert len(messages) == 1, messages
    return messages[0]


@pytest.mark.parametrize("page", [None, "app_pages/forecast.py", "app_pages/summary.py", "app_pages/scenarios.py"])
def test_a_link_beyond_the_budget_says_what_to_lower(worst_case, page):
    sc, message = worst_case
    at = open_app(page, scenario=sc)
    shown = refusal(at)
    assert message[1:] in shown and "lower trials to at most" in shown      # which budget, by how much, what fits
    assert shown.replace("*", "").endswith(WHERE)
    if page == "app_pages/scenarios.py":
        assert shown.startswith("“Current”: ")                               # which of the scenarios
    assert not any(m.label == PROBABILITY for m in at.metric)               # no number from a run not made


def test_the_trials_can_be_lowered_on_the_plan_page_and_the_numbers_come(worst_case):
    sc, _ = worst_case
    at = open_tab(open_app(scenario=sc), "Simulation")
    trials = next(s for s in at.select_slider if s.label == "Simulated years (trials)")
    assert trials.value == 2_000_000 and min(trials.options, key=lambda o: int(o.replace(",", ""))) == "2,000"
    trials.set_value(2_000).run()
    # 36 months of 12 stages with 13-month lags and a billion units a month: 2,000 trials fit.
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state["scenario"].trials == 2_000
    assert any(m.label == PROBABILITY for m in at.metric)


def test_a_search_refused_after_a_first_answer_still_shows_the_whole_forecast(worst_case):
    """A link whose forecast fits the budget but whose confidence search does not: the Plan page
    shows the first answer, then the whole run's in its place, then the search's refusal."""
    from dataclasses import replace

    from sim.model.targets import required_volumes
    from ui.compute import PREVIEW_TRIALS
    sc = replace(worst_case[0], trials=12_288)           # its forecast fits the budget, its search not
    assert sc.trials >= 2 * PREVIEW_TRIALS                 # a first answer is shown first
    with pytest.raises(WorkBudgetExceeded, match="the confidence search"):
        required_volumes(sc, 0.8, trials=sc.trials)
    at = open_app(scenario=sc)
    assert "The confidence search is too large" in refusal(at)
    assert any(m.label == PROBABILITY for m in at.metric)
    captions = " ".join(c.value for c in at.caption)
    assert f"{sc.trials:,} trials" in captions and "First answer" not in captions
