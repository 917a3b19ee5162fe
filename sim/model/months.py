"""Months written ``"YYYY-MM"``: the one place that reads, writes and counts them."""

from __future__ import annotations

import re
from datetime import date

#: strftime/strptime layout of a month label (also DuckDB's ``strftime(month, ...)``).
MONTH_FORMAT = "%Y-%m"
_LABEL = re.compile(r"(\d{4})-(\d{2})")


def parse_month(text) -> tuple[int, int] | None:
    """(year, month) of a ``"YYYY-MM"`` label, or None when ``text`` is not one."""
    match = _LABEL.fullmatch(text) if isinstance(text, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 12:
        return None
    return int(match.group(1)), int(match.group(2))


def month_label(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def label_of(day: date | None) -> str | None:
    """The month label of a date (None stays None)."""
    return None if day is None else month_label(day.year, day.month)


def months_from(start: str, count: int) -> tuple[str, ...]:
    """``count`` consecutive month labels from ``start``."""
    year, month = parse_month(start)
    return tuple(month_label(year + (month - 1 + t) // 12, (month - 1 + t) % 12 + 1) for t in range(count))


def first_day(label: str | None) -> date | None:
    """The first day of a month label (None stays None); a date's text keeps its month."""
    if label is None:
        return None
    year, month = parse_month(str(label)[:7])
    return date(year, month, 1)
