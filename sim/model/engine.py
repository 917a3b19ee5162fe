"""Vectorised Monte Carlo of the funnel.

The model (see README, "The model"): per trial, one conversion rate per stage drawn from its
Beta belief; top-of-funnel volume per month = round(plan · G) with G ~ Gamma(mean 1, CV c);
every unit entering stage k-1 converts to stage k with the trial's rate and arrives after a lag
drawn from the stage's lag distribution; each customer brings a lognormal deal value.

Two exact samplers of that model live here:

* :func:`draw_revenue` (used for revenue, P(goal) and the customers stage). Given a trial's
  rates, a unit of stage j becomes a customer with probability P_j = p_{j+1}···p_K and its
  total delay is the sum of the stage lags, whose distribution is the convolution of the lag
  vectors. Thinning a binomial count through several independent stages is again binomial, so
  the customers of a cohort are one ``Binomial(N, P_j)`` draw, and each customer then gets its
  total delay and its deal value. This is the same distribution as stage-by-stage
  simulation, with a fraction of the random draws.
* :func:`draw_stage_arrivals` (used for the volume of every stage, month by month): the
  straightforward stage-by-stage chain, one binomial conversion plus a multinomial lag split
  per stage and month. It is run on a smaller sample of trials (``detail_trials``).

Randomness: the caller's ``Generator`` is split with ``spawn`` into independent streams, one per
chunk of ``CHUNK`` trials and, within a chunk, one per purpose (rates per stage, volumes,
conversions, deal values). The result depends on the seed and the number of trials only, not on
the number of threads; changing one input leaves the other inputs' draws unchanged (common
random numbers for sensitivity and the confidence search).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .scenario import Scenario

CHUNK = 4_096
_WORKERS = max(1, min(2, os.cpu_count() or 1))
_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="sim")
    return _pool


def make_rng(seed: int) -> np.random.Generator:
    """The project's generator for a seed (SFC64: fast, with ``spawn`` support)."""
    return np.random.Generator(np.random.SFC64(np.random.SeedSequence(int(seed))))


@dataclass(frozen=True)
class RevenueDraws:
    """Per-trial draws of what counts toward the goal, one column per trial.

    ``new_customers[t, i]``: customers closing in month t of trial i (row ``months``: closing
    after the period, from this period's activity or start pipeline). ``monthly_revenue[t, i]``:
    revenue booked in month t (float32). ``revenue[i]``: the period's revenue (float64, summed
    before rounding to float32). ``pipeline_value[i]``: deal value of the customers closing
    after the period (monthly value for recurring deals). ``top_volume[i]``: units entering
    the top of the funnel in the period.
    """

    new_customers: np.ndarray      # (T+1, n) int32
    monthly_revenue: np.ndarray    # (T, n) float32
    revenue: np.ndarray            # (n,) float64
    pipeline_value: np.ndarray     # (n,) float64
    top_volume: np.ndarray         # (n,) int64: the top of the funnel's volume in the period


# -- building blocks -----------------------------------------------------------------------

def _chunks(trials: int):
    """(start, size) of each chunk; fixed sizes, so chunk i is the same for any trial count."""
    return [(s, min(CHUNK, trials - s)) for s in range(0, trials, CHUNK)]


def _draw_rates(sc: Scenario, n: int, rngs) -> np.ndarray:
    """(n, K) rates; column 0 (the top of the funnel) is 1."""
    rates = np.ones((n, len(sc.stages)))
    for k, stage in enumerate(sc.stages[1:], start=1):
        rates[:, k] = stage.rate.sample(rngs[k], n)
    return rates


def _draw_top_volumes(sc: Scenario, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, T) top-of-funnel volumes: round(plan · G), G ~ Gamma(mean 1, CV noise_cv)."""
    plan = np.asarray(sc.top.monthly, dtype=np.float64)
    cv = sc.top.noise_cv
    if cv == 0:
        return np.broadcast_to(np.rint(plan).astype(np.int64), (n, plan.size)).copy()
    shape = 1.0 / (cv * cv)
    g = rng.standard_gamma(shape, size=(n, plan.size), dtype=np.float32)
    g *= (plan / shape).astype(np.float32)
    return np.rint(g, out=g).astype(np.int64)


def _convolve_lags(lags) -> np.ndarray:
    out = np.array([1.0])
    for lag in lags:
        out = np.convolve(out, np.asarray(lag, dtype=np.float64))
    return out / out.sum()


def _draw_categorical(pvals: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` draws of an index (int16) with probabilities ``pvals``, by inverse CDF.

    The support is short (a lag of at most a few dozen months), so counting the thresholds a
    uniform passes is faster than a binary search.
    """
    nonzero = np.flatnonzero(pvals)
    if nonzero.size == 1:
        return np.full(size, nonzero[0], dtype=np.int16)
    cdf = np.cumsum(pvals[: nonzero[-1] + 1])
    cdf /= cdf[-1]
    u = rng.random(size, dtype=np.float32)
    idx = np.zeros(size, dtype=np.int16)
    for threshold in cdf[:-1].astype(np.float32):
        idx += u >= threshold
    return idx


