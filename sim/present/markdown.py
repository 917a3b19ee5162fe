"""User text shown literally in Markdown (Streamlit's, or any CommonMark renderer)."""

from __future__ import annotations

import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$])")
_AUTOLINK = re.compile(r"://|www\.|@", re.IGNORECASE)


def _unlink(match: re.Match) -> str:
    return match.group(0)[:-1] + "\u2060" + match.group(0)[-1]


def escape_markdown(text: str) -> str:
    """``text`` (scenario, stage and file names, messages quoting them) shown as written, never
    as markup: the Markdown characters are escaped, and an invisible word joiner stops web
    addresses from becoming links."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _AUTOLINK.sub(_unlink, str(text)))
