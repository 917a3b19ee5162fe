"""AppTest of the Plan page's typed beliefs (issue 16): a rate in each of its four forms (and the
slider), switching form without changing the belief, the deal value, the top-of-funnel plan
(one number per month too) and the open pipeline of every stage with its lag; on a two-stage
funnel from a CRM export and on the demo."""

from dataclasses import replace

import pytest

from sim import simulate
from sim.model.beliefs import RateBelief
from sim.model.validation import scenario_from_dict

from .apptest import PROBABILITY, export_funnel, metric, open_app, open_tab, small_demo, widget


def key(name: str) -> str:
    return f"plan-1-{name}"


def rate_doc(at, k: int) -> dict:
    return at.session_state["scenario"].stages[k].rate.to_dict()


def apply(at, name: str):
    """Click a form's Apply button and run the page once (one rerun)."""
    return at.button(key=key(name)).click().run()


def with_rate(sc, k: int, rate: dict):
    doc = sc.to_dict()
    doc["stages"][k]["rate"] = rate
    return scenario_from_dict(doc)


def test_a_rate_typed_as_a_number_takes_one_entry_and_one_rerun():
    sc = export_funnel()
    at = open_app(scenario=sc)
    open_tab(at, "Sales")
    at.radio(key=key("s1-form")).set_value("fixed").run()
    assert at.session_state["scenario"] == sc                     # switching the form changed nothing
    at.number_input(key=key("s1-fixed-fixed")).set_value(63.15)
    apply(at, "s1-fixed-apply")
    assert rate_doc(at, 1) == {"fixed": pytest.approx(0.6315, abs=1e-12)}
    expected = simulate(with_rate(sc, 1, {"fixed": 0.6315})).p_goal
    assert metric(at, PROBABILITY) == f"{expected:.1%}"


def test_a_rate_typed_as_n_of_m_takes_one_entry_and_one_rerun():
    sc = export_funnel()
    at = open_app(scenario=sc)
    open_tab(at, "Sales")
    assert at.radio(key=key("s1-form")).value == "counts"         # the form the scenario has it in
    at.number_input(key=key("s1-counts-successes")).set_value(4238)
    at.number_input(key=key("s1-counts-trials")).set_value(6711)
    apply(at, "s1-counts-apply")
    assert rate_doc(at, 1) == {"successes": 4238, "trials": 6711}
    expected = simulate(with_rate(sc, 1, {"successes": 4238, "trials": 6711})).p_goal
    assert metric(at, PROBABILITY) == f"{expected:.1%}"
    assert any("63.15%" in c.value for c in at.caption)           # the belief in words: 4239/6713


def type_sales_belief(sc, form: str, typed: dict):
    """The app on ``sc``, the Sales tab's first rate typed in ``form`` (``typed``: field: value)
    and applied."""
    at = open_app(scenario=sc)
    open_tab(at, "Sales")
    at.radio(key=key("s1-form")).set_value(form).run()
    for name, value in typed.items():
        at.number_input(key=key(f"s1-{form}-{name}")).set_value(value)
    apply(at, f"s1-{form}-apply")
    return at


@pytest.mark.parametrize("form, typed, expected", [
    ("range", {"p10": 62.4, "p90": 63.9}, {"p10": 0.624, "p90": 0.639}),
    ("mean", {"mean": 63.15, "strength": 6711}, {"mean": 0.6315, "strength": 6711}),
    ("range", {"p10": 63.15, "p90": 63.15}, {"fixed": 0.6315}),      # both ends equal: known exactly
])
def test_a_rate_typed_in_each_form(form, typed, expected):
    at = type_sales_belief(export_funnel(), form, typed)
    assert rate_doc(at, 1) == pytest.approx(expected, rel=1e-12)


def test_switching_forms_shows_the_same_belief_and_changes_nothing():
    sc = small_demo()                                  # MQLs: mean 35%, strength 60
    at = open_app(scenario=sc)
    open_tab(at, "Marketing")
    belief = sc.stages[2].rate
    at.radio(key=key("s2-form")).set_value("counts").run()
    assert at.number_input(key=key("s2-counts-successes")).value == pytest.approx(belief.alpha - 1, rel=1e-5)
    assert at.number_input(key=key("s2-counts-trials")).value == pytest.approx(belief.alpha + belief.beta - 2, rel=1e-5)
    at.radio(key=key("s2-form")).set_value("range").run()
    lo, hi = belief.ppf([0.1, 0.9])
    assert at.number_input(key=key("s2-range-p10")).value == pytest.approx(100 * lo, rel=1e-5)
    assert at.number_input(key=key("s2-range-p90")).value == pytest.approx(100 * hi, rel=1e-5)
    apply(at, "s2-range-apply")                        # applied without typing: still the same belief
    at.radio(key=key("s2-form")).set_value("mean").run()
    assert at.number_input(key=key("s2-mean-strength")).value == pytest.approx(60)
    assert at.session_state["scenario"] == sc
    assert not at.exception


