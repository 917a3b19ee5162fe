"""Sensitivity (tornado) rows."""

from dataclasses import replace

from sim.model.beliefs import RateBelief
from sim.model.engine import draw_revenue
from sim.model.sensitivity import sensitivity


def test_every_uncertain_input_is_there_sorted_by_swing(demo):
    result = sensitivity(demo, trials=8_000)
    assert result.trials == 8_000
    rows = result.rows
    names = [r.input for r in rows]
    assert sorted(names) == sorted([f"{s.name} rate" for s in demo.stages[1:]] +
                                   ["Deal value", "Visits volume"])
    swings = [abs(r.swing) for r in rows]
    assert swings == sorted(swings, reverse=True)
    owners = {r.input: r.owner for r in rows}
    assert owners["Leads rate"] == "marketing" and owners["Proposals rate"] == "sales"
    for r in rows:       # a higher rate / value / volume never makes the goal less likely here
        assert r.p_goal_high >= r.p_goal_low
        assert r.low_value < r.high_value


def test_a_row_is_the_scenario_with_that_input_held(demo):
    rows = {r.input: r for r in sensitivity(demo, trials=4_000).rows}
    row = rows["Customers rate"]
    lo = demo.stages[-1].rate.ppf(0.1)
    stages = list(demo.stages)
    stages[-1] = replace(stages[-1], rate=RateBelief.fixed(lo))
    held = replace(demo, stages=tuple(stages))
    revenue = draw_revenue(held, trials=4_000, seed=demo.seed).revenue
    assert row.p_goal_low == (revenue + demo.baseline_revenue >= demo.goal).mean()


def test_fixed_inputs_have_no_row(demo):
    stages = list(demo.stages)
    stages[1] = replace(stages[1], rate=RateBelief.fixed(0.02))
    sc = replace(demo, stages=tuple(stages))
    assert "Leads rate" not in [r.input for r in sensitivity(sc, trials=2_000).rows]
