"""Positional random numbers: every number is addressed by what it is for, never by how many
were drawn before it.

The engine's monotone coupling rests on this: a uniform that decides, say, the customers of
cohort 3 in trial 1234 is the same number whatever the volumes, rates or other cohorts are, so
raising an input can only move counts up (they are drawn by inversion from these uniforms).

Two kinds of addresses, both derived from one 128-bit key per run (:class:`RandomSource`):

* **Fixed-shape blocks** (rates, volume noise, one uniform per cohort, ...): for each purpose
  and each block of ``BLOCK`` consecutive trials, a ``numpy.random.Generator`` (SFC64) seeded
  by (key, purpose, block index) through ``SeedSequence``. Element (trial, column) of such a
  block does not depend on any input but the shape, so it is positional for free, and it is
  the same whatever the number of trials, threads or the chunk a trial is simulated in.
* **Variable-length draws** (per customer, per order statistic): a counter-based generator.
  Each cell (purpose, global trial, cell index) gets a 64-bit state hashed from the key
  (:func:`RandomSource.cell_states`); its j-th uniform is SplitMix64's output for counter j
  (:func:`uniforms_at`), computed in place over numpy ``uint64`` arrays (about 10 ns a value).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Trials per fixed-shape block: the unit of positional addressing of numpy streams.
BLOCK = 8_192

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_TO_UNIT = 2.0 ** -53

# Purposes (stable numbers: changing one changes every result for a seed).
RATES, VOLUMES, COHORT_IN, COHORT_AFTER, MONTH_SPLIT, EXCESS_SPLIT = 1, 2, 3, 4, 5, 6
VALUES, LATE_VALUES, MONTH_ALLOCATION, DETAIL = 7, 8, 9, 10


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, in place on a uint64 array (wrap-around arithmetic)."""
    z ^= z >> _S30
    z *= _MIX1
    z ^= z >> _S27
    z *= _MIX2
    z ^= z >> _S31
    return z


def uniforms_at(states: np.ndarray, j) -> np.ndarray:
    """The j-th uniform (j >= 0, scalar or array) of each cell's stream, in (0, 1): 53 bits,
    never 0 or 1."""
    with np.errstate(over="ignore"):
        z = states + (np.asarray(j, dtype=np.uint64) + np.uint64(1)) * _GOLDEN
        _mix(z)
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) * _TO_UNIT


@dataclass(frozen=True)
class RandomSource:
    """The random numbers of one run, from a seed (an int, or a ``numpy.random.Generator``
    from which a 128-bit key is drawn once)."""

    key: tuple[int, int]

    @classmethod
    def from_seed(cls, seed) -> RandomSource:
        if isinstance(seed, np.random.Generator):
            words = seed.integers(0, 2**63, size=2, dtype=np.int64)
        elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
            words = np.random.SeedSequence(int(seed)).generate_state(2, np.uint64)
        else:
            raise ValueError(f"seed must be a whole number >= 0 or a numpy.random.Generator, not {seed!r}")
        return cls((int(words[0]), int(words[1])))

    def block_generator(self, purpose: int, block: int) -> np.random.Generator:
        """The numpy generator of one purpose for the trials [block·BLOCK, (block+1)·BLOCK)."""
        ss = np.random.SeedSequence(entropy=list(self.key), spawn_key=(int(purpose), int(block)))
        return np.random.Generator(np.random.SFC64(ss))

    def block_rows(self, purpose: int, start: int, size: int, draw) -> np.ndarray:
        """Rows ``start .. start+size`` of a fixed-shape block family: ``draw(generator, rows)``
        makes the rows of one whole block; ``start`` must be a multiple of BLOCK."""
        if start % BLOCK:
            raise ValueError("chunks start at a multiple of BLOCK")
        parts = []
        for offset in range(0, size, BLOCK):
            block = (start + offset) // BLOCK
            rows = min(BLOCK, size - offset)
            parts.append(draw(self.block_generator(purpose, block), rows))
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)

    def cell_states(self, purpose: int, trials: np.ndarray, cells) -> np.ndarray:
        """64-bit stream states of cells (purpose, global trial, cell), broadcast together."""
        trials = np.asarray(trials, dtype=np.uint64)
        cells = np.asarray(cells, dtype=np.uint64)
        with np.errstate(over="ignore"):
            base = np.uint64(self.key[0]) ^ (np.uint64(purpose) * _MIX2)
            z = _mix(np.array(base + trials * _GOLDEN, dtype=np.uint64)) ^ np.uint64(self.key[1])
            z = np.array(z + (cells * _MIX1 + _GOLDEN), dtype=np.uint64)
            _mix(z)
        return z
