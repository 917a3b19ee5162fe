"""``python -m sim import|actuals|history|undo|plan|compare``: the database commands.

Each test uses its own database under ``tmp_path``; the steps of one flow share it (every
subprocess costs the interpreter's start-up). Expected values come from the CSV files, parsed
here with the csv module, and from ``simulate``.
"""

from __future__ import annotations

import csv
import json
import resource
import shutil
import subprocess
import sys

import pytest

from sim.cli.commands import WAIT_ENV
from sim.data.actuals import load_actuals
from sim.data.demo_data import DEMO_IMPORTS, DEMO_PLAN_NAME, seed_demo
from sim.data.history import import_history
from sim.data.ingest import ImportOptions, import_csv
from sim.data.plans import list_plans
from sim.data.store import DB_ENV, STAGING_DIR, Store
from sim.data.variance import ABOVE, BELOW, INSIDE
from sim.model.forecast import simulate
from sim.model.scenario_io import load_scenario

from ..conftest import (
    ACTUALS_DIR,
    DATA_DIR,
    DEMO_PATH,
    HOSTILE_DIR,
    ROOT,
    CliRun,
    holding_process,
    refused,
    run_cli,
    run_cli_process,
    snapshot_file,
    succeeded,
)

MONTHLY_CSV = ROOT / "data" / "actuals" / "northwind-monthly.csv"
HISTORY_FIELDS = {"import_id", "file_name", "content_hash", "format", "imported_at", "rows", "stages",
                  "first_month", "last_month", "summary", "undone_at"}
PLAN_FIELDS = {"id", "name", "saved_at", "scenario", "start", "months", "goal", "seed", "trials",
               "p_goal", "parent_id", "as_of", "note", "versions"}
COMPARE_FIELDS = {"plan", "plan_id", "goal", "months_with_actuals", "stages", "revenue",
                  "unplanned_stages", "missing_revenue_months", "handoff", "handoff_not_measurable", "handoff_notes"}
STAGE_ROW_FIELDS = {"month", "stage", "owner", "actual", "p10", "p50", "p90", "variance",
                    "variance_pct", "status"}
REVENUE_ROW_FIELDS = {"month", "actual", "p10", "p50", "p90", "cumulative_actual", "cumulative_p10",
                      "cumulative_p25", "cumulative_p50", "cumulative_p75", "cumulative_p90", "status"}


def monthly_csv():
    """(counts, revenue) of northwind-monthly.csv: {(month, stage): int}, {month: float}."""
    with MONTHLY_CSV.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    counts = {(r["month"], s): int(r[s]) for r in rows for s in r if s not in ("month", "revenue")}
    revenue = {r["month"]: float(r["revenue"]) for r in rows}
    return counts, revenue


def split_actuals(doc):
    """(counts, revenue) of an ``actuals --json`` document: count rows, then revenue rows."""
    kinds = ["revenue" if "revenue" in row else "count" for row in doc]
    assert kinds == sorted(kinds), "count rows first, then revenue rows"
    counts, revenue = {}, {}
    for row in doc:
        if "revenue" in row:
            assert set(row) == {"month", "revenue"}
            revenue[row["month"]] = row["revenue"]
        else:
            assert set(row) == {"month", "stage", "count"}
            counts[(row["month"], row["stage"])] = row["count"]
    return counts, revenue


def cli_import_args(file_name: str, options: ImportOptions, db) -> list[str]:
    """The command line equivalent of one of the demo's imports."""
    args = ["import", str(ACTUALS_DIR / file_name), "--db", str(db)]
    if options.format:
        args += ["--format", options.format]
    if options.id_column:
        args += ["--id", options.id_column]
    for column, stage in options.mapping:
        args += ["--map", f"{column}={stage}"]
    if options.amount_column:
        args += ["--amount", options.amount_column]
    if options.date_format:
        args += ["--date-format", options.date_format]
    return args


# ------------------------------------------------------------------------------------------
# import, actuals, history, undo
# ------------------------------------------------------------------------------------------

