"""The exact quantile function (inverse CDF) of the binomial distribution, vectorised.

``binomial_quantile(u, n, p)`` is the smallest integer x with P(Bin(n, p) <= x) >= u, the same
number as ``scipy.stats.binom.ppf(u, n, p)``, at a fraction of its cost. The engine draws every
count by inversion from one uniform, so that a count never decreases when n, p or u rise (the
binomial family is stochastically increasing in n and in p): this is what makes P(goal)
monotone in the inputs for one seed. Every branch below returns the exact quantile, so which
branch serves an element never changes the answer.

* ``p > 1/2`` is mirrored: X = n − Y with Y ~ Bin(n, 1 − p), so that the searched variable
  always has p <= 1/2 and the search starts from its near tail.
* Small variance (n·p·q < 25): a search from 0 with the pmf recurrence
  pmf(x+1) = pmf(x)·(n−x)/(x+1)·p/q, in steps over all elements still searching (the set is
  compacted every few steps rather than at every step).
* Large variance (n·p·q >= 25): the Edgeworth-corrected normal approximation
  G(x) = Φ(z) + (q − p)/(6σ)·(1 − z²)·φ(z), z = (x + 1/2 − np)/σ, whose error is bounded by
  Uspensky's theorem (1937): |F(x) − G(x)| < (0.13 + 0.18|p − q|)/σ² + exp(−3σ/2) for
  σ² >= 25 (the theorem bounds P(a <= X <= b); for a CDF the lower end contributes a term of
  at most Φ(−5)-size, included below). The candidate x from the Cornish–Fisher expansion is
  accepted without any exact evaluation when u lies farther than ``SAFETY`` times that bound
  from G at both of its cell's boundaries; otherwise (a fraction of about 1.3·SAFETY/σ of the
  elements) the CDF is evaluated exactly with ``scipy.special.betainc`` and the answer found
  by walking from the candidate. ``tests/test_binomial_quantile.py`` checks the bound on a
  dense grid of (n, p) and the whole function against ``scipy.stats.binom.ppf``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

#: n·p·q at or above which the corrected normal approximation (with its error bound) is used.
LARGE_VARIANCE = 25.0
#: The approximation is trusted this many error bounds away from a cell boundary (the bound is
#: a theorem; ``tests/test_binomial_quantile.py`` checks it holds on a dense grid).
SAFETY = 1.0
_COMPACT_EVERY = 4


def uspensky_bound(n, p):
    """Uspensky's bound on |F(x) − G(x)| for Bin(n, p) with n·p·q >= 25 (see the module
    docstring), plus the lower end's contribution for a CDF (P(X <= b) = P(0 <= X <= b))."""
    p = np.asarray(p, dtype=np.float64)
    var = np.asarray(n, dtype=np.float64) * p * (1.0 - p)
    # For sigma >= 5 the lower end's term |G(-1)| is below exp(-sigma^2 / 2) * sigma, itself
    # below exp(-1.5 sigma): counted once more.
    return (0.13 + 0.18 * np.abs(1.0 - 2.0 * p)) / var + 2.0 * np.exp(-1.5 * np.sqrt(var))


def _edgeworth_cdf(x, mean, sigma, q_minus_p):
    """G(x): the normal approximation of P(X <= x) with continuity and skewness corrections."""
    z = (x + 0.5 - mean) / sigma
    return special.ndtr(z) + q_minus_p / (6.0 * sigma) * (1.0 - z * z) * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def binomial_quantile(u, n, p) -> np.ndarray:
    """Smallest integer x with P(Bin(n, p) <= x) >= u, elementwise (int64).

    ``u`` in (0, 1]; ``n`` whole numbers >= 0 (exact as float64: below 2**53); ``p`` in [0, 1].
    Arrays broadcast together."""
    u, n, p = np.broadcast_arrays(np.asarray(u, dtype=np.float64), np.asarray(n, dtype=np.float64),
                                  np.asarray(p, dtype=np.float64))
    shape = u.shape
    u, n, p = u.ravel(), n.ravel(), p.ravel()
    out = np.zeros(u.size, dtype=np.int64)
    full = (p >= 1.0) & (n > 0)
    out[full] = n[full].astype(np.int64)
    live = np.flatnonzero((n > 0) & (p > 0.0) & ~full)
    if live.size:
        uu, nn, pp = u[live], n[live], p[live]
        mirror = pp > 0.5
        qq = np.where(mirror, 1.0 - pp, pp)         # success probability of the searched variable
        vv = np.where(mirror, 1.0 - uu, uu)
        y = _quantile_at_most_half(vv, nn, qq, mirror)
        out[live] = np.where(mirror, nn - y, y).astype(np.int64)
    return out.reshape(shape)


def _quantile_at_most_half(v, n, p, strict) -> np.ndarray:
    """For p <= 1/2: min{y : F(y) > v} where ``strict``, else min{y : F(y) >= v} (float64)."""
    # F(y) > v  <=>  F(y) >= the next double above v: one comparison serves both cases.
    v = np.where(strict, np.nextafter(v, 2.0), v)
    var = n * p * (1.0 - p)
    small = var < LARGE_VARIANCE
    if small.all():
        return _search_from_zero(v, n, p)
    y = np.empty(v.size)
    idx = np.flatnonzero(small)
    if idx.size:
        y[idx] = _search_from_zero(v[idx], n[idx], p[idx])
    idx = np.flatnonzero(~small)
    y[idx] = _corrected_normal(v[idx], n[idx], p[idx])
    return y


