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
  (plus the floating-point error of evaluating G) from G at both of its cell's boundaries;
  otherwise (a fraction of about 1.3·SAFETY/σ of the elements) the doubtful end of the cell is
  evaluated exactly with ``scipy.special.betainc`` and the answer found by walking from the
  candidate. ``tests/unit/test_binomial_quantile.py`` checks the bound on a
  dense grid of (n, p) and the whole function against ``scipy.stats.binom.ppf``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

#: n·p·q at or above which the corrected normal approximation (with its error bound) is used.
LARGE_VARIANCE = 25.0
#: The approximation is trusted this many error bounds away from a cell boundary (the bound is
#: a theorem; ``tests/unit/test_binomial_quantile.py`` checks it holds on a dense grid).
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
    # Elementwise: worked on in the arrays' own memory order (the engine's (trials, cohorts)
    # arrays are column-major), which spares three copies; the result has the same layout.
    order = "F" if all(a.flags.f_contiguous and not a.flags.c_contiguous for a in (u, n, p)) else "C"
    u, n, p = u.ravel(order), n.ravel(order), p.ravel(order)
    out = np.zeros(u.size, dtype=np.int64)
    full = (p >= 1.0) & (n > 0)
    out[full] = n[full].astype(np.int64)
    live = (n > 0) & (p > 0.0) & ~full
    large = live & (n * p * (1.0 - p) >= LARGE_VARIANCE)
    small = live & ~large
    if small.all():
        uu, nn, pp = u, n, p                # all of them (no copies)
        small = slice(None)
    else:
        small = np.flatnonzero(small)
        uu, nn, pp = u[small], n[small], p[small]
    if uu.size:
        mirror = np.flatnonzero(pp > 0.5)
        if mirror.size:
            # Searched from the near tail: X = n - Y, Y ~ Bin(n, 1 - p) where p > 1/2, and then
            # x = n - min{y : F_Y(y) > 1 - u} (F(y) > v  <=>  F(y) >= the next double above v).
            # Only those elements are changed (often a few of many).
            vv, qq = uu.copy(), pp.copy()
            vv[mirror] = np.nextafter(1.0 - uu[mirror], 2.0)
            qq[mirror] = 1.0 - pp[mirror]
            y = _search_from_zero(vv, nn, qq)
            y[mirror] = nn[mirror] - y[mirror]
            out[small] = y.astype(np.int64)
        else:
            out[small] = _search_from_zero(uu, nn, pp)
    large = np.flatnonzero(large)
    if large.size:
        out[large] = _corrected_normal(u[large], n[large], p[large]).astype(np.int64)
    return out.reshape(shape, order=order)


def _search_from_zero(v, n, p) -> np.ndarray:
    """min{y : F(y) >= v} by the pmf recurrence, all elements in step: y counts the steps k at
    which F(k) < v (F is nondecreasing, so that count is the answer). n·p·q < 25 and p <= 1/2
    here, so n·p < 50 and (1-p)^n does not underflow. The elements still searching are
    compacted every few steps; while most of them search on (the first steps, as a rule), they
    are worked on in place, which costs less than gathering them (an element already found
    adds nothing more to its count: F stays >= v)."""
    pmf = np.exp(n * np.log1p(-p))
    cdf = pmf.copy()
    searching = cdf < v
    found = np.count_nonzero(searching)
    if found == 0:
        return np.zeros(v.size)
    if 2 * found > v.size:
        active = None                   # every element, until the first compaction
        result = None
        y = searching.astype(np.float64)     # 1 where F(0) < v
        odds = p / (1.0 - p)
    else:
        active = np.flatnonzero(searching)
        result = np.zeros(v.size)
        odds = p[active] / (1.0 - p[active])
        v, n, pmf, cdf = v[active], n[active], pmf[active], cdf[active]
        y = np.ones(active.size)             # F(0) < v for all of them
    n_odds = n * odds
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
        keep = np.flatnonzero(going)
        if active is None:
            result = np.minimum(y, n)
            active = keep
        else:
            result[active] = np.minimum(y, n)
            active = active[keep]
        if keep.size == 0:
            return result
        v, n, odds, n_odds, pmf, cdf, y = v[keep], n[keep], odds[keep], n_odds[keep], pmf[keep], cdf[keep], y[keep]


