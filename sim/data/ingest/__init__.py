"""Import of actuals into the store (CSV files and workbooks): validated, atomic, idempotent,
undoable.

Three formats (README, "Actuals formats"):

* **monthly**: a ``month`` column and one column per stage (plus an optional ``revenue``), or
  the long form ``month,stage,count``. A later import of the same month and stage replaces
  the earlier value (cell by cell); an empty cell states nothing.
* **records**: one row per lead or deal, an id column, a date column per stage it reached
  (empty when not reached) and optionally an amount, booked in the month of the record's
  latest stage date. Each (id, stage) counts once over all imports (the latest import's date
  wins), so overlapping exports never count twice. An outcome column says which records are
  won, lost or open (:mod:`.outcomes`); a segment column gives each record a segment.
* **history**: one row per record and CRM stage it entered (:mod:`.stage_history`).

Workbooks (``.xlsx``, ``.xls``, ``.ods``) are read one sheet at a time into CSV text
(:mod:`.workbook`). :func:`preview_import` reads a file as the import would and says what it
would produce, writing nothing (:mod:`.import_preview`). An import may replace what earlier imports
of the same source said (:mod:`.writing`).

The file is decoded in Python (:mod:`.decoding`: UTF-8 with or without BOM, UTF-16 with BOM,
else Latin-1 / Windows-1252), laid out (:mod:`.layout`: delimiter, header, row numbers),
written as UTF-8 to the store's staging folder and read by DuckDB's CSV reader as text
(:mod:`.staging`); every value is then parsed (:mod:`.values`) and checked (:mod:`.checks`) in
SQL by the format's reader (:mod:`.monthly`, :mod:`.records`), stage names matched
(:mod:`.stages`), and the rows written (:mod:`.writing`). :mod:`.batch` runs one import from
start to end. Column and stage names never enter the SQL: columns are addressed as
``c0, c1, ...`` by position, stage names are parameters.

Any problem rejects the whole file (:class:`ImportRejected`, naming row and column) and the
database stays exactly as it was; otherwise everything is written in one transaction. The
import history and undo are in :mod:`sim.data.history`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...lazy_exports import lazy_exports

#: Public name -> the module that defines it, loaded on first use: the command line's parser
#: needs ``FORMATS`` only, not DuckDB's reader, the workbook reader and the checks (about 0.1 s).
_EXPORTS = {
    "import_csv": "sim.data.ingest.batch", "ImportPreview": "sim.data.ingest.import_preview",
    "preview_import": "sim.data.ingest.import_preview", "preview": "sim.data.ingest.layout",
    "read_header": "sim.data.ingest.layout", "FORMATS": "sim.data.ingest.options",
    "MAX_IMPORT_BYTES": "sim.data.ingest.options", "ImportOptions": "sim.data.ingest.options",
    "ImportResult": "sim.data.ingest.writing",
}
__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)


if TYPE_CHECKING:       # for type checkers and editors: the same names, eagerly
    from .batch import import_csv
    from .import_preview import ImportPreview, preview_import
    from .layout import preview, read_header
    from .options import FORMATS, MAX_IMPORT_BYTES, ImportOptions
    from .writing import ImportResult
