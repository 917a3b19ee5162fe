"""The bulk of a sum of deal values where its table stops moving (far in the upper tail)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.deal_value_sums import _ZT, _ZT_STEP, _bulk, bulk_table


@pytest.mark.parametrize("sigma", [0.05, 0.54, 2.65])
def test_the_bulk_is_a_number_where_the_mean_stops_moving(sigma):
    # Where two nodes of the truncation point have the same mean (lam[j + 1] == lam[j]), a
    # truncated mean equal to theirs made 0 / 0 in the interpolation weight: the bulk was NaN.
    table, lam = bulk_table(sigma)
    flat = np.flatnonzero(np.diff(lam) == 0)
    assert flat.size, "the table has such nodes at every spread tried"
    j = flat[0]
    zt = np.array([_ZT[j] + _ZT_STEP / 2])
    for log_mean_w in (lam[j], lam[j] - 1e-9, lam[j] + 1e-9):
        value = _bulk(sigma, np.array([100.0]), zt, np.array([log_mean_w]), np.array([0.3]))
        assert np.isfinite(value).all() and value[0] > 0, (log_mean_w, value)
