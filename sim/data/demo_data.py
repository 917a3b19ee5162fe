"""The demo's half year of actuals (``data/actuals/``) and its plan of record.

A new database opened by the app is seeded with them (unless ``FUNNEL_DEMO_DATA=0``), so a
new user sees a plan-versus-actual comparison and a check-in at once. The same imports from
the command line are listed in the README. The caller names the project's ``data/`` folder
(the app: the one next to ``app.py``). What is seeded is marked as the demo's
(:mod:`sim.data.demo_content`), so that it can be removed in one step, and a database holding
data of its own (or from which the demo was removed) is never seeded.
"""

from __future__ import annotations

from pathlib import Path

from ..model.scenario_io import load_scenario
from .demo_content import check_seedable, mark_demo
from .ingest import ImportOptions, import_csv
from .location import DEMO_ACTUALS, DEMO_SCENARIO
from .plans import save_plan
from .store import Store

DEMO_PLAN_NAME = "FY2027 plan of record"

#: (file, options): visits by month, a lead-level CRM export and a European deal export.
DEMO_IMPORTS: tuple[tuple[str, ImportOptions], ...] = (
    ("northwind-visits.csv", ImportOptions(format="monthly")),
    ("northwind-leads-export.csv", ImportOptions(
        format="records", id_column="Lead ID",
        mapping=(("Created", "Leads"), ("MQL date", "MQLs"), ("SQL date", "SQLs")))),
    ("northwind-deals-export.csv", ImportOptions(
        format="records", id_column="Lead ID", amount_column="Amount", date_format="%d.%m.%Y",
        mapping=(("Proposal date", "Proposals"), ("Won date", "Customers")))),
)


def seed_demo(store: Store, data_dir: str | Path) -> list[str]:
    """Import the demo actuals and save the demo plan of record from the project's data folder
    ``data_dir``; returns what was done. :class:`StoreError` (nothing done) when the database
    holds data of its own or the demo was removed from it."""
    check_seedable(store)
    scenario = load_scenario(Path(data_dir) / DEMO_SCENARIO)
    done = []
    for file_name, options in DEMO_IMPORTS:
        path = Path(data_dir) / DEMO_ACTUALS / file_name
        result = import_csv(store, path.read_bytes(), file_name, options=options, scenario_stages=scenario.stage_names)
        with store.transaction() as tx:
            mark_demo(tx, "import", result.import_id)
        done.append(result.message)
    plan = save_plan(store, scenario, DEMO_PLAN_NAME, note="the demo's plan, saved with the demo actuals")
    with store.transaction() as tx:
        mark_demo(tx, "plan", plan.id)
    done.append(f"Saved plan #{plan.id} '{plan.name}'.")
    return done
