"""Inversion of a small discrete CDF by a table: ``CdfLookup(edges).index(u)`` is the number of
``edges`` at or below each uniform ``u`` — the same numbers as
``np.searchsorted(edges, u, side="right")``, about three times faster for millions of uniforms.

The engine places each customer of a small cohort in its closing month this way (``edges``:
the cohort's cumulative month probabilities but the last). The unit interval is cut into
``BINS`` equal bins. For a bin, the edges at or below its left end are counted in advance; a
uniform in the bin adds the bin's one edge inside it if it has reached that edge. A bin with
two or more edges inside it (a month of probability below 1/BINS, or none) is marked, and the
uniforms that fall in such bins are looked up with ``np.searchsorted``.
"""

from __future__ import annotations

import numpy as np

BINS = 4096
_MARKED = -(1 << 30)


class CdfLookup:
    """Counts of ``edges`` (nondecreasing, in [0, 1]) at or below uniforms in [0, 1)."""

    def __init__(self, edges):
        self.edges = np.asarray(edges, dtype=np.float64)
        left = np.arange(BINS) / BINS
        # Edges at or below each bin's left end: below every uniform of the bin.
        self._below = np.searchsorted(self.edges, left, side="right").astype(np.int64)
        # Edges strictly inside each bin (left end excluded, right end excluded).
        inside = np.searchsorted(self.edges, left + 1.0 / BINS, side="left") - self._below
        self._edge = np.full(BINS, 2.0)               # above every uniform: nothing to add
        one = np.flatnonzero(inside == 1)
        self._edge[one] = self.edges[self._below[one]]
        marked = inside > 1
        self._below[marked] = _MARKED                  # looked up one by one
        self._marked = bool(marked.any())

    def index(self, u: np.ndarray) -> np.ndarray:
        """``np.searchsorted(edges, u, side="right")`` for ``u`` in [0, 1) (int64)."""
        b = (u * BINS).astype(np.intp)
        out = self._below[b] + (u >= self._edge[b])
        if self._marked:
            odd = np.flatnonzero(out < 0)
            if odd.size:
                out[odd] = np.searchsorted(self.edges, u[odd], side="right")
        return out
