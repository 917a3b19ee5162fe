"""Vectorised Monte Carlo of the funnel, at a cost that does not grow with the customers.

The model (see README, "The model in plain words"): per trial, one conversion rate per stage
from its belief; top-of-funnel volume per month = round(plan · G), G ~ Gamma(mean 1, CV c);
every unit entering stage k-1 converts to stage k with the trial's rate and arrives after a lag
drawn from the stage's lag distribution; each customer brings a lognormal deal value.

Two samplers of that model live here.

**The revenue sample** (all trials: revenue, P(goal), customers, monthly revenue). Given a
trial's rates, a unit of stage j becomes a customer with probability P_j = p_{j+1}···p_K and
closes after the sum of the stage lags (the convolution of the lag vectors). Thinning a
binomial count through independent stages is again binomial, so the customers of a *cohort*
(the top of the funnel's volume of month t, or the open pipeline of stage j) that close
within the period are one Binomial(N, P·F) draw, F the probability of closing by the end of
the period, and those closing after it (an output only) one more binomial of the rest, with
numpy's sampler. Per cohort, customers are placed in their closing months: for recurring
deals, whose revenue depends on the month, the first ``INDIVIDUAL`` one by one from their own
positional uniforms and the rest by conditional binomials over the months, by inversion; for
one-time deals (the months are outputs only) a cohort of at most ``INDIVIDUAL`` one by one,
a larger one by numpy's multinomial. The deal values of each sum (one per trial for one-time
deals, one per trial and closing month for recurring deals) are drawn by
:mod:`sim.model.deal_value_sums` (exact top values, validated bulk); for one-time deals the sum is
then spread over the months (each exact value to a random customer's month, the bulk by a
Dirichlet split). None of this grows with the number of customers beyond those caps.

**The stage-detail sample** (``detail_trials`` trials, the volume of every stage month by
month): the straightforward stage-by-stage chain with numpy's binomial sampler, one binomial
conversion plus a multinomial lag split per stage and month (numpy's samplers cost O(1) in
the counts).

**Monotone coupling.** Every random number of the revenue sample has a fixed address
(:mod:`sim.model.positional_random`): the rates, volume noise and cohort uniforms are fixed-shape
blocks, the per-customer and per-value uniforms come from counter-based streams. Counts are
drawn by exact inversion (:mod:`sim.model.binomial_quantile`), rates by inversion of their belief
(:mod:`sim.model.rate_quantile_table`), value sums are nondecreasing in the count. So, for one seed
and number of trials, each trial's revenue never decreases when a top-of-funnel volume, an
open-pipeline count, a rate belief or the baseline rises, and P(goal) never decreases either
(nor increases when the goal rises). A cohort's streams are addressed by its column (month t,
or T + stage j), so a new open pipeline moves nobody else. The work is done in chunks of
``BLOCK`` trials, the unit of positional addressing, on a pool of two threads that all runs
share in turn, plus two express threads for light runs while a heavy run's long chunks hold
the others (:mod:`sim.model.fair_pool`): the numbers depend on the seed and the trial count
only, not on the threads or the order.

**Exact sums.** Revenue is summed in float64; with a fixed deal it is the whole number of
deals (weighted by the months they count for) times the deal, one rounding.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from . import positional_random as pr
from .binomial_quantile import binomial_quantile
from .cdf_lookup import CdfLookup
from .deal_value_sums import ValueSums
from .fair_pool import FairPool
from .positional_random import BLOCK, RandomSource, uniforms_at
from .rate_quantile_table import quantile_table
from .run_cancellation import never_stop, stop_check
from .scenario import Scenario
from .work_budget import LONG_JOB_SECONDS, estimate_run

#: Trials per chunk of work: the positional block (the numpy streams of the outputs-only
#: draws are per block, so the two must stay equal).
CHUNK = BLOCK
#: Customers of a cohort placed in their closing month one by one; the rest by binomials.
INDIVIDUAL = 16
_WORKERS = max(1, min(2, os.cpu_count() or 1))
_pool: FairPool | None = None


def _executor() -> FairPool:
    """The worker threads, shared by all runs in turn (:mod:`sim.model.fair_pool`): a run that
    arrives while another is going gets the next free worker, not a place behind all its chunks."""
    global _pool
    if _pool is None:
        _pool = FairPool(_WORKERS, name="sim", express=_WORKERS)
    return _pool


def make_rng(seed: int) -> np.random.Generator:
    """The project's generator for a seed (SFC64)."""
    return np.random.Generator(np.random.SFC64(np.random.SeedSequence(int(seed))))


