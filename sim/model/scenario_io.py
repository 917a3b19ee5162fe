"""Scenario files and share links: JSON documents and URL tokens, read and written.

Reading checks the document's size, encoding, numbers and duplicate fields here, then every
field in :func:`sim.model.validation.scenario_from_dict`; both raise :class:`ScenarioError`
naming the problems. A share-link token is the compact JSON, zlib-compressed and base64url
encoded behind a version prefix (``s1.``).
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from functools import lru_cache
from pathlib import Path

from ..errors import ScenarioError
from .scenario import Scenario
from .validation import scenario_from_dict

URL_TOKEN_PREFIX = "s1."
MAX_URL_TOKEN = 16_000       # characters of a share-link token
MAX_JSON_BYTES = 256_000     # a scenario document is a few kB; refuse anything absurd


def scenario_to_json(scenario: Scenario, indent: int | None = 2) -> str:
    """The scenario's JSON document (non-ASCII characters kept as they are)."""
    return json.dumps(scenario.to_dict(), indent=indent, ensure_ascii=False)


def scenario_to_url_token(scenario: Scenario) -> str:
    """A compact, versioned, URL-safe token holding the whole scenario."""
    raw = json.dumps(scenario.to_dict(), separators=(",", ":"), ensure_ascii=False).encode()
    packed = base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")
    return URL_TOKEN_PREFIX + packed


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
    """Decode and validate a share-link token made by :meth:`Scenario.to_url_token`.

    The scenarios of the last few tokens are kept (a Scenario is immutable): a page asks for
    the same token's scenario several times per run, and every viewer of a link asks again
    (about 1 ms each: inflating, parsing and validating). A refused token is checked again
    each time."""
    if not isinstance(token, str):
        raise ScenarioError("the link's scenario has an unknown format or version")
    return _scenario_of_token(token)


@lru_cache(maxsize=64)          # tokens are at most MAX_URL_TOKEN characters: at most ~1 MB kept
def _scenario_of_token(token: str) -> Scenario:
    if not token.startswith(URL_TOKEN_PREFIX):
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