def test_converted_counts_when_applied_give_the_same_beta():
    sc = small_demo()                                  # Visits → Leads: P10–P90 1.8%–2.6%
    at = open_app(scenario=sc)
    open_tab(at, "Marketing")
    at.radio(key=key("s1-form")).set_value("counts").run()
    successes = at.number_input(key=key("s1-counts-successes")).value
    at.number_input(key=key("s1-counts-successes")).set_value(successes + 1)
    apply(at, "s1-counts-apply")
    got = at.session_state["scenario"].stages[1].rate
    want = sc.stages[1].rate
    assert got.alpha == pytest.approx(want.alpha + 1, rel=1e-5)     # the shown counts: 6 digits
    assert got.beta == pytest.approx(want.beta - 1, rel=1e-5)


@pytest.mark.parametrize("form, typed, message", [
    ("range", {"p10": 40.0, "p90": 30.0}, "the low end goes first"),
    ("counts", {"successes": 6711, "trials": 4238}, "cannot be more than the tried"),
    ("mean", {"mean": 100.0, "strength": 10}, "strictly between 0% and 100%"),
])
def test_a_bad_typed_belief_is_explained_and_changes_nothing(form, typed, message):
    sc = export_funnel()
    at = type_sales_belief(sc, form, typed)
    assert any(message in e.value and "Engaged opportunities → Won deals" in e.value for e in at.error)
    assert any("not valid" in w.value for w in at.warning)
    assert at.session_state["scenario"] == sc
    assert not at.exception


def test_the_slider_is_one_way_among_others():
    sc = export_funnel()
    at = open_app(scenario=sc)
    open_tab(at, "Sales")
    at.radio(key=key("s1-form")).set_value("slider").run()
    widget(at.slider, "Conversion rate: 8 times in 10 between").set_value((55.0, 65.0)).run()
    assert rate_doc(at, 1) == {"p10": pytest.approx(0.55), "p90": pytest.approx(0.65)}


def test_the_deal_value_is_typed_or_fixed():
    sc = export_funnel()
    at = open_app(scenario=sc)
    at.number_input(key=key("deal-median")).set_value(2500)
    at.number_input(key=key("deal-p90")).set_value(7000)
    apply(at, "deal-range-apply")
    assert at.session_state["scenario"].deal.to_dict() == {"median": 2500, "p90": 7000, "kind": "one_time"}
    at.radio(key=key("deal-form")).set_value("fixed").run()
    assert at.session_state["scenario"].deal.p90 == 7000               # switching changed nothing
    at.number_input(key=key("deal-fixed")).set_value(3000)
    apply(at, "deal-fixed-apply")
    deal = at.session_state["scenario"].deal
    assert (deal.median, deal.p90, deal.is_fixed) == (3000, 3000, True)
    expected = simulate(replace(sc, deal=deal)).p_goal
    assert metric(at, PROBABILITY) == f"{expected:.1%}"


def test_a_deal_p90_below_the_median_is_explained():
    sc = export_funnel()
    at = open_app(scenario=sc)
    at.number_input(key=key("deal-p90")).set_value(100)
    apply(at, "deal-range-apply")
    assert any("must be at least the median" in e.value for e in at.error)
    assert at.session_state["scenario"] == sc


def test_the_top_of_funnel_is_typed_with_growth_or_one_number_per_month():
    sc = export_funnel()
    at = open_app(scenario=sc)
    open_tab(at, "Sales")
    at.number_input(key=key("top-volume")).set_value(794)
    at.number_input(key=key("top-growth")).set_value(1.5)
    apply(at, "top-constant-apply")
    top = at.session_state["scenario"].top
    assert (top.per_month, top.growth) == (794, pytest.approx(0.015))
    at.radio(key=key("top-form")).set_value("monthly").run()
    assert at.session_state["scenario"].top == top                      # switching changed nothing
    assert at.number_input(key=key("top-m11")).value == pytest.approx(794 * 1.015 ** 11, rel=1e-5)
    seasonal = [500, 500, 700, 800, 800, 900, 600, 400, 800, 900, 1000, 1200]
    for t, v in enumerate(seasonal):
        at.number_input(key=key(f"top-m{t}")).set_value(v)
    apply(at, "top-monthly-apply")
    got = at.session_state["scenario"]
    assert got.top.monthly == tuple(float(v) for v in seasonal) and got.top.per_month is None
    expected = simulate(got).p_goal
    assert metric(at, PROBABILITY) == f"{expected:.1%}"
    assert "monthly" in got.to_dict()["top"]


