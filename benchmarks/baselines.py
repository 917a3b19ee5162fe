"""Reference implementations of the funnel model, used by ``bench_simulate.py`` as baselines.

Both simulate exactly the model of ``sim.model.engine`` (see its module docstring and the README,
"The model"), stage by stage, without the library's shortcuts (collapsed chain, chunking,
threads, float32):

* per trial, one conversion rate per stage from its belief (Beta, or fixed);
* top-of-funnel volume in month t = round(plan_t * G), G ~ Gamma(shape 1/cv^2, scale cv^2)
  (mean 1, coefficient of variation cv); cv == 0 means exactly round(plan_t);
* each unit in stage k-1 in month t converts to stage k with the trial's rate p_k and arrives
  after a lag L drawn from stage k's lag vector (``lag[L]``: probability of L months; L = 0 is
  the same month); units with t + L >= months are lost from the period;
* the open pipeline at the start (``sc.pipeline_counts()``) enters its stage in month 0 and
  converts onward like any other unit;
* each customer (last stage) brings a deal value exp(mu + sigma * z), z ~ N(0, 1); one-time
  revenue counts in the month of closing, monthly recurring revenue in every month from the
  month of closing to the end of the period.

Each function returns the per-trial revenue of the period (float64, without the baseline
revenue); P(goal) is ``mean(revenue + sc.baseline_revenue >= sc.goal)`` (see :func:`p_goal`).
They use only the generator they are given, single-threaded.
"""

from __future__ import annotations

import numpy as np

from sim.model.scenario import Scenario


def _lag_pmf(stage) -> np.ndarray:
    """The stage's lag vector as float64 probabilities summing to exactly 1."""
    lag = np.asarray(stage.lag, dtype=np.float64)
    return lag / lag.sum()


def _draw_rates(sc: Scenario, trials: int, rng: np.random.Generator) -> np.ndarray:
    """(trials, K) conversion rates; column 0 (the top of the funnel) is 1."""
    rates = np.ones((trials, len(sc.stages)))
    for k, stage in enumerate(sc.stages[1:], start=1):
        rates[:, k] = stage.rate.sample(rng, trials)
    return rates


