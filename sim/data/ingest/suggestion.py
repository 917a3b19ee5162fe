"""The import options guessed from a file's header names and first values, for the app's
mapping form (and ``python -m sim import --guess``): the format, the id, amount, outcome and
segment columns, the values that mean won and lost, the date layout, and which date column (or
CRM stage) counts toward which funnel stage. A guess only: the preview shows what it gives
before anything is written."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from ...model.names import fold_name
from .options import ImportOptions

SAMPLE_ROWS = 2000
WON_WORDS = ("won", "closed won", "closedwon", "closed-won", "win", "closed/won")
LOST_WORDS = ("lost", "closed lost", "closedlost", "closed-lost", "loss", "closed/lost")
TRUE_WORDS = ("true", "false", "1", "0", "yes", "no")
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%m/%d/%y", "%d.%m.%y")
#: The time of day a date may carry (``26-02-2018 19:58``): the date format must say so.
TIME_LAYOUTS = ("", " %H:%M", " %H:%M:%S", "T%H:%M:%S", "T%H:%M", " %I:%M %p", " %I:%M:%S %p")
#: Words in a column or CRM stage name, and the funnel stage (by words of its name, or its
#: position: -1 the last) they suggest.
STAGE_WORDS = (
    (("won", "close", "closed", "customer", "closedwon", "became a customer"), -1),
    (("proposal", "quote", "offer", "presentation", "contract sent"), ("proposal",)),
    (("sql", "sales qualified", "engage", "engaged", "opportunity", "qualified to buy"), ("sql",)),
    (("mql", "marketing qualified"), ("mql",)),
    (("lead", "created", "create", "signup", "sign up", "subscriber"), ("lead",)),
    (("visit", "session"), ("visit",)),
)
SEGMENT_WORDS = ("lead source", "source", "channel", "product", "region", "country", "sales agent", "agent", "owner",
                 "segment", "industry", "team", "market", "campaign")
AMOUNT_WORDS = ("amount", "close value", "deal value", "value", "revenue", "price", "arr", "mrr", "total")
ID_WORDS = ("id", "key", "number", "record id", "deal id", "lead id", "opportunity id", "contact id")


@dataclass(frozen=True)
class Suggestion:
    """Guessed ``options`` and why (``reasons``, one per guess)."""

    options: ImportOptions
    reasons: tuple[str, ...]


def words(name: str) -> str:
    """A column name as lower-case words: ``close_date`` -> ``close date``, ``IsWon`` -> ``is won``."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(name))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", spaced.lower()).split())


def suggest_options(text: str, known_stages: tuple[str, ...], *, delimiter: str | None = None,
                    sheet: str | None = None) -> Suggestion:
    """Options for the CSV ``text`` (a file, or a workbook's sheet as CSV) given the funnel's
    stage names ``known_stages`` (in order)."""
    from .layout import sniff_delimiter
    delimiter = delimiter or sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text[:5_000_000]), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return Suggestion(ImportOptions(sheet=sheet), ())
    rows = []
    try:
        for row in reader:
            if row:
                rows.append(row)
            if len(rows) >= SAMPLE_ROWS:
                break
    except csv.Error:
        pass
    columns = {i: [r[i].strip() for r in rows if i < len(r)] for i in range(len(header))}
    names = [words(h) for h in header]
    reasons: list[str] = []
    keys = {fold_name(h) for h in header}
    if "month" in keys:
        return Suggestion(ImportOptions(format="monthly", sheet=sheet), ("a 'month' column: the monthly format",))

    def pick(candidates, test=lambda i: True):
        for wanted in candidates:
            for i, n in enumerate(names):
                if (n == wanted or n.endswith(" " + wanted) or n.startswith(wanted + " ")) and test(i):
                    return i
        return None

    date_cols = {i for i, v in columns.items() if _date_format(v) is not None}
    fmt_votes = Counter(_date_format(columns[i]) for i in date_cols)
    date_format = next((f for f, _ in fmt_votes.most_common() if f != "%Y-%m-%d"), None)
    stage_i = pick(("stage", "deal stage", "dealstage", "stage name", "to stage", "new stage"),
                   lambda i: i not in date_cols)
    history_date = pick(("date", "entered", "changed", "date entered", "timestamp", "change date", "created date"),
                        lambda i: i in date_cols)
    id_i = pick(ID_WORDS, lambda i: i not in date_cols and _filled(columns[i]) > 0.95)
    if id_i is None:
        id_i = next((i for i, n in enumerate(names) if n.split()[-1:] == ["id"]), None)
    repeated = id_i is not None and len(set(columns[id_i])) < 0.9 * max(len(columns[id_i]), 1)
    amount_i = pick(AMOUNT_WORDS, lambda i: _numeric(columns[i]) and i not in date_cols)
    segment_i = pick(SEGMENT_WORDS, lambda i: 1 < len(set(columns[i]) - {""}) <= 100 and i not in (id_i, stage_i))
    common = dict(id_column=header[id_i] if id_i is not None else None,
                  amount_column=header[amount_i] if amount_i is not None else None, date_format=date_format,
                  segment_column=header[segment_i] if segment_i is not None else None, sheet=sheet)
    for what, i in (("id", id_i), ("amount", amount_i), ("segment", segment_i)):
        if i is not None:
            reasons.append(f"'{header[i]}' looks like the {what}")
    if date_format:
        reasons.append(f"dates look like {date_format}")

    if stage_i is not None and history_date is not None and repeated:
        values = _values(columns[stage_i])
        mapping, lost = [], []
        for shown, folded in values:
            if folded in LOST_WORDS or "lost" in folded.split():
                lost.append(shown)
                continue
            stage = _stage_for(words(shown), known_stages)
            if stage:
                mapping.append((shown, stage))
        reasons.append(f"one row per record and stage ('{header[stage_i]}', '{header[history_date]}'): a stage history")
        return Suggestion(ImportOptions(format="history", stage_column=header[stage_i],
                                        date_column=header[history_date], mapping=tuple(mapping),
                                        lost_stages=tuple(lost), **common), tuple(reasons))

    outcome = _outcome(header, names, columns, date_cols)
    mapping = []
    used = set()
    for i in sorted(date_cols):
        stage = _stage_for(names[i], known_stages)
        if stage and stage not in used:
            mapping.append((header[i], stage))
            used.add(stage)
    if mapping:
        reasons.append("date columns: " + ", ".join(f"'{c}' -> {s}" for c, s in mapping))
    options = ImportOptions(format="records", mapping=tuple(mapping), **common, **outcome[0])
    return Suggestion(options, tuple(reasons + outcome[1]))