@dataclass(frozen=True)
class RevenueDraws:
    """Per-trial draws of what counts toward the goal, one column per trial.

    ``new_customers[t, i]``: customers closing in month t of trial i (row ``months``: closing
    after the period, from this period's activity or the start pipeline).
    ``monthly_revenue[t, i]``: revenue booked in month t (float64; the months add up to
    ``revenue`` up to the rounding of the last digit). ``revenue[i]``: the period's revenue
    (float64). ``pipeline_value[i]``: deal value of the customers closing after the period
    (monthly value for recurring deals). ``top_volume[i]``: units entering the top of the
    funnel in the period.
    """

    new_customers: np.ndarray      # (T+1, n) int64
    monthly_revenue: np.ndarray    # (T, n) float64
    revenue: np.ndarray            # (n,) float64
    pipeline_value: np.ndarray     # (n,) float64
    top_volume: np.ndarray         # (n,) int64


@dataclass(frozen=True)
class Draws:
    """Everything one simulation run draws: the revenue sample (all trials) and, when asked
    for, the stage-detail sample: ``arrivals[i, k, t]`` units arriving in stage k in month t,
    ``late_customers[i]`` customers closing after the period."""

    revenue: RevenueDraws
    arrivals: np.ndarray | None = None         # (detail_trials, K, T) int64
    late_customers: np.ndarray | None = None   # (detail_trials,) int64


# -- the model, prepared once per run ----------------------------------------------------------

def _convolve_lags(lags) -> np.ndarray:
    out = np.array([1.0])
    for lag in lags:
        out = np.convolve(out, np.asarray(lag, dtype=np.float64))
    return out / out.sum()


@dataclass(frozen=True)
class _Cohort:
    column: int              # position among the cohort uniforms (month t, or T + stage j)
    start: int               # month the cohort's clock starts
    stage: int               # stage its units are in (0: top of the funnel)
    count: int               # open-pipeline count (top cohorts: 0, the volume is per trial)
    in_share: float          # P(close within the period | becomes a customer)
    month_cdf: np.ndarray    # cumulative P(close in month start + d | within the period)
    month_pmf: np.ndarray    # P(close in month start + d | within the period)


class _Model:
    """What every chunk needs, computed once: samplers of the rates, the cohorts, the deal."""

    def __init__(self, sc: Scenario):
        self.scenario = sc
        self.K, self.T = len(sc.stages), sc.months
        self.rates = []
        for stage in sc.stages[1:]:
            belief = stage.rate
            self.rates.append(belief.fixed_value if belief.is_fixed
                              else quantile_table(float(belief.alpha), float(belief.beta)))
        self.plan = np.asarray(sc.top.monthly, dtype=np.float64)
        cv = sc.top.noise_cv
        self.gamma_shape = None if cv == 0 else 1.0 / (cv * cv)
        self.cohorts = []
        top_delay = _convolve_lags([s.lag for s in sc.stages[1:]])
        for t in range(self.T):
            self.cohorts.append(self._cohort(t, t, 0, 0, top_delay))
        for j, count in enumerate(sc.pipeline_counts()):
            if count and j < self.K - 1:
                delay = _convolve_lags([sc.pipeline_lag(j)] + [s.lag for s in sc.stages[j + 2:]])
                self.cohorts.append(self._cohort(self.T + j, 0, j, count, delay))
        self.weights = (self.T - np.arange(self.T)) if sc.deal.recurring else np.ones(self.T, dtype=np.int64)
        # For placing customers by binomials: each cohort's first month and pmf (padded to D).
        C = len(self.cohorts)
        self.starts = np.array([c.start for c in self.cohorts], dtype=np.int64)
        # A cohort's streams are addressed by its column (month t, or T + stage j), never by
        # its position in the list, which changes when another open pipeline appears.
        self.columns = np.array([c.column for c in self.cohorts], dtype=np.int64)
        self.D = max((c.month_pmf.size for c in self.cohorts), default=1)
        self.pmf = np.zeros((C, self.D))
        for c, cohort in enumerate(self.cohorts):
            self.pmf[c, :cohort.month_pmf.size] = cohort.month_pmf
        self.months_of = np.array([c.month_pmf.size for c in self.cohorts], dtype=np.int64)
        self.is_top = np.array([c.stage == 0 and c.count == 0 for c in self.cohorts], dtype=bool)
        self.counts = np.array([c.count for c in self.cohorts], dtype=np.float64)
        self.stages = np.array([c.stage for c in self.cohorts], dtype=np.int64)
        self.in_shares = np.array([c.in_share for c in self.cohorts], dtype=np.float64)
        # Cohorts that may still have customers after the period (the others close within it).
        self.late_columns = np.flatnonzero(self.in_shares < 1.0)
        deal = sc.deal
        self.values = ValueSums(deal.median, 0.0 if deal.is_fixed else deal.sigma)
        self.long_jobs = estimate_run(sc).long_chunks

    @cached_property
    def month_lookup(self) -> list[CdfLookup]:
        """Per cohort, a customer's closing month from its uniform (the month CDF inverted);
        made when first needed (the monthly outputs, recurring deals), not for P(goal) alone."""
        return [CdfLookup(c.month_cdf[:-1]) for c in self.cohorts]

    def _cohort(self, column, start, stage, count, delay):
        horizon = self.T - 1 - start
        inside = delay[:horizon + 1]
        share = float(min(1.0, inside.sum()))
        pmf = inside / inside.sum() if share > 0 else np.zeros(inside.size)
        cdf = np.cumsum(pmf)
        if share > 0:
            cdf[-1] = 1.0
        return _Cohort(column, start, stage, count, share, cdf, pmf)


