"""The verdict in plain words: bands of P(goal), honest rounding, the median year's side."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sim import simulate
from sim.present.describe import VERDICT_BANDS, verdict

from ..conftest import small_scenario


@pytest.fixture(scope="module")
def forecast():
    return simulate(small_scenario(trials=200))


@pytest.mark.parametrize("p, label, tone", [
    (1.0, "Very likely", "good"), (0.9, "Very likely", "good"), (0.8999, "Likely", "good"),
    (0.7, "Likely", "good"), (0.6, "More likely than not", "mixed"), (0.5, "About even odds", "mixed"),
    (0.45, "About even odds", "mixed"), (0.4499, "Less likely than not", "poor"),
    (0.2, "Unlikely", "poor"), (0.0999, "Very unlikely", "poor"), (0.0, "Very unlikely", "poor"),
])
def test_bands(forecast, p, label, tone):
    v = verdict(replace(forecast, p_goal=p))
    assert (v.label, v.tone) == (label, tone)
    assert v.sentence.startswith(f"{label}: ")


def test_bands_cover_zero_to_one_from_the_top():
    lows = [low for low, _, _ in VERDICT_BANDS]
    assert lows == sorted(lows, reverse=True) and lows[-1] == 0.0


def test_rare_events_are_not_rounded_to_never_or_always(forecast):
    assert "fewer than 1% of" in verdict(replace(forecast, p_goal=0.002)).detail
    assert "more than 99% of" in verdict(replace(forecast, p_goal=0.997)).detail
    assert "100% of" in verdict(replace(forecast, p_goal=1.0)).detail
    assert "0% of" in verdict(replace(forecast, p_goal=0.0)).detail
    assert "62% of 200 simulated years reach the goal of 1,000" in verdict(replace(forecast, p_goal=0.62)).detail


def test_the_median_year_is_placed_on_the_right_side_of_the_goal(forecast):
    goal = forecast.scenario.goal
    below = replace(forecast, revenue=replace(forecast.revenue, p50=goal - 300))
    above = replace(forecast, revenue=replace(forecast.revenue, p50=goal + 300))
    at = replace(forecast, revenue=replace(forecast.revenue, p50=goal + 1))
    assert verdict(below).detail.endswith("a typical (median) year ends 300 short of it.")
    assert verdict(above).detail.endswith("a typical (median) year ends 300 above it.")
    assert verdict(at).detail.endswith("a typical (median) year ends right at the goal.")


def test_the_slas_factor_never_reads_as_zero():
    from sim.present.describe import scale_text
    assert scale_text(0.004) == "0.004"
    assert scale_text(0.0123) == "0.0123"
    assert scale_text(1.2345) == "1.23"
    assert scale_text(12.345) == "12.3"
    assert scale_text(1234.5) == "1,234"