def test_the_top_stages_plan_sits_under_its_owners_tab():
    at = open_app(scenario=export_funnel())            # the top stage is owned by sales
    assert any(w.key == key("top-volume") for w in open_tab(at, "Sales").tabs[2].number_input)
    marketing = open_tab(at, "Marketing").tabs[1]
    assert not any(w.key == key("top-volume") for w in at.number_input)
    assert any("No stage of this funnel is owned by marketing" in c.value for c in marketing.caption)
    demo = open_app(scenario=small_demo())
    assert any(w.key == key("top-volume") for w in open_tab(demo, "Marketing").tabs[1].number_input)


def test_only_the_open_tabs_inputs_run_and_a_closed_tab_keeps_its_choices():
    """A change reruns the open tab's inputs only (a few dozen widgets, not a hundred); a closed
    tab's inputs leave the scenario as it is, and the form a belief is shown in comes back."""
    sc = small_demo()
    at = open_app(scenario=sc)
    assert [t.label for t in at.tabs][:5] == ["Goal & deal", "Marketing", "Sales", "Stages", "Simulation"]
    assert not any(w.key == key("s1-form") for w in at.radio)              # Marketing is closed
    open_tab(at, "Marketing")
    assert not any(w.key == key("deal-median") for w in at.number_input)   # Goal & deal closed now
    at.radio(key=key("s1-form")).set_value("slider").run()
    widget(at.slider, "Conversion rate: 8 times in 10 between").set_value((2.0, 3.0)).run()
    edited = at.session_state["scenario"]
    assert edited.stages[1].rate.to_dict() == {"p10": pytest.approx(0.02), "p90": pytest.approx(0.03)}
    open_tab(at, "Sales")
    open_tab(at, "Simulation")
    assert at.session_state["scenario"] == edited                          # closed tabs changed nothing
    open_tab(at, "Marketing")
    assert at.radio(key=key("s1-form")).value == "slider"                  # the chosen form is back
    assert at.radio(key=key("s2-form")).value == "mean"                    # the others as they were
    assert not at.exception


def test_the_top_stage_has_an_open_pipeline_that_moves_the_plan():
    sc = replace(export_funnel(), start_pipeline=())
    at = open_app(scenario=sc)
    open_tab(at, "Stages")
    before = at.session_state["scenario"]
    at.number_input(key=key("p0-count")).set_value(1589).run()
    got = at.session_state["scenario"]
    assert got.start_pipeline == (("Engaged opportunities", 1589),)
    assert simulate(got).p_goal > simulate(before).p_goal
    assert metric(at, PROBABILITY) == f"{simulate(got).p_goal:.1%}"


def test_the_open_pipelines_lag_is_typed():
    sc = export_funnel()
    at = open_app(scenario=sc)
    open_tab(at, "Stages")
    lag = at.text_input(key=key("p0-lag"))
    assert lag.value == "30/40/20/10"                              # the next stage's own lag
    lag.set_value("50/50").run()
    got = at.session_state["scenario"]
    assert got.pipeline_lags == (("Engaged opportunities", (0.5, 0.5)),)
    first = [simulate(x).months[0].customers.mean for x in (got, sc)]
    assert first[0] > first[1]                      # 50% of the open ones win in month 1, not 30%
    at.text_input(key=key("p0-lag")).set_value("50/60").run()
    assert any("must add up to 100" in e.value for e in at.error)
    assert at.session_state["scenario"] == got


def test_every_stage_but_the_last_has_an_open_pipeline_on_the_demo():
    sc = small_demo()
    at = open_app(scenario=sc)
    open_tab(at, "Stages")
    counts = [at.number_input(key=key(f"p{j}-count")).value for j in range(len(sc.stages) - 1)]
    assert counts == list(sc.pipeline_counts()[:-1])
    assert not [w for w in at.number_input if w.key == key(f"p{len(sc.stages) - 1}-count")]


def test_typed_beliefs_follow_the_link():
    sc = export_funnel()
    at = open_app(scenario=sc)
    open_tab(at, "Sales")
    at.number_input(key=key("s1-counts-successes")).set_value(4238)
    at.number_input(key=key("s1-counts-trials")).set_value(6711)
    apply(at, "s1-counts-apply")
    token = at.session_state["token"]
    again = open_app(s=token)
    assert again.session_state["scenario"].stages[1].rate == RateBelief.from_counts(4238, 6711)
