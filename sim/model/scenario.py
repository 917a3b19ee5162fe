"""The scenario: frozen dataclasses, JSON and share-link (de)serialisation, validation.

A scenario is everything the model needs: the period, the goal, the top-of-funnel plan, the
stages with their conversion-rate beliefs and lags, the deal value, the open pipeline at the
start, the number of trials and the seed. ``scenario_from_dict`` validates every field and
raises :class:`ScenarioError` naming each offending field; ``scenario_to_dict`` gives back the
same document (the round trip is lossless).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import unicodedata
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from .beliefs import DealValue, RateBelief
from ..errors import ScenarioError

SCHEMA_VERSION = 1
DEFAULT_MONTHS = 12
MAX_MONTHS = 36
MIN_STAGES, MAX_STAGES = 2, 12
MAX_LAG_MONTHS = 12          # a lag vector has at most this many + 1 entries
MAX_VOLUME = 1e9             # per month, top of funnel; and per stage of the start pipeline
MAX_MONEY = 1e13
DEFAULT_TRIALS = 20_000
MAX_TRIALS = 2_000_000
MAX_SEED = 2**53 - 1        # exact in every JSON reader (JavaScript numbers included)
DEFAULT_SEED = 20260101
DEFAULT_NOISE_CV = 0.1
MAX_NAME = 200
MAX_STAGE_NAME = 40
OWNERS = ("marketing", "sales", "shared")
URL_TOKEN_PREFIX = "s1."
MAX_URL_TOKEN = 16_000       # characters of a share-link token
MAX_JSON_BYTES = 256_000     # a scenario document is a few kB; refuse anything absurd


def file_stem(name: str) -> str:
    """A safe file-name stem from a scenario name: ASCII letters and digits joined by "-", at
    most 60 characters (``Café — FY2027`` -> ``cafe-fy2027``; nothing usable -> ``scenario``)."""
    ascii_name = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60].strip("-") or "scenario"


def normalise_stage_name(name: str) -> str:
    """The key stage names are matched on: case-insensitive, surrounding/inner space folded."""
    return " ".join(str(name).split()).casefold()


@dataclass(frozen=True)
class TopOfFunnel:
    """The first stage's planned volume per month and its multiplicative noise.

    ``monthly`` is the resolved plan for each month of the horizon. ``per_month``/``growth``
    are kept when the plan was given that way (month t gets per_month·(1+growth)^t).
    """

    monthly: tuple[float, ...]
    noise_cv: float = DEFAULT_NOISE_CV
    per_month: float | None = None
    growth: float | None = None

    @classmethod
    def constant(cls, per_month: float, months: int, growth: float = 0.0,
                 noise_cv: float = DEFAULT_NOISE_CV) -> "TopOfFunnel":
        plan = tuple(per_month * (1.0 + growth) ** t for t in range(months))
        return cls(plan, noise_cv, per_month, growth)

    def scaled(self, factor: float) -> "TopOfFunnel":
        """The same plan with every month's volume multiplied by ``factor``."""
        per_month = None if self.per_month is None else self.per_month * factor
        return replace(self, monthly=tuple(v * factor for v in self.monthly), per_month=per_month)

    def to_dict(self) -> dict:
        if self.per_month is not None:
            return {"per_month": self.per_month, "growth": self.growth, "noise_cv": self.noise_cv}
        return {"monthly": list(self.monthly), "noise_cv": self.noise_cv}


@dataclass(frozen=True)
class Stage:
    """A funnel stage. ``rate`` is the conversion from the previous stage (None for the first);
    ``lag[i]`` is the probability of arriving i months after entering the previous stage."""

    name: str
    rate: RateBelief | None = None
    lag: tuple[float, ...] = (1.0,)
    owner: str = "shared"

    def to_dict(self) -> dict:
        out: dict = {"name": self.name}
        if self.rate is not None:
            out["rate"] = self.rate.to_dict()
            out["lag"] = list(self.lag)
        out["owner"] = self.owner
        return out