def _draw_deal_values(sc: Scenario, n: int, rng: np.random.Generator) -> np.ndarray:
    deal = sc.deal
    if deal.is_fixed:
        return np.full(n, deal.median, dtype=np.float32)
    z = rng.standard_normal(n, dtype=np.float32)
    z *= np.float32(deal.sigma)
    z += np.float32(deal.mu)
    return np.exp(z, out=z)


def _chunk_streams(rng: np.random.Generator, k: int):
    """Per-purpose generators within a chunk: rates (one per stage), volumes, funnel, values."""
    children = rng.spawn(k + 3)
    return children[:k], children[k], children[k + 1], children[k + 2]


def _after_period_folded(by_cell: np.ndarray, T: int) -> np.ndarray:
    """(n, T+1): the T months of the period, then everything after it summed in column T."""
    out = np.empty((by_cell.shape[0], T + 1), dtype=by_cell.dtype)
    out[:, :T] = by_cell[:, :T]
    out[:, T] = by_cell[:, T:].sum(axis=1)
    return out


# -- revenue sample (collapsed chain) ------------------------------------------------------

def _revenue_chunk(sc: Scenario, n: int, rng: np.random.Generator):
    K, T = len(sc.stages), sc.months
    rate_rngs, volume_rng, funnel_rng, value_rng = _chunk_streams(rng, K)
    rates = _draw_rates(sc, n, rate_rngs)
    top = _draw_top_volumes(sc, n, volume_rng)

    # P_j: probability that a unit of stage j eventually becomes a customer (per trial).
    to_customer = np.cumprod(rates[:, ::-1], axis=1)[:, ::-1]  # to_customer[:, j] = prod p[j..K-1]
    to_customer = np.concatenate([to_customer[:, 1:], np.ones((n, 1))], axis=1)

    # Each customer lands in a "cell": trial i, month of closing m, at index i*W + m. W leaves
    # room for the longest delay, so closings after the period need no clipping; they are
    # summed into column T afterwards.
    delay_pmf = _convolve_lags([s.lag for s in sc.stages[1:]])
    W = T + delay_pmf.size
    layout = np.arange(n, dtype=np.int32)[:, None] * np.int32(W) + np.arange(T, dtype=np.int32)
    cells = []
    # Cohorts of the top of the funnel, one per month.
    won = funnel_rng.binomial(top, to_customer[:, :1]).ravel()            # (n*T,)
    cell = np.repeat(layout.ravel(), won)
    cell += _draw_categorical(delay_pmf, cell.size, funnel_rng)
    cells.append(cell)
    # Open pipeline at the start: units already in stage j at month 0.
    for j, count in enumerate(sc.pipeline_counts()):
        if count == 0 or j == K - 1:
            continue
        won_j = funnel_rng.binomial(count, to_customer[:, j])               # (n,)
        cell = np.repeat(layout[:, 0], won_j)
        lags = [sc.pipeline_lag(j)] + [s.lag for s in sc.stages[j + 2:]]
        cell += _draw_categorical(_convolve_lags(lags), cell.size, funnel_rng)
        cells.append(cell)
    where = np.concatenate(cells) if len(cells) > 1 else cells[0]
    del cells, cell
    counts = np.bincount(where, minlength=n * W)
    # Deal values are independent of timing: one per customer, summed per cell.
    values = _draw_deal_values(sc, where.size, value_rng).astype(np.float64)
    value_by_cell = np.bincount(where, weights=values, minlength=n * W).reshape(n, W)
    del where, values
    customers = _after_period_folded(counts.reshape(n, W), T).astype(np.int32)
    value_by_month = _after_period_folded(value_by_cell, T)
    new_value = value_by_month[:, :T]
    monthly = np.cumsum(new_value, axis=1) if sc.deal.recurring else new_value
    return customers, monthly, monthly.sum(axis=1), value_by_month[:, T], top.sum(axis=1)


# -- stage detail sample (stage-by-stage chain) ---------------------------------------------

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