# -- the revenue sample ---------------------------------------------------------------------

def _block_rows(source: RandomSource, purpose: int, start: int, n: int, rows, draw) -> np.ndarray:
    """Rows of a chunk's fixed-shape block family (``RandomSource.block_rows``): all ``n``, or
    only those at ``rows`` (increasing positions in the chunk; the block's first rows are the
    same whatever their number, so only those up to the last one are made)."""
    if rows is None:
        return source.block_rows(purpose, start, n, draw)
    return source.block_rows(purpose, start, int(rows[-1]) + 1, draw)[rows]


def _rates(model: _Model, source: RandomSource, start: int, n: int, rows=None) -> np.ndarray:
    """(n, K) rates; column 0 (the top of the funnel) is 1. One uniform per stage and trial,
    inverted through the belief's quantile table (fixed rates: exact). ``rows``: those trials
    of the chunk only."""
    K = model.K
    u = _block_rows(source, pr.RATES, start, n, rows, lambda g, m: g.random((m, K - 1)))
    rates = np.ones((u.shape[0], K))
    for k, sampler in enumerate(model.rates, start=1):
        rates[:, k] = sampler if isinstance(sampler, float) else sampler.rates(u[:, k - 1])
    return rates


def _top_volumes(model: _Model, source: RandomSource, start: int, n: int, rows=None) -> np.ndarray:
    """(n, T) top-of-funnel volumes (float64, whole numbers): round(plan · G)."""
    if model.gamma_shape is None:
        return np.broadcast_to(np.rint(model.plan), (n if rows is None else len(rows), model.T)).copy()
    shape = model.gamma_shape
    g = _block_rows(source, pr.VOLUMES, start, n, rows, lambda gen, m: gen.standard_gamma(shape, (m, model.T)))
    g /= shape
    return np.rint(model.plan * g)


def _cohort_counts(model: _Model, source: RandomSource, start: int, n: int, rows=None):
    """Per trial: the volumes (n, T), and per cohort its size N (n, C), the probability q
    that a unit closes within the period (n, C) and P, that it ever closes (n, C)."""
    rates = _rates(model, source, start, n, rows)
    m = rates.shape[0]
    to_customer = np.cumprod(rates[:, ::-1], axis=1)[:, ::-1]     # [:, j] = p_j ... p_{K-1}
    to_customer = np.concatenate([to_customer[:, 1:], np.ones((m, 1))], axis=1)  # P_j
    volumes = _top_volumes(model, source, start, n, rows)
    # Top cohorts take their month's volume, open pipelines their count.
    size = np.where(model.is_top, volumes[:, np.minimum(model.columns, model.T - 1)], model.counts)
    ever = to_customer[:, model.stages]
    return volumes, size, ever * model.in_shares, ever


def _cohort_uniforms(source, purpose, start, n, model, rows=None):
    """(n, C) positional uniforms, one per trial and cohort (columns fixed by the model)."""
    columns = [c.column for c in model.cohorts]
    u = _block_rows(source, purpose, start, n, rows, lambda g, m: g.random((m, model.T + model.K - 1)))
    return u[:, columns]


