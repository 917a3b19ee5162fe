"""Rate beliefs (Beta) and deal values (lognormal)."""

import numpy as np
import pytest
from scipy import stats

from sim.errors import ScenarioError
from sim.model.beliefs import DealValue, RateBelief
from sim.model.engine import make_rng


@pytest.mark.parametrize("p10, p90", [(0.018, 0.026), (0.2, 0.35), (0.001, 0.004), (0.1, 0.9),
                                      (0.6, 0.62), (0.9, 0.99), (0.0001, 0.5)])
def test_quantile_beliefs_reproduce_their_quantiles(p10, p90):
    belief = RateBelief.from_quantiles(p10, p90)
    assert belief.ppf([0.1, 0.9]) == pytest.approx([p10, p90], rel=1e-4)
    # ... and so do draws from it (4 standard errors of a proportion).
    draws = belief.sample(make_rng(7), 100_000)
    se = np.sqrt(0.1 * 0.9 / draws.size)
    assert abs(np.mean(draws <= p10) - 0.1) <= 4 * se
    assert abs(np.mean(draws <= p90) - 0.9) <= 4 * se


def test_mean_strength_and_counts_forms():
    b = RateBelief.from_mean_strength(0.3, 50)
    assert (b.alpha, b.beta) == pytest.approx((15, 35))
    assert b.mean == pytest.approx(0.3)
    c = RateBelief.from_counts(210, 600)
    assert (c.alpha, c.beta) == (211, 391)
    f = RateBelief.fixed(0.25)
    assert f.is_fixed and f.mean == 0.25 and np.all(f.sample(make_rng(1), 5) == 0.25)
    assert b.ppf(0.5) == pytest.approx(stats.beta.ppf(0.5, 15, 35))


@pytest.mark.parametrize("build, args", [
    (RateBelief.from_quantiles, (0.3, 0.2)), (RateBelief.from_quantiles, (0.0, 0.2)),
    (RateBelief.from_mean_strength, (1.2, 10)), (RateBelief.from_mean_strength, (0.5, 0)),
    (RateBelief.from_counts, (5, 3)), (RateBelief.fixed, (1.5,)),
])
def test_impossible_beliefs_are_rejected(build, args):
    with pytest.raises(ScenarioError):
        build(*args)


def test_deal_value_median_p90_and_mean():
    d = DealValue(24000, 48000)
    assert d.ppf([0.5, 0.9]) == pytest.approx([24000, 48000])
    assert d.mean == pytest.approx(stats.lognorm(d.sigma, scale=24000).mean())
    assert DealValue(100, 100).is_fixed
    with pytest.raises(ScenarioError):
        DealValue(100, 50)
    with pytest.raises(ScenarioError):
        DealValue(100, 200, "weekly")


def test_reading_a_scenario_with_ranges_and_forecasting_it_loads_no_scipy_optimize():
    """The command line's forecast imports no more than it needs: a P10-P90 range is fitted by
    Newton's method on scipy.special alone (scipy.optimize costs half a second to import)."""
    import json
    import subprocess
    import sys

    from ..conftest import DEMO_PATH, ROOT
    code = ("import json, sys; from sim import load_scenario, simulate; "
            f"sc = load_scenario({str(DEMO_PATH)!r}); simulate(sc, trials=2000); "
            "print(json.dumps([m in sys.modules for m in ('scipy.optimize', 'scipy.stats')]))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [False, False]
    assert any("p10" in s.get("rate", {}) for s in json.loads(DEMO_PATH.read_text())["stages"])  # ranges fitted


@pytest.mark.parametrize(("p10", "p90"), [(1e-5, 3e-5), (0.018, 0.026), (0.2, 0.35), (0.01, 0.9), (0.97, 0.9999)])
def test_a_range_is_fitted_to_scipys_beta_quantiles(p10, p90):
    from scipy import stats

    from sim.model.beliefs import _fit_beta_quantiles
    a, b = _fit_beta_quantiles(p10, p90)
    assert stats.beta.ppf([0.1, 0.9], a, b) == pytest.approx([p10, p90], rel=1e-9)