@dataclass(frozen=True)
class Scenario:
    name: str
    start: str
    months: int
    goal: float
    top: TopOfFunnel
    stages: tuple[Stage, ...]
    deal: DealValue
    baseline_revenue: float = 0.0
    start_pipeline: tuple[tuple[str, int], ...] = ()
    #: (stage, lag): when the open pipeline of that stage moves on to the next stage, months
    #: 0, 1, ... after the start (default: the next stage's own lag). A check-in sets it: units
    #: already waiting for a while have part of their lag behind them.
    pipeline_lags: tuple[tuple[str, tuple[float, ...]], ...] = ()
    trials: int = DEFAULT_TRIALS
    seed: int = DEFAULT_SEED
    schema: int = field(default=SCHEMA_VERSION)

    # -- derived ---------------------------------------------------------------------------
    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    @property
    def month_labels(self) -> tuple[str, ...]:
        """``"YYYY-MM"`` of every month of the horizon."""
        year, month = (int(x) for x in self.start.split("-"))
        labels = []
        for t in range(self.months):
            y, m = divmod(month - 1 + t, 12)
            labels.append(f"{year + y:04d}-{m + 1:02d}")
        return tuple(labels)

    def pipeline_lag(self, j: int) -> tuple[float, ...]:
        """The lag of stage j's open pipeline into stage j+1 (its own, or stage j+1's)."""
        key = normalise_stage_name(self.stages[j].name)
        for name, lag in self.pipeline_lags:
            if normalise_stage_name(name) == key:
                return lag
        return self.stages[j + 1].lag

    def pipeline_counts(self) -> tuple[int, ...]:
        """Open pipeline at the start, per stage (0 where none)."""
        by_key = {normalise_stage_name(k): v for k, v in self.start_pipeline}
        return tuple(int(by_key.get(normalise_stage_name(s.name), 0)) for s in self.stages)

    def with_top_scaled(self, factor: float) -> "Scenario":
        return replace(self, top=self.top.scaled(factor))

    # -- serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict:
        out = {
            "schema": self.schema,
            "name": self.name,
            "start": self.start,
            "months": self.months,
            "goal": self.goal,
            "baseline_revenue": self.baseline_revenue,
            "top": self.top.to_dict(),
            "stages": [s.to_dict() for s in self.stages],
            "deal": self.deal.to_dict(),
        }
        if self.start_pipeline:
            out["start_pipeline"] = {k: v for k, v in self.start_pipeline}
        if self.pipeline_lags:
            out["start_pipeline_lag"] = {k: list(v) for k, v in self.pipeline_lags}
        out["trials"] = self.trials
        out["seed"] = self.seed
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def to_url_token(self) -> str:
        """A compact, versioned, URL-safe token holding the whole scenario."""
        raw = json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False).encode()
        packed = base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")
        return URL_TOKEN_PREFIX + packed


# -- loading ------------------------------------------------------------------------------

def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario JSON file."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"{p}: cannot read the file ({exc.strerror or exc})") from None
    try:
        return scenario_from_json(data)
    except ScenarioError as exc:
        raise ScenarioError(exc.problems, source=str(p)) from None


def scenario_from_json(text: str | bytes) -> Scenario:
    """Parse and validate a scenario JSON document."""
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_JSON_BYTES:
        raise ScenarioError(f"the scenario document is larger than {MAX_JSON_BYTES // 1000} kB")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ScenarioError("the scenario is not UTF-8 text") from None

    def reject_constant(name):
        raise ScenarioError(f"{name} is not a valid number in a scenario")

    def reject_duplicates(pairs):
        seen = {}
        for key, value in pairs:
            if key in seen:
                raise ScenarioError(f"field {key!r} appears twice")
            seen[key] = value
        return seen

    try:
        data = json.loads(text, parse_constant=reject_constant, object_pairs_hook=reject_duplicates)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise ScenarioError("not a valid scenario (nested too deeply)") from None
    except ScenarioError:
        raise
    except ValueError:          # an integer of more than 4300 digits (Python's limit)
        raise ScenarioError("not a valid scenario (a number has thousands of digits)") from None
    try:    # "\ud800" escapes give text that cannot be written back (link, JSON file)
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ScenarioError("the scenario holds text that is not valid Unicode "
                            "(an unpaired surrogate escape such as \\ud800)") from None
    return scenario_from_dict(data)


