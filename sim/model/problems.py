"""The problem collector shared by scenario validation and CSV import validation.

Validation never stops at the first problem: every problem is collected, each naming its
field (``stages[1].rate.p90 must be > p10``) or row and column (``row 7, column 'Leads': ...``),
then raised together in one :class:`~sim.errors.PlannerError` subclass.
"""

from __future__ import annotations

import math


class Problems:
    """Collects validation problems, each prefixed with the field's path."""

    def __init__(self, limit: int | None = None):
        self.items: list[str] = []
        self.limit = limit          # problems listed before "... and N more problems"
        self.extra = 0              # problems beyond the limit, counted only

    def __bool__(self) -> bool:
        return bool(self.items)

    def add(self, path: str, message: str = ""):
        """One problem: ``path`` (a field, row or column) and what is wrong with it."""
        text = f"{path} {message}" if path and message else (path or message)
        if self.limit is not None and len(self.items) >= self.limit:
            self.extra += 1
        else:
            self.items.append(text)

    def raise_if_any(self, error: type, source: str | None = None) -> None:
        """Raise ``error`` (a :class:`~sim.errors.PlannerError` class) with every problem, if any."""
        if self.items:
            more = [f"... and {self.extra:,} more problems"] if self.extra else []
            raise error([*self.items, *more], source)

    def number(self, obj: dict, key: str, path: str, *, default=None, required=True,
               minimum=None, maximum=None, above=None, below=None, integer=False):
        where = f"{path}.{key}" if path else key
        if key not in obj:
            if required and default is None:
                self.add(where, "is missing")
            return default
        value = obj[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.add(where, f"must be a number, not {describe(value)}")
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
                self.add(where, f"must be {word} {exact_number(bound)} (got {exact_number(value)})")
                return None
        return int(value) if integer else float(value)

    def mapping(self, obj, where):
        if not isinstance(obj, dict):
            self.add(where, f"must be an object, not {describe(obj)}")
            return None
        return obj

    def unknown_keys(self, obj: dict, allowed, where: str):
        for key in obj:
            if key not in allowed:
                self.add(f"{where}.{key}" if where else str(key), "is not a known field")


def exact_number(value) -> str:
    """A number as a message shows it, never rounded (``2,000,001``, not ``2e+06``): whole
    numbers with thousands separators, others as the shortest text that reads back the same."""
    if isinstance(value, int) or (abs(value) < 1e16 and float(value).is_integer()):
        return f"{int(value):,}"
    return repr(float(value))


def describe(value) -> str:
    """What kind of JSON value ``value`` is, for a message: null, text, a list, ..."""
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
