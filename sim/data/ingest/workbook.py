"""Excel and OpenDocument workbooks (``.xlsx``, ``.xlsm``, ``.xls``, ``.ods``): one sheet read
as CSV text, then validated and imported like a CSV file.

Reading is done by python-calamine (a Rust reader of cell values: dates as dates, formula
cells by the values Excel cached, never running a macro or following an external link) in a
process of its own (:mod:`.workbook_child`) with a memory limit and a time limit, so that a
hostile workbook (a sheet claiming millions of cells, a decompression bomb) can at worst make
that process fail, never the app. Before it starts, the archive's table of contents is checked
(size unpacked, compression ratio, number of parts), and an encrypted (password-protected)
workbook is recognised and refused with what to do.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ...errors import ImportRejected

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_PART = "EncryptedPackage".encode("utf-16-le")
#: Limits of what a workbook may unpack to and hold (a 200,000-row export unpacks to ~60 MB).
MAX_UNPACKED = 1024 * 2**20
MAX_RATIO = 200                          # unpacked / packed size of one part
MAX_PARTS = 5000
MAX_CELLS = 30_000_000
MEMORY_LIMIT = 3 * 2**30                 # of the reading process (address space)
TIME_LIMIT = 120                         # seconds
_CHILD = Path(__file__).with_name("workbook_child.py")
_FIX_PASSWORD = ("the workbook is password-protected (encrypted): open it in Excel, remove the password "
                 "(File > Info > Protect Workbook > Encrypt with Password, clear it), save it and import it again, "
                 "or save the sheet as CSV")


@dataclass(frozen=True)
class SheetText:
    """One sheet of a workbook as CSV text (comma-separated, UTF-8; numbers with ``decimal``,
    dates ISO); ``first_row``: the sheet's row number of the header; ``notes``: what the
    summary should say (which sheet, macros not run, external links)."""

    text: str
    sheet: str
    sheets: tuple[str, ...]
    first_row: int
    notes: tuple[str, ...]


def workbook_kind(data: bytes, file_name: str) -> str | None:
    """"xlsx", "ods" or "ole" (a legacy .xls, or an encrypted workbook) when ``data`` is a
    workbook, else None."""
    if data.startswith(OLE_MAGIC):
        return "ole"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist()[:MAX_PARTS + 1])
        except (zipfile.BadZipFile, ValueError, OSError):
            return "xlsx" if file_name.lower().endswith(WORKBOOK_SUFFIXES) else None
        if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
            return "xlsx"
        if "content.xml" in names and "mimetype" in names:
            return "ods"
    return None


def read_sheet(data: bytes, name: str, staging_dir: Path, *, sheet: str | None = None, decimal: str = ".") -> SheetText:
    """The sheet ``sheet`` (default: the first visible worksheet) of the workbook ``data`` as
    CSV text; :class:`ImportRejected` naming what is wrong and what to do."""
    kind = workbook_kind(data, name)
    notes = []
    if kind == "ole":
        if ENCRYPTED_PART in data:
            raise ImportRejected(_FIX_PASSWORD, name)
    elif kind in ("xlsx", "ods"):
        notes += _check_archive(data, name)
    tag = uuid.uuid4().hex[:12]
    source, out = staging_dir / f"import-{tag}.workbook", staging_dir / f"import-{tag}.csv"
    try:
        source.write_bytes(data)
        meta = _run_child({"path": str(source), "out": str(out), "sheet": sheet, "decimal": decimal,
                           "max_cells": MAX_CELLS}, name)
        _raise_for(meta, name, sheet)
        text = out.read_text(encoding="utf-8")
    finally:
        source.unlink(missing_ok=True)
        out.unlink(missing_ok=True)
    if not text.strip():
        raise ImportRejected(f"sheet '{meta['sheet']}' is empty", name)
    sheets = tuple(meta["sheets"])
    if len(sheets) > 1:
        others = [s for s in sheets if s != meta["sheet"]]
        notes.insert(0, f"read sheet '{meta['sheet']}' (the workbook also has {', '.join(repr(s) for s in others[:8])}"
                        f"{' and more' if len(others) > 8 else ''}: choose another with --sheet)")
    return SheetText(text, meta["sheet"], sheets, int(meta.get("first_row", 1)), tuple(notes))


def _check_archive(data: bytes, name: str) -> list[str]:
    """Refuse a zip whose parts unpack to too much (a decompression bomb); the notes on macros
    and external links."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ImportRejected("the workbook is damaged (not a readable zip archive): open it in Excel and save it "
                             "again", name) from None
    if len(parts) > MAX_PARTS:
        raise ImportRejected(f"the workbook has {len(parts):,} parts, more than {MAX_PARTS:,}: it is not a normal "
                             f"workbook", name)
    total = sum(p.file_size for p in parts)
    if total > MAX_UNPACKED:
        raise ImportRejected(f"the workbook unpacks to {total / 2**20:,.0f} MB, over the limit of "
                             f"{MAX_UNPACKED / 2**20:,.0f} MB: save the sheet as CSV and import that", name)
    for p in parts:
        if p.file_size > 2**20 and p.file_size > MAX_RATIO * max(p.compress_size, 1):
            raise ImportRejected(f"part '{p.filename[:80]}' of the workbook unpacks to {p.file_size / 2**20:,.0f} MB "
                                 f"from {p.compress_size:,} bytes (a decompression bomb?): not read", name)
    names = [p.filename for p in parts]
    notes = []
    if any(n.lower().endswith("vbaproject.bin") or n.lower().startswith("basic/") for n in names):
        notes.append("the workbook has macros: they were not run (only cell values are read)")
    if any(n.startswith("xl/externalLinks/") for n in names):
        notes.append("the workbook links to other files: their values as last saved in the workbook were read "
                     "(the links were not followed)")
    return notes


def _run_child(args: dict, name: str) -> dict:
    def limit_memory():                       # in the child, before it starts reading
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")}
    try:
        proc = subprocess.run([sys.executable, "-I", str(_CHILD), json.dumps(args)], capture_output=True, text=True,
                              timeout=TIME_LIMIT, env=env,
                              preexec_fn=limit_memory if os.name == "posix" else None)  # noqa: PLW1509
    except subprocess.TimeoutExpired:
        raise ImportRejected(f"reading the workbook took over {TIME_LIMIT} s: save the sheet as CSV and import that",
                             name) from None
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise ImportRejected("the workbook could not be read safely (it needs more memory than allowed, or is "
                             "damaged): save the sheet as CSV and import that", name)
    return json.loads(lines[-1])


def _raise_for(meta: dict, name: str, sheet: str | None) -> None:
    error = meta.get("error")
    if error is None:
        return
    if error == "password":
        raise ImportRejected(_FIX_PASSWORD, name)
    if error == "no_such_sheet":
        sheets = ", ".join(f"'{s}'" for s in meta.get("sheets", [])) or "none"
        raise ImportRejected(f"there is no sheet '{sheet}' in the workbook (its sheets: {sheets}): choose one of them "
                             f"(--sheet NAME)", name)
    if error == "no_sheets":
        raise ImportRejected("the workbook has no worksheet", name)
    if error == "too_big":
        raise ImportRejected(f"the sheet spans {meta['rows']:,} rows × {meta['columns']:,} columns, more than "
                             f"{MAX_CELLS:,} cells: save the data as CSV and import that", name)
    detail = meta.get("detail", "")
    raise ImportRejected(f"the file cannot be read as a workbook ({detail}): open it in Excel or LibreOffice and "
                         f"save it again as .xlsx, or as CSV", name)