def test_import_actuals_history_and_undo(tmp_path):
    db = tmp_path / "funnel.duckdb"
    assert [f for f, _ in DEMO_IMPORTS] == ["northwind-visits.csv", "northwind-leads-export.csv",
                                            "northwind-deals-export.csv"]
    assert all(not o.decimal and not o.ignore for _, o in DEMO_IMPORTS)   # no options left out
    commands = [cli_import_args(f, o, db) for f, o in DEMO_IMPORTS]
    assert "--date-format" in commands[2] and "Won date=Customers" in commands[2]
    for n, (command, (file_name, _)) in enumerate(zip(commands, DEMO_IMPORTS), start=1):
        out = succeeded(run_cli(*command))
        lines = out.stdout.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"Imported {file_name} as import #{n} ")

    # actuals --json: the monthly CSV's numbers (from the lead and deal records), plus the
    # earlier dates of the start pipeline (2026-10 .. 2026-12, stage counts only).
    out = succeeded(run_cli("actuals", "--db", str(db), "--json"))
    first_actuals = json.loads(out.stdout)
    counts, revenue = split_actuals(first_actuals)
    csv_counts, csv_revenue = monthly_csv()
    csv_months = {m for m, _ in csv_counts}
    assert {k: v for k, v in counts.items() if k[0] in csv_months} == csv_counts
    assert revenue == pytest.approx(csv_revenue, abs=0.005) and set(revenue) == csv_months
    assert {m for m, _ in counts} - csv_months <= {"2026-10", "2026-11", "2026-12"}

    out = succeeded(run_cli("history", "--db", str(db), "--json"))
    history = json.loads(out.stdout)
    assert [h["import_id"] for h in history] == [3, 2, 1]
    assert [h["file_name"] for h in history] == [f for f, _ in DEMO_IMPORTS][::-1]
    for h in history:
        assert set(h) == HISTORY_FIELDS
        assert h["undone_at"] is None and h["summary"].startswith(f"Imported {h['file_name']}")
        assert len(h["content_hash"]) == 64
    assert [h["format"] for h in history] == ["records", "records", "monthly"]
    with open(ACTUALS_DIR / "northwind-deals-export.csv", newline="", encoding="utf-8") as f:
        assert history[0]["rows"] == len(list(csv.reader(f))) - 1
    assert history[0]["stages"] == ["Proposals", "Customers"]
    assert history[2]["stages"] == ["Visits"]
    assert (history[2]["first_month"], history[2]["last_month"]) == (min(csv_months), max(csv_months))

    # The same file again: nothing happens.
    out = succeeded(run_cli(*commands[0]))
    assert "already imported" in out.stdout and "import #1" in out.stdout

    # A bad file: exit 2, row and column named, nothing written.
    bad = tmp_path / "bad.csv"
    bad.write_text("month,Visits\n2027-07,12000\n2027-08,lots\n", encoding="utf-8")
    out = run_cli("import", str(bad), "--db", str(db))
    assert out.returncode == 2
    assert out.stdout == ""
    assert "Traceback" not in out.stderr
    assert "bad.csv" in out.stderr and "row 3" in out.stderr and "column 'Visits'" in out.stderr
    assert "'lots'" in out.stderr and "unchanged" in out.stderr
    # (Checked in-process from here on: each command line costs the interpreter's start-up.)
    with Store(db) as store:
        assert json.loads(json.dumps([h.to_dict() for h in import_history(store)])) == history
        assert load_actuals(store).to_dict() == first_actuals

        # A correction, then undo it on the command line: the earlier values are back.
        fix = import_csv(store, b"month,Visits,revenue\n2027-01,99999,1.50\n", "fix.csv")
        assert fix.import_id == 4
        corrected = load_actuals(store)
        assert corrected.count("2027-01", "Visits") == 99999
        assert dict(corrected.revenue)["2027-01"] == 1.5
    out = succeeded(run_cli("undo", "4", "--db", str(db)))
    assert out.stdout.startswith("Undid import #4 (fix.csv)")
    assert "earlier values are back" in out.stdout
    # Undo errors are one line, not an import rejection.
    out = run_cli("undo", "4", "--db", str(db))
    assert out.returncode == 2 and out.stdout == "" and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert out.stderr.startswith("error: import #4 (fix.csv) was already undone on ")
    with Store(db) as store:
        assert load_actuals(store).to_dict() == first_actuals
        records = import_history(store)
    assert records[0].import_id == 4 and records[0].undone_at is not None
    assert [r.undone_at for r in records[1:]] == [None] * 3


# ------------------------------------------------------------------------------------------
# plan save / list, compare
# ------------------------------------------------------------------------------------------

