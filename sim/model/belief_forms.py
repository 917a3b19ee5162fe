"""The forms a belief can be typed in, and the conversions between them.

A conversion rate's belief (:class:`~sim.model.beliefs.RateBelief`) can be given as a P10–P90
range, as a mean and a strength (equivalent sample size), as observed counts ("N of M") or as a
fixed value. :func:`rate_in_form` gives the values that express a belief in any of these forms
(the same Beta distribution where the form can hold it, the nearest one otherwise: a fixed rate
has no counts); :func:`rate_document` builds the scenario document's ``rate`` from typed values,
naming the field that is wrong. The same for the deal value (median and P90, or fixed) and the
top-of-funnel plan (a volume per month with growth, or one number per month).

Switching the form in which a belief is shown changes nothing: only typed values change it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..errors import ScenarioError
from .beliefs import DealValue, RateBelief
from .scenario import MAX_VOLUME, TopOfFunnel

RANGE, MEAN, COUNTS, FIXED = "range", "mean", "counts", "fixed"
RATE_FORMS = (RANGE, MEAN, COUNTS, FIXED)

#: The fields of each form, in the order they are typed, and their names in the scenario file.
RATE_FIELDS = {RANGE: ("p10", "p90"), MEAN: ("mean", "strength"),
               COUNTS: ("successes", "trials"), FIXED: ("fixed",)}
MAX_STRENGTH = 1e9
MAX_COUNT = 1e12


def rate_form(belief: RateBelief) -> str:
    """The form the belief was given in (as in its scenario document)."""
    keys = {k for k, _ in belief.spec}
    return next(form for form, fields in RATE_FIELDS.items() if fields[0] in keys)


def rate_in_form(belief: RateBelief, form: str) -> dict[str, float | None]:
    """The belief's values in ``form`` (fractions for rates, not percent).

    The form it was given in returns its own values exactly. Otherwise: the range is the
    Beta's P10 and P90; the mean and strength are alpha/(alpha+beta) and alpha+beta; the counts
    are alpha-1 successes of alpha+beta-2 trials (a uniform prior updated by them), each at
    least 0 (a Beta with alpha or beta below 1 has no exact counts: the nearest are given);
    fixed is the mean. A fixed rate is a range of zero width (P10 = P90), has no strength and
    no counts (``None``: the user types them).
    """
    if form not in RATE_FORMS:
        raise ValueError(f"unknown form {form!r}")
    if rate_form(belief) == form:
        return {k: float(v) for k, v in belief.spec}
    if belief.is_fixed:
        v = belief.fixed_value
        return {RANGE: {"p10": v, "p90": v}, MEAN: {"mean": v, "strength": None},
                COUNTS: {"successes": None, "trials": None}, FIXED: {"fixed": v}}[form]
    a, b = belief.alpha, belief.beta
    if form == RANGE:
        lo, hi = (float(v) for v in belief.ppf([0.1, 0.9]))
        return {"p10": lo, "p90": hi}
    if form == MEAN:
        return {"mean": a / (a + b), "strength": a + b}
    if form == COUNTS:
        successes, failures = max(a - 1.0, 0.0), max(b - 1.0, 0.0)
        return {"successes": successes, "trials": successes + failures}
    return {"fixed": belief.mean}


def counts_are_exact(belief: RateBelief) -> bool:
    """Whether counts express the belief exactly (a Beta with alpha and beta at least 1)."""
    return not belief.is_fixed and belief.alpha >= 1.0 and belief.beta >= 1.0


def rate_document(form: str, values: dict[str, float | None]) -> dict:
    """The scenario document's ``rate`` for values typed in ``form`` (rates as fractions).

    A range whose two ends are equal is a fixed rate. Raises :class:`ScenarioError` naming the
    field (``P10``, ``strength``, ``trials``…) and what it must be.
    """
    if form not in RATE_FORMS:
        raise ValueError(f"unknown form {form!r}")
    missing = [k for k in RATE_FIELDS[form] if values.get(k) is None]
    if missing:
        raise ScenarioError(f"{_LABELS[missing[0]]} is empty: type a number")
    v = {k: float(values[k]) for k in RATE_FIELDS[form]}
    for k, x in v.items():
        if not math.isfinite(x):
            raise ScenarioError(f"{_LABELS[k]} must be a number")
    if form == RANGE:
        p10, p90 = v["p10"], v["p90"]
        if not (0.0 <= p10 <= 1.0 and 0.0 <= p90 <= 1.0):
            raise ScenarioError("the range must lie between 0% and 100%")
        if p10 > p90:
            raise ScenarioError(f"P10 ({p10:.4g}) is above P90 ({p90:.4g}): the low end goes first")
        if p10 == p90:
            return {"fixed": p10}
        if p10 == 0.0 or p90 == 1.0:
            raise ScenarioError("an uncertain rate's P10 must be above 0% and its P90 below 100% "
                                "(for a rate known exactly, give both ends the same value)")
        RateBelief.from_quantiles(p10, p90)       # raises when no Beta has these quantiles
        return {"p10": p10, "p90": p90}
    if form == MEAN:
        if not 0.0 < v["mean"] < 1.0:
            raise ScenarioError("the mean must be strictly between 0% and 100%")
        if not 0.0 < v["strength"] <= MAX_STRENGTH:
            raise ScenarioError(f"the strength must be above 0 and at most {MAX_STRENGTH:,.0f}")
        return {"mean": v["mean"], "strength": v["strength"]}
    if form == COUNTS:
        s, n = v["successes"], v["trials"]
        if s < 0 or n < 0 or n > MAX_COUNT:
            raise ScenarioError(f"counts must be between 0 and {MAX_COUNT:,.0f}")
        if s > n:
            raise ScenarioError(f"{s:,.0f} converted of {n:,.0f}: the converted cannot be more than the tried")
        return {"successes": _whole(s), "trials": _whole(n)}
    if not 0.0 <= v["fixed"] <= 1.0:
        raise ScenarioError("the rate must be between 0% and 100%")
    return {"fixed": v["fixed"]}


def rate_belief(document: dict) -> RateBelief:
    """The belief a ``rate`` document (as :func:`rate_document` gives) describes."""
    form = next(form for form, fields in RATE_FIELDS.items() if fields[0] in document)
    build = {RANGE: RateBelief.from_quantiles, MEAN: RateBelief.from_mean_strength,
             COUNTS: RateBelief.from_counts, FIXED: RateBelief.fixed}[form]
    return build(*(document[k] for k in RATE_FIELDS[form]))


def _whole(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


_LABELS = {"p10": "P10", "p90": "P90", "mean": "the mean", "strength": "the strength",
           "successes": "the converted count", "trials": "the tried count", "fixed": "the rate"}


# -- deal value ---------------------------------------------------------------------------------
def deal_document(median: float | None, p90: float | None, kind: str) -> dict:
    """The scenario's ``deal`` from a typed median and P90 (``p90`` None or equal: a fixed value)."""
    if median is None:
        raise ScenarioError("the typical deal (median) is empty: type a number")
    p90 = median if p90 is None else p90
    if not (math.isfinite(median) and median > 0):
        raise ScenarioError("the typical deal (median) must be above 0")
    if not (math.isfinite(p90) and p90 >= median):
        raise ScenarioError(f"the large deal (P90, {p90:,.0f}) must be at least the median ({median:,.0f})")
    DealValue(float(median), float(p90), kind)
    return {"median": float(median), "p90": float(p90), "kind": kind}


