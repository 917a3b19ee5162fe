"""CRM exports generated in code, as real systems export them, for the tests and the import
benchmark: an opportunity export shaped like the 8,800-row one of issue 11 (Won / Lost /
Engaging / Prospecting, M/D/YYYY dates), the same in Salesforce's and HubSpot's spellings, a
stage-history report, and workbooks of any of them. Each comes as a pandas DataFrame, so that
the tests compute what the import must give with pandas, independently of the importer."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta

import numpy as np
import pandas as pd

AGENTS = ("Moses Frase", "Darcel Schlecht", "Zane Levy", "Anna Snelling", "Vicki Laflamme", "Maureen Marcano")
PRODUCTS = ("GTX Plus Basic", "GTXPro", "MG Special", "GTX Basic", "MG Advanced", "GTK 500")
ACCOUNTS = ("Cancity", "Isdom", "Codehow", "Hatfan", "Ron-tech", "J-Texon", "Kan-code", "Dontechi")
STAGES = ("Won", "Lost", "Engaging", "Prospecting")


def opportunity_export(rows: int = 8800, seed: int = 2017) -> pd.DataFrame:
    """The opportunity export: ``opportunity_id, sales_agent, product, account, deal_stage,
    engage_date, close_date, close_value`` with dates as M/D/YYYY text. Won deals have both
    dates and a value; lost ones both dates and (mostly) 0; Engaging ones an engage date;
    Prospecting ones neither."""
    rng = np.random.default_rng(seed)
    stage = rng.choice(STAGES, size=rows, p=(0.48, 0.29, 0.14, 0.09))
    start = date(2016, 10, 20)
    engage = [start + timedelta(days=int(d)) for d in rng.integers(0, 430, size=rows)]
    close = [e + timedelta(days=int(d)) for e, d in zip(engage, rng.integers(1, 140, size=rows))]
    value = np.round(rng.lognormal(7.5, 0.9, size=rows)).astype(int)
    lost_value = np.where(rng.random(rows) < 0.03, value, 0)      # a few lost rows carry an amount
    df = pd.DataFrame({
        "opportunity_id": [f"{i:08X}" for i in rng.choice(16**8, size=rows, replace=False)],
        "sales_agent": rng.choice(AGENTS, size=rows),
        "product": rng.choice(PRODUCTS, size=rows),
        "account": rng.choice(ACCOUNTS, size=rows),
        "deal_stage": stage,
        "engage_date": [_mdy(e) if s != "Prospecting" else "" for e, s in zip(engage, stage)],
        "close_date": [_mdy(c) if s in ("Won", "Lost") else "" for c, s in zip(close, stage)],
        "close_value": [str(v) if s == "Won" else (str(lv) if s == "Lost" else "")
                        for v, lv, s in zip(value, lost_value, stage)],
    })
    return df


def leads_and_deals(leads: int = 6000, seed: int = 2018, *, win_rate: float = 0.12) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A marketing leads file and a closed-deals file, as public CRM data sets come: ``leads``
    (``mql_id, first_contact_date, origin``, ISO dates over 18 months) and ``deals`` (``mql_id,
    won_date, declared_monthly_revenue``), the won dates days to months after the first contact,
    joined on the lead id; most leads are never won."""
    rng = np.random.default_rng(seed)
    start = date(2017, 6, 1)
    first = [start + timedelta(days=int(d)) for d in rng.integers(0, 545, size=leads)]
    ids = [f"{i:032x}" for i in rng.choice(2**62, size=leads, replace=False)]
    origin = rng.choice(("organic_search", "paid_search", "social", "email"), size=leads)
    won = rng.random(leads) < win_rate
    delay = rng.gamma(1.5, 30.0, size=leads).astype(int)       # days: most within 3 months
    leads_df = pd.DataFrame({"mql_id": ids, "first_contact_date": [d.isoformat() for d in first], "origin": origin})
    deals_df = pd.DataFrame({
        "mql_id": [i for i, w in zip(ids, won) if w],
        "won_date": [(d + timedelta(days=int(x))).isoformat() for d, x, w in zip(first, delay, won) if w],
        "declared_monthly_revenue": [str(int(v)) for v, w in zip(rng.lognormal(8.0, 1.0, size=leads), won) if w]})
    return leads_df, deals_df


def _mdy(day: date) -> str:
    return f"{day.month}/{day.day}/{day.year}"


def salesforce_export(opportunities: pd.DataFrame) -> pd.DataFrame:
    """The same deals as Salesforce exports them: ``Id, IsWon, IsClosed, CreatedDate,
    CloseDate, Amount, LeadSource`` (true/false, ISO dates)."""
    o = opportunities
    iso = {col: pd.to_datetime(o[col], format="%m/%d/%Y").dt.strftime("%Y-%m-%d").fillna("") for col in
           ("engage_date", "close_date")}
    return pd.DataFrame({
        "Id": o["opportunity_id"], "IsWon": np.where(o["deal_stage"] == "Won", "true", "false"),
        "IsClosed": np.where(o["deal_stage"].isin(["Won", "Lost"]), "true", "false"),
        "CreatedDate": iso["engage_date"], "CloseDate": iso["close_date"], "Amount": o["close_value"],
        "LeadSource": o["product"]})


