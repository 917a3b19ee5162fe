"""CSV import of actuals into the store: validated, atomic, idempotent, undoable.

Two formats (README, "Actuals CSV formats"):

* **monthly**: a ``month`` column and one column per stage (plus an optional ``revenue``), or
  the long form ``month,stage,count``. A later import of the same month and stage replaces
  the earlier value (cell by cell); an empty cell states nothing.
* **records**: one row per lead or deal, an id column, a date column per stage it reached
  (empty when not reached) and optionally an amount, booked in the month of the record's
  latest stage date. Each (id, stage) counts once over all imports (the latest import's date
  wins), so overlapping exports never count twice.

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

from .batch import import_csv
from .layout import preview, read_header
from .options import FORMATS, MAX_IMPORT_BYTES, ImportOptions
from .writing import ImportResult

__all__ = ["FORMATS", "MAX_IMPORT_BYTES", "ImportOptions", "ImportResult", "import_csv", "preview", "read_header"]
