"""The reverse funnel: the expected-value plan and the confidence search."""

import math

import numpy as np
import pytest

from sim.errors import ScenarioError
from sim.model.engine import draw_stage_arrivals
from sim.model.forecast import simulate
from sim.model.targets import expected_arrivals, expected_value_plan, p_goal_at_scale, required_volumes
from sim.model.validation import scenario_from_dict

from ..conftest import small_scenario


def at_the_mean(sc):
    """The scenario with every rate fixed at its mean, no top noise and a fixed deal value at
    the mean: its simulated revenue averages the expected-value model's revenue."""
    d = sc.to_dict()
    for stage, orig in zip(d["stages"][1:], sc.stages[1:]):
        stage["rate"] = {"fixed": orig.rate.mean}
    d["top"] = {"monthly": list(sc.top.monthly), "noise_cv": 0}
    d["deal"] = {"median": sc.deal.mean, "p90": sc.deal.mean, "kind": sc.deal.kind}
    return scenario_from_dict(d)


def test_spreadsheet_case_by_hand():
    # 10% of the top converts the same month, deals are 1,000: 120,000 needs 120 customers,
    # i.e. 1,200 at the top, 100 a month.
    sc = small_scenario(months=12, goal=120_000, top={"monthly": [50] * 12, "noise_cv": 0},
                        stages=[{"name": "Top"}, {"name": "Won", "rate": {"fixed": 0.1}}],
                        deal={"median": 1000, "p90": 1000})
    plan = expected_value_plan(sc)
    assert plan.scale == pytest.approx(2.0)
    assert plan.stages[0].monthly == pytest.approx([100] * 12)
    assert plan.stages[1].total == pytest.approx(120)


def test_recurring_revenue_timing_by_hand():
    # Monthly retainer of 100: a client won in month t (0-based) pays 12 - t times; c clients a
    # month bring c * 100 * 78 over the year.
    sc = small_scenario(months=12, goal=78_000, top={"monthly": [10] * 12, "noise_cv": 0},
                        stages=[{"name": "Top"}, {"name": "Won", "rate": {"fixed": 0.5}}],
                        deal={"median": 100, "p90": 100, "kind": "monthly_recurring"})
    plan = expected_value_plan(sc)
    assert plan.stages[1].monthly == pytest.approx([10] * 12)     # 10 clients a month
    assert plan.scale == pytest.approx(2.0)


@pytest.mark.parametrize("kind", ["one_time", "monthly_recurring"])
def test_expected_value_plan_volumes_reproduce_the_goal_at_the_mean(demo, kind):
    from dataclasses import replace

    from sim.model.beliefs import DealValue
    sc = replace(demo, deal=DealValue(demo.deal.median, demo.deal.p90, kind))
    if kind == "monthly_recurring":
        sc = replace(sc, goal=sc.goal * 4)
    plan = expected_value_plan(sc)
    assert plan.expected_revenue == pytest.approx(sc.goal, rel=1e-9)
    # Independent check: simulate the scaled plan with every input at its mean.
    scaled = at_the_mean(sc.with_top_scaled(plan.scale))
    f = simulate(scaled, trials=40_000, seed=3)
    se = (f.revenue.p90 - f.revenue.p10) / 2.563 / np.sqrt(40_000)
    assert abs(f.revenue.mean - sc.goal) <= 4 * se
    # ... and each stage's monthly volume is the mean of the stage-by-stage simulation.
    arrivals, _ = draw_stage_arrivals(scaled, trials=8_000, seed=4)
    for k, stage in enumerate(plan.stages):
        sim_mean = arrivals[:, k].mean(axis=0)
        sim_se = arrivals[:, k].std(axis=0) / np.sqrt(8_000) + 1e-9
        assert np.all(np.abs(sim_mean - np.array(stage.monthly)) <= 4 * sim_se + 0.5), stage.name


def test_expected_arrivals_include_the_start_pipeline():
    sc = small_scenario(months=3, top={"monthly": [10, 10, 10], "noise_cv": 0},
                        stages=[{"name": "Top"},
                                {"name": "Mid", "rate": {"mean": 0.5, "strength": 10}, "lag": [0, 1]},
                                {"name": "Won", "rate": {"fixed": 0.4}, "lag": [0.5, 0.5]}],
                        start_pipeline={"Mid": 20, "Top": 4})
    no_top = expected_arrivals(sc, 0.0)
    assert no_top[0].sum() == 0
    # Top pipeline: 4 * 0.5 arrive in Mid in month 1; Won gets (20 + 2 in month 1) * 0.4, half
    # in the same month and half a month later.
    assert no_top[1] == pytest.approx([0, 2, 0, 0])
    assert no_top[2] == pytest.approx([4, 4 + 0.4, 0.4, 0])
    with_top = expected_arrivals(sc, 1.0)
    assert with_top[1] == pytest.approx([0, 2 + 5, 5, 5])     # the last 5: after the period