def hubspot_export(opportunities: pd.DataFrame, *, spaced: bool = False) -> pd.DataFrame:
    """The same deals as HubSpot exports them: the outcome in the deal stage column, as
    ``closedwon``/``closedlost`` (internal values) or ``Closed Won``/``Closed Lost``."""
    won, lost, other = ("Closed Won", "Closed Lost", "Appointment Scheduled") if spaced else \
        ("closedwon", "closedlost", "appointmentscheduled")
    o = opportunities
    stage = np.select([o["deal_stage"] == "Won", o["deal_stage"] == "Lost"], [won, lost], other)
    return pd.DataFrame({"Record ID": o["opportunity_id"], "Deal Stage": stage,
                         "Create Date": o["engage_date"], "Close Date": o["close_date"],
                         "Amount": o["close_value"], "Deal owner": o["sales_agent"]})


HISTORY_STAGES = ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "contractsent")


def stage_history(deals: int = 1000, seed: int = 7) -> pd.DataFrame:
    """A HubSpot-like stage-history report: ``deal_id, stage, date, amount, source``, one row per
    deal and stage it entered, ISO dates; a deal goes through some of the open stages, then may
    end ``closedwon`` (with its amount) or ``closedlost``. A few deals re-enter a stage."""
    rng = np.random.default_rng(seed)
    rows = []
    start = date(2026, 7, 1)
    for i in range(deals):
        day = start + timedelta(days=int(rng.integers(0, 300)))
        source = str(rng.choice(("Organic", "Paid", "Referral")))
        reached = int(rng.integers(1, len(HISTORY_STAGES) + 1))
        for stage in HISTORY_STAGES[:reached]:
            rows.append((f"D{i:05d}", stage, day, "", source))
            day += timedelta(days=int(rng.integers(0, 40)))
            if rng.random() < 0.02:            # back to this stage later: the first date counts
                rows.append((f"D{i:05d}", stage, day, "", source))
        end = rng.random()
        if end < 0.35:
            rows.append((f"D{i:05d}", "closedwon", day, str(int(rng.integers(500, 20000))), source))
        elif end < 0.7:
            rows.append((f"D{i:05d}", "closedlost", day, "0", source))
    df = pd.DataFrame(rows, columns=["deal_id", "stage", "date", "amount", "source"])
    df["date"] = [d.isoformat() for d in df["date"]]
    return df


def csv_bytes(df: pd.DataFrame, **kw) -> bytes:
    return df.to_csv(index=False, **kw).encode("utf-8")


def workbook_bytes(sheets: dict[str, pd.DataFrame], *, date_columns: dict[str, str] | None = None,
                   formula_columns: tuple[str, ...] = (), title_rows: int = 0, macros: bool = False,
                   external_link: bool = False) -> bytes:
    """An .xlsx workbook of ``sheets`` (xlsxwriter): ``date_columns`` (column -> format of its
    text) written as real Excel dates, ``formula_columns`` as formulas with the values cached,
    ``title_rows`` empty rows above the header; ``macros`` / ``external_link`` add those parts."""
    from datetime import datetime

    import xlsxwriter
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"constant_memory": True, "strings_to_numbers": False})
    date_style = book.add_format({"num_format": "m/d/yyyy"})
    for name, df in sheets.items():
        sheet = book.add_worksheet(name)
        top = title_rows
        sheet.write_row(top, 0, list(df.columns))
        kinds = [("date", (date_columns or {}).get(c)) if c in (date_columns or {}) else
                 ("formula", None) if c in formula_columns else ("text", None) for c in df.columns]
        for r, values in enumerate(df.itertuples(index=False), start=top + 1):
            for c, (value, (kind, fmt)) in enumerate(zip(values, kinds)):
                if value == "" or value is None:
                    continue
                if kind == "date":
                    sheet.write_datetime(r, c, datetime.strptime(value, fmt), date_style)
                elif kind == "formula":
                    sheet.write_formula(r, c, f"={value}*1", None, float(value))
                else:
                    sheet.write_string(r, c, str(value))
    book.close()
    data = buf.getvalue()
    if macros or external_link:
        data = _add_parts(data, {"xl/vbaProject.bin": b"\x00" * 64} if macros else {},
                          {"xl/externalLinks/externalLink1.xml": b"<externalLink/>"} if external_link else {})
    return data


def _add_parts(data: bytes, *parts: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        for extra in parts:
            for name, content in extra.items():
                dst.writestr(name, content)
    return out.getvalue()


def raw_xlsx(sheet_xml: str, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal .xlsx with one sheet ``Sheet1`` of the given XML (for hostile sheets)."""
    ns = "http://schemas.openxmlformats.org"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   f'<?xml version="1.0"?><Types xmlns="{ns}/package/2006/content-types">'
                   f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   f'<Default Extension="xml" ContentType="application/xml"/>'
                   f'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                   f'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" '
                   f'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
        z.writestr("_rels/.rels", f'<?xml version="1.0"?><Relationships xmlns="{ns}/package/2006/relationships">'
                                  f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/officeDocument" '
                                  f'Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook xmlns="{ns}/spreadsheetml/2006/main" '
                                      f'xmlns:r="{ns}/officeDocument/2006/relationships"><sheets>'
                                      f'<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", f'<?xml version="1.0"?><Relationships xmlns="{ns}/package/2006/'
                                                 f'relationships"><Relationship Id="rId1" Type="{ns}/officeDocument/'
                                                 f'2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                                                 f'</Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        for name, content in (extra or {}).items():
            z.writestr(name, content)
    return buf.getvalue()