def _exact_cdf(x, n, p):
    """P(Bin(n, p) <= x) for whole x (float arrays): 0 below 0, 1 from n. Below the mean the
    lower tail directly, I_{1-p}(n - x, x + 1); from the mean up one minus the upper tail,
    1 - I_p(x + 1, n - x): accurate in both tails, the same numbers as ``scipy.stats.binom.cdf``
    (checked by the tests) and 5-20 times faster than ``betaincc`` for large n."""
    xc = np.clip(x, 0.0, n)
    inside = (x >= 0) & (x < n)
    a, b = xc + 1.0, np.where(inside, n - xc, 1.0)
    val = np.empty(x.shape)
    low = xc < n * p
    val[low] = special.betainc(b[low], a[low], 1.0 - p[low])
    val[~low] = 1.0 - special.betainc(a[~low], b[~low], p[~low])
    return np.where(x < 0, 0.0, np.where(x >= n, 1.0, val))


def _corrected_normal(u, n, p) -> np.ndarray:
    """min{x : F(x) >= u} for n·p·q >= 25 (any p): Cornish–Fisher candidate x, accepted when u
    lies farther than SAFETY × Uspensky's bound (plus the rounding of G) from G at both ends of
    its cell; where it does not, the doubtful end is evaluated exactly."""
    q = 1.0 - p
    mean = n * p
    sigma = np.sqrt(mean * q)
    skew = q - p
    w = special.ndtri(np.minimum(u, 1.0 - 2.0 ** -53))
    x = np.clip(np.ceil(mean - 0.5 + sigma * w + skew * (w * w - 1.0) / 6.0), 0.0, n)
    # The bound, plus the rounding of G itself: of n·p and x + 1/2 (a shift of z by up to
    # (n·p + x)·2**-52 / sigma, moving G by at most 0.4 times that), and of the sums in G.
    bound = SAFETY * uspensky_bound(n, p) + 1e-12 + 0.4 * (mean + x + 1.0) * 2.3e-16 / sigma
    low_sure = (_edgeworth_cdf(x - 1.0, mean, sigma, skew) + bound < u) | (x <= 0)    # F(x-1) < u
    high_sure = (_edgeworth_cdf(x, mean, sigma, skew) - bound >= u) | (x >= n)       # F(x) >= u
    doubt = np.flatnonzero(~(low_sure & high_sure))
    if doubt.size:
        x[doubt] = _resolve(x[doubt], u[doubt], n[doubt], p[doubt], low_sure[doubt], high_sure[doubt])
    return x


_WALK_STEPS = 3


def _resolve(x, u, n, p, low_known, high_known) -> np.ndarray:
    """Settle doubtful candidates with exact CDF values: evaluate the unknown end of the cell
    (the upper one first); accept x when both ends are settled, else move one cell (the shared
    end is then known). Candidates still unsettled after a few steps are found by bisection."""
    x = x.copy()
    lk, hk = low_known.copy(), high_known.copy()
    active = np.arange(x.size)
    for _ in range(_WALK_STEPS):
        active = active[~(lk[active] & hk[active])]
        if active.size == 0:
            return x
        xa, na = x[active], n[active]
        upper = ~hk[active]
        f = _exact_cdf(np.where(upper, xa, xa - 1.0), na, p[active])
        reaches = f >= u[active]
        go_up = upper & ~reaches
        go_down = ~upper & reaches
        new_x = np.where(go_up, xa + 1.0, np.where(go_down, xa - 1.0, xa))
        # What is known about the (new) cell's ends.
        hk[active] = np.where(go_down, True, np.where(go_up, new_x >= na, hk[active] | (upper & reaches)))
        lk[active] = np.where(go_up, True, np.where(go_down, new_x <= 0, lk[active] | (~upper & ~reaches)))
        x[active] = new_x
    active = active[~(lk[active] & hk[active])]
    if active.size:
        x[active] = _bisect(u[active], n[active], p[active], x[active])
    return x


def _bisect(u, n, p, guess) -> np.ndarray:
    """min{x : F(x) >= u} by galloping from ``guess`` to a bracket, then bisection (exact CDF)."""
    step = np.ones(u.size)
    lo = guess - 1.0                        # lo: F(lo) < u (or lo = -1); hi: F(hi) >= u
    hi = guess.copy()
    while True:
        bad = (lo >= 0) & (_exact_cdf(lo, n, p) >= u)
        if not bad.any():
            break
        hi = np.where(bad, lo, hi)
        lo = np.where(bad, np.maximum(lo - step, -1.0), lo)
        step *= 2
    step = np.ones(u.size)
    while True:
        bad = (hi < n) & (_exact_cdf(hi, n, p) < u)
        if not bad.any():
            break
        lo = np.where(bad, hi, lo)
        hi = np.where(bad, np.minimum(hi + step, n), hi)
        step *= 2
    while True:
        open_ = hi - lo > 1
        if not open_.any():
            return hi
        mid = np.floor((lo + hi) / 2)
        ok = _exact_cdf(mid, n, p) >= u
        hi = np.where(open_ & ok, mid, hi)
        lo = np.where(open_ & ~ok, mid, lo)
