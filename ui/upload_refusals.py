"""What an uploader accepts, said in the page, and files of another type refused in the page.

Streamlit's uploader refuses a file of a type it was not given, or larger than its limit, with
a red mark whose reason shows only on hover. So the uploaders here take any type and the page
refuses the others with a message that says what to do; and the size limit, which the browser
enforces before the server sees the file, is stated under the uploader with what to do for a
larger file."""

from __future__ import annotations

from pathlib import PurePath

import streamlit as st

from sim.present.markdown import escape_markdown


def limits_caption(types: list[str], max_mb: int, larger: str) -> None:
    """Under an uploader: the file types and size it takes, and what to do with a larger file."""
    listed = ", ".join(f".{t}" for t in types)
    st.caption(f"Takes {listed} files up to {max_mb:,} MB. A larger file is refused by the uploader "
               f"(a red mark on the file): {larger}")


def refused(upload, types: list[str], instead: str) -> bool:
    """Whether ``upload`` is of a type not in ``types``; if so, say so in the page with
    ``instead`` (what to do)."""
    suffix = PurePath(upload.name).suffix.lower().lstrip(".")
    if suffix in types:
        return False
    kind = f"a .{suffix} file" if suffix else "a file without an extension"
    st.error(f"{escape_markdown(upload.name)} is {kind}: this takes only "
             f"{', '.join('.' + t for t in types)}. {instead}", icon=":material/block:")
    return True