def scenario_from_url_token(token: str) -> Scenario:
    """Decode and validate a share-link token made by :meth:`Scenario.to_url_token`."""
    if not isinstance(token, str) or not token.startswith(URL_TOKEN_PREFIX):
        raise ScenarioError("the link's scenario has an unknown format or version")
    if len(token) > MAX_URL_TOKEN:
        raise ScenarioError("the link's scenario is too long")
    body = token[len(URL_TOKEN_PREFIX):]
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, MAX_JSON_BYTES)
        if inflater.unconsumed_tail or not inflater.eof:
            raise ValueError("truncated or too large")
    except (binascii.Error, ValueError, zlib.error):
        raise ScenarioError("the link's scenario is damaged or truncated") from None
    return scenario_from_json(raw)


class _Problems:
    """Collects validation problems, each prefixed with the field's path."""

    def __init__(self):
        self.items: list[str] = []

    def add(self, path: str, message: str):
        self.items.append(f"{path} {message}" if path else message)

    def number(self, obj: dict, key: str, path: str, *, default=None, required=True,
               minimum=None, maximum=None, above=None, below=None, integer=False):
        where = f"{path}.{key}" if path else key
        if key not in obj:
            if required and default is None:
                self.add(where, "is missing")
            return default
        value = obj[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.add(where, f"must be a number, not {_describe(value)}")
            return None
        try:
            finite = math.isfinite(value)
        except OverflowError:       # an integer too large for a float
            finite = False
        if not finite:
            self.add(where, "must be a finite number")
            return None
        if integer and value != int(value):
            self.add(where, "must be a whole number")
            return None
        checks = ((minimum, lambda v, b: v >= b, ">="), (maximum, lambda v, b: v <= b, "<="),
                  (above, lambda v, b: v > b, ">"), (below, lambda v, b: v < b, "<"))
        for bound, ok, word in checks:
            if bound is not None and not ok(value, bound):
                self.add(where, f"must be {word} {bound:g} (got {value:g})")
                return None
        return int(value) if integer else float(value)

    def mapping(self, obj, where):
        if not isinstance(obj, dict):
            self.add(where, f"must be an object, not {_describe(obj)}")
            return None
        return obj

    def unknown_keys(self, obj: dict, allowed, where: str):
        for key in obj:
            if key not in allowed:
                self.add(f"{where}.{key}" if where else str(key), "is not a known field")


def _describe(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_TOP_KEYS = {"schema", "name", "start", "months", "goal", "baseline_revenue", "top", "stages",
             "deal", "start_pipeline", "start_pipeline_lag", "trials", "seed"}


def scenario_from_dict(data) -> Scenario:
    """Validate a parsed scenario document; raise :class:`ScenarioError` naming every bad field."""
    pr = _Problems()
    if pr.mapping(data, "the scenario") is None:
        raise ScenarioError(pr.items)
    pr.unknown_keys(data, _TOP_KEYS, "")

    schema = data.get("schema")
    if schema != SCHEMA_VERSION:
        pr.add("schema", f"must be {SCHEMA_VERSION} (got {schema!r})" if "schema" in data else "is missing")

    name = data.get("name", "Untitled scenario")
    if not isinstance(name, str) or not name.strip():
        pr.add("name", "must be non-empty text")
        name = None
    elif len(name) > MAX_NAME:
        pr.add("name", f"must be at most {MAX_NAME} characters")

    start = data.get("start")
    m = _MONTH_RE.match(start) if isinstance(start, str) else None
    if m is None or not (1 <= int(m.group(2)) <= 12) or not (1900 <= int(m.group(1)) <= 2999):
        pr.add("start", "must be a month written YYYY-MM, e.g. \"2027-01\"" if "start" in data else "is missing")

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

    if pr.items:
        raise ScenarioError(pr.items)
    return Scenario(name=name, start=start, months=months, goal=goal, top=top, stages=stages,
                    deal=deal, baseline_revenue=baseline, start_pipeline=pipeline,
                    pipeline_lags=pipeline_lags, trials=trials, seed=seed)


def _read_top(pr: _Problems, top, months) -> TopOfFunnel | None:
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
            pr.add("top.monthly", f"must be a list of numbers, not {_describe(values)}")
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
                pr.add(f"top.monthly[{i}]", f"must be a number between 0 and {MAX_VOLUME:g}")
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
            pr.add("top.growth", f"makes the monthly volume exceed {MAX_VOLUME:g}")
            return None
        return result
    pr.add("top", "must have either per_month (with optional growth) or monthly")
    return None


def _read_rate(pr: _Problems, rate, where: str) -> RateBelief | None:
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


def _read_lag(pr: _Problems, lag, where: str) -> tuple[float, ...] | None:
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


def _read_stages(pr: _Problems, stages) -> tuple[Stage, ...] | None:
    if not isinstance(stages, list):
        pr.add("stages", f"must be a list, not {_describe(stages)}")
        return None
    if not MIN_STAGES <= len(stages) <= MAX_STAGES:
        pr.add("stages", f"must have between {MIN_STAGES} and {MAX_STAGES} stages (got {len(stages)})")
        return None
    result, seen, ok = [], {}, True
    for i, st in enumerate(stages):
        where = f"stages[{i}]"
        if pr.mapping(st, where) is None:
            ok = False
            continue
        allowed = {"name", "owner"} | ({"rate", "lag"} if i else set())
        pr.unknown_keys(st, allowed, where)
        if i == 0 and ("rate" in st or "lag" in st):
            pr.add(where, "is the top of the funnel and takes no rate or lag")
        name = st.get("name")
        if not isinstance(name, str) or not name.strip():
            pr.add(f"{where}.name", "must be non-empty text")
            ok = False
            name = None
        elif len(name) > MAX_STAGE_NAME:
            pr.add(f"{where}.name", f"must be at most {MAX_STAGE_NAME} characters")
            ok = False
        else:
            name = " ".join(name.split())
            key = normalise_stage_name(name)
            if key in seen:
                pr.add(f"{where}.name", f"{name!r} repeats stage {seen[key]} (names are case-insensitive)")
                ok = False
            seen[key] = i
        owner = st.get("owner", "shared")
        if owner not in OWNERS:
            pr.add(f"{where}.owner", f"must be one of {', '.join(OWNERS)}")
            ok = False
        rate, lag = None, (1.0,)
        if i:
            if "rate" not in st:
                pr.add(f"{where}.rate", "is missing")
                ok = False
            else:
                rate = _read_rate(pr, st["rate"], f"{where}.rate")
                ok = ok and rate is not None
            if "lag" in st:
                lag = _read_lag(pr, st["lag"], f"{where}.lag")
                ok = ok and lag is not None
        if ok:
            result.append(Stage(name, rate, lag, owner))
    return tuple(result) if ok else None


def _read_deal(pr: _Problems, deal) -> DealValue | None:
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


def _read_pipeline(pr: _Problems, pipeline, stages) -> tuple[tuple[str, int], ...]:
    if pr.mapping(pipeline, "start_pipeline") is None:
        return ()
    if not pipeline:
        return ()
    if stages is None:
        return ()
    index = {normalise_stage_name(s.name): i for i, s in enumerate(stages)}
    result = []
    for key, count in pipeline.items():
        where = f"start_pipeline[{key!r}]"
        i = index.get(normalise_stage_name(key))
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


def _read_pipeline_lags(pr: _Problems, lags, stages) -> tuple[tuple[str, tuple[float, ...]], ...]:
    if pr.mapping(lags, "start_pipeline_lag") is None or not lags or stages is None:
        return ()
    index = {normalise_stage_name(s.name): i for i, s in enumerate(stages)}
    result, seen = [], set()
    for key, lag in lags.items():
        where = f"start_pipeline_lag[{key!r}]"
        i = index.get(normalise_stage_name(key))
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
