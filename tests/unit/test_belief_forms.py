"""The forms of a belief (sim.model.belief_forms): every conversion gives the same Beta where the
form can hold it, typed values become the scenario's documents, bad ones are named."""

import math

import pytest
from scipy import stats

from sim import ScenarioError
from sim.model import belief_forms as forms
from sim.model.beliefs import RateBelief
from sim.model.scenario import TopOfFunnel

BELIEFS = [RateBelief.from_mean_strength(0.35, 60), RateBelief.from_counts(4238, 6711),
           RateBelief.from_quantiles(0.018, 0.026), RateBelief.from_quantiles(0.2, 0.35),
           RateBelief.from_mean_strength(0.6315, 6711)]


def rebuilt(form: str, values: dict) -> RateBelief:
    return forms.rate_belief(forms.rate_document(form, values))


@pytest.mark.parametrize("belief", BELIEFS, ids=lambda b: b.describe())
@pytest.mark.parametrize("form", [forms.RANGE, forms.MEAN, forms.COUNTS])
def test_each_form_holds_the_same_beta(belief, form):
    got = rebuilt(form, forms.rate_in_form(belief, form))
    assert got.alpha == pytest.approx(belief.alpha, rel=1e-5)
    assert got.beta == pytest.approx(belief.beta, rel=1e-5)


def test_the_range_is_scipys_p10_and_p90():
    belief = RateBelief.from_counts(4238, 6711)
    shown = forms.rate_in_form(belief, forms.RANGE)
    assert shown["p10"] == pytest.approx(stats.beta.ppf(0.1, 4239, 2474), rel=1e-10)
    assert shown["p90"] == pytest.approx(stats.beta.ppf(0.9, 4239, 2474), rel=1e-10)


def test_the_form_given_returns_its_own_values_exactly():
    assert forms.rate_in_form(RateBelief.from_counts(4238, 6711), forms.COUNTS) == \
        {"successes": 4238, "trials": 6711}
    assert forms.rate_form(RateBelief.from_counts(4238, 6711)) == forms.COUNTS
    assert forms.rate_form(RateBelief.fixed(0.6315)) == forms.FIXED


def test_a_fixed_rate_has_no_counts_and_no_strength_and_a_zero_width_range():
    belief = RateBelief.fixed(0.6315)
    assert forms.rate_in_form(belief, forms.COUNTS) == {"successes": None, "trials": None}
    assert forms.rate_in_form(belief, forms.MEAN) == {"mean": 0.6315, "strength": None}
    assert forms.rate_document(forms.RANGE, forms.rate_in_form(belief, forms.RANGE)) == {"fixed": 0.6315}
    assert not forms.counts_are_exact(belief)


def test_a_beta_below_one_has_the_nearest_counts():
    belief = RateBelief.from_mean_strength(0.01, 50)                   # alpha 0.5 < 1
    assert belief.alpha < 1
    shown = forms.rate_in_form(belief, forms.COUNTS)
    assert shown["successes"] == 0 and shown["trials"] == pytest.approx(belief.beta - 1)
    assert not forms.counts_are_exact(belief)
    assert forms.counts_are_exact(RateBelief.from_counts(0, 10))


def test_the_uncertain_forms_fixed_value_is_the_mean():
    belief = RateBelief.from_counts(4238, 6711)
    assert forms.rate_in_form(belief, forms.FIXED) == {"fixed": pytest.approx(4239 / 6713)}


@pytest.mark.parametrize("form, values, message", [
    (forms.RANGE, {"p10": 0.4, "p90": 0.3}, "the low end goes first"),
    (forms.RANGE, {"p10": 0.0, "p90": 0.3}, "above 0%"),
    (forms.RANGE, {"p10": 0.1, "p90": None}, "P90 is empty"),
    (forms.MEAN, {"mean": 1.0, "strength": 10}, "strictly between"),
    (forms.MEAN, {"mean": 0.5, "strength": 0}, "strength must be above 0"),
    (forms.COUNTS, {"successes": 6711, "trials": 4238}, "cannot be more than the tried"),
    (forms.COUNTS, {"successes": -1, "trials": 4238}, "between 0 and"),
    (forms.FIXED, {"fixed": 1.5}, "between 0% and 100%"),
    (forms.FIXED, {"fixed": math.nan}, "must be a number"),
])
def test_bad_typed_values_are_named(form, values, message):
    with pytest.raises(ScenarioError, match=message):
        forms.rate_document(form, values)


def test_counts_stay_whole_numbers_in_the_document():
    assert forms.rate_document(forms.COUNTS, {"successes": 4238.0, "trials": 6711.0}) == \
        {"successes": 4238, "trials": 6711}
    assert forms.rate_document(forms.COUNTS, {"successes": 23.5, "trials": 80.25}) == \
        {"successes": 23.5, "trials": 80.25}


def test_the_deal_value():
    assert forms.deal_document(2500, 7000, "one_time") == {"median": 2500, "p90": 7000, "kind": "one_time"}
    assert forms.deal_document(3000, None, "monthly_recurring")["p90"] == 3000
    with pytest.raises(ScenarioError, match="at least the median"):
        forms.deal_document(3000, 2000, "one_time")
    with pytest.raises(ScenarioError, match="must be above 0"):
        forms.deal_document(0, 2000, "one_time")


def test_the_top_of_funnel_as_months_and_as_a_constant():
    constant = TopOfFunnel.constant(794, 12, growth=0.015)
    assert forms.top_as_monthly(constant) == pytest.approx([794 * 1.015 ** t for t in range(12)])
    assert forms.top_as_constant(constant) == (794, 0.015)
    steady = TopOfFunnel(tuple(794 * 1.015 ** t for t in range(12)))
    assert forms.top_as_constant(steady) == pytest.approx((794, 0.015))
    assert forms.top_as_constant(TopOfFunnel((0.0, 100.0, 200.0))) == (0.0, 0.0)


def test_one_number_per_month():
    assert forms.monthly_document([1, 2, 3], 0.1, 3) == {"monthly": [1.0, 2.0, 3.0], "noise_cv": 0.1}
    with pytest.raises(ScenarioError, match="month 2 is empty"):
        forms.monthly_document([1, None, 3], 0.1, 3)
    with pytest.raises(ScenarioError, match="month 3: the volume"):
        forms.monthly_document([1, 2, -3], 0.1, 3)
    with pytest.raises(ScenarioError, match="one number per month"):
        forms.monthly_document([1, 2], 0.1, 3)
