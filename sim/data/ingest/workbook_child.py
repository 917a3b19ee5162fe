"""Reads one sheet of a workbook into a CSV file, in a process of its own (see
:mod:`sim.data.ingest.workbook`): run as ``python -I workbook_child.py JSON`` with a memory
limit, it imports nothing of the project, only python-calamine, which reads cell values
(formulas by their cached values) and never runs macros or follows links.

The JSON argument: ``path`` (the workbook), ``out`` (the CSV to write), ``sheet`` (a name, or
null for the first visible worksheet), ``decimal`` ("." or ","), ``max_cells``. It prints one
JSON line: ``{"sheet", "sheets", "rows", "columns"}`` or ``{"error": kind, ...}``.
"""

import csv
import datetime
import json
import sys


def cell_text(value, decimal: str) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            text = str(int(value))
        else:
            text = f"{value:.10f}".rstrip("0").rstrip(".")
        return text.replace(".", ",") if decimal == "," else text
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ") if (value.hour, value.minute, value.second) != (0, 0, 0) else value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def main(args: dict) -> dict:
    from python_calamine import CalamineWorkbook, PasswordError

    try:
        workbook = CalamineWorkbook.from_path(args["path"])
    except PasswordError:
        return {"error": "password"}
    except Exception as exc:  # noqa: BLE001 - any reader error: the file is not a readable workbook
        return {"error": "unreadable", "detail": str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}
    metadata = workbook.sheets_metadata
    worksheets = [m.name for m in metadata if str(m.typ).endswith("WorkSheet")]
    visible = [m.name for m in metadata if str(m.typ).endswith("WorkSheet") and str(m.visible).endswith(".Visible")]
    name = args.get("sheet")
    if name is None:
        if not (visible or worksheets):
            return {"error": "no_sheets"}
        name = (visible or worksheets)[0]
    elif name not in workbook.sheet_names:
        return {"error": "no_such_sheet", "sheets": worksheets}
    try:
        sheet = workbook.get_sheet_by_name(name)
    except Exception as exc:  # noqa: BLE001
        return {"error": "unreadable", "detail": str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}
    if sheet.total_height * max(sheet.width, 1) > args["max_cells"]:
        return {"error": "too_big", "rows": sheet.total_height, "columns": sheet.width}
    rows, width, skipped = 0, 0, 0
    with open(args["out"], "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        for row in sheet.iter_rows():
            texts = [cell_text(v, args["decimal"]) for v in row]
            if rows == 0:
                while texts and texts[-1] == "":
                    texts.pop()
                if not texts:
                    skipped += 1              # empty rows above the header
                    continue
                width = len(texts)
            else:
                if any(texts[width:]):         # cells right of the header: the reader reports them
                    while texts[-1] == "":
                        texts.pop()
                else:
                    texts = texts[:width]
                if not any(texts):
                    f.write("\n")            # an empty row: a blank line, numbered like the sheet
                    rows += 1
                    continue
            writer.writerow(texts)
            rows += 1
    first_row = 1 + skipped                   # iter_rows starts at the sheet's first row
    return {"sheet": name, "sheets": worksheets, "rows": rows, "columns": width, "first_row": first_row}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