def test_plan_save_list_compare(tmp_path):
    db = tmp_path / "funnel.duckdb"
    csv_counts, csv_revenue = monthly_csv()
    with Store(db) as store:
        import_csv(store, MONTHLY_CSV.read_bytes(), MONTHLY_CSV.name)
    name = "FY27 board plan"
    out = succeeded(run_cli("plan", "save", str(DEMO_PATH), "--name", name, "--db", str(db)))
    scenario = load_scenario(DEMO_PATH)
    forecast = simulate(scenario)
    assert out.stdout.startswith(f"Saved plan #1 '{name}': {scenario.name}, P(goal) {forecast.p_goal:.1%}")

    out = succeeded(run_cli("plan", "list", "--json", "--db", str(db)))
    (plan,) = json.loads(out.stdout)
    assert set(plan) == PLAN_FIELDS
    assert (plan["id"], plan["name"], plan["scenario"]) == (1, name, scenario.name)
    assert (plan["start"], plan["months"], plan["goal"]) == (scenario.start, scenario.months, scenario.goal)
    assert (plan["seed"], plan["trials"], plan["p_goal"]) == (scenario.seed, scenario.trials, forecast.p_goal)
    assert (plan["parent_id"], plan["as_of"], plan["note"]) == (None, None, "")
    assert {"numpy", "duckdb", "python"} <= set(plan["versions"])

    out = succeeded(run_cli("compare", "--plan", name.upper(), "--json", "--db", str(db)))
    doc = json.loads(out.stdout)
    assert set(doc) == COMPARE_FIELDS
    assert (doc["plan"], doc["plan_id"], doc["goal"]) == (name, 1, scenario.goal)
    csv_months = sorted({m for m, _ in csv_counts})
    assert doc["months_with_actuals"] == csv_months
    assert doc["unplanned_stages"] == []
    assert len(doc["stages"]) == len(csv_counts)
    for row in doc["stages"]:
        assert set(row) == STAGE_ROW_FIELDS
        k = scenario.stage_names.index(row["stage"])
        band = forecast.stages[k].monthly[scenario.month_labels.index(row["month"])]
        actual = csv_counts[(row["month"], row["stage"])]
        assert row["owner"] == scenario.stages[k].owner
        assert (row["actual"], row["p10"], row["p50"], row["p90"]) == (actual, band.p10, band.p50, band.p90)
        assert row["variance"] == actual - band.p50
        assert row["variance_pct"] == pytest.approx((actual - band.p50) / band.p50)
        assert row["status"] == (BELOW if actual < band.p10 else ABOVE if actual > band.p90 else INSIDE)
    assert [r["month"] for r in doc["revenue"]] == list(scenario.month_labels)
    running = scenario.baseline_revenue
    for row, m in zip(doc["revenue"], forecast.months):
        assert set(row) == REVENUE_ROW_FIELDS
        assert (row["p10"], row["p50"], row["p90"]) == (m.revenue.p10, m.revenue.p50, m.revenue.p90)
        assert (row["cumulative_p10"], row["cumulative_p50"], row["cumulative_p90"]) == \
            (m.cumulative.p10, m.cumulative.p50, m.cumulative.p90)
        if m.month in csv_revenue:
            running += csv_revenue[m.month]
            assert row["actual"] == csv_revenue[m.month]
            assert row["cumulative_actual"] == pytest.approx(running)
            c = m.cumulative
            assert row["status"] == (BELOW if running < c.p10 else ABOVE if running > c.p90 else INSIDE)
        else:
            assert (row["actual"], row["cumulative_actual"], row["status"]) == (None, None, None)

    # The same name again: refused, nothing saved.
    out = run_cli("plan", "save", str(DEMO_PATH), "--name", name, "--db", str(db))
    assert out.returncode == 2 and out.stdout == "" and "Traceback" not in out.stderr
    assert out.stderr.strip() == (f"error: a plan named '{name}' already exists: plans of record are "
                                  f"never overwritten, choose another name")

    # An unknown plan: refused, the saved ones listed.
    out = run_cli("compare", "--plan", "missing", "--db", str(db))
    assert out.returncode == 2 and out.stdout == "" and "Traceback" not in out.stderr
    assert out.stderr.strip() == f"error: there is no plan named 'missing' (saved plans: {name})"
    with Store(db) as store:
        assert [p.name for p in list_plans(store)] == [name]


# ------------------------------------------------------------------------------------------
# The database: in use, FUNNEL_DB
# ------------------------------------------------------------------------------------------

def test_a_database_written_by_another_process_too_long(tmp_path):
    """A command waits ``$FUNNEL_DB_WAIT`` seconds for a writer to finish, then says so."""
    db = tmp_path / "busy.duckdb"
    with Store(db):
        out = run_cli_process("actuals", "--db", str(db), env={WAIT_ENV: "0.3"})   # DuckDB's file lock
    line = refused(out)
    assert line.startswith("error: the database ") and str(db) in line
    assert "in use by another process" in line and "--db / $FUNNEL_DB" in line


