"""The distribution of a sum of n independent lognormal values, computed (not simulated).

The oracle against which :mod:`sim.deal_value_sums` is validated where brute-force sums are
too costly (n in the thousands to millions). For X = exp(sigma·Z) (median 1):

* P(S_n <= x) = F(L)^n · P(S'_n <= x) for x <= L, where S'_n sums n values of X given X <= L
  (no sum of positive values below x can hold a value above x);
* X given X <= L is put on a lattice of step h preserving each cell's probability and mean
  (its mass split between the cell's two ends), and S'_n's lattice distribution is the n-th
  convolution power, by FFT on a window of 2 × ``points`` lattice steps starting at x_lo
  (the mass outside the window is reported so that the caller can check it is negligible).

The lattice error shrinks with h²: :func:`tests.test_deal_value_sums` checks the oracle
against brute-force sums and against a finer lattice.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def lognormal_sum_cdf(sigma: float, n: int, x_lo: float, x_hi: float, points: int = 2 ** 20):
    """(x, F(x)) on ``points + 1`` lattice points from ``x_lo`` to ``x_hi`` for the sum of ``n``
    lognormal values with median 1 and log-sd ``sigma``; also the window's total mass."""
    h = (x_hi - x_lo) / points
    P = 2 * points
    cells = int(np.ceil(x_hi / h))
    edges = np.arange(cells + 1) * h
    edges[-1] = x_hi
    with np.errstate(divide="ignore"):
        z = np.log(edges) / sigma
    below = special.ndtr(z)                                     # P(X <= edge)
    first = special.ndtr(z - sigma) * np.exp(sigma ** 2 / 2)     # E[X; X <= edge]
    f_l = below[-1]
    mass = np.diff(below) / f_l
    mean_part = np.diff(first) / f_l
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
    cdf = np.cumsum(window[:points + 1]) * f_l ** n
    x = x_lo + np.arange(points + 1) * h
    return x, cdf, float(window.sum())