def _split_by_month(model: _Model, source: RandomSource, trials: np.ndarray, won: np.ndarray,
                    coupled: bool, check=never_stop) -> np.ndarray:
    """(n, T) customers closing in each month, from each cohort's customers within the period
    ``won`` (n, C). When ``coupled`` (recurring deals, where the months enter the revenue),
    the first INDIVIDUAL customers of a cohort each get their month from their own uniform and
    the rest are split by conditional binomials over the months (exact inversion from
    positional uniforms: adding a customer to a cohort never moves another, the counts per
    month rise with it). Otherwise a cohort of at most INDIVIDUAL customers is placed one by
    one and a larger one by numpy's multinomial. ``check()`` is called between delays (it may
    raise to stop the run)."""
    n, T = won.shape[0], model.T
    C = won.shape[1]
    out = np.zeros(n * T, dtype=np.int64)
    # One by one: the first INDIVIDUAL customers (coupled), or all of a cohort's when they are
    # at most INDIVIDUAL (not coupled: larger cohorts go to the multinomial whole).
    first = np.minimum(won.T, INDIVIDUAL) if coupled else np.where(won.T <= INDIVIDUAL, won.T, 0)
    per_cohort = first.sum(axis=1)
    first = first.ravel()
    # Each customer's place in the (n, T) counts, before its delay: its trial's row, its
    # cohort's first month (customers in cohort-major order, as ``first``).
    index = np.repeat(((np.arange(n) * T)[None, :] + model.starts[:, None]).ravel(), first)
    if index.size:
        if coupled:
            # Customer j of cell (cohort c, trial i): uniform j of the cell's stream.
            cells = np.repeat(np.arange(C * n), first)
            offsets = np.cumsum(first) - first
            j = np.arange(cells.size) - np.repeat(offsets, first)
            states = source.cell_states(pr.MONTH_SPLIT, trials[None, :], model.columns[:, None]).ravel()
            u = uniforms_at(states[cells], j)
        else:
            # Outputs only: the block's stream, in order (cheaper than positional uniforms).
            u = source.block_generator(pr.MONTH_SPLIT, int(trials[0]) // BLOCK).random(index.size)
        bounds = np.concatenate([[0], np.cumsum(per_cohort)])
        for c, lookup in enumerate(model.month_lookup):
            lo, hi = bounds[c], bounds[c + 1]
            if hi > lo:
                index[lo:hi] += lookup.index(u[lo:hi])
        out += np.bincount(index, minlength=n * T)
    rest = np.flatnonzero(won.ravel() > INDIVIDUAL)
    if rest.size == 0:
        return out.reshape(n, T)
    cohort = rest % C
    row = rest // C
    remaining = (won.ravel()[rest] - (INDIVIDUAL if coupled else 0)).astype(np.float64)
    base = row * T + model.starts[cohort]
    if not coupled:
        # Not needed for P(goal) (one-time deals): numpy's exact multinomial, per cohort (its
        # cells in trial order), all months counted in one pass.
        gen = source.block_generator(pr.EXCESS_SPLIT, int(trials[0]) // BLOCK)
        order = np.argsort(cohort, kind="stable")
        bounds = np.searchsorted(cohort[order], np.arange(C + 1))
        index, counts = [], []
        for c in range(C):
            cells = order[bounds[c]:bounds[c + 1]]
            if cells.size == 0:
                continue
            split = gen.multinomial(remaining[cells].astype(np.int64), model.cohorts[c].month_pmf)
            index.append((base[cells][:, None] + np.arange(split.shape[1])).ravel())
            counts.append(split.ravel())
        out += np.bincount(np.concatenate(index), weights=np.concatenate(counts), minlength=n * T).astype(np.int64)
        return out.reshape(n, T)
    # Coupled (recurring deals): conditional binomials by exact inversion, positional uniforms:
    # of those not yet placed, the share closing after delay d.
    states = source.cell_states(pr.EXCESS_SPLIT, trials[row], model.columns[cohort])
    last = model.months_of[cohort] - 1
    tail = np.ones(rest.size)
    for d in range(model.D):
        check()
        share = model.pmf[cohort, d]
        live = d <= last
        if not live.any():
            break
        p = np.where(d == last, 1.0, np.minimum(1.0, share / np.maximum(tail, 1e-300)))
        moved = np.where(live, binomial_quantile(uniforms_at(states, d), remaining * live, p), 0)
        out += np.bincount(base[live] + d, weights=moved[live], minlength=n * T).astype(np.int64)
        remaining = remaining - moved
        tail = tail - share
    return out.reshape(n, T)


def _revenue_chunk(model: _Model, source: RandomSource, start: int, n: int, outputs: bool, rows=None,
                   check=never_stop):
    """The revenue sample for trials ``start .. start+n``. Without ``outputs``: the period's
    revenue (n,) only (what P(goal) needs), or with ``rows`` (increasing positions in the
    chunk) that of those trials only, the same numbers; with ``outputs``: customers (n, T+1),
    monthly revenue (n, T), revenue (n,), pipeline value (n,), top volume (n,). ``check()`` is
    called between the chunk's steps (it may raise to stop the run: a chunk of a heavy
    scenario takes seconds)."""
    T = model.T
    if rows is not None and outputs:
        raise ValueError("rows: the period's revenue only")
    trials = np.arange(start, start + n) if rows is None else start + np.asarray(rows, dtype=np.int64)
    volumes, size, q_in, ever = _cohort_counts(model, source, start, n, rows)
    u_in = _cohort_uniforms(source, pr.COHORT_IN, start, n, model, rows)
    n = trials.size
    won = binomial_quantile(u_in, size, q_in)                              # (n, C) int64
    check()
    recurring = model.scenario.deal.recurring
    values = model.values
    fixed = values.sigma == 0.0
    if recurring or outputs:
        by_month = _split_by_month(model, source, trials, won, coupled=recurring, check=check)   # (n, T)
        check()
    if recurring:
        weights = model.weights
        if fixed:
            revenue = values.median * (by_month @ weights).astype(np.float64)
            new_value = by_month * values.median
        else:
            states = source.cell_states(pr.VALUES, trials[:, None], np.arange(T))
            new_value = values.sums(by_month.ravel(), states.ravel()).reshape(n, T)
            revenue = np.cumsum(new_value, axis=1).sum(axis=1)
        if not outputs:
            return revenue
        monthly = np.cumsum(new_value, axis=1)
    else:
        total = won.sum(axis=1)
        states = source.cell_states(pr.VALUES, trials, 0)
        if not outputs:
            return values.sums(total, states)
        revenue, tops, bulk, shape = values.sums(total, states, details=True)
        monthly = _allocate_to_months(source, trials, by_month, tops, bulk, shape) if not fixed \
            else by_month * values.median
    check()
    # After the period (an output, not part of P(goal)): the rest of each cohort, with the
    # conditional probability, by numpy's binomial.
    # Only the cohorts whose delay can reach past the period: for the others q_after is 0, and
    # numpy's binomial gives 0 without drawing (the same numbers, a fraction of the calls).
    cols = model.late_columns
    left = (size[:, cols] - won[:, cols]).astype(np.int64)
    q_in_c = q_in[:, cols]
    with np.errstate(divide="ignore", invalid="ignore"):
        q_after = np.where(q_in_c < 1.0, (ever[:, cols] - q_in_c) / (1.0 - q_in_c), 0.0)
    gen = source.block_generator(pr.COHORT_AFTER, start // BLOCK)
    late = gen.binomial(left, np.clip(q_after, 0.0, 1.0)).sum(axis=1)
    late_value = values.sums(late, source.cell_states(pr.LATE_VALUES, trials, 0))
    customers = np.empty((n, T + 1), dtype=np.int64)
    customers[:, :T] = by_month
    customers[:, T] = late
    return customers, monthly, revenue, late_value, volumes.sum(axis=1).astype(np.int64)


def _allocate_to_months(source, trials, by_month, tops, bulk, shape) -> np.ndarray:
    """Monthly revenue of one-time deals (n, T) that adds up to each trial's value sum: each
    exact top value goes to the month of a customer picked at random (without replacement);
    the bulk is split over the months in proportion to Gamma(shape × bulk customers of the
    month) draws (the Dirichlet split, exact for gamma-shaped values). Worked month by month
    (T, n); the result is a view of that array."""
    n, T = by_month.shape
    # Customers in month order: the month of customer o (0-based) is the number of months whose
    # cumulated count is <= o. Pick r takes customer floor(u * (M - r)) of those not picked yet,
    # found among all of them by stepping past the earlier picks in ascending order.
    cumulated = np.cumsum(by_month.T, axis=0, dtype=np.float64)
    customers = cumulated[-1]
    states = source.cell_states(pr.MONTH_ALLOCATION, trials, 0)
    picked = []                             # earlier picks, ascending per trial
    cells, values = [], []
    for r in range(tops.shape[1]):
        left = customers - r
        has = left > 0
        if not has.any():
            break
        o = np.floor(uniforms_at(states, r) * left)
        for q in picked:
            o += o >= q
        month = np.minimum((cumulated <= o).sum(axis=0), T - 1)
        at = np.flatnonzero(has)
        cells.append(month[at] * n + at)
        values.append(tops[at, r])
        carry = o                           # insert o: the picks stay ascending
        for j, q in enumerate(picked):
            picked[j], carry = np.minimum(q, carry), np.maximum(q, carry)
        picked.append(carry)
    cells = np.concatenate(cells) if cells else np.zeros(0, dtype=np.int64)
    # Each top value added to its month in pick order (the same sums as one pick at a time).
    monthly = np.bincount(cells, weights=np.concatenate(values) if values else None, minlength=T * n)
    monthly = monthly.reshape(T, n).astype(np.float64, copy=False)
    # Customers of each month not given a top value (whole numbers).
    unpicked = by_month.T - np.bincount(cells, minlength=T * n).reshape(T, n)
    with_bulk = np.flatnonzero(bulk > 0)
    if with_bulk.size:
        # Every trial has a bulk, as a rule: then views of whole arrays, not gathered copies.
        sel = slice(None) if with_bulk.size == n else with_bulk
        remaining = unpicked.T[sel]                              # (bulk trials, T)
        shapes = remaining * shape[sel, None]
        gen = source.block_generator(pr.MONTH_ALLOCATION, int(trials[0]) // BLOCK)
        g = np.where(shapes > 0, gen.standard_gamma(np.maximum(shapes, 1e-300)), 0.0)
        total = g.sum(axis=1, keepdims=True)
        share = g / np.where(total > 0, total, 1.0)
        none = np.flatnonzero(total[:, 0] <= 0)        # every draw underflowed: by the counts
        if none.size:
            share[none] = remaining[none] / np.maximum(remaining[none].sum(axis=1, keepdims=True), 1.0)
        monthly[:, sel] += (bulk[sel, None] * share).T
    return monthly.T


# -- the stage-detail sample (stage-by-stage chain) ---------------------------------------------

def _draw_rates_numpy(sc: Scenario, n: int, rngs) -> np.ndarray:
    rates = np.ones((n, len(sc.stages)))
    for k, stage in enumerate(sc.stages[1:], start=1):
        rates[:, k] = stage.rate.sample(rngs[k], n)
    return rates


def _split_by_lag(converted: np.ndarray, lag, rng: np.random.Generator, T: int):
    """Multinomial split of each month's conversions over lags; returns in-period arrivals
    (n, T) and how many arrive after the period (n,)."""
    n = converted.shape[0]
    arrivals = np.zeros((n, T), dtype=np.int64)
    remaining = converted
    tail = float(sum(lag))
    last = max(i for i, v in enumerate(lag) if v > 0)
    for L, share in enumerate(lag):
        if share == 0:
            continue
        if L == last:
            moved = remaining
        else:
            moved = rng.binomial(remaining, min(1.0, share / tail))
            remaining = remaining - moved
            tail -= share
        if L < T:
            arrivals[:, L:] += moved[:, :T - L]
        if L == last:
            break
    late = converted.sum(axis=1) - arrivals.sum(axis=1)
    return arrivals, late


def _stage_chunk(sc: Scenario, source: RandomSource, start: int, n: int, check=never_stop):
    """(n, K, T) arrivals in every stage and month, plus the customers that this period's
    activity and start pipeline bring after the period (units arriving in a stage after the
    period keep converting through the later stages). ``check()`` is called before each stage
    (it may raise to stop the run)."""
    K, T = len(sc.stages), sc.months
    children = source.block_generator(pr.DETAIL, start // BLOCK).spawn(K + 2)
    rate_rngs, volume_rng, funnel_rng = children[:K], children[K], children[K + 1]
    rates = _draw_rates_numpy(sc, n, rate_rngs)
    arrivals = np.empty((n, K, T), dtype=np.int64)
    plan = np.asarray(sc.top.monthly, dtype=np.float64)
    cv = sc.top.noise_cv
    if cv == 0:
        arrivals[:, 0] = np.rint(plan).astype(np.int64)
    else:
        shape = 1.0 / (cv * cv)
        arrivals[:, 0] = np.rint(plan * (volume_rng.standard_gamma(shape, (n, T)) / shape)).astype(np.int64)
    pipeline = sc.pipeline_counts()
    late = np.zeros(n, dtype=np.int64)           # units arriving in stage k-1 after the period
    for k in range(1, K):
        check()
        entering = arrivals[:, k - 1].copy()
        own_lag = sc.pipeline_lag(k - 1) != sc.stages[k].lag
        if not own_lag:
            entering[:, 0] += pipeline[k - 1]
        converted = funnel_rng.binomial(entering, rates[:, k:k + 1])
        arrivals[:, k], overflow = _split_by_lag(converted, sc.stages[k].lag, funnel_rng, T)
        if own_lag and pipeline[k - 1]:   # the open pipeline moves on with its own lag
            start_units = np.zeros((n, T), dtype=np.int64)
            start_units[:, 0] = funnel_rng.binomial(pipeline[k - 1], rates[:, k])
            moved, pipe_overflow = _split_by_lag(start_units, sc.pipeline_lag(k - 1), funnel_rng, T)
            arrivals[:, k] += moved
            overflow = overflow + pipe_overflow
        late = funnel_rng.binomial(late, rates[:, k]) + overflow
    return arrivals, late


# -- running ------------------------------------------------------------------------------------

def _chunks(trials: int):
    """(start, size) of each chunk; fixed sizes, so chunk i is the same for any trial count."""
    return [(s, min(CHUNK, trials - s)) for s in range(0, trials, CHUNK)]


def _detail_jobs_long(sc: Scenario, detail_trials: int) -> bool:
    """Whether a job of the stage-detail sample (a chunk of up to CHUNK trials) is long."""
    trials = min(detail_trials, CHUNK)
    return trials > 0 and estimate_run(sc, trials=0, detail_trials=trials,
                                       months_detail=False).cpu_seconds > LONG_JOB_SECONDS


def run_parallel(jobs, *, progress=None, check=None, long_jobs: bool = False):
    """Run callables, on the shared pool when there are several; results in order.
    ``progress(fraction)`` is called in the calling thread as jobs finish; ``check()`` before
    each job starts (it may raise to stop the run; jobs not started are dropped). Runs of
    different callers (e.g. web sessions) share the workers in turn (:mod:`sim.model.fair_pool`);
    ``long_jobs``: some job may take longer than LONG_JOB_SECONDS.

    Do not call from inside a job (the pool is bounded: nested waits could deadlock)."""
    if len(jobs) == 1:
        if check:
            check()
        result = [jobs[0]()]
        if progress:
            progress(1.0)
        return result
    return _executor().map(jobs, check=check, progress=progress, long_jobs=long_jobs)


def _resolve(scenario: Scenario, trials, seed):
    trials = scenario.trials if trials is None else int(trials)
    if trials < 1:
        raise ValueError("trials must be >= 1")
    return trials, RandomSource.from_seed(scenario.seed if seed is None else seed)


def draw(scenario: Scenario, *, trials: int | None = None, seed=None, detail_trials: int = 0,
         progress=None, should_stop=None) -> Draws:
    """Simulate ``trials`` trials of the revenue sample (default: the scenario's) and
    ``detail_trials`` trials of the stage-by-stage sample, sharing the thread pool.

    ``seed``: an int or a ``numpy.random.Generator`` (default: the scenario's seed).
    ``progress(fraction)`` is called as chunks finish; ``should_stop`` (a callable or a
    ``threading.Event``) is checked before each chunk and between a chunk's steps, and ends the run with
    :class:`~sim.model.run_cancellation.RunCancelled`."""
    trials, source = _resolve(scenario, trials, seed)
    detail_trials = min(max(int(detail_trials), 0), trials)
    model = _Model(scenario)
    check = stop_check(should_stop)
    T, K = scenario.months, len(scenario.stages)
    customers = np.empty((T + 1, trials), dtype=np.int64)
    monthly = np.empty((T, trials), dtype=np.float64)
    revenue = np.empty(trials, dtype=np.float64)
    pipeline = np.empty(trials, dtype=np.float64)
    top_volume = np.empty(trials, dtype=np.int64)
    arrivals = np.empty((detail_trials, K, T), dtype=np.int64) if detail_trials else None
    late = np.empty(detail_trials, dtype=np.int64) if detail_trials else None

    def revenue_job(start, size):
        def job():
            c, m, r, p, v = _revenue_chunk(model, source, start, size, outputs=True, check=check)
            customers[:, start:start + size], monthly[:, start:start + size] = c.T, m.T
            revenue[start:start + size], pipeline[start:start + size] = r, p
            top_volume[start:start + size] = v
        return job

    def detail_job(start, size):
        def job():
            arrivals[start:start + size], late[start:start + size] = _stage_chunk(scenario, source, start, size, check)
        return job

    # The stage-by-stage chunks cost most per trial: start them first.
    jobs = [detail_job(s, n) for s, n in (_chunks(detail_trials) if detail_trials else [])]
    jobs += [revenue_job(s, n) for s, n in _chunks(trials)]
    long_jobs = model.long_jobs or _detail_jobs_long(scenario, detail_trials)
    run_parallel(jobs, progress=progress, check=check, long_jobs=long_jobs)
    return Draws(RevenueDraws(customers, monthly, revenue, pipeline, top_volume), arrivals, late)


def draw_revenue(scenario: Scenario, *, trials: int | None = None, seed=None, progress=None,
                 should_stop=None) -> RevenueDraws:
    """Per-trial customers, monthly revenue and end-of-period pipeline value (no stage detail)."""
    return draw(scenario, trials=trials, seed=seed, progress=progress, should_stop=should_stop).revenue


def period_revenue(scenario: Scenario, *, trials: int | None = None, seed=None, progress=None,
                   should_stop=None) -> np.ndarray:
    """Each trial's revenue in the period (float64, without the baseline): the same numbers as
    ``draw_revenue(...).revenue``, without the monthly detail (what P(goal) needs)."""
    trials = scenario.trials if trials is None else trials
    return period_revenues([scenario], trials=trials, seed=seed, progress=progress, should_stop=should_stop)[0]


def period_revenues(scenarios, *, trials: int, seed=None, progress=None, should_stop=None) -> list[np.ndarray]:
    """:func:`period_revenue` of several scenarios with the same ``trials`` and ``seed`` (default:
    each scenario's own), as one batch of chunks on the pool: the workers stay busy across the
    runs (a run of a few chunks alone leaves one idle at its end). The numbers are those of
    separate calls."""
    jobs, outs, long_jobs = [], [], False
    check = stop_check(should_stop)
    for scenario in scenarios:
        n, source = _resolve(scenario, trials, seed)
        model = _Model(scenario)
        long_jobs = long_jobs or model.long_jobs
        out = np.empty(n)
        outs.append(out)

        def job(model, source, out, start, size):
            def run():
                out[start:start + size] = _revenue_chunk(model, source, start, size, outputs=False, check=check)
            return run

        jobs += [job(model, source, out, s, size) for s, size in _chunks(n)]
    run_parallel(jobs, progress=progress, check=check, long_jobs=long_jobs)
    return outs


def period_revenue_of(scenario: Scenario, trials: np.ndarray, *, seed=None, should_stop=None) -> np.ndarray:
    """The period's revenue of the trials numbered ``trials`` (increasing, from 0) only: the same
    numbers as ``period_revenue(scenario, trials=N, seed=seed)[trials]`` for any N above the
    last (every random number has a fixed address), at a cost in proportion to their number."""
    trials = np.asarray(trials, dtype=np.int64)
    out = np.empty(trials.size)
    if trials.size == 0:
        return out
    if np.any(np.diff(trials) <= 0) or trials[0] < 0:
        raise ValueError("trials: increasing indices from 0")
    _, source = _resolve(scenario, int(trials[-1]) + 1, seed)
    model = _Model(scenario)
    check = stop_check(should_stop)
    bounds = np.searchsorted(trials, np.arange(0, int(trials[-1]) + 1 + CHUNK, CHUNK))
    jobs = []
    for c, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        if hi > lo:
            rows = trials[lo:hi] - c * CHUNK

            def run(lo=lo, hi=hi, start=c * CHUNK, rows=rows):
                out[lo:hi] = _revenue_chunk(model, source, start, CHUNK, outputs=False, rows=rows, check=check)
            jobs.append(run)
    run_parallel(jobs, check=check, long_jobs=model.long_jobs)
    return out


def draw_stage_arrivals(scenario: Scenario, *, trials: int | None = None, seed=None):
    """Stage-by-stage sample only: (trials, K, T) arrivals and (trials,) late customers."""
    trials, source = _resolve(scenario, trials, seed)
    parts = run_parallel([(lambda s=s, n=n: _stage_chunk(scenario, source, s, n)) for s, n in _chunks(trials)],
                         long_jobs=_detail_jobs_long(scenario, trials))
    return np.concatenate([a for a, _ in parts]), np.concatenate([b for _, b in parts])
