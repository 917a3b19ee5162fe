"""The distribution of a sum of n independent lognormal values, computed (not simulated).

The oracle against which :mod:`sim.model.deal_value_sums` is validated where brute-force sums are
too costly (n in the thousands to millions). For X = exp(sigma·Z) (median 1) and S the sum
of n values:

* the values are truncated at L: P(S <= x) = F(L)^n · P(S' <= x), S' the sum of n values of
  X given X <= L, exactly when x <= L, and within n·P(X > L) otherwise (L is the smaller of
  the window's top and the point where n·P(X > L) = 1e-12);
* X given X <= L is put on a lattice of step h = (x_hi − x_lo) / points, each cell's
  probability split between its two ends so that its mean is kept; S' is then a lattice
  variable whose distribution is the n-th convolution power, computed by FFT on a window of
  2 × points lattice steps from x_lo (mass outside the window wraps around: the returned
  ``outside`` is the mass that lands in the upper half of the window, which the caller keeps
  negligible by choosing [x_lo, x_hi] around the sum's range).

The lattice error shrinks with h²: ``tests/slow/test_deal_value_sums.py`` checks this oracle
against brute-force sums and against a finer lattice.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def lognormal_sum_cdf(sigma: float, n: int, x_lo: float, x_hi: float, points: int = 2 ** 20):
    """(x, F(x), outside): F on ``points + 1`` lattice points from ``x_lo`` to ``x_hi`` for the
    sum of ``n`` lognormal values with median 1 and log-sd ``sigma``."""
    h = (x_hi - x_lo) / points
    P = 2 * points
    top = min(x_hi, float(np.exp(sigma * -special.ndtri(1e-12 / n))))
    cells = int(np.ceil(top / h))
    edges = np.arange(cells + 1) * h
    edges[-1] = top
    with np.errstate(divide="ignore"):
        z = np.log(edges) / sigma
    below = special.ndtr(z)                                     # P(X <= edge)
    first = special.ndtr(z - sigma) * np.exp(sigma ** 2 / 2)     # E[X; X <= edge]
    f_top = below[-1]
    mass = np.diff(below) / f_top
    mean_part = np.diff(first) / f_top
    with np.errstate(invalid="ignore", divide="ignore"):
        up = np.where(mass > 0, (mean_part / np.where(mass > 0, mass, 1.0) - edges[:-1]) / h, 0.0)
    up = np.clip(up, 0.0, 1.0)
    pmf = np.zeros(cells + 1)
    pmf[:-1] += mass * (1.0 - up)
    pmf[1:] += mass * up
    folded = np.bincount(np.arange(cells + 1) % P, weights=pmf, minlength=P)
    phi = np.fft.rfft(folded)
    k = np.arange(phi.size)
    offset = (x_lo / h) % P
    window = np.fft.irfft(phi ** n * np.exp(2j * np.pi * k * offset / P), P)
    window = np.maximum(window, 0.0)
    cdf = np.cumsum(window[:points + 1]) * f_top ** n
    x = x_lo + np.arange(points + 1) * h
    return x, cdf, float(window[points + 1:].sum())
