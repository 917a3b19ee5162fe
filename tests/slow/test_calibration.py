"""Calibration of the plan's bands and of the check-in against a reference simulator (issue 14).

The synthetic years come from ``tests/slow/reference_funnel.py``, a per-customer numpy
simulation of the README's model written independently of the engine. A band is calibrated
when the true year falls inside its P10–P90 in 80% of the years; the pass lines are the
issue's: the plan's bands and the check-in in years drawn from the plan's own beliefs (the
"prior world": the test funnel with one-time and with monthly recurring deals) at least 78%
(the audit measured 80.1–80.6%; recurring deals had 72% before the fees of customers won were
taken from the actuals), and at most 3 standard errors from 80% (a band too wide fails too); in the "worse
world", every rate 30% below the plan's mean (the test funnel and the demo), at least 75% at
the default (66% before the conflict rule).

The demo in its own world is not a test here: with the rule its check-in held 78.4% of 8,895
years pooled over four studies (SE 0.4; 77.8, 78.0, 79.4 and 77.9%), 79.1% of 7,412 without it, so a
1,500- or 3,000-year study of it lands on either side of the 78% line by chance. The rule's
price there is measured and stated in the README instead.

Number of years. A coverage measured on N years has the binomial standard error
sqrt(0.8 · 0.2 / N). The check-in studies use N = 1,500 years (SE 1.0 point: a calibrated
check-in clears the 78% line by 2 SE, the audit's 72% fails it by 6 SE); the worse world 600
years (SE 1.7 points at 80%: the 75% line is 3 SE below the rule's coverage, the 60–66%
without the rule 5–9 SE below it; the same years without the rule are checked to miss); the
plan's bands 20,000 years (SE 0.3 point) against the engine's 100,000-trial bands. One
check-in (three uncertain rates, 1,000 trials for the reforecast, no reset search) costs
about 60 ms of CPU; the years are split between two processes.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from sim.model.bands import plan_bands
from sim.model.checkin import check_in
from sim.model.forecast import simulate
from sim.model.scenario_io import load_scenario

from ..conftest import DEMO_PATH, small_scenario
from .reference_funnel import Years, actuals_of, prior_rates, simulate_years

COVERAGE = 0.8              # P10–P90
SE_TOL = 3.0
#: The check-in's expected revenue against the truth: 4 standard errors, as in the unit tier's
#: calibration test (measured with a seed per year: t = −2.0 for the one-time funnel, −0.1 recurring;
#: −3.3 and −1.9 before, when every year's reforecast had the same seed).
MEAN_SE_TOL = 4.0
BAND_YEARS = 20_000
CHECKIN_YEARS = 1_500
WORSE_YEARS = 600
WORSE_YEARS_WITHOUT_RULE = 200
AS_OF = 5                   # six months of actuals, six left
REFORECAST_TRIALS = 1_000
#: Processes the check-in studies' years are split between (the machine's two cores).
WORKERS = 2


def funnel(**overrides):
    """Top → Leads → SQLs → Won over 12 months, built like the demo's beliefs: a firm belief
    about the lead rate (strength 400), a very firm one about SQLs (600, the demo's 210 of 600)
    and a loose one about the win rate (60); lags of up to three months; one-time deals."""
    base = dict(months=12, goal=2.6e6, top={"monthly": [1_000] * 12, "noise_cv": 0.12},
                stages=[{"name": "Top", "owner": "marketing"},
                        {"name": "Leads", "owner": "marketing", "rate": {"mean": 0.1, "strength": 400},
                         "lag": [0.6, 0.4]},
                        {"name": "SQLs", "owner": "sales", "rate": {"mean": 0.35, "strength": 600},
                         "lag": [0.5, 0.5]},
                        {"name": "Won", "owner": "sales", "rate": {"mean": 0.25, "strength": 60},
                         "lag": [0.2, 0.5, 0.3]}],
                deal={"median": 24_000, "p90": 48_000, "kind": "one_time"},
                start_pipeline={"Leads": 60, "SQLs": 20}, trials=REFORECAST_TRIALS, seed=3)
    base.update(overrides)
    return small_scenario(**base)


ONE_TIME = funnel()
#: Monthly fees: a customer won in month t pays 12 − t fees in the period.
RECURRING = funnel(goal=2.7e6, deal={"median": 4_000, "p90": 8_000, "kind": "monthly_recurring"})
#: The demo itself (the audit's funnel): six stages, three kinds of belief, a growing top.
DEMO = dataclasses.replace(load_scenario(DEMO_PATH), trials=REFORECAST_TRIALS)


def se(p: float, n: int) -> float:
    return math.sqrt(p * (1 - p) / n)


@dataclasses.dataclass(frozen=True)
class Study:
    coverage: float             # share of years inside the check-in's P10–P90
    years: int                  # years with a reforecast (the goal not yet reached)
    mean_error: float           # true − forecast mean revenue
    error_se: float
    brier: float                # of P(goal) now against the year's outcome
    weights: np.ndarray         # the prior weight each stage kept, per year


def check_in_study(scenario, rates, seed: int, *, conflict_rule: bool = True) -> Study:
    """Check in every synthetic year (true ``rates``: one row per year) at AS_OF; compare the
    reforecast's P10–P90 and mean with the year's true revenue. The years are split between
    WORKERS processes (each check-in depends only on its year: the same numbers in any split).

    Each year's reforecast runs with a seed of its own (``seed`` · 1,000,003 + the year): with
    one seed for all, every year would share the same REFORECAST_TRIALS draws, and their Monte
    Carlo error would not average out over the years but shift every band alike (measured on
    the demo with the scenario's seed: the P10–P90 held 77.3% of the reforecast's own
    distribution, not 80%, and the one-time funnel's mean was 0.7% high in every year)."""
    forecast, bands = plan_bands(scenario)
    years = simulate_years(scenario, rates, np.random.default_rng(seed))
    chunks = np.array_split(np.arange(rates.shape[0]), WORKERS)
    jobs = [(scenario, Years(years.arrivals[c], years.revenue[c], years.rates[c]), bands, forecast.p_goal,
             conflict_rule, [seed * 1_000_003 + int(y) for y in c]) for c in chunks]
    with ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = list(pool.map(_check_in_years, *zip(*jobs)))
    inside, error, brier, weights = (np.concatenate(x) for x in zip(*parts))
    return Study(float(np.mean(inside)), inside.size, float(error.mean()),
                 float(error.std(ddof=1) / math.sqrt(error.size)), float(np.mean(brier)), weights)


def _check_in_years(scenario, years: Years, bands, p_goal_plan: float, conflict_rule: bool, seeds: list[int]):
    """(inside the P10–P90, true − forecast mean) of the years with a reforecast, and (Brier
    term, weights kept) of every year; year y's reforecast with ``seeds[y]``."""
    truth = years.total(scenario.baseline_revenue)
    inside, error, brier, weights = [], [], [], []
    for y in range(truth.size):
        year_scenario = dataclasses.replace(scenario, seed=seeds[y])
        check = check_in(year_scenario, actuals_of(scenario, years, y, AS_OF), scenario.month_labels[AS_OF],
                         bands=bands, p_goal_plan=p_goal_plan, trials=REFORECAST_TRIALS,
                         conflict_rule=conflict_rule, reset=False)
        brier.append((check.p_goal_now - (truth[y] >= scenario.goal)) ** 2)
        weights.append([s.prior_weight_used for s in check.stages[1:]])
        if check.forecast_now is None:              # the goal already reached: nothing to cover
            continue
        band = check.forecast_now.revenue
        inside.append(band.p10 <= truth[y] <= band.p90)
        error.append(truth[y] - band.mean)
    return (np.array(inside, dtype=bool), np.array(error, dtype=float), np.array(brier, dtype=float),
            np.array(weights, dtype=float).reshape(-1, len(scenario.stages) - 1))


def report(name: str, study: Study) -> str:
    return (f"{name}: coverage {study.coverage:.1%} of {study.years} years (SE {se(COVERAGE, study.years):.1%}), "
            f"mean error {study.mean_error:+,.0f} (SE {study.error_se:,.0f}), Brier {study.brier:.3f}")


# -- the plan's bands ------------------------------------------------------------------------------

@pytest.mark.parametrize("scenario", [load_scenario(DEMO_PATH), RECURRING], ids=["demo", "recurring"])
def test_plan_bands_cover_80_percent_of_reference_years(scenario):
    forecast = simulate(scenario, trials=100_000)
    rng = np.random.default_rng(14)
    years = simulate_years(scenario, prior_rates(scenario, BAND_YEARS, rng), rng)
    truth = years.total(scenario.baseline_revenue)
    band = forecast.revenue
    coverage = float(np.mean((band.p10 <= truth) & (truth <= band.p90)))
    # The engine's quantiles carry their own Monte Carlo error (100,000 trials: about 0.1 point
    # of probability each at the P10 and P90), added to the years' standard error.
    tol = SE_TOL * math.hypot(se(COVERAGE, BAND_YEARS), 2 * se(0.1, 100_000))
    print(f"plan bands ({scenario.name}): coverage {coverage:.2%} of {BAND_YEARS} years")
    assert coverage >= 0.78 and abs(coverage - COVERAGE) < tol, coverage
    # P(goal) and the cumulative band of the as-of month too.
    hit = float(np.mean(truth >= scenario.goal))
    assert abs(hit - forecast.p_goal) < SE_TOL * math.hypot(se(hit, BAND_YEARS), se(hit, 100_000))
    mid = forecast.months[AS_OF].cumulative
    to_date = scenario.baseline_revenue + years.revenue[:, :AS_OF + 1].sum(axis=1)
    assert abs(np.mean((mid.p10 <= to_date) & (to_date <= mid.p90)) - COVERAGE) < tol


# -- the check-in ------------------------------------------------------------------------------------

@pytest.mark.parametrize("scenario, seed", [(ONE_TIME, 1), (RECURRING, 2)], ids=["one-time", "recurring"])
def test_check_in_is_calibrated_in_the_plans_own_world(scenario, seed):
    rates = prior_rates(scenario, CHECKIN_YEARS, np.random.default_rng(seed))
    study = check_in_study(scenario, rates, seed + 100)
    print(report(f"check-in, prior world, {scenario.deal.kind}", study))
    assert study.years > 0.95 * CHECKIN_YEARS
    assert study.coverage >= 0.78, study
    assert abs(study.coverage - COVERAGE) < SE_TOL * se(COVERAGE, study.years), study
    assert abs(study.mean_error) < MEAN_SE_TOL * study.error_se, study
    # In the plan's own world the conflict rule seldom fires (a 5% test per stage and one for
    # the funnel): the beliefs keep their full weight in most years.
    assert np.mean(study.weights == 1.0) > 0.8


WORSE = 0.7                 # every true rate 30% below the plan's mean


def worse_world_studies(scenario, seed: int) -> tuple[Study, Study]:
    """The check-in with every true rate WORSE × the plan's mean: WORSE_YEARS years with the
    conflict rule, and WORSE_YEARS_WITHOUT_RULE of them without it."""
    true = np.array([WORSE * s.rate.mean for s in scenario.stages[1:]])
    study = check_in_study(scenario, np.tile(true, (WORSE_YEARS, 1)), seed)
    print(report(f"check-in, worse world, {scenario.name}, conflict rule", study))
    without = check_in_study(scenario, np.tile(true, (WORSE_YEARS_WITHOUT_RULE, 1)), seed, conflict_rule=False)
    print(report(f"check-in, worse world, {scenario.name}, without the rule", without))
    return study, without


def test_check_in_follows_the_actuals_when_the_world_is_worse_than_the_plan():
    study, without = worse_world_studies(ONE_TIME, 7)
    assert study.coverage >= 0.75, study
    # Without the rule the firm beliefs resist the data: the band is too optimistic.
    assert without.coverage < 0.75 - SE_TOL * se(0.75, without.years), without
    assert without.mean_error < study.mean_error < 0
    # The rule lowered the weight of every uncertain belief in (almost) every year.
    assert np.mean(study.weights < 1.0) > 0.9


def test_the_demos_check_in_follows_the_actuals_when_the_world_is_worse_than_the_plan():
    """The audit's case: the demo with every rate 30% below its plan's mean (its SQL belief, 210
    of 600, is about as strong as six months of actuals). Without the rule: 66% coverage and a
    mean error of −81k in the audit."""
    study, without = worse_world_studies(DEMO, 8)
    assert study.coverage >= 0.75, study
    assert without.coverage < study.coverage - SE_TOL * se(0.75, without.years), without
    assert without.mean_error < 2 * study.mean_error < 0
