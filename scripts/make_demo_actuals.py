"""Generate half a year of demo actuals (2027-01 ... 2027-06) for data/scenarios/demo.json.

Writes four files into data/actuals/, all describing the same simulated half-year:

  northwind-visits.csv         monthly visits (header ``month,Visits``)
  northwind-leads-export.csv   one row per lead: ``Lead ID,Company,Created,MQL date,SQL date``
  northwind-deals-export.csv   one row per lead that reached Proposals, European CRM style:
                               ``;``-delimited, DD.MM.YYYY dates, amounts like ``24.350,00``
  northwind-monthly.csv        the same numbers in the wide monthly format (counts of records
                               whose stage date falls in the month; revenue of deals won)

The model follows the scenario (lags, top-of-funnel plan, start pipeline, deal value) with
"true" rates a little off plan: marketing slightly behind, sales slightly ahead. Each unit of
stage k converts to stage k+1 with that stage's rate, arriving L months later (L drawn from
the stage's lag vector) on a random day of that month, never before its previous date. The
start pipeline (ids P-0001...) has its earlier dates in 2026-10...2026-12 and moves on from
2027-01. Only dates up to 2027-06-30 are written. A fixed seed makes reruns byte-identical:

    .venv/bin/python scripts/make_demo_actuals.py
"""
import calendar
import csv
import json
from datetime import date, timedelta
from pathlib import Path
from statistics import NormalDist

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "data" / "scenarios" / "demo.json"
OUT = ROOT / "data" / "actuals"
MONTHS = 6                                   # 2027-01 ... 2027-06 (month index 0 ... 5)
STAGES = ["Leads", "MQLs", "SQLs", "Proposals", "Customers"]
RATES = {"Leads": 0.0195, "MQLs": 0.33, "SQLs": 0.36, "Proposals": 0.47, "Customers": 0.31}
VISITS_CV = 0.05

NAMES = ["Alder", "Bergmann", "Bluefin", "Brightwater", "Cedar", "Copperleaf", "Dalton",
         "Eastgate", "Fjord", "Greenfield", "Harbor", "Ironbridge", "Kestrel", "Lindqvist",
         "Meridian", "Müller", "Nørgaard", "Oakridge", "Pinecrest", "Quayside", "Riverside",
         "Saltmarsh", "Sørensen", "Summit", "Thornbury", "Vantage", "Westbrook", "Zephyr"]
KINDS = ["GmbH", "AG", "Ltd", "B.V.", "S.A.", "Consulting", "Logistics", "Systems",
         "Partners", "Solutions", "Group", "& Co. KG", "Software", "Manufacturing"]

rng = np.random.default_rng(2027)