# -- top of the funnel ----------------------------------------------------------------------------
def top_as_monthly(top: TopOfFunnel) -> list[float]:
    """The plan's volume for each month (a constant with growth resolved month by month)."""
    return [float(v) for v in top.monthly]


def top_as_constant(top: TopOfFunnel) -> tuple[float, float]:
    """(per_month, growth) of the plan: its own when it was given so; for a month-by-month plan,
    the first month and the steady growth that leads to the last month (its seasonality is
    not kept: a constant with growth cannot hold it)."""
    if top.per_month is not None:
        return float(top.per_month), float(top.growth or 0.0)
    values = top.monthly
    first, last, n = values[0], values[-1], len(values)
    if n < 2 or first <= 0 or last <= 0:
        return float(first), 0.0
    return float(first), float((last / first) ** (1.0 / (n - 1)) - 1.0)


def monthly_document(values: Sequence[float | None], noise_cv: float, months: int) -> dict:
    """The scenario's ``top`` from one typed number per month; names the month that is wrong
    (months counted from 1)."""
    if len(values) != months:
        raise ScenarioError(f"the plan needs one number per month ({months}), got {len(values)}")
    plan = []
    for t, v in enumerate(values, start=1):
        if v is None or not math.isfinite(float(v)):
            raise ScenarioError(f"month {t} is empty: type a number (0 for none)")
        if not 0.0 <= float(v) <= MAX_VOLUME:
            raise ScenarioError(f"month {t}: the volume must be between 0 and {MAX_VOLUME:,.0f}")
        plan.append(float(v))
    return {"monthly": plan, "noise_cv": noise_cv}
