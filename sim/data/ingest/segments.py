"""A segment column (lead source, product, region, sales agent, ...): one segment per record
or per monthly row, read as tidied text; an empty cell is no segment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .values import blank_sql

if TYPE_CHECKING:
    from .batch import Batch

MAX_SEGMENT = 100                      # characters of a segment name
MAX_SEGMENTS = 500                     # different segments in one file


def segment_sql(c: str) -> str:
    """SQL of a segment cell: spaces tidied, NULL when the cell states nothing."""
    return f"CASE WHEN {blank_sql(c)} THEN NULL ELSE trim(regexp_replace({c}, '\\s+', ' ', 'g')) END"


def check_segments(b: Batch, typed: str, index: int) -> None:
    """Problems for the segment cells (``seg`` of ``typed``): too long, control characters
    (they break the charts), too many different ones."""
    label = b.sheet.label(index)
    b.checks.report(typed, f"c{index}", f"length(seg) > {MAX_SEGMENT}", label,
                    f"is longer than {MAX_SEGMENT} characters", "segment")
    b.checks.report(typed, f"c{index}", "regexp_matches(seg, '[\\x00-\\x1f\\x7f]')", label,
                    "contains control characters", "segment")
    distinct = b.cur.execute(f"SELECT count(DISTINCT seg) FROM {typed}").fetchone()[0]
    if distinct > MAX_SEGMENTS:
        b.problems.add(f"{label}: {distinct:,} different segments, more than {MAX_SEGMENTS}: is it the right column "
                       f"(a lead source, product, region or sales agent)?")