def month_start(m: int) -> date:
    return date(2027 + m // 12, m % 12 + 1, 1)


def month_end(m: int) -> date:
    d = month_start(m)
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def month_of(d: date) -> int:
    return (d.year - 2027) * 12 + d.month - 1


def random_day(m: int, after: date | None = None) -> date:
    """A uniformly random day of month m, not before ``after``."""
    lo, hi = month_start(m), month_end(m)
    if after is not None and after > lo:
        lo = after
    return lo + timedelta(days=int(rng.integers((hi - lo).days + 1)))


def company() -> str:
    a, b = rng.choice(NAMES, size=2, replace=False)
    kind, u = rng.choice(KINDS), rng.random()
    if u < 0.015:
        return f"{a}, {b} & Partners"        # a few commas: these names get quoted in the CSV
    if u < 0.03:
        return f"{a} Holdings, Inc."
    return f"{a} {kind}"


def advance(rec: dict, stage: str, month: int, lags: dict, deal: tuple) -> None:
    """Carry a record from ``stage`` (entered in ``month``) through the later stages."""
    for prev, nxt in zip(STAGES[STAGES.index(stage):], STAGES[STAGES.index(stage) + 1:]):
        if rng.random() >= RATES[nxt]:
            return
        month += int(rng.choice(len(lags[nxt]), p=lags[nxt]))
        if month >= MONTHS:
            return                            # converts after 2027-06-30: "not yet"
        rec[nxt] = random_day(month, after=rec[prev])
    mu, sigma = deal
    rec["Amount"] = int(round(float(rng.lognormal(mu, sigma))))


def simulate(sc: dict) -> tuple[list[int], list[dict]]:
    lags = {s["name"]: s["lag"] for s in sc["stages"] if "lag" in s}
    deal = (np.log(sc["deal"]["median"]),
            np.log(sc["deal"]["p90"] / sc["deal"]["median"]) / NormalDist().inv_cdf(0.9))
    pipeline, leads = [], []
    for stage, count in sc["start_pipeline"].items():           # open before 2027-01
        for _ in range(count):
            k = STAGES.index(stage) + 1
            days = np.sort(rng.integers(0, 92, size=k))          # 2026-10-01 ... 2026-12-31
            rec = {"Company": company()}
            rec.update({s: date(2026, 10, 1) + timedelta(days=int(d))
                        for s, d in zip(STAGES[:k], days)})
            advance(rec, stage, 0, lags, deal)                   # moves on from 2027-01
            pipeline.append(rec)
    top = sc["top"]
    sigma = np.sqrt(np.log(1 + VISITS_CV ** 2))
    plan = top["per_month"] * (1 + top["growth"]) ** np.arange(MONTHS)
    visits = [int(v) for v in np.round(plan * rng.lognormal(-sigma ** 2 / 2, sigma, MONTHS))]
    for m, v in enumerate(visits):
        for _ in range(rng.binomial(v, RATES["Leads"])):         # Leads' lag is [1.0]
            rec = {"Company": company(), "Leads": random_day(m)}
            advance(rec, "Leads", m, lags, deal)
            leads.append(rec)
    for prefix, width, recs in (("P", 4, pipeline), ("L", 6, leads)):
        recs.sort(key=lambda r: r["Leads"])                      # stable: ids follow creation
        for i, rec in enumerate(recs, 1):
            rec["Lead ID"] = f"{prefix}-{i:0{width}d}"
    return visits, pipeline + leads


def euro(amount: int) -> str:
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def write(name: str, header: list[str], rows: list[list], delimiter: str = ",") -> None:
    with open(OUT / name, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=delimiter, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def main() -> None:
    sc = json.loads(SCENARIO.read_text(encoding="utf-8"))
    visits, recs = simulate(sc)
    OUT.mkdir(parents=True, exist_ok=True)
    labels = [month_start(m).strftime("%Y-%m") for m in range(MONTHS)]
    def iso(r, s):
        return r[s].isoformat() if s in r else ""

    def eu(r, s):
        return r[s].strftime("%d.%m.%Y") if s in r else ""

    write("northwind-visits.csv", ["month", "Visits"], list(zip(labels, visits)))
    write("northwind-leads-export.csv", ["Lead ID", "Company", "Created", "MQL date", "SQL date"],
          [[r["Lead ID"], r["Company"], iso(r, "Leads"), iso(r, "MQLs"), iso(r, "SQLs")]
           for r in recs])
    deals = sorted((r for r in recs if "Proposals" in r),
                   key=lambda r: (r["Proposals"], r["Lead ID"]))
    write("northwind-deals-export.csv", ["Lead ID", "Proposal date", "Won date", "Amount"],
          [[r["Lead ID"], eu(r, "Proposals"), eu(r, "Customers"),
            euro(r["Amount"]) if "Amount" in r else ""] for r in deals], delimiter=";")
    rows = []
    for m, label in enumerate(labels):
        counts = [sum(1 for r in recs if s in r and month_of(r[s]) == m) for s in STAGES]
        revenue = sum(r["Amount"] for r in recs
                      if "Customers" in r and month_of(r["Customers"]) == m)
        rows.append([label, visits[m], *counts, f"{revenue:.2f}"])
    write("northwind-monthly.csv", ["month", "Visits", *STAGES, "revenue"], rows)

    half = sc["goal"] * MONTHS / sc["months"]
    total = sum(float(r[-1]) for r in rows)
    print(f"{'month':8}" + "".join(f"{h:>11}" for h in ["Visits", *STAGES, "revenue"]))
    for r in rows:
        print(f"{r[0]:8}" + "".join(f"{v:>11}" for v in r[1:]))
    print(f"{'total':8}" + "".join(f"{sum(r[i] for r in rows):>11}" for i in range(1, 7))
          + f"{total:>11.2f}")
    print(f"\n{len(recs)} leads ({sum(r['Lead ID'][0] == 'P' for r in recs)} start pipeline), "
          f"{len(deals)} deals; revenue {total:,.0f} = {total / half:.0%} of the half-year share "
          f"{half:,.0f} ({total / sc['goal']:.0%} of the annual goal {sc['goal']:,}).")


if __name__ == "__main__":
    main()