READING_COMMANDS = [["history"], ["actuals"], ["plan", "list"], ["compare", "--plan", DEMO_PLAN_NAME],
                    ["checkin", "--plan", DEMO_PLAN_NAME, "--as-of", "2027-03", "--trials", "500"]]


def test_reading_commands_open_read_only_beside_another_reader(demo_db_file, tmp_path):
    """Finding 11: ``history``, ``actuals``, ``compare`` needed write access (they failed on a
    read-only file system and while the app held the file). They open read-only now: they run
    while another process has the file open read-only (DuckDB would refuse a writer then), and
    the file is left byte for byte as it was."""
    db = tmp_path / "funnel.duckdb"
    shutil.copyfile(demo_db_file, db)
    before = db.read_bytes()
    holder = holding_process(db, read_only=True, seconds=120)
    try:
        for command in READING_COMMANDS:
            succeeded(run_cli_process(*command, "--json", "--db", str(db), env={WAIT_ENV: "0"}))
    finally:
        holder.kill()
        holder.wait()
    assert db.read_bytes() == before and not db.with_name(db.name + ".wal").exists()


def test_a_command_waits_for_a_writer_then_runs(demo_db_file, tmp_path):
    db = tmp_path / "funnel.duckdb"
    shutil.copyfile(demo_db_file, db)
    holder = holding_process(db, read_only=False, seconds=1.5)
    try:
        out = succeeded(run_cli_process("history", "--json", "--db", str(db)))
    finally:
        holder.wait(60)
    assert len(json.loads(out.stdout)) == 3


ESC = "\x1b[2J\x1b[31m"         # clear the screen, then red


def _legacy_names(db) -> None:
    """Names with terminal escapes, as a database written before the name rules could hold
    them (through a scenario's stage names, a plan name, a file name)."""
    with Store(db) as store, store.transaction() as cur:
        cur.execute("INSERT INTO imports (id, file_name, content_hash, format, options, imported_at, rows, stages, "
                    "new_stages, first_month, last_month, summary, undone_at) "
                    "VALUES (99, ?, 'x', 'monthly', '{}', now()::TIMESTAMP, 1, ?, ?, "
                    "DATE '2027-01-01', DATE '2027-01-01', 'legacy', NULL)",
                    [f"legacy{ESC}.csv", [f"Le{ESC}ads"], [f"Le{ESC}ads"]])
        cur.execute("INSERT INTO stages VALUES ('le-legacy', ?, 100, 99)", [f"Le{ESC}ads"])
        cur.execute("INSERT INTO monthly_counts (import_id, month, stage_key, count) VALUES (99, DATE '2027-01-01', 'le-legacy', 5)")
        cur.execute("UPDATE plans SET name = ? WHERE id = 1", [f"FY{ESC}27"])


def test_terminal_escapes_in_stored_names_never_reach_the_terminal(demo_db_file, tmp_path):
    """Finding 7: escape sequences in names reached the command line's output. Text output
    drops control characters; JSON keeps them as \\u001b escapes (the same data)."""
    db = tmp_path / "funnel.duckdb"
    shutil.copyfile(demo_db_file, db)
    _legacy_names(db)
    for command in (["history"], ["actuals"], ["plan", "list"], ["compare", "--plan", f"FY{ESC}27"]):
        text = succeeded(run_cli(*command, "--db", str(db)))
        assert "\x1b" not in text.stdout + text.stderr, command
        doc = succeeded(run_cli(*command, "--db", str(db), "--json"))
        assert "\x1b" not in doc.stdout, command
    out = succeeded(run_cli("history", "--db", str(db)))
    assert "legacy[2J[31m.csv" in out.stdout
    raw = succeeded(run_cli("history", "--db", str(db), "--json")).stdout
    assert "\\u001b[2J" in raw and json.loads(raw)[0]["file_name"] == f"legacy{ESC}.csv"
    refused_line = refused(run_cli("compare", "--plan", f"x{ESC}", "--db", str(db)))
    assert "\x1b" not in refused_line


def test_a_scenario_with_escapes_in_its_name_is_refused_without_printing_them(tmp_path):
    doc = json.loads(DEMO_PATH.read_text(encoding="utf-8"))
    doc["name"] = f"Plan{ESC}"
    path = tmp_path / "escape.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    line = refused(run_cli("forecast", str(path)))
    assert "\x1b" not in line and "name contains control or invisible characters (U+001B)" in line


