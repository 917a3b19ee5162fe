"""From an upload's bytes to text: the file name shown, the encoding, and what is refused
(empty, compressed, binary, UTF-16 without its byte-order mark)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from ...errors import ImportRejected


def display_file_name(file_name: str) -> str:
    """The file's own name (no folders), without control characters, at most 120 characters."""
    name = Path(str(file_name or "upload.csv")).name
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return name[:120] or "upload.csv"


def decode(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Latin-1 / Windows-1252."""
    if not data.strip():
        raise ImportRejected("the file is empty", name)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportRejected("the file starts like UTF-16 but is not valid UTF-16", name) from None
    elif data.startswith(b"\x1f\x8b") or data.startswith(b"PK\x03\x04"):
        raise ImportRejected("this is a compressed file (gzip or zip): unpack it and import the CSV", name)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace") if not _latin1_only(data) else data.decode("latin-1")
    text = text.lstrip("\ufeff")
    if not text or text.isspace():          # a byte-order mark and nothing else
        raise ImportRejected("the file is empty", name)
    if "\x00" in text:
        head = data[:400]
        if len(head) >= 8 and max(head[0::2].count(0), head[1::2].count(0)) >= 0.9 * (len(head) // 2):
            raise ImportRejected("the file contains NUL bytes: it looks like UTF-16 text without a byte-order "
                                 "mark; save it as UTF-8 (or UTF-16 with its byte-order mark)", name)
        raise ImportRejected("the file contains NUL bytes: it is binary, not a CSV text file", name)
    control = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\r\n\t")
    if control > 8:
        raise ImportRejected("the file contains control characters: it is binary, not a CSV text file", name)
    return text


def _latin1_only(data: bytes) -> bool:
    """True when no byte is in 0x80-0x9F (where Windows-1252 and Latin-1 differ)."""
    return not re.search(rb"[\x80-\x9f]", data)
