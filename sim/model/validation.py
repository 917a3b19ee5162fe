"""Validation of a scenario document: every field checked, every problem reported.

:func:`scenario_from_dict` reads a parsed JSON document (see README, "Scenario format") into a
:class:`~sim.model.scenario.Scenario`, or raises :class:`ScenarioError` listing each problem
with the path of its field.
"""

from __future__ import annotations

import math

from ..errors import ScenarioError
from .agreement_validation import read_agreement
from .beliefs import DealValue, RateBelief
from .months import parse_month
from .names import fold_name, name_problem, stage_name_problem, tidy_name
from .problems import Problems, describe, exact_number
from .scenario import (
    DEFAULT_MONTHS,
    DEFAULT_NOISE_CV,
    DEFAULT_SEED,
    DEFAULT_TRIALS,
    MAX_LAG_MONTHS,
    MAX_MONEY,
    MAX_MONTHS,
    MAX_NAME,
    MAX_SEED,
    MAX_STAGES,
    MAX_TRIALS,
    MAX_VOLUME,
    MIN_STAGES,
    OWNERS,
    SCHEMA_VERSION,
    Scenario,
    Stage,
    TopOfFunnel,
)

_TOP_KEYS = {"schema", "name", "start", "months", "goal", "baseline_revenue", "top", "stages",
             "deal", "start_pipeline", "start_pipeline_lag", "trials", "seed", "agreement"}
FIRST_YEAR, LAST_YEAR = 1900, 2999


def scenario_from_dict(data) -> Scenario:
    """Validate a parsed scenario document; raise :class:`ScenarioError` naming every bad field."""
    pr = Problems()
    if pr.mapping(data, "the scenario") is None:
        pr.raise_if_any(ScenarioError)
    pr.unknown_keys(data, _TOP_KEYS, "")
    _check_schema(pr, data)
    name = _read_name(pr, data)
    start = _read_start(pr, data)
    months = pr.number(data, "months", "", default=DEFAULT_MONTHS, minimum=1, maximum=MAX_MONTHS, integer=True)
    goal = pr.number(data, "goal", "", above=0, maximum=MAX_MONEY)
    baseline = pr.number(data, "baseline_revenue", "", default=0.0, minimum=0, maximum=MAX_MONEY)
    trials = pr.number(data, "trials", "", default=DEFAULT_TRIALS, minimum=100, maximum=MAX_TRIALS, integer=True)
    seed = pr.number(data, "seed", "", default=DEFAULT_SEED, minimum=0, maximum=MAX_SEED, integer=True)
    top = _read_top(pr, data.get("top"), months) if "top" in data else pr.add("top", "is missing")
    stages = _read_stages(pr, data.get("stages")) if "stages" in data else pr.add("stages", "is missing")
    deal = _read_deal(pr, data.get("deal")) if "deal" in data else pr.add("deal", "is missing")
    pipeline = _read_pipeline(pr, data.get("start_pipeline", {}), stages)
    pipeline_lags = _read_pipeline_lags(pr, data.get("start_pipeline_lag", {}), stages)
    agreement = read_agreement(pr, data["agreement"], stages) if "agreement" in data else None
    pr.raise_if_any(ScenarioError)
    return Scenario(name=name, start=start, months=months, goal=goal, top=top, stages=stages,
                    deal=deal, baseline_revenue=baseline, start_pipeline=pipeline,
                    pipeline_lags=pipeline_lags, trials=trials, seed=seed, agreement=agreement)


def _check_schema(pr: Problems, data: dict) -> None:
    schema = data.get("schema")
    if schema != SCHEMA_VERSION:
        pr.add("schema", f"must be {SCHEMA_VERSION} (got {schema!r})" if "schema" in data else "is missing")


def _read_name(pr: Problems, data: dict) -> str | None:
    name = data.get("name", "Untitled scenario")
    if not isinstance(name, str) or not name.strip():
        pr.add("name", "must be non-empty text")
        return None
    if len(name) > MAX_NAME:
        pr.add("name", f"must be at most {MAX_NAME} characters")
    problem = name_problem(name)
    if problem:
        pr.add("name", problem)
        return None
    return name


def _read_start(pr: Problems, data: dict) -> str | None:
    start = data.get("start")
    parsed = parse_month(start)
    if parsed is None or not FIRST_YEAR <= parsed[0] <= LAST_YEAR:
        pr.add("start", "must be a month written YYYY-MM, e.g. \"2027-01\"" if "start" in data else "is missing")
        return None
    return start


