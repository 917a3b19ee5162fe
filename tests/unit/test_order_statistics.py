"""order_statistics gives exactly np.sort(row)[ranks], whichever way it finds the values."""

import numpy as np
import pytest

from sim.model import order_statistics as os_module
from sim.model.order_statistics import SAMPLE_EVERY, SHORT_ROW, order_statistics


def _summary_ranks(n):
    """The ranks the forecast's summary asks for: both neighbours of five percentiles."""
    pos = np.array([0.1, 0.25, 0.5, 0.75, 0.9]) * (n - 1)
    low = np.floor(pos).astype(int)
    return np.concatenate([low, np.minimum(low + 1, n - 1)])


def _rows():
    rng = np.random.default_rng(20261205)
    n = 100_000
    lognormal = rng.lognormal(10, 1, n)
    some_zeros = lognormal.copy()
    some_zeros[rng.random(n) < 0.06] = 0.0                 # months without a deal
    mostly_zeros = lognormal.copy()
    mostly_zeros[rng.random(n) < 0.8] = 0.0
    few_values = rng.choice([0.0, 1.5, 2.0, 1e6], size=n)   # heavy ties
    with_nan = lognormal.copy()
    with_nan[rng.random(n) < 0.15] = np.nan                 # NaN sorts last
    with_inf = rng.standard_normal(n)
    with_inf[:50] = np.inf
    with_inf[50:100] = -np.inf
    misleading = rng.standard_normal(n)
    misleading[::SAMPLE_EVERY] = 1e9                        # the sample sees only its outliers
    return {
        "lognormal": lognormal, "some zeros": some_zeros, "mostly zeros": mostly_zeros,
        "few values": few_values, "NaN": with_nan, "infinities": with_inf,
        "ascending": np.sort(lognormal), "descending": np.sort(lognormal)[::-1].copy(),
        "all equal": np.full(n, 7.25), "misleading sample": misleading,
        "short": rng.standard_normal(SHORT_ROW - 1), "just long enough": rng.standard_normal(SHORT_ROW),
        "odd length": rng.standard_normal(SHORT_ROW * 3 + 7), "float32": lognormal.astype(np.float32),
        "wide whole numbers": rng.integers(-10**12, 10**12, n),
        "narrow whole numbers": rng.integers(-3, 40, n), "one value": np.array([3.5]),
    }


@pytest.mark.parametrize("name", list(_rows()))
def test_the_values_are_those_of_a_sorted_copy(name):
    row = _rows()[name]
    n = row.size
    for ranks in (_summary_ranks(n), np.array([0, n - 1]), np.array([n - 1, 0, n // 2, n // 2]),
                  np.random.default_rng(n).integers(0, n, 25)):
        got = order_statistics(row, ranks)
        want = np.sort(row)[ranks]
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_random_rows_go_through_the_brackets_nearly_always():
    # The fast path must be the one taken on rows of random values (a fallback each time would
    # give the same numbers at twice the cost); about one row in a hundred falls back.
    rng = np.random.default_rng(7)
    taken = 0
    for _ in range(200):
        row = rng.lognormal(10, 1, 20_000)
        ranks = _summary_ranks(row.size)
        values = os_module._bracketed(row, ranks)
        if values is not None:
            taken += 1
            np.testing.assert_array_equal(values, np.sort(row)[ranks])
    assert taken >= 190


def test_a_misleading_sample_falls_back_to_the_whole_row():
    row = np.random.default_rng(3).standard_normal(50_000)
    row[::SAMPLE_EVERY] = 1e9
    ranks = _summary_ranks(row.size)
    assert os_module._bracketed(row, ranks) is None
    np.testing.assert_array_equal(order_statistics(row, ranks), np.sort(row)[ranks])


def test_no_ranks_gives_an_empty_answer():
    assert order_statistics(np.arange(5000.0), []).size == 0
