"""The sum of m lognormal deal values, at a cost that does not grow with m.

The value of m deals, each exp(mu + sigma·Z), is drawn as

* **the top EXACT_TOP values exactly**, as order statistics: with V_1, V_2, ... uniforms, the
  largest of m uniforms is V_1^(1/m), the next V_1^(1/m)·V_2^(1/(m-1)), and so on (Rényi's
  representation); each is mapped to a deal value by the lognormal quantile function. For
  m <= EXACT_TOP that *is* the exact sum of m values;
* **the rest (the "bulk") by a validated approximation**: given the smallest exact value w,
  the other c = m − EXACT_TOP values are independent lognormals truncated below w, whose
  sum has mean c·μ(w), variance c·v(w) and skewness γ(w)/√c (closed forms through Φ). It is
  drawn from one more uniform by the quantile of a Pearson type III distribution (a shifted
  gamma) with those three moments, read from a table over (c, w, z) whose entries are made
  nondecreasing along every axis (cumulative maxima) and interpolated linearly (in log c, in
  log μ(w) between the table's nodes of w, and in z).

Monotone in m by construction: for the same uniforms, every order statistic rises with m, so
does w, and the bulk's table value is nondecreasing in c and in w. Adding a deal never
lowers the sum, which the engine's monotone coupling needs.

Accuracy (``scripts/validate_deal_value_sums.py``, table in ``VALIDATION``, rechecked in
part by ``tests/slow/test_deal_value_sums.py``): the Kolmogorov–Smirnov distance between this
sum and the exact sum of m lognormals (brute force for small m, the exact distribution by
:mod:`sim.model.lognormal_sum_cdf` for large m) measured at most 0.23% (at the level of the
measurement's own noise) for p90/median from 1.05 to 30 and m from 5 to 10^6, below the
0.5% bound (``MAX_KS``) the issue sets. EXACT_TOP = 4 suffices at every skew measured.
A fixed deal value (p90 = median) needs none of this: the sum is m × value, exact.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import special

from .positional_random import uniforms_at

#: The largest values of each sum drawn exactly (all of them when there are at most this many).
EXACT_TOP = 4
#: The bulk's uniform is clipped to the z range of the table (|z| <= Z_MAX: 1e-17 of tail).
Z_MAX = 8.5
#: Measured by ``scripts/validate_deal_value_sums.py`` (1,000,000 draws per comparison, two-sample
#: KS noise at 95%: 0.19%): (p90/median, count, KS distance from the exact sum). Largest: 0.23%.
VALIDATION = (
    (1.05, 5, 0.00124), (1.05, 6, 0.00211), (1.05, 8, 0.00177), (1.05, 12, 0.00105),
    (1.05, 20, 0.00105), (1.05, 40, 0.00119), (1.05, 100, 0.00204), (1.05, 256, 0.00092),
    (1.05, 1000, 0.0009), (1.05, 3000, 0.00095), (1.05, 10000, 0.00068), (1.05, 100000, 0.00065),
    (1.05, 1000000, 0.00082),
    (1.2, 5, 0.00077), (1.2, 6, 0.00208), (1.2, 8, 0.00124), (1.2, 12, 0.00114),
    (1.2, 20, 0.00158), (1.2, 40, 0.00093), (1.2, 100, 0.00176), (1.2, 256, 0.00094),
    (1.2, 1000, 0.00074), (1.2, 3000, 0.00095), (1.2, 10000, 0.00061), (1.2, 100000, 0.00091),
    (1.2, 1000000, 0.00088),
    (1.5, 5, 0.00113), (1.5, 6, 0.00144), (1.5, 8, 0.0011), (1.5, 12, 0.00108),
    (1.5, 20, 0.00124), (1.5, 40, 0.00054), (1.5, 100, 0.00147), (1.5, 256, 0.00228),
    (1.5, 1000, 0.00123), (1.5, 3000, 0.00075), (1.5, 10000, 0.00072), (1.5, 100000, 0.00088),
    (1.5, 1000000, 0.0005),
    (2.0, 5, 0.00094), (2.0, 6, 0.00132), (2.0, 8, 0.00191), (2.0, 12, 0.00104),
    (2.0, 20, 0.00119), (2.0, 40, 0.00133), (2.0, 100, 0.00119), (2.0, 256, 0.00115),
    (2.0, 1000, 0.00073), (2.0, 3000, 0.00116), (2.0, 10000, 0.00118), (2.0, 100000, 0.00072),
    (2.0, 1000000, 0.00075),
    (3.0, 5, 0.00157), (3.0, 6, 0.00129), (3.0, 8, 0.00069), (3.0, 12, 0.00116),
    (3.0, 20, 0.00209), (3.0, 40, 0.00182), (3.0, 100, 0.00091), (3.0, 256, 0.00117),
    (3.0, 1000, 0.00144), (3.0, 3000, 0.0006), (3.0, 10000, 0.00089), (3.0, 100000, 0.00164),
    (3.0, 1000000, 0.00097),
    (5.0, 5, 0.00089), (5.0, 6, 0.00123), (5.0, 8, 0.0014), (5.0, 12, 0.00224), (5.0, 20, 0.0015),
    (5.0, 40, 0.00119), (5.0, 100, 0.00161), (5.0, 256, 0.00065), (5.0, 1000, 0.00097),
    (5.0, 3000, 0.00154), (5.0, 10000, 0.00091), (5.0, 100000, 0.00108), (5.0, 1000000, 0.00085),
    (8.0, 5, 0.00099), (8.0, 6, 0.00102), (8.0, 8, 0.00116), (8.0, 12, 0.00142),
    (8.0, 20, 0.00075), (8.0, 40, 0.00131), (8.0, 100, 0.00211), (8.0, 256, 0.00144),
    (8.0, 1000, 0.00098), (8.0, 3000, 0.00076), (8.0, 10000, 0.00093), (8.0, 100000, 0.00133),
    (8.0, 1000000, 0.00145),
    (12.0, 5, 0.00149), (12.0, 6, 0.00111), (12.0, 8, 0.00129), (12.0, 12, 0.00098),
    (12.0, 20, 0.00112), (12.0, 40, 0.00163), (12.0, 100, 0.00099), (12.0, 256, 0.00125),
    (12.0, 1000, 0.001), (12.0, 3000, 0.00077), (12.0, 10000, 0.00067), (12.0, 100000, 0.00132),
    (12.0, 1000000, 0.00151),
    (22.0, 5, 0.00082), (22.0, 6, 0.0009), (22.0, 8, 0.00127), (22.0, 12, 0.00115),
    (22.0, 20, 0.00083), (22.0, 40, 0.00104), (22.0, 100, 0.00144), (22.0, 256, 0.00134),
    (22.0, 1000, 0.00136), (22.0, 3000, 0.00097), (22.0, 10000, 0.00087), (22.0, 100000, 0.00161),
    (22.0, 1000000, 0.001),
    (30.0, 5, 0.00135), (30.0, 6, 0.00229), (30.0, 8, 0.00105), (30.0, 12, 0.00083),
    (30.0, 20, 0.00063), (30.0, 40, 0.00091), (30.0, 100, 0.001), (30.0, 256, 0.00143),
    (30.0, 1000, 0.00119), (30.0, 3000, 0.00064), (30.0, 10000, 0.00087), (30.0, 100000, 0.00155),
    (30.0, 1000000, 0.00119),
)
#: The KS distance the bulk is used within (the issue's bound); every measurement above is below it.
MAX_KS = 0.005

_ZB_STEP = 0.125
_ZB = np.arange(-Z_MAX, Z_MAX + 1e-9, _ZB_STEP)
_ZT_STEP = 0.25
_ZT = np.arange(-9.0, 11.5 + 1e-9, _ZT_STEP)
_C_GRID = np.unique(np.concatenate([np.arange(1.0, 33.0), np.round(np.geomspace(32.0, 1e13, 130))]))
_LOG_C = np.log(_C_GRID)


@lru_cache(maxsize=1)
def _pearson_table():
    """Standardised Pearson III quantiles q(g, z) (mean 0, sd 1, skewness g) on a grid of g
    (asinh-spaced, -30 .. 3e4) and z; g = 0 is the normal, negative g the mirror image."""
    g = np.sinh(np.linspace(np.arcsinh(-30.0), np.arcsinh(3e4), 500))
    g[np.argmin(np.abs(g))] = 0.0
    u_lo, u_hi = special.ndtr(_ZB), special.ndtr(-_ZB)
    table = np.empty((g.size, _ZB.size))
    for i, gi in enumerate(g):
        if gi == 0.0:
            table[i] = _ZB
            continue
        k = 4.0 / (gi * gi)
        q = (special.gammaincinv(k, u_lo if gi > 0 else u_hi) - k) / np.sqrt(k)
        table[i] = q if gi > 0 else -q
    table = np.nan_to_num(table, nan=0.0, posinf=1e300, neginf=-1e300)
    return np.arcsinh(g), table


def _pearson_quantiles(g: np.ndarray) -> np.ndarray:
    """q(g, z) at every z of the grid, for an array of skewness values (shape g.shape + (Z,))."""
    asinh_g, table = _pearson_table()
    x = np.interp(np.arcsinh(g), asinh_g, np.arange(asinh_g.size))
    i = np.clip(np.floor(x).astype(np.int64), 0, asinh_g.size - 2)
    f = (x - i)[..., None]
    out = table[i]                  # in place: the same numbers, fewer temporaries of the table's size
    out *= 1.0 - f
    upper = table[i + 1]
    upper *= f
    out += upper
    return out


def truncated_moments(sigma: float, z):
    """Mean, variance and third central moment of exp(sigma·Z), Z standard normal, given
    Z < z (a lognormal with median 1 truncated at exp(sigma·z)); stable in log space."""
    log_f = special.log_ndtr(z)
    e1 = np.exp(sigma ** 2 / 2 + special.log_ndtr(z - sigma) - log_f)
    e2 = np.exp(2 * sigma ** 2 + special.log_ndtr(z - 2 * sigma) - log_f)
    e3 = np.exp(4.5 * sigma ** 2 + special.log_ndtr(z - 3 * sigma) - log_f)
    var = np.maximum(e2 - e1 * e1, 1e-300 * e1 * e1)
    third = e3 - 3 * e1 * e2 + 2 * e1 ** 3
    return e1, var, third


@lru_cache(maxsize=4)
def bulk_table(sigma: float):
    """(T, lam) for a lognormal with median 1 and log-sd sigma: T[c, w, z] = log of the bulk's
    z-quantile (c values below w = exp(sigma·zt)), made nondecreasing along each axis; lam[w]
    = log(μ(w)), the coordinate in which the table is interpolated between nodes of w."""
    e1, var, third = truncated_moments(sigma, _ZT)
    lam = np.log(e1)
    cv = np.sqrt(var) / e1
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        skew = np.where(var > 0, third / (np.sqrt(var) * var), 0.0)
    skew = np.clip(np.nan_to_num(skew, nan=0.0), -30.0, 3e4)
    c = _C_GRID[:, None]
    # log(c) + lam + log(max(1 + cv/sqrt(c) * q, 1e-12)), worked in place in one (C, ZT, ZB)
    # array (each temporary of that size costs its page faults when first made).
    table = _pearson_quantiles(skew[None, :] / np.sqrt(c))             # q: (C, ZT, ZB)
    table *= cv[None, :, None] / np.sqrt(c)[..., None]
    table += 1.0
    np.maximum(table, 1e-12, out=table)
    np.log(table, out=table)
    table += np.log(c)[..., None] + lam[None, :, None]
    for axis in range(3):
        np.maximum.accumulate(table, axis=axis, out=table)
    table.setflags(write=False)
    lam.setflags(write=False)
    return table, lam


def _bulk(sigma: float, c, zt, log_mean_w, zb) -> np.ndarray:
    """The bulk's value (median 1) by trilinear interpolation of :func:`bulk_table`."""
    table, lam = bulk_table(sigma)
    ci = np.interp(np.log(c), _LOG_C, np.arange(_C_GRID.size))
    i = np.minimum(ci.astype(np.int64), _C_GRID.size - 2)
    fc = ci - i
    j = np.clip(((zt - _ZT[0]) / _ZT_STEP).astype(np.int64), 0, _ZT.size - 2)
    # Far in the upper tail lam stops moving (lam[j + 1] == lam[j]): there x / 0 takes either
    # node, as before, and 0 / 0 (no number: the bulk would be NaN) the first.
    with np.errstate(divide="ignore", invalid="ignore"):
        ft = np.nan_to_num(np.clip((log_mean_w - lam[j]) / (lam[j + 1] - lam[j]), 0.0, 1.0), nan=0.0)
    bk = np.clip((np.clip(zb, -Z_MAX, Z_MAX) - _ZB[0]) / _ZB_STEP, 0.0, _ZB.size - 1.000001)
    k = bk.astype(np.int64)
    fb = bk - k
    # The eight corners read through one flat index (the same entries as table[i, j, k] and
    # its neighbours; a flat take costs a fraction of a three-index lookup).
    flat = table.reshape(-1)
    s_c, s_w = table.shape[1] * table.shape[2], table.shape[2]
    at = (i * s_c + j * s_w) + k
    acc = np.zeros(np.shape(c))
    for di, wi in ((0, 1.0 - fc), (1, fc)):
        for dj, wj in ((0, 1.0 - ft), (1, ft)):
            w = wi * wj
            corner = at + (di * s_c + dj * s_w)
            acc += w * ((1.0 - fb) * flat.take(corner) + fb * flat.take(corner + 1))
    return np.exp(acc)


