"""SQL expressions that read the text cells of an import as numbers, months and dates.

Columns are addressed by position (``c0``, ``c1``, ...): column names never enter the SQL.
A cell that cannot be read gives NULL; :mod:`.checks` reports those cells.
"""

from __future__ import annotations

NOT_STATED = ("", "n/a", "na", "#n/a", "-", "--", "\u2013", "\u2014", "null", "none", "nan")


def column(index: int) -> str:
    """The SQL name of the file's column ``index``."""
    return f"c{index}"


def blank_sql(c: str) -> str:
    """SQL true when the cell of column ``c`` states nothing (empty, n/a, -, null, ...)."""
    return f"({c} IS NULL OR lower(trim({c})) IN ({_quoted(NOT_STATED)}))"


def number_sql(c: str, money: bool, decimal: str) -> str:
    """SQL parsing column ``c`` as a number (NULL when not a number); ``decimal``: "," or "."."""
    v = f"regexp_replace(trim({c}), '[\\s\u00a0\u202f''\u2019]', '', 'g')"
    if money:
        v = f"regexp_replace({v}, '^(-?)(?:[$\u20ac\u00a3]|EUR|USD|GBP)|(?:[$\u20ac\u00a3]|EUR|USD|GBP)$', '\\1')"
    if decimal == ",":
        pattern, plain = r"-?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?", f"replace(replace({v}, '.', ''), ',', '.')"
    else:
        pattern, plain = r"-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?", f"replace({v}, ',', '')"
    return f"(CASE WHEN regexp_full_match({v}, '{pattern}') THEN TRY_CAST({plain} AS DOUBLE) END)"


def month_sql(c: str) -> str:
    """SQL reading a month (2027-01, 2027-01-31, 2027/01, Jan 2027, 01/2027) as its first day."""
    formats = "['%Y-%m', '%Y-%m-%d', '%Y/%m', '%Y/%m/%d', '%b %Y', '%B %Y', '%m/%Y']"
    return f"date_trunc('month', try_strptime(trim({c}), {formats}))::DATE"


def date_sql(c: str, date_format: str | None, *, iso_too: bool = False) -> str:
    """SQL reading a date: with ``date_format`` (bound as the parameter ``$fmt``; ``iso_too``:
    or ISO, as a workbook's date cells are written), else ISO."""
    iso = f"try_cast(trim({c}) AS TIMESTAMP)::DATE"
    if date_format:
        formatted = f"try_strptime(trim({c}), $fmt)::DATE"
        return f"coalesce({formatted}, {iso})" if iso_too else formatted
    return iso


def _quoted(values) -> str:
    return ", ".join(f"'{v}'" for v in values)