def _read_top(pr: Problems, top, months) -> TopOfFunnel | None:
    if pr.mapping(top, "top") is None:
        return None
    noise = pr.number(top, "noise_cv", "top", default=DEFAULT_NOISE_CV, minimum=0, maximum=2)
    if "monthly" in top and "per_month" in top:
        pr.add("top", "must have either per_month (with optional growth) or monthly, not both")
        return None
    if "monthly" in top:
        pr.unknown_keys(top, {"monthly", "noise_cv"}, "top")
        values = top["monthly"]
        if not isinstance(values, list):
            pr.add("top.monthly", f"must be a list of numbers, not {describe(values)}")
            return None
        if months is not None and len(values) != months:
            pr.add("top.monthly", f"must have one value per month ({months}), got {len(values)}")
            return None
        plan = [pr.number({"v": v}, "v", "", minimum=0, maximum=MAX_VOLUME) for v in values]
        bad = [i for i, v in enumerate(plan) if v is None]
        if bad:
            # Re-word the generic messages with the real path.
            del pr.items[-len(bad):]
            for i in bad:
                pr.add(f"top.monthly[{i}]", f"must be a number between 0 and {exact_number(MAX_VOLUME)}")
            return None
        if noise is None:
            return None
        return TopOfFunnel(tuple(plan), noise)
    if "per_month" in top:
        pr.unknown_keys(top, {"per_month", "growth", "noise_cv"}, "top")
        per_month = pr.number(top, "per_month", "top", minimum=0, maximum=MAX_VOLUME)
        growth = pr.number(top, "growth", "top", default=0.0, above=-1, maximum=1)
        if None in (per_month, growth, noise, months):
            return None
        result = TopOfFunnel.constant(per_month, months, growth, noise)
        if max(result.monthly) > MAX_VOLUME:
            pr.add("top.growth", f"makes the monthly volume exceed {exact_number(MAX_VOLUME)}")
            return None
        return result
    pr.add("top", "must have either per_month (with optional growth) or monthly")
    return None


def _read_rate(pr: Problems, rate, where: str) -> RateBelief | None:
    if pr.mapping(rate, where) is None:
        return None
    forms = {
        "mean": (("mean", "strength"), RateBelief.from_mean_strength),
        "successes": (("successes", "trials"), RateBelief.from_counts),
        "p10": (("p10", "p90"), RateBelief.from_quantiles),
        "fixed": (("fixed",), RateBelief.fixed),
    }
    present = [k for k in forms if k in rate]
    if len(present) != 1:
        pr.add(where, "must be one of {mean, strength}, {successes, trials}, {p10, p90} or {fixed}")
        return None
    keys, build = forms[present[0]]
    pr.unknown_keys(rate, set(keys), where)
    bounds = {
        "mean": dict(above=0, below=1), "strength": dict(above=0, maximum=1e9),
        "successes": dict(minimum=0, maximum=1e12), "trials": dict(minimum=0, maximum=1e12),
        "p10": dict(above=0, below=1), "p90": dict(above=0, below=1),
        "fixed": dict(minimum=0, maximum=1),
    }
    values = [pr.number(rate, k, where, **bounds[k]) for k in keys]
    if None in values:
        return None
    if present[0] == "p10" and not values[1] > values[0]:
        pr.add(f"{where}.p90", "must be > p10")
        return None
    if present[0] == "successes" and values[0] > values[1]:
        pr.add(f"{where}.successes", "must be <= trials")
        return None
    try:
        return build(*values)
    except ScenarioError as exc:
        pr.add(where, str(exc))
        return None


def _read_lag(pr: Problems, lag, where: str) -> tuple[float, ...] | None:
    if not isinstance(lag, list) or not lag:
        pr.add(where, "must be a non-empty list of probabilities (months 0, 1, 2, ...)")
        return None
    if len(lag) > MAX_LAG_MONTHS + 1:
        pr.add(where, f"must have at most {MAX_LAG_MONTHS + 1} entries (a lag of up to {MAX_LAG_MONTHS} months)")
        return None
    values = []
    for i, v in enumerate(lag):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1 or not math.isfinite(v):
            pr.add(f"{where}[{i}]", "must be a probability between 0 and 1")
            return None
        values.append(float(v))
    if abs(sum(values) - 1.0) > 1e-6:
        pr.add(where, f"must sum to 1 (got {sum(values):.6g})")
        return None
    return tuple(values)


def _read_stages(pr: Problems, stages) -> tuple[Stage, ...] | None:
    if not isinstance(stages, list):
        pr.add("stages", f"must be a list, not {describe(stages)}")
        return None
    if not MIN_STAGES <= len(stages) <= MAX_STAGES:
        pr.add("stages", f"must have between {MIN_STAGES} and {MAX_STAGES} stages (got {len(stages)})")
        return None
    seen: dict[str, int] = {}                       # folded name -> the stage that has it
    result = [_read_stage(pr, st, i, seen) for i, st in enumerate(stages)]
    return None if None in result else tuple(result)