def _outcome(header, names, columns, date_cols) -> tuple[dict, list[str]]:
    by_name = {n.replace(" ", ""): i for i, n in enumerate(names)}
    if "iswon" in by_name and "isclosed" in by_name:
        won, closed = by_name["iswon"], by_name["isclosed"]
        return ({"outcome_column": header[won], "closed_column": header[closed]},
                [f"'{header[won]}' and '{header[closed]}' (true/false): won, and closed but not won is lost"])
    for i, values in columns.items():
        if i in date_cols:
            continue
        found = _values(values)
        won = [shown for shown, folded in found if folded in WON_WORDS]
        lost = [shown for shown, folded in found if folded in LOST_WORDS]
        if won and (lost or len(found) <= 20):
            return ({"outcome_column": header[i], "won_values": tuple(won), "lost_values": tuple(lost)},
                    [f"'{header[i]}' holds the outcome: {', '.join(won)} = won"
                     + (f", {', '.join(lost)} = lost" if lost else "") + ", anything else open"])
    return {}, []


def _stage_for(name_words: str, known_stages: tuple[str, ...]) -> str | None:
    """The known stage a column or CRM stage name suggests (its words), or None."""
    if not known_stages:
        return None
    folded = {fold_name(s): s for s in known_stages}
    plain = name_words.replace(" date", "").replace("date ", "").strip()
    for key, stage in folded.items():
        if plain == key or plain == key.rstrip("s") or plain.rstrip("s") == key.rstrip("s"):
            return stage
    for hints, target in STAGE_WORDS:
        if not any(re.search(rf"\b{re.escape(h)}\b", name_words) for h in hints):
            continue
        if target == -1:
            return known_stages[-1]
        for key, stage in folded.items():
            if any(t in key for t in target):
                return stage
    return None


def _values(values: list[str]) -> list[tuple[str, str]]:
    """Distinct non-empty values, most frequent first: (as written, folded)."""
    counts = Counter(v for v in values if v)
    return [(v, " ".join(v.lower().split())) for v, _ in counts.most_common(50)]


def _filled(values: list[str]) -> float:
    return sum(1 for v in values if v) / max(len(values), 1)


def _numeric(values: list[str]) -> bool:
    filled = [v for v in values if v]
    ok = sum(1 for v in filled if re.fullmatch(r"[-+]?[$€£]?\s?[\d.,' ]+\s?(?:[$€£]|EUR|USD|GBP)?", v))
    return bool(filled) and ok >= 0.9 * len(filled)


def _date_format(values: list[str]) -> str | None:
    """The layout all of a column's non-empty sample values parse with (ISO first; day or
    month first told apart by a value over 12; with the time of day when every value has one
    in the same layout), or None when it is no date column."""
    fitting = date_formats(values)
    if fitting:
        return "%Y-%m-%d" if fitting[0].startswith("%Y-%m-%d") else fitting[0]     # ISO needs no format
    sample = [v.split(" ")[0].split("T")[0] for v in values if v][:300]   # times in several layouts
    fitting = [f for f in DATE_FORMATS if sample and all(_parses(v, f) for v in sample)]
    return fitting[0] if fitting else None


def date_formats(values, years: tuple[int, int] = (1990, 2100)) -> list[str]:
    """Every date format (a layout of DATE_FORMATS, with the time of day of TIME_LAYOUTS when the
    values have one) under which all of ``values`` (up to 300 non-empty ones) read as dates in
    ``years``: for a guess, and for the message about dates that did not parse."""
    sample = [str(v).strip() for v in values if v is not None and str(v).strip()][:300]
    if not sample:
        return []
    return [d + t for d in DATE_FORMATS for t in TIME_LAYOUTS
            if all(_parses(v, d + t, years) for v in sample)]


def _parses(value: str, fmt: str, years: tuple[int, int] = (1990, 2100)) -> bool:
    try:
        day = datetime.strptime(value, fmt)
    except ValueError:
        return False
    return years[0] <= day.year <= years[1]
