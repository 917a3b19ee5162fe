"""CSV for spreadsheets, made safe in one place.

A text cell (or column name) that starts like a formula (``=``, ``+``, ``-``, ``@``, a tab or
a carriage return) would run as one in Excel, LibreOffice or Google Sheets ("CSV injection"):
it gets an apostrophe in front, which spreadsheets show as plain text. Control and invisible
characters (which a name stored before today's name rules may hold) are removed. Numbers stay
numbers. Every CSV the app and the library offer for download goes through
:func:`spreadsheet_csv`.
"""

from __future__ import annotations

import pandas as pd

from ..model.names import printable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text) -> str:
    """``text`` as a spreadsheet shows it literally, without control or invisible characters."""
    text = printable(text)
    return "'" + text if text.startswith(FORMULA_START) else text


def spreadsheet_csv(frame: pd.DataFrame) -> str:
    """``frame`` as CSV (no index, LF line ends), every text cell and column name made safe."""
    safe = frame.map(lambda v: spreadsheet_safe(v) if isinstance(v, str) else v)
    safe.columns = [spreadsheet_safe(c) if isinstance(c, str) else c for c in safe.columns]
    return safe.to_csv(index=False, lineterminator="\n")
