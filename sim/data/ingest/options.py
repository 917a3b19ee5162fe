"""How to read an import file: the options a user gives, checked before anything is read."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ...errors import ImportRejected
from ...model.problems import Problems

FORMATS = ("monthly", "records")
MAX_IMPORT_BYTES = 50 * 1024 * 1024      # the app's upload limit; the CLI may pass another


@dataclass(frozen=True)
class ImportOptions:
    """How to read a file. ``mapping``: (column, stage) pairs; ``ignore``: columns to skip
    (monthly format); ``decimal``: "," or "." (default "," for ";"-delimited files)."""

    format: str | None = None
    mapping: tuple[tuple[str, str], ...] = ()
    id_column: str | None = None
    amount_column: str | None = None
    date_format: str | None = None
    decimal: str | None = None
    ignore: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps({"format": self.format, "mapping": [list(m) for m in self.mapping],
                           "id": self.id_column, "amount": self.amount_column,
                           "date_format": self.date_format, "decimal": self.decimal,
                           "ignore": list(self.ignore)}, sort_keys=True)


def check_options(options: ImportOptions, name: str) -> None:
    """Raise :class:`ImportRejected` naming every option that cannot be right."""
    problems = Problems()
    if options.format is not None and options.format not in FORMATS:
        problems.add(f"format must be one of {', '.join(FORMATS)}, not {options.format!r}")
    if options.decimal not in (None, ",", "."):
        problems.add(f"the decimal separator must be ',' or '.', not {options.decimal!r}")
    if options.date_format is not None and "%" not in options.date_format:
        problems.add(f"date format {options.date_format!r} has no % field (e.g. %d-%m-%Y)")
    for column, stage in options.mapping:
        if not str(column).strip() or not str(stage).strip():
            problems.add(f"mapping {column}={stage}: both a column and a stage are needed")
    problems.raise_if_any(ImportRejected, name)


def check_size(data: bytes, max_bytes: int, name: str) -> None:
    """Refuse a file over ``max_bytes``, saying both sizes in a unit that shows the difference."""
    if len(data) > max_bytes:
        size, limit = f"{len(data) / 2**20:,.1f} MB", f"{max_bytes / 2**20:,.0f} MB"
        if max_bytes < 2**20 or size == f"{max_bytes / 2**20:,.1f} MB":   # "0.0 MB over 0 MB"
            size, limit = f"{len(data):,} bytes", f"{max_bytes:,} bytes"
        raise ImportRejected(f"the file is {size}, over the limit of {limit}", name)