class ValueSums:
    """Sums of lognormal values per cell, each cell with its own positional stream."""

    def __init__(self, median: float, sigma: float):
        self.median = float(median)
        self.sigma = float(sigma)

    def sums(self, counts: np.ndarray, states: np.ndarray, *, details: bool = False):
        """The value sum of ``counts[i]`` deals in cell i (float64), from the cell's stream
        ``states[i]``: uniforms 0 .. EXACT_TOP-1 for the exact top, EXACT_TOP for the bulk.

        With ``details``, also the exact top values (cells × EXACT_TOP, 0 where absent) and,
        per cell, the bulk (0 where none) and its per-value shape 1/cv² at the truncation
        point (for splitting the bulk over months)."""
        counts = np.asarray(counts, dtype=np.float64).ravel()
        states = np.asarray(states, dtype=np.uint64).ravel()
        size = counts.size
        tops = np.zeros((size, EXACT_TOP)) if details else None
        if self.sigma == 0.0:
            total = counts * self.median
            return (total, tops, np.zeros(size), np.ones(size)) if details else total
        total = np.zeros(size)
        # Work on the cells still drawing (m > r), compacted only when many have stopped.
        cells = np.flatnonzero(counts > 0) if not (counts > 0).all() else None
        m = counts if cells is None else counts[cells]
        st = states if cells is None else states[cells]
        value_sum = np.zeros(m.size)
        top_values = np.zeros((m.size, EXACT_TOP)) if details else None
        log_l = np.zeros(m.size)
        z = np.zeros(m.size)
        where = np.arange(m.size)          # positions in the arrays above of the cells drawing
        for r in range(EXACT_TOP):
            drawing = m[where] > r if r else None
            if r and not drawing.all():
                where = where[drawing]
                if where.size == 0:
                    break
            dense = where.size == m.size
            mw = m if dense else m[where]
            v = uniforms_at(st if dense else st[where], r)
            ll = (log_l if dense else log_l[where]) + np.log(v) / (mw - r)
            zz = -special.ndtri(-np.expm1(ll))
            value = np.exp(self.sigma * zz)
            if dense:
                log_l, z = ll, zz
                value_sum += value
            else:
                log_l[where], z[where] = ll, zz
                value_sum[where] += value
            if details:
                top_values[where, r] = value
        bulk = np.zeros(size) if details else None
        shape = np.ones(size) if details else None
        big = np.flatnonzero(m > EXACT_TOP)
        if big.size:
            c = m[big] - EXACT_TOP
            zt = z[big]
            log_mean_w = special.log_ndtr(zt - self.sigma) - log_l[big] + self.sigma ** 2 / 2
            zb = special.ndtri(uniforms_at(st[big], EXACT_TOP))
            value = _bulk(self.sigma, c, zt, log_mean_w, zb)
            value_sum[big] += value
            if details:
                at = big if cells is None else cells[big]
                bulk[at] = value
                e1 = np.exp(log_mean_w)
                e2 = np.exp(2 * self.sigma ** 2 + special.log_ndtr(zt - 2 * self.sigma) - log_l[big])
                shape[at] = e1 * e1 / np.maximum(e2 - e1 * e1, 1e-300 * e1 * e1)
        if cells is None:
            total = value_sum
            if details:
                tops = top_values
        else:
            total[cells] = value_sum
            if details:
                tops[cells] = top_values
        total *= self.median
        if details:
            return total, tops * self.median, bulk * self.median, shape
        return total