def _stage_chunk(sc: Scenario, n: int, rng: np.random.Generator):
    """(n, K, T) arrivals in every stage and month, plus the customers that this period's
    activity and start pipeline bring after the period (units arriving in a stage after the
    period keep converting through the later stages)."""
    K, T = len(sc.stages), sc.months
    rate_rngs, volume_rng, funnel_rng, _ = _chunk_streams(rng, K)
    rates = _draw_rates(sc, n, rate_rngs)
    arrivals = np.empty((n, K, T), dtype=np.int64)
    arrivals[:, 0] = _draw_top_volumes(sc, n, volume_rng)
    pipeline = sc.pipeline_counts()
    late = np.zeros(n, dtype=np.int64)           # units arriving in stage k-1 after the period
    for k in range(1, K):
        entering = arrivals[:, k - 1].copy()
        own_lag = sc.pipeline_lag(k - 1) != sc.stages[k].lag
        if not own_lag:
            entering[:, 0] += pipeline[k - 1]
        converted = funnel_rng.binomial(entering, rates[:, k:k + 1])
        arrivals[:, k], overflow = _split_by_lag(converted, sc.stages[k].lag, funnel_rng, T)
        if own_lag and pipeline[k - 1]:   # the open pipeline moves on with its own lag
            start = np.zeros((n, T), dtype=np.int64)
            start[:, 0] = funnel_rng.binomial(pipeline[k - 1], rates[:, k])
            moved, pipe_overflow = _split_by_lag(start, sc.pipeline_lag(k - 1), funnel_rng, T)
            arrivals[:, k] += moved
            overflow = overflow + pipe_overflow
        late = funnel_rng.binomial(late, rates[:, k]) + overflow
    return arrivals, late


@dataclass(frozen=True)
class Draws:
    """Everything one simulation run draws: the revenue sample (all trials) and, when asked
    for, the stage-detail sample: ``arrivals[i, k, t]`` units arriving in stage k in month t,
    ``late_customers[i]`` customers closing after the period."""

    revenue: RevenueDraws
    arrivals: np.ndarray | None = None         # (detail_trials, K, T) int64
    late_customers: np.ndarray | None = None   # (detail_trials,) int64


def run_parallel(jobs):
    """Run callables, on the shared pool when there are several; results in order.

    Do not call from inside a job (the pool is bounded: nested waits could deadlock)."""
    if len(jobs) == 1:
        return [jobs[0]()]
    return list(_executor().map(lambda job: job(), jobs))


def draw(scenario: Scenario, trials: int, rng: np.random.Generator, detail_trials: int = 0) -> Draws:
    """Simulate ``trials`` trials of the revenue sample and ``detail_trials`` trials of the
    stage-by-stage sample (independent of each other), sharing the thread pool."""
    if trials < 1:
        raise ValueError("trials must be >= 1")
    detail_trials = min(max(int(detail_trials), 0), trials)
    revenue_root, detail_root = rng.spawn(2)
    revenue_chunks = _chunks(trials)
    detail_chunks = _chunks(detail_trials) if detail_trials else []
    T, K = scenario.months, len(scenario.stages)
    customers = np.empty((T + 1, trials), dtype=np.int32)
    monthly = np.empty((T, trials), dtype=np.float32)
    revenue = np.empty(trials, dtype=np.float64)
    pipeline = np.empty(trials, dtype=np.float64)
    top_volume = np.empty(trials, dtype=np.int64)
    arrivals = np.empty((detail_trials, K, T), dtype=np.int64) if detail_trials else None
    late = np.empty(detail_trials, dtype=np.int64) if detail_trials else None

    def revenue_job(start, size, stream):
        def job():
            c, m, r, p, v = _revenue_chunk(scenario, size, stream)
            customers[:, start:start + size], monthly[:, start:start + size] = c.T, m.T
            revenue[start:start + size], pipeline[start:start + size] = r, p
            top_volume[start:start + size] = v
        return job

    def detail_job(start, size, stream):
        def job():
            arrivals[start:start + size], late[start:start + size] = _stage_chunk(scenario, size, stream)
        return job

    # The stage-by-stage chunks cost most per trial: start them first.
    jobs = [detail_job(s, n, g) for (s, n), g in zip(detail_chunks, detail_root.spawn(len(detail_chunks)))]
    jobs += [revenue_job(s, n, g) for (s, n), g in zip(revenue_chunks, revenue_root.spawn(len(revenue_chunks)))]
    run_parallel(jobs)
    return Draws(RevenueDraws(customers, monthly, revenue, pipeline, top_volume), arrivals, late)


def draw_revenue(scenario: Scenario, trials: int, rng: np.random.Generator) -> RevenueDraws:
    """Per-trial customers, monthly revenue and end-of-period pipeline value (no stage detail)."""
    return draw(scenario, trials, rng).revenue


def draw_stage_arrivals(scenario: Scenario, trials: int, rng: np.random.Generator):
    """Stage-by-stage sample only: (trials, K, T) arrivals and (trials,) late customers."""
    chunks = _chunks(trials)
    parts = run_parallel([(lambda n=n, g=g: _stage_chunk(scenario, n, g))
                  for (_, n), g in zip(chunks, rng.spawn(len(chunks)))])
    return np.concatenate([a for a, _ in parts]), np.concatenate([b for _, b in parts])
