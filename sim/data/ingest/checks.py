"""The checks of an import's cells: every value that cannot be read or is implausible is a
problem naming its row and column (a few one by one, many as one line with examples)."""

from __future__ import annotations

from ...model.problems import Problems
from .layout import Sheet
from .suggestion import date_formats
from .values import blank_sql, column

MAX_PROBLEMS = 20                         # problems listed before "... and N more"
MAX_COUNT = 1e9                           # per stage and month
MAX_AMOUNT = 1e12
FIRST_YEAR, LAST_YEAR = 1990, 2100


class CellChecks:
    """Checks of the typed columns of one import, reported to ``problems``."""

    def __init__(self, cur, sheet: Sheet, problems: Problems, decimal: str, date_format: str | None):
        self.cur, self.sheet, self.problems = cur, sheet, problems
        self.decimal, self.date_format = decimal, date_format

    def check_numbers(self, table: str, index: int, what: str, money: bool) -> None:
        """Problems for the cells of column ``index`` (parsed into ``v{index}`` of ``table``)."""
        c, v, label = column(index), f"v{index}", self.sheet.label(index)
        hint = (" (this file's numbers are read with a decimal comma: use --decimal . / the "
                "'decimal separator' setting if it uses a decimal point)" if self.decimal == ","
                else "")
        limit = MAX_AMOUNT if money else MAX_COUNT
        checks = [
            (f"{v} IS NULL AND NOT {blank_sql(c)}", f"is not a number{hint}"),
            (f"{v} < 0", "is negative"),
            (f"{v} > {limit}", f"is implausibly large (over {limit:,.0f})"),
        ]
        if not money:
            checks.append((f"{v} <> round({v})", "is not a whole number"))
        for condition, text in checks:
            self.report(table, c, condition, label, text, what)

    def report(self, table: str, c: str, condition: str, label: str, text: str, what: str) -> None:
        """Problems for the rows of ``table`` meeting ``condition``: one per row when there are
        a few, else one line for the column with the first rows as examples."""
        bad = self.cur.execute(f"SELECT row, {c} FROM {table} WHERE {condition} ORDER BY row "
                               f"LIMIT 4").fetchall()
        if len(bad) <= 3:
            for row, value in bad:
                self.problems.add(f"row {self.sheet.row_number(row)}, {label}: {show(value)} {text} ({what})")
            return
        total = self.cur.execute(f"SELECT count(*) FROM {table} WHERE {condition}").fetchone()[0]
        examples = ", ".join(f"row {self.sheet.row_number(row)} {show(value)}" for row, value in bad[:3])
        self.problems.add(f"{label}: {total:,} values {_plural_verb(text)} ({what}), e.g. {examples}")

    def check_dates(self, table: str, index: int, what: str) -> None:
        """Problems for the date cells of column ``index`` (parsed into ``d{index}`` of ``table``)."""
        c, d, label = column(index), f"d{index}", self.sheet.label(index)
        fmt = self.date_format
        expected = (f"a date as {fmt}" if fmt else
                    "an ISO date (YYYY-MM-DD; for other layouts give the date format, such as %d-%m-%Y)")
        unread = f"{d} IS NULL AND NOT {blank_sql(c)}"
        values = [v for (v,) in self.cur.execute(f"SELECT {c} FROM {table} WHERE {unread} LIMIT 300").fetchall()]
        fits = [f for f in date_formats(values, (FIRST_YEAR, LAST_YEAR)) if f != fmt]
        if fits:           # say the format these values read as, not a generic example
            subject = "the column's dates read" if len(values) > 1 else "it reads"
            expected = (f"{f'a date as {fmt}' if fmt else 'an ISO date (YYYY-MM-DD)'}; "
                        f"{subject} as {' or '.join(fits[:2])}: give that date format")
        checks = [
            (unread, f"is not {expected}"),
            (f"(NOT isfinite({d}) OR year({d}) < {FIRST_YEAR} OR year({d}) > {LAST_YEAR})",
             f"is outside the plausible years {FIRST_YEAR}-{LAST_YEAR}"),
        ]
        for condition, text in checks:
            self.report(table, c, condition, label, text, what)

    def check_month_column(self, typed: str, month_i: int) -> None:
        """Problems for the month cells (parsed into ``m`` of ``typed``) that are no month."""
        c, label = f"c{month_i}", self.sheet.label(month_i)
        bad = self.cur.execute(
            f"SELECT row, {c}, m FROM {typed} WHERE m IS NULL OR NOT isfinite(m) OR year(m) < {FIRST_YEAR} "
            f"OR year(m) > {LAST_YEAR} ORDER BY row LIMIT {MAX_PROBLEMS}").fetchall()
        for row, value, m in bad:
            if m is None:
                self.problems.add(f"row {self.sheet.row_number(row)}, {label}: {show(value)} is not a month "
                                  f"(use YYYY-MM, e.g. 2027-01)")
            else:
                self.problems.add(f"row {self.sheet.row_number(row)}, {label}: {show(value)} is outside the "
                                  f"plausible years {FIRST_YEAR}-{LAST_YEAR}")


def _plural_verb(text: str) -> str:
    """``is not a number`` -> ``are not a number``: the verb of a problem for several values."""
    return "are" + text[2:] if text.startswith("is ") else text


def show(value) -> str:
    """A cell value quoted for a message, cut to 40 characters."""
    text = "" if value is None else str(value)
    text = text if len(text) <= 40 else text[:37] + "..."
    return repr(text)
