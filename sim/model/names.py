"""Names typed by people (stages, scenarios, plans, CSV columns): the one rule that folds them,
and the one rule that says which characters a name may hold.

Two names are the same when they are equal ignoring case and runs of white space: ``Leads``,
`` leads `` and ``LEADS`` are one stage. :func:`tidy_name` is the name as shown (Unicode
composed, spaces folded), :func:`fold_name` the key it is compared on.

Every name, wherever it comes from (a share link, a scenario file, a CSV header, a plan name,
the command line's ``--scenario``, the app's inputs), is checked by :func:`name_problem`: no
control characters (they abort chart renderers and rewrite terminals) and no invisible ones
(zero-width spaces, joiners, bidi overrides, fillers: "Le\\u200bads" would look like "Leads"
and be another stage). A stage name is also checked by :func:`stage_name_problem`: letters,
digits, spaces and ``- & / ( ) . ' # +``, starting with a letter or digit, at most 40
characters; so no name can start like a spreadsheet formula (``=``, ``+``, ``-``, ``@``) or
carry Markdown or HTML.
"""

from __future__ import annotations

import re
import unicodedata

#: The longest stage name.
MAX_STAGE_NAME = 40
#: What a stage name may hold, in words (the messages quote it).
STAGE_NAME_RULE = (f"at most {MAX_STAGE_NAME} characters of letters, digits, spaces and - & / ( ) . ' # +, "
                   "starting with a letter or digit")
_STAGE_NAME_RE = re.compile(r"[^\W_][\w &/().'#+-]*")

#: Unicode categories never allowed in a name: controls (Cc), format characters (Cf: zero-width
#: space and joiners, bidi overrides, the byte-order mark, tags), surrogates (Cs), private use
#: (Co) and unassigned code points (Cn).
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}
#: Characters of other categories that show as nothing: the combining grapheme joiner, Hangul
#: fillers, the blank Braille pattern, variation selectors.
_INVISIBLE = {"\u034f", "\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}
_INVISIBLE_RANGES = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))


def tidy_name(name) -> str:
    """``name`` composed (Unicode NFC), with surrounding space removed and inner runs of white
    space folded to one."""
    return " ".join(unicodedata.normalize("NFC", str(name)).split())


def fold_name(name) -> str:
    """The key names are matched on: spaces tidied, case folded."""
    return tidy_name(name).casefold()


def is_refused_character(ch: str) -> bool:
    """A control or invisible character: never part of a name."""
    code = ord(ch)
    return (unicodedata.category(ch) in _REFUSED_CATEGORIES or ch in _INVISIBLE
            or any(low <= code <= high for low, high in _INVISIBLE_RANGES))


def name_problem(name) -> str | None:
    """Why ``name`` cannot be a name (of anything), or None: control or invisible characters
    (white space of any kind is allowed: it is folded to single spaces)."""
    text = tidy_name(name)
    if text.isascii() and text.isprintable():      # the common case, at once: no ASCII printable is refused
        return None
    bad = [ch for ch in dict.fromkeys(text) if is_refused_character(ch)]
    if not bad:
        return None
    shown = ", ".join(f"U+{ord(ch):04X}" for ch in bad[:3]) + (", ..." if len(bad) > 3 else "")
    return f"contains control or invisible characters ({shown})"


def stage_name_problem(name) -> str | None:
    """Why ``name`` cannot be a stage name, or None (see :data:`STAGE_NAME_RULE`)."""
    text = tidy_name(name)
    if not text:
        return "must be non-empty text"
    problem = name_problem(text)
    if problem:
        return problem
    if len(text) > MAX_STAGE_NAME or not _STAGE_NAME_RE.fullmatch(text):
        return f"must be {STAGE_NAME_RULE}"
    return None


def printable(text) -> str:
    """``text`` with every control or invisible character removed (line breaks and tabs kept):
    for output that a terminal or a spreadsheet shows, whatever a name stored earlier holds."""
    text = str(text)
    if text.isascii() and text.isprintable():      # the common case, at once (nothing to remove)
        return text
    return "".join(ch for ch in text if ch in "\n\t" or not is_refused_character(ch))
