"""How to read an import file: the options a user gives, checked before anything is read."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ...errors import ImportRejected
from ...model.names import fold_name, tidy_name
from ...model.problems import Problems

FORMATS = ("monthly", "records", "history")
MAX_IMPORT_BYTES = 50 * 1024 * 1024      # the app's upload limit; the CLI may pass another
MAX_SOURCE_NAME = 120


@dataclass(frozen=True)
class ImportOptions:
    """How to read a file (README, "Actuals formats").

    ``mapping``: (column, stage) pairs (records: a stage's date column; history: (CRM stage,
    funnel stage)); ``ignore``: columns to skip (monthly); ``decimal``: "," or "." (default ","
    for ";"-delimited files).

    Outcomes (records): ``outcome_column`` holds the outcome, ``won_values`` / ``lost_values``
    the values that mean won / lost (case and spaces ignored; anything else is open); or, as
    Salesforce exports it, ``outcome_column`` is ``IsWon`` (true/false) and ``closed_column``
    ``IsClosed``: closed and not won is lost. ``won_stage``: the stage a win counts toward
    (default: the last mapped stage in the funnel's order). History: ``stage_column`` and
    ``date_column`` (default ``stage`` and ``date``), ``lost_stages``: the CRM stages that mean
    lost. ``segment_column``: one segment per record (or per monthly row). ``sheet``: a
    workbook's sheet. ``source``: the name of what the file is an export of (default: the file
    name); ``replace``: this import replaces what earlier imports of the same source said.
    """

    format: str | None = None
    mapping: tuple[tuple[str, str], ...] = ()
    id_column: str | None = None
    amount_column: str | None = None
    date_format: str | None = None
    decimal: str | None = None
    ignore: tuple[str, ...] = ()
    outcome_column: str | None = None
    won_values: tuple[str, ...] = ()
    lost_values: tuple[str, ...] = ()
    closed_column: str | None = None
    won_stage: str | None = None
    stage_column: str | None = None
    date_column: str | None = None
    lost_stages: tuple[str, ...] = ()
    segment_column: str | None = None
    sheet: str | None = None
    source: str | None = None
    replace: bool = False

    def to_json(self) -> str:
        """The options as stored with an import (and compared to recognise the very same
        import): the options of earlier versions as they were, the newer ones when set."""
        doc = {"format": self.format, "mapping": [list(m) for m in self.mapping],
               "id": self.id_column, "amount": self.amount_column,
               "date_format": self.date_format, "decimal": self.decimal,
               "ignore": list(self.ignore)}
        newer = {"outcome": self.outcome_column, "won": list(self.won_values), "lost": list(self.lost_values),
                 "closed": self.closed_column, "won_stage": self.won_stage, "stage_column": self.stage_column,
                 "date_column": self.date_column, "lost_stages": list(self.lost_stages),
                 "segment": self.segment_column, "sheet": self.sheet}
        doc.update({k: v for k, v in newer.items() if v})
        return json.dumps(doc, sort_keys=True)


def check_options(options: ImportOptions, name: str) -> None:
    """Raise :class:`ImportRejected` naming every option that cannot be right."""
    problems = Problems()
    o = options
    if o.format is not None and o.format not in FORMATS:
        problems.add(f"format must be one of {', '.join(FORMATS)}, not {o.format!r}")
    if o.decimal not in (None, ",", "."):
        problems.add(f"the decimal separator must be ',' or '.', not {o.decimal!r}")
    if o.date_format is not None and "%" not in o.date_format:
        problems.add(f"date format {o.date_format!r} has no % field (e.g. %d-%m-%Y)")
    for column, stage in o.mapping:
        if not str(column).strip() or not str(stage).strip():
            problems.add(f"mapping {column}={stage}: both a column and a stage are needed")
    if (o.won_values or o.lost_values or o.closed_column or o.won_stage) and not o.outcome_column \
            and o.format != "history":
        problems.add("the won / lost values and the closed column need the outcome column: name it "
                     "(--outcome COLUMN)")
    if o.outcome_column and not o.won_values and not o.closed_column:
        problems.add(f"outcome column '{o.outcome_column}': give the values that mean won (--won VALUE[,VALUE...]) "
                     "and lost (--lost VALUE[,VALUE...])")
    if o.closed_column and o.lost_values:
        problems.add("give either the lost values (--lost) or the closed column (--closed: closed and not won is "
                     "lost), not both")
    both = {fold_name(v) for v in o.won_values} & {fold_name(v) for v in o.lost_values}
    if both:
        problems.add(f"{', '.join(sorted(repr(v) for v in both))} cannot mean both won and lost")
    for value in (*o.won_values, *o.lost_values, *o.lost_stages):
        if not str(value).strip():
            problems.add("an empty value cannot mean won or lost (an empty cell is an open record)")
    if o.lost_stages and o.format not in (None, "history"):
        problems.add("lost stages (--lost-stage) are for stage-history files (--format history); records files "
                     "name the lost values of their outcome column (--lost)")
    if (o.stage_column or o.date_column) and o.format not in (None, "history"):
        problems.add("the stage and date columns (--stage-column, --date-column) are for stage-history files "
                     "(--format history)")
    if o.source is not None and (not tidy_name(o.source) or len(tidy_name(o.source)) > MAX_SOURCE_NAME):
        problems.add(f"the source name must have 1 to {MAX_SOURCE_NAME} characters")
    problems.raise_if_any(ImportRejected, name)


def check_size(data: bytes, max_bytes: int, name: str) -> None:
    """Refuse a file over ``max_bytes``, saying both sizes in a unit that shows the difference."""
    if len(data) > max_bytes:
        size, limit = f"{len(data) / 2**20:,.1f} MB", f"{max_bytes / 2**20:,.0f} MB"
        if max_bytes < 2**20 or size == f"{max_bytes / 2**20:,.1f} MB":   # "0.0 MB over 0 MB"
            size, limit = f"{len(data):,} bytes", f"{max_bytes:,} bytes"
        raise ImportRejected(f"the file is {size}, over the limit of {limit}", name)
