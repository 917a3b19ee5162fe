"""The layout of a CSV text: its delimiter, its header, the row numbers a spreadsheet shows,
and a preview for the app."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from ...errors import ImportRejected
from ...model.names import fold_name, tidy_name
from .decoding import decode, display_file_name

MAX_COLUMNS = 200
DELIMITERS = (",", ";", "\t", "|")


def sniff_delimiter(text: str) -> str:
    """The delimiter: of the candidates found in the header line (outside quotes), the one
    that splits the most of the next lines into as many fields as the header, then the one
    found most often in the header."""
    lines = [re.sub(r'"[^"]*"', "", line) for line in text[:200_000].splitlines()[:21] if line.strip()]
    if not lines:
        return ","
    header = {d: lines[0].count(d) for d in DELIMITERS}
    present = [d for d in DELIMITERS if header[d]]
    if not present:
        return ","
    consistent = {d: sum(1 for line in lines[1:] if line.count(d) == header[d]) for d in present}
    return max(present, key=lambda d: (consistent[d], header[d]))


def parse_header(text: str, delimiter: str, name: str) -> list[str]:
    """The column names, tidied; :class:`ImportRejected` when there are none or too many."""
    try:
        header = next(csv.reader(io.StringIO(text[:1_000_000]), delimiter=delimiter))
    except csv.Error as exc:
        why = (f": a column name is longer than {csv.field_size_limit():,} characters"
               if "field limit" in str(exc) else "")
        raise ImportRejected(f"the header line cannot be read{why}", name) from None
    except StopIteration:
        raise ImportRejected("the header line cannot be read", name) from None
    # Invisible format characters (zero-width space, BOM, bidi overrides) are dropped, as in
    # file names: "Le\u200bads" would otherwise show as an unknown stage "Leads".
    header = [tidy_name("".join(ch for ch in h if unicodedata.category(ch) != "Cf")) for h in header]
    if not any(header):
        raise ImportRejected("the first line is empty: it must hold the column names", name)
    if len(header) > MAX_COLUMNS:
        raise ImportRejected(f"the file has {len(header)} columns; at most {MAX_COLUMNS} are supported", name)
    return header


@dataclass
class Sheet:
    """One decoded file: its name, its text (LF line ends), delimiter and header; columns are
    found by folded name (``column``) and rows numbered as a spreadsheet shows them."""

    name: str
    text: str
    delimiter: str
    header: list[str]
    first_row: int = 1                               # the row number of the header (a sheet's)
    keys: list[str] = field(init=False)
    column: dict[str, int] = field(init=False)       # folded name -> index (the first of repeats)
    _rows: list[int] | None = field(default=None, init=False, repr=False)

    def __post_init__(self):
        self.keys = [fold_name(h) for h in self.header]
        self.column = {}
        for i, k in enumerate(self.keys):
            if k:
                self.column.setdefault(k, i)

    @classmethod
    def read(cls, text: str, name: str, *, first_row: int = 1, delimiter: str | None = None) -> Sheet:
        # DuckDB's reader fails ("state machine reached an invalid state") on mixed CRLF and LF
        # line ends (a CRLF export with a line added in another editor): use LF throughout.
        text = text.replace("\r\n", "\n")
        delimiter = delimiter or sniff_delimiter(text)
        return cls(name, text, delimiter, parse_header(text, delimiter, name), first_row)

    def label(self, index: int) -> str:
        return f"column '{self.header[index]}'"

    def row_number(self, record: int) -> int:
        """The row number a spreadsheet shows (header = row 1) of DuckDB's record number
        ``record`` (header = 1), which skips blank lines."""
        if self._rows is None:
            if "\n\n" not in self.text and "\n\r\n" not in self.text and not self.text.startswith(("\n", "\r\n")):
                self._rows = []
            else:   # blank lines: number the records as csv does (a blank line is a row)
                reader = csv.reader(io.StringIO(self.text), delimiter=self.delimiter)
                try:
                    self._rows = [n for n, rec in enumerate(reader, start=1) if rec]
                except csv.Error:   # e.g. a field over csv's size limit: DuckDB's numbers
                    self._rows = []
        record = int(record)
        number = self._rows[record - 1] if 0 < record <= len(self._rows) else record
        return number + self.first_row - 1


def preview(data: bytes, file_name: str, *, rows: int = 5) -> tuple[tuple[str, ...], list[list[str]]]:
    """The header and the first ``rows`` data rows of a CSV file, as text (for the app)."""
    name = display_file_name(file_name)
    text = decode(data, name)
    delimiter = sniff_delimiter(text)
    header = tuple(parse_header(text, delimiter, name))
    reader = csv.reader(io.StringIO(text[:2_000_000]), delimiter=delimiter)
    out: list[list[str]] = []
    try:
        next(reader)
        for record in reader:
            if record:
                out.append((record + [""] * len(header))[:len(header)])
            if len(out) >= rows:
                break
    except csv.Error:
        pass
    return header, out


def read_header(data: bytes, file_name: str) -> tuple[str, ...]:
    """The column names of a CSV file (for the app's mapping form); raises ImportRejected."""
    text = decode(data, display_file_name(file_name))
    return tuple(parse_header(text, sniff_delimiter(text), display_file_name(file_name)))