def test_confidence_search_brackets_the_confidence(demo):
    t = required_volumes(demo, 0.8, trials=20_000)
    assert t.reachable
    scale = t.at_confidence.scale
    assert scale > t.expected_value.scale        # the mean plan gives ~50%, 80% needs more
    assert t.at_confidence.p_goal >= 0.8
    assert t.at_confidence.p_goal == p_goal_at_scale(demo, scale, trials=20_000, seed=demo.seed)
    # One tolerance step lower is below the confidence (same random numbers).
    assert p_goal_at_scale(demo, scale / 1.011, trials=20_000, seed=demo.seed) < 0.8
    # The reported plan is the simulated scenario: same P(goal) from simulate().
    assert simulate(demo.with_top_scaled(scale), trials=20_000).p_goal == t.at_confidence.p_goal
    top = t.at_confidence.stages[0]
    assert top.monthly == pytest.approx([v * scale for v in demo.top.monthly])


def test_higher_confidence_needs_more(demo):
    lower = required_volumes(demo, 0.6, trials=16_384).at_confidence.scale
    higher = required_volumes(demo, 0.9, trials=16_384).at_confidence.scale
    assert higher > lower


def test_goal_already_certain_needs_nothing(demo):
    from dataclasses import replace
    t = required_volumes(replace(demo, baseline_revenue=demo.goal), 0.8, trials=2_000)
    assert t.expected_value.scale == 0 and t.at_confidence.scale == 0
    assert t.at_confidence.p_goal == 1.0


def test_out_of_reach_is_reported_not_searched_forever(demo):
    t = required_volumes(demo, 0.99, trials=2_000, max_scale=1.2)
    assert not t.reachable
    assert t.at_confidence.scale == pytest.approx(1.2 * t.expected_value.scale)
    assert t.at_confidence.p_goal < 0.99


def test_horizon_too_short_for_the_lags_is_a_clear_error():
    sc = small_scenario(months=1, stages=[{"name": "Top"},
                                          {"name": "Won", "rate": {"fixed": 0.5}, "lag": [0, 1]}])
    with pytest.raises(ScenarioError, match="cannot be reached"):
        expected_value_plan(sc)
    with pytest.raises(ScenarioError, match="confidence must be between 0 and 1"):
        required_volumes(small_scenario(), 1.5)


def test_one_default_confidence():
    """The search's and the check-in's default confidence is sim.model.confidence's, one of the
    levels the app offers."""
    import inspect

    from sim.model import checkin, confidence
    for function in (required_volumes, checkin.check_in):
        assert inspect.signature(function).parameters["confidence"].default == confidence.DEFAULT_CONFIDENCE
    assert confidence.DEFAULT_CONFIDENCE in confidence.CONFIDENCES


def test_the_answer_does_not_depend_on_where_the_search_starts(demo):
    """The answer is the smallest grid scale (1.01^k) with P(goal) >= the confidence: the same
    from a cold start and from any hint (an app passes its last answer), so a link gives the
    numbers it gave on the page that made it."""
    cold = required_volumes(demo, 0.8, trials=8_192)
    scale = cold.at_confidence.scale
    k = round(math.log(scale) / math.log(1.01))
    assert scale == pytest.approx(1.01 ** k, rel=1e-12)
    assert p_goal_at_scale(demo, scale, trials=8_192, seed=demo.seed) >= 0.8
    assert p_goal_at_scale(demo, 1.01 ** (k - 1), trials=8_192, seed=demo.seed) < 0.8
    for hint in (scale, scale * 1.003, scale / 1.2, scale * 1.5, 1e-3, 1e4):
        warm = required_volumes(demo, 0.8, trials=8_192, start_scale=hint)
        assert warm == cold, hint


def test_the_search_runs_only_the_trials_its_runs_so_far_leave_open(demo, monkeypatch):
    """At each scale, in any order, P(goal) from the trials still open (the others are known
    from runs at smaller and larger scales) is that of a run of all the trials; later runs
    simulate fewer trials."""
    from sim.model import targets
    outcomes = targets._Outcomes(demo, demo.seed, None)
    ran = []
    run_of = targets.period_revenue_of

    def counted(scenario, trials, **kwargs):
        ran.append(trials.size)
        return run_of(scenario, trials, **kwargs)

    monkeypatch.setattr(targets, "period_revenue_of", counted)     # p_goal_at_scale runs all trials

    def share(scale, n):
        ran.clear()
        return outcomes.share(scale, n)

    rng = np.random.default_rng(11)
    scales = list(1.01 ** rng.integers(-60, 60, size=12)) + [1.0, 0.0]
    for scale, n in zip(scales, rng.choice([4_096, 9_000, 12_000], size=len(scales))):
        assert share(float(scale), int(n)) == p_goal_at_scale(demo, float(scale), trials=int(n), seed=demo.seed)
        assert sum(ran) <= n
    assert share(1.0, 4_096) == p_goal_at_scale(demo, 1.0, trials=4_096, seed=demo.seed)
    assert ran == []                          # run before: nothing left open
    assert 0 < share(1.01, 12_000) and 0 < sum(ran) < 12_000 / 2     # next to a scale run: a few open


def test_a_hint_for_an_unreachable_or_certain_goal_gives_the_cold_answer(demo):
    from dataclasses import replace
    out_of_reach = required_volumes(demo, 0.99, trials=2_000, max_scale=1.2)
    assert required_volumes(demo, 0.99, trials=2_000, max_scale=1.2, start_scale=0.5) == out_of_reach
    certain = replace(demo, baseline_revenue=demo.goal)
    assert required_volumes(certain, 0.8, trials=2_000, start_scale=3.0).at_confidence.scale == 0