def test_import_with_a_scenario_whose_stage_names_break_the_rule_is_refused(tmp_path):
    """Finding 8: names starting with =, -, @ or holding Markdown reached the database through
    ``--scenario``; the scenario file is refused now, and nothing is written."""
    db = tmp_path / "funnel.duckdb"
    csv_file = tmp_path / "f.csv"
    csv_file.write_text("month,=SUM(A1)\n2027-03,5\n", encoding="utf-8")
    line = refused(run_cli("import", str(csv_file), "--scenario", str(HOSTILE_DIR / "scenario-formula-names.json"),
                           "--db", str(db)))
    assert "stages[0].name must be at most 40 characters of letters" in line
    with Store(db, read_only=True) as store:
        assert store.cursor().execute("SELECT count(*) FROM stages").fetchone()[0] == 0


def _limited(max_bytes: int):
    """A process may write no file beyond ``max_bytes`` (a full disk, for it): RLIMIT_FSIZE
    (Python ignores SIGXFSZ, so the write fails with EFBIG)."""
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))


@pytest.mark.parametrize("command, limit, where", [
    pytest.param("import", 20_000, "cannot stage the file for the import", id="import: staging the file"),
    pytest.param("plan save", 5_000, "cannot write the database", id="plan save: the write-ahead log"),
])
def test_a_full_disk_gives_one_line_exit_2_and_the_database_unchanged(tmp_path, command, limit, where):
    """Finding 10: a full disk gave a Python traceback and exit 1. Now one line and exit 2,
    the database as it was (durability was already right, and stays so). The process may
    write no file beyond ``limit`` bytes: the 90 kB staged copy of an export fails; the
    write-ahead log of a plan's bands fails at the commit."""
    db = tmp_path / "funnel.duckdb"
    with Store(db) as store:
        import_csv(store, MONTHLY_CSV.read_bytes(), MONTHLY_CSV.name)
    before = snapshot_file(db)
    export = tmp_path / "export.csv"
    export.write_text("id,created\n" + "".join(f"L-{i:07d},2027-0{1 + i % 6}-{1 + i % 28:02d}\n"
                                                 for i in range(3000)), encoding="utf-8")
    args = (["import", str(export), "--id", "id", "--map", "created=Leads"] if command == "import"
            else ["plan", "save", str(DEMO_PATH), "--name", "FY27"])
    proc = subprocess.run([sys.executable, "-m", "sim", *args, "--db", str(db)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, preexec_fn=_limited(limit))
    line = refused(CliRun(proc.returncode, proc.stdout, proc.stderr))
    assert line.startswith("error: ") and where in line and "nothing was changed" in line
    assert snapshot_file(db) == before
    assert list((tmp_path / STAGING_DIR).iterdir()) == []


def test_funnel_db_is_used_without_db(tmp_path):
    db = tmp_path / "env" / "funnel.duckdb"
    with Store(db) as store:
        import_csv(store, b"month,Leads,revenue\n2027-03,17,250.5\n", "few.csv")
    out = succeeded(run_cli("actuals", "--json", env={DB_ENV: str(db)}))
    assert json.loads(out.stdout) == [{"month": "2027-03", "stage": "Leads", "count": 17},
                                      {"month": "2027-03", "revenue": 250.5}]


# ------------------------------------------------------------------------------------------
# The demo data
# ------------------------------------------------------------------------------------------

def test_seed_demo_gives_the_monthly_csvs_actuals_and_the_plan(tmp_path):
    with Store(tmp_path / "demo.duckdb") as store:
        done = seed_demo(store, DATA_DIR)
        actuals = load_actuals(store, stage_order=load_scenario(DEMO_PATH).stage_names)
        plans = list_plans(store)
        history = import_history(store)
    assert len(done) == len(DEMO_IMPORTS) + 1 and done[-1] == f"Saved plan #1 '{DEMO_PLAN_NAME}'."
    assert [h.file_name for h in history] == [f for f, _ in DEMO_IMPORTS][::-1]
    csv_counts, csv_revenue = monthly_csv()
    csv_months = {m for m, _ in csv_counts}
    counts = {(m, s): c for m, s, c in actuals.counts}
    assert {k: v for k, v in counts.items() if k[0] in csv_months} == csv_counts
    assert dict(actuals.revenue) == pytest.approx(csv_revenue, abs=0.005)
    assert set(dict(actuals.revenue)) == csv_months
    # Besides: the start pipeline's earlier dates, before the plan starts.
    assert all(m < min(csv_months) for m, _ in counts if m not in csv_months)
    assert actuals.stages == load_scenario(DEMO_PATH).stage_names
    (plan,) = plans
    assert plan.name == DEMO_PLAN_NAME == "FY2027 plan of record"
    assert plan.scenario == load_scenario(DEMO_PATH)
    assert plan.p_goal == simulate(plan.scenario).p_goal