def _search_from_zero(v, n, p) -> np.ndarray:
    """min{y : F(y) >= v} by the pmf recurrence, all elements in step: y counts the steps k at
    which F(k) < v (F is nondecreasing, so that count is the answer). n·p < 50 here, so
    (1-p)^n does not underflow. The elements still searching are compacted every few steps."""
    result = np.zeros(v.size)
    pmf = np.exp(n * np.log1p(-p))
    cdf = pmf.copy()
    active = np.flatnonzero(cdf < v)
    if active.size == 0:
        return result
    odds = p[active] / (1.0 - p[active])
    n_odds = n[active] * odds
    v, n = v[active], n[active]
    pmf, cdf = pmf[active], cdf[active]
    y = np.ones(active.size)             # F(0) < v for all of them
    k = 0
    while True:
        for _ in range(_COMPACT_EVERY):
            k += 1
            # pmf(k) = pmf(k-1) * (n - k + 1) / k * p / q
            pmf *= (n_odds - (k - 1) * odds) * (1.0 / k)
            cdf += pmf
            y += cdf < v
        # Stop at n, and where the pmf no longer moves the sum (rounding just below 1).
        going = (cdf < v) & (y < n) & ((pmf > cdf * 1e-17) | (y <= n_odds))
        if going.all():
            continue
        result[active] = np.minimum(y, n)
        keep = np.flatnonzero(going)
        if keep.size == 0:
            return result
        active = active[keep]
        v, n, odds, n_odds, pmf, cdf, y = v[keep], n[keep], odds[keep], n_odds[keep], pmf[keep], cdf[keep], y[keep]


def _exact_cdf(x, n, p):
    """P(Bin(n, p) <= x) for whole x (float arrays): 0 below 0, 1 from n."""
    xc = np.clip(x, 0.0, n)
    inside = (x >= 0) & (x < n)
    val = special.betainc(np.where(inside, n - xc, 1.0), xc + 1.0, 1.0 - p)
    return np.where(x < 0, 0.0, np.where(x >= n, 1.0, val))


def _corrected_normal(v, n, p) -> np.ndarray:
    """min{x : F(x) >= v} for n·p·q >= 25: Cornish–Fisher candidate x, accepted when v lies
    farther than SAFETY × Uspensky's bound from G at both ends of its cell; where it does not,
    the doubtful end is evaluated exactly (one betainc) and the search moves on from there."""
    q = 1.0 - p
    mean = n * p
    sigma = np.sqrt(mean * q)
    skew = q - p
    w = special.ndtri(v)
    x = np.clip(np.ceil(mean - 0.5 + sigma * w + skew * (w * w - 1.0) / 6.0), 0.0, n)
    bound = SAFETY * uspensky_bound(n, p) + 1e-12
    low_sure = _edgeworth_cdf(x - 1.0, mean, sigma, skew) + bound < v     # F(x-1) < v
    high_sure = _edgeworth_cdf(x, mean, sigma, skew) - bound >= v         # F(x) >= v
    doubt = np.flatnonzero(~(low_sure & high_sure))
    if doubt.size:
        x[doubt] = _resolve(x[doubt], v[doubt], n[doubt], p[doubt], low_sure[doubt], high_sure[doubt],
                            mean[doubt], sigma[doubt], skew[doubt], bound[doubt])
    return x


def _resolve(x, v, n, p, low_sure, high_sure, mean, sigma, skew, bound) -> np.ndarray:
    """Settle the doubtful candidates: each step evaluates one end of the cell exactly and
    either accepts x (the other end being certain) or moves x by one cell, keeping what is
    known of the end it shares with the next cell."""
    x = x.copy()
    low_known = np.where(low_sure, 1, 0)      # 1: F(x-1) < v is established
    high_known = np.where(high_sure, 1, 0)    # 1: F(x) >= v is established
    active = np.arange(x.size)
    while active.size:
        xa = x[active]
        lk, hk = low_known[active], high_known[active]
        # Evaluate the upper end where it is unknown, else the lower end.
        upper = hk == 0
        at = np.where(upper, xa, xa - 1.0)
        f = _exact_cdf(at, n[active], p[active])
        reaches = f >= v[active]
        # Upper end evaluated: F(x) >= v -> known; F(x) < v -> the answer is above x.
        go_up = upper & ~reaches
        hk = np.where(upper & reaches, 1, hk)
        # Lower end evaluated: F(x-1) < v -> known; F(x-1) >= v -> the answer is below x.
        go_down = ~upper & reaches
        lk = np.where(~upper & ~reaches, 1, lk)
        new_x = np.where(go_up, xa + 1.0, np.where(go_down, xa - 1.0, xa))
        # After a move the shared end is known exactly; the other end: approximation first.
        lk = np.where(go_up, 1, np.where(go_down, 0, lk))
        hk = np.where(go_down, 1, np.where(go_up, 0, hk))
        moved = go_up | go_down
        if moved.any():
            i = active[moved]
            xm = new_x[moved]
            g_hi = _edgeworth_cdf(xm, mean[i], sigma[i], skew[i]) - bound[i] >= v[i]
            g_lo = _edgeworth_cdf(xm - 1.0, mean[i], sigma[i], skew[i]) + bound[i] < v[i]
            hk[moved] = np.where(go_up[moved] & g_hi, 1, hk[moved])
            lk[moved] = np.where(go_down[moved] & g_lo, 1, lk[moved])
        # The ends of the range are known: F(-1) = 0 < v, F(n) = 1 >= v.
        lk = np.where(new_x <= 0, 1, lk)
        hk = np.where(new_x >= n[active], 1, hk)
        x[active], low_known[active], high_known[active] = new_x, lk, hk
        active = active[(lk == 0) | (hk == 0)]
    return x
