"""User text shown literally in Markdown (Streamlit's, or any CommonMark renderer)."""

from __future__ import annotations

import re

# Every ASCII punctuation character that starts Markdown or HTML markup: emphasis, code, links,
# headings (# and a setext line of = or -), lists, tables, Streamlit's :colour[] and $maths$,
# HTML tags (< >) and character references (&copy;).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&=])")
_AUTOLINK = re.compile(r"://|www\.|@", re.IGNORECASE)
#: Line breaks (a name typed with one would otherwise start a heading, a list or a table row).
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")


def _unlink(match: re.Match) -> str:
    return match.group(0)[:-1] + "\u2060" + match.group(0)[-1]


def escape_markdown(text: str) -> str:
    """``text`` (scenario, stage and file names, messages quoting them) shown as written, never
    as markup: line breaks become spaces, the Markdown characters (``&`` of HTML entities
    included) are escaped, and an invisible word joiner stops web addresses from becoming
    links."""
    one_line = _LINE_BREAKS.sub(" ", str(text))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _AUTOLINK.sub(_unlink, one_line))