def _deal_values(sc: Scenario, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` deal values exp(mu + sigma z) (float64). A fixed deal value (p90 == median) is
    the median exactly, so that goals that are an exact multiple of it are not missed by
    rounding (exp(log(m)) can fall one ulp short of m)."""
    if sc.deal.is_fixed:
        return np.full(size, sc.deal.median)
    return rng.lognormal(sc.deal.mu, sc.deal.sigma, size=size)


def _scalar_rate(belief, rng: np.random.Generator) -> float:
    """One draw of a conversion rate (the same distribution as ``belief.sample``)."""
    if belief.is_fixed:
        return float(belief.fixed_value)
    return float(rng.beta(belief.alpha, belief.beta))


def _revenue_weights(sc: Scenario) -> np.ndarray:
    """How many months of the period a deal closed in month t counts for."""
    T = sc.months
    return (T - np.arange(T)).astype(np.float64) if sc.deal.recurring else np.ones(T)


def python_loop(sc: Scenario, trials: int, rng: np.random.Generator) -> np.ndarray:
    """Per-trial pure-Python loop with scalar draws: the "obvious" implementation.

    For every trial, stage and month: one scalar ``rng.binomial`` for the conversions and one
    ``rng.multinomial`` to spread them over the lags; per month, ``rng.lognormal(size=c).sum()``
    for the deal values of the c customers closing. Returns (trials,) period revenue.
    """
    K, T = len(sc.stages), sc.months
    plan = [float(v) for v in sc.top.monthly]
    cv = float(sc.top.noise_cv)
    shape, scale = (1.0 / (cv * cv), cv * cv) if cv > 0 else (None, None)
    lags = [None] + [_lag_pmf(s) for s in sc.stages[1:]]
    pipeline = sc.pipeline_counts()
    weights = [float(w) for w in _revenue_weights(sc)]
    out = np.empty(trials)
    for i in range(trials):
        rates = [1.0] + [_scalar_rate(s.rate, rng) for s in sc.stages[1:]]
        if shape is None:
            prev = [int(round(p)) for p in plan]
        else:
            prev = [int(round(p * rng.gamma(shape, scale))) for p in plan]
        for k in range(1, K):
            current = [0] * T
            p, lag = rates[k], lags[k]
            for t in range(T):
                entering = prev[t] + (pipeline[k - 1] if t == 0 else 0)
                if entering == 0:
                    continue
                converted = int(rng.binomial(entering, p))
                if converted == 0:
                    continue
                for L, moved in enumerate(rng.multinomial(converted, lag).tolist()):
                    if moved and t + L < T:
                        current[t + L] += moved
            prev = current
        revenue = 0.0
        for t, customers in enumerate(prev):
            if customers:
                revenue += weights[t] * float(_deal_values(sc, customers, rng).sum())
        out[i] = revenue
    return out


def straightforward_numpy(sc: Scenario, trials: int, rng: np.random.Generator) -> np.ndarray:
    """Vectorised over trials, stage by stage, no chunking, single thread, float64.

    Per stage: one binomial per (trial, month) on arrays of shape (trials, months), then the
    conversions are spread over the lags by conditional binomials (an exact multinomial
    split). Deal values: one float64 ``rng.lognormal`` per customer, summed per (trial, month)
    with ``np.repeat`` + ``np.bincount``. Returns (trials,) period revenue.
    """
    K, T = len(sc.stages), sc.months
    plan = np.asarray(sc.top.monthly, dtype=np.float64)
    cv = float(sc.top.noise_cv)
    rates = _draw_rates(sc, trials, rng)
    if cv > 0:
        g = rng.gamma(1.0 / (cv * cv), cv * cv, size=(trials, T))
        arrivals = np.rint(plan * g).astype(np.int64)
    else:
        arrivals = np.tile(np.rint(plan).astype(np.int64), (trials, 1))
    pipeline = sc.pipeline_counts()
    for k in range(1, K):
        entering = arrivals
        entering[:, 0] += pipeline[k - 1]
        remaining = rng.binomial(entering, rates[:, k:k + 1])          # (trials, T)
        arrivals = np.zeros((trials, T), dtype=np.int64)
        lag = _lag_pmf(sc.stages[k])
        last = int(np.flatnonzero(lag)[-1])
        left = 1.0                                                      # P(lag >= L)
        for L in range(min(last + 1, T)):                               # L >= T: too late
            share = float(lag[L])
            if share == 0.0:
                continue
            if L == last:
                moved = remaining                                       # all that is left
            else:
                moved = rng.binomial(remaining, min(1.0, share / left))
                remaining = remaining - moved
                left -= share
            arrivals[:, L:] += moved[:, :T - L]
    customers = arrivals.ravel()                                        # (trials * T,)
    values = _deal_values(sc, int(customers.sum()), rng)
    cell = np.repeat(np.arange(trials * T), customers)
    by_month = np.bincount(cell, weights=values, minlength=trials * T).reshape(trials, T)
    return by_month @ _revenue_weights(sc)


def p_goal(sc: Scenario, revenue: np.ndarray) -> float:
    """Share of trials whose period revenue plus the baseline revenue reaches the goal."""
    return float(np.mean(revenue + sc.baseline_revenue >= sc.goal))


def floor_draws(sc: Scenario, trials: int, seed: int, *, one_thread: bool = False) -> None:
    """The floor: exactly the random numbers the engine's model needs for ``sc`` and
    ``trials``, from numpy's native samplers, and nothing else, in the engine's chunks of
    trials on the engine's thread pool (``sim.model.engine.run_parallel``):

    * per trial, one Beta draw per uncertain rate and one Gamma draw per month of noisy volume;
    * per trial and cohort (a month of top-of-funnel volume, or a stage's open pipeline), one
      binomial for the customers closing within the period (n = the volume or open count,
      p = the trial's drawn rates multiplied along the funnel × the share of the delay within
      the period) and one for those closing after it;
    * the closing months: per cohort, one categorical draw per customer when it has at most
      16 (``Generator.choice`` with the cohort's month probabilities), else one multinomial;
    * the deal values: per value sum (one per trial for one-time deals, one per trial and month
      for recurring deals, and one per trial for the customers after the period), one
      lognormal per exact top value (at most 4) and one for the rest (the bulk);
    * for one-time deals, the split of each bulk over the months: one Gamma draw per month.

    Counts come from the floor's own binomial draws. Returns nothing: it is timed, not used.
    ``one_thread``: the same chunks one after the other in this thread (how the work scales on
    the pool).
    """
    from sim.model.deal_value_sums import EXACT_TOP
    from sim.model.engine import INDIVIDUAL, _chunks, _Model, run_parallel

    model = _Model(sc)
    K, T = model.K, model.T
    deal = sc.deal
    lognormal = not deal.is_fixed

    def value_sums(rng, counts):
        if lognormal:
            counts = counts.ravel()
            rng.lognormal(deal.mu, deal.sigma, int(np.minimum(counts, EXACT_TOP).sum() + (counts > EXACT_TOP).sum()))

    def chunk(start, n):
        rng = np.random.Generator(np.random.SFC64(np.random.SeedSequence([seed, start])))
        rates = np.ones((n, K))
        for k, stage in enumerate(sc.stages[1:], start=1):
            rates[:, k] = stage.rate.sample(rng, n)
        to_customer = np.cumprod(rates[:, ::-1], axis=1)[:, ::-1]
        to_customer = np.concatenate([to_customer[:, 1:], np.ones((n, 1))], axis=1)
        volumes = np.broadcast_to(model.plan, (n, T))
        if model.gamma_shape is not None:
            volumes = np.rint(volumes * rng.standard_gamma(model.gamma_shape, (n, T)) / model.gamma_shape)
        volumes = volumes.astype(np.int64)
        by_month = np.zeros((n, T), dtype=np.int64)      # kept only where the values need it
        total = np.zeros(n, dtype=np.int64)
        late = np.zeros(n, dtype=np.int64)
        for c in model.cohorts:
            size = volumes[:, c.column] if c.count == 0 else np.full(n, c.count)
            p = to_customer[:, c.stage]
            won = rng.binomial(size, p * c.in_share)
            late += rng.binomial(size - won, np.clip(p * (1 - c.in_share) / np.maximum(1 - p * c.in_share, 1e-300), 0, 1))
            total += won
            months = c.month_pmf.size
            if months == 1:
                if deal.recurring:
                    by_month[:, c.start] += won
                continue
            small = won <= INDIVIDUAL
            picks = rng.choice(months, size=int(won[small].sum()), p=c.month_pmf)
            split = rng.multinomial(won[~small], c.month_pmf) if (~small).any() else None
            if deal.recurring:          # the months decide the value sums: count them
                rows = np.repeat(np.flatnonzero(small), won[small])
                by_month += np.bincount(rows * T + c.start + picks, minlength=n * T).reshape(n, T)
                if split is not None:
                    by_month[~small, c.start:c.start + months] += split
        if deal.recurring:
            value_sums(rng, by_month)
        else:
            value_sums(rng, total)
            if lognormal:                # the bulk's split over the months: a Gamma per month
                rng.standard_gamma(np.maximum(total[total > EXACT_TOP] / T, 1e-3), (T, int((total > EXACT_TOP).sum())))
        value_sums(rng, late)

    jobs = [(lambda s=s, n=n: chunk(s, n)) for s, n in _chunks(trials)]
    if one_thread:
        for job in jobs:
            job()
    else:
        run_parallel(jobs)
