"""A record's outcome: won, lost or open (README, "Outcomes").

The outcome model, which the plan-versus-actual, the check-in's open pipeline and a history
fit rely on:

* **won**: the record became a customer: it counts in the *won stage* (the funnel's customers
  stage, by default the last mapped stage) in the month of its won date, and its amount is
  revenue booked in that month.
* **lost**: the record reached its stages up to where it stopped, but never counts in the won
  stage and never brings revenue (an amount on a lost row, often 0, is kept but never
  counted); its date in the won stage's column is the day it was lost.
* **open**: not won and not lost yet ("not yet", where lost is "never"); a date in the won
  stage's column (an expected close date) does not count.

Records imported without an outcome have none (``NULL``): they count in every stage they have a
date for and their amount is booked in the month of their latest stage date, as before outcomes
existed.

The values are read in SQL from the outcome column: one of the values given for won or lost
(case and spaces ignored; they are parameters, never part of the SQL), else open; or, as
Salesforce exports it, a true/false ``IsWon`` column and a true/false ``IsClosed`` column:
closed and not won is lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...model.names import fold_name
from .checks import show

if TYPE_CHECKING:
    from .batch import Batch

WON, LOST, OPEN = "won", "lost", "open"
TRUE_VALUES = ("true", "1", "yes", "y", "x", "wahr", "vrai", "ja")
FALSE_VALUES = ("false", "0", "no", "n", "", "falsch", "faux", "nein")


def folded_sql(c: str) -> str:
    """SQL folding a cell as :func:`sim.model.names.fold_name` does (spaces tidied, lower case)."""
    return f"lower(trim(regexp_replace(coalesce({c}, ''), '\\s+', ' ', 'g')))"


class OutcomeColumns:
    """The outcome of each row of a records file, as the SQL expression :attr:`sql` over the
    file's text columns, from the options' outcome column (and closed column)."""

    def __init__(self, b: Batch, outcome_i: int, closed_i: int | None):
        self.b, self.outcome_i, self.closed_i = b, outcome_i, closed_i
        o = b.options
        self.values = b.temps.name("outcomevalues")
        b.cur.execute(f"CREATE TEMP TABLE {self.values} (value VARCHAR, outcome VARCHAR)")
        won = o.won_values or (TRUE_VALUES if closed_i is not None else ())
        rows = [[fold_name(v), WON] for v in won] + [[fold_name(v), LOST] for v in o.lost_values]
        if rows:
            b.cur.executemany(f"INSERT INTO {self.values} VALUES (?, ?)", rows)
        c = f"c{outcome_i}"
        stated = f"(SELECT v.outcome FROM {self.values} v WHERE v.value = {folded_sql(c)} LIMIT 1)"
        if closed_i is None:
            self.sql = f"coalesce({stated}, '{OPEN}')"
        else:
            closed = f"({folded_sql(f'c{closed_i}')} IN ({_quoted(TRUE_VALUES)}))"
            self.sql = f"CASE WHEN {stated} = '{WON}' THEN '{WON}' WHEN {closed} THEN '{LOST}' ELSE '{OPEN}' END"

    def columns(self) -> list[str]:
        """The typed table's columns: the raw cells and ``outcome``."""
        cols = [f"c{self.outcome_i}"] + ([f"c{self.closed_i}"] if self.closed_i is not None else [])
        return cols + [f"{self.sql} AS outcome"]

    def check(self, typed: str, won_date: str | None, won_label: str, amount: str | None) -> None:
        """Problems and notes of the outcomes read into ``typed``: booleans that are not, a won
        value that never occurs, won without a date (``won_date``: the SQL of the won stage's
        date), amounts on lost rows."""
        b, o = self.b, self.b.options
        label = b.sheet.label(self.outcome_i)
        if self.closed_i is not None:
            flags = [(self.closed_i, TRUE_VALUES + FALSE_VALUES)]
            if not o.won_values:
                flags.append((self.outcome_i, TRUE_VALUES + FALSE_VALUES))
            for i, allowed in flags:
                b.checks.report(typed, f"c{i}", f"{folded_sql(f'c{i}')} NOT IN ({_quoted(allowed)})",
                                b.sheet.label(i), "is not true or false", "outcome")
        counts = dict(b.cur.execute(f"SELECT outcome, count(*) FROM {typed} GROUP BY ALL").fetchall())
        if not counts.get(WON):
            given = ", ".join(repr(v) for v in o.won_values) if o.won_values else "true"
            b.problems.add(f"{label}: the won value{'s' if len(o.won_values) > 1 else ''} {given} never "
                           f"occur{'' if len(o.won_values) > 1 else 's'} ({self._values(typed)}): give the values that "
                           f"mean won (--won VALUE[,VALUE...])")
        if o.lost_values and not counts.get(LOST):
            b.notes.append(f"none of the lost values ({', '.join(repr(v) for v in o.lost_values)}) occurs in "
                           f"{label} ({self._values(typed)}): no record is lost")
        if won_date is not None:
            b.checks.report(typed, f"c{self.outcome_i}", f"outcome = '{WON}' AND {won_date} IS NULL", won_label,
                            "is won but has no date in the won stage's column: give the date it was won",
                            "won date")
            lost_undated = b.cur.execute(f"SELECT count(*) FROM {typed} WHERE outcome = '{LOST}' "
                                         f"AND {won_date} IS NULL").fetchone()[0]
            if lost_undated:
                b.notes.append(f"{lost_undated:,} lost records have no date in the won stage's column: the day "
                               f"they were lost is not known")
            open_dated = b.cur.execute(f"SELECT count(*) FROM {typed} WHERE outcome = '{OPEN}' "
                                       f"AND {won_date} IS NOT NULL").fetchone()[0]
            if open_dated:
                b.notes.append(f"{open_dated:,} open records have a date in the won stage's column (an expected "
                               f"close date?): they do not count as won")
        if amount is not None:
            note_lost_amounts(b, f"SELECT {amount} AS amount, outcome FROM {typed}", "rows")
        b.outcome_counts = {k: int(counts.get(k, 0)) for k in (WON, LOST, OPEN)}

    def _values(self, typed: str) -> str:
        """The most frequent values of the outcome column, for a message."""
        top = self.b.cur.execute(f"SELECT c{self.outcome_i}, count(*) FROM {typed} GROUP BY ALL "
                                 f"ORDER BY 2 DESC, 1 LIMIT 8").fetchall()
        return "its values: " + ", ".join(f"{show(v)} ×{n:,}" for v, n in top)


def note_lost_amounts(b: Batch, amounts_sql: str, what: str) -> None:
    """The summary's note on lost ``what`` (rows, records) that carry a non-zero amount:
    ``amounts_sql`` gives their (amount, outcome)."""
    n, total = b.cur.execute(f"SELECT count(*), sum(amount) FROM ({amounts_sql}) WHERE outcome = '{LOST}' "
                             f"AND amount > 0").fetchone()
    if n:
        b.notes.append(f"{n:,} lost {what} carry a non-zero amount ({total:,.2f} in all): never counted as revenue")


def _quoted(values) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)