def _read_stage(pr: Problems, st, i: int, seen: dict[str, int]) -> Stage | None:
    """Stage ``i``: its name (unique), owner and, after the top of the funnel, its rate and
    lag; None when any of them is wrong (each problem reported)."""
    where = f"stages[{i}]"
    if pr.mapping(st, where) is None:
        return None
    pr.unknown_keys(st, {"name", "owner"} | ({"rate", "lag"} if i else set()), where)
    if i == 0 and ("rate" in st or "lag" in st):
        pr.add(where, "is the top of the funnel and takes no rate or lag")
    name = _read_stage_name(pr, st.get("name"), where, i, seen)
    owner = st.get("owner", "shared")
    if owner not in OWNERS:
        pr.add(f"{where}.owner", f"must be one of {', '.join(OWNERS)}")
    rate, lag, ok = None, (1.0,), True
    if i:
        if "rate" not in st:
            pr.add(f"{where}.rate", "is missing")
            ok = False
        else:
            rate = _read_rate(pr, st["rate"], f"{where}.rate")
            ok = rate is not None
        if "lag" in st:
            lag = _read_lag(pr, st["lag"], f"{where}.lag")
            ok = ok and lag is not None
    if name is None or owner not in OWNERS or not ok:
        return None
    return Stage(name, rate, lag, owner)


def _read_stage_name(pr: Problems, name, where: str, i: int, seen: dict[str, int]) -> str | None:
    """The stage's name, tidied; None (and a problem) when it breaks the stage-name rule
    (:func:`~sim.model.names.stage_name_problem`) or repeats another stage's."""
    if not isinstance(name, str):
        pr.add(f"{where}.name", "must be non-empty text")
        return None
    problem = stage_name_problem(name)
    if problem:
        pr.add(f"{where}.name", problem)
        return None
    name = tidy_name(name)
    key = fold_name(name)
    repeated = key in seen
    if repeated:
        pr.add(f"{where}.name", f"{name!r} repeats stage {seen[key]} (names are case-insensitive)")
    seen[key] = i
    return None if repeated else name


def _read_deal(pr: Problems, deal) -> DealValue | None:
    if pr.mapping(deal, "deal") is None:
        return None
    pr.unknown_keys(deal, {"median", "p90", "kind"}, "deal")
    median = pr.number(deal, "median", "deal", above=0, maximum=MAX_MONEY)
    p90 = pr.number(deal, "p90", "deal", above=0, maximum=MAX_MONEY) if "p90" in deal else median
    kind = deal.get("kind", "one_time")
    if kind not in DealValue.KINDS:
        pr.add("deal.kind", f"must be one of {', '.join(DealValue.KINDS)}")
        return None
    if median is None or p90 is None:
        return None
    if p90 < median:
        pr.add("deal.p90", "must be >= median")
        return None
    return DealValue(median, p90, kind)


def _read_pipeline(pr: Problems, pipeline, stages) -> tuple[tuple[str, int], ...]:
    if pr.mapping(pipeline, "start_pipeline") is None:
        return ()
    if not pipeline:
        return ()
    if stages is None:
        return ()
    index = {fold_name(s.name): i for i, s in enumerate(stages)}
    result = []
    for key in pipeline:
        where = f"start_pipeline[{key!r}]"
        i = index.get(fold_name(key))
        if i is None:
            pr.add(where, f"names no stage (stages: {', '.join(s.name for s in stages)})")
            continue
        if i == len(stages) - 1:
            pr.add(where, "is the last stage: customers already won belong in baseline_revenue")
            continue
        value = pr.number({where: pipeline[key]}, where, "", minimum=0, maximum=MAX_VOLUME, integer=True)
        if value is not None and value > 0:
            result.append((stages[i].name, value))
    return tuple(result)


def _read_pipeline_lags(pr: Problems, lags, stages) -> tuple[tuple[str, tuple[float, ...]], ...]:
    if pr.mapping(lags, "start_pipeline_lag") is None or not lags or stages is None:
        return ()
    index = {fold_name(s.name): i for i, s in enumerate(stages)}
    result, seen = [], set()
    for key, lag in lags.items():
        where = f"start_pipeline_lag[{key!r}]"
        i = index.get(fold_name(key))
        if i is None:
            pr.add(where, f"names no stage (stages: {', '.join(s.name for s in stages)})")
        elif i == len(stages) - 1:
            pr.add(where, "is the last stage: its units do not move on")
        elif i in seen:
            pr.add(where, f"repeats stage {stages[i].name!r} (names are case-insensitive)")
        else:
            seen.add(i)
            value = _read_lag(pr, lag, where)
            if value is not None:
                result.append((stages[i].name, value))
    return tuple(result)
