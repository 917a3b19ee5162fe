"""``python -m sim checkin``: the mid-period check-in on the command line.

Every test works on its own copy of a database seeded once with the demo's actuals and plan of
record (``seed_demo``, the store closed before any command runs). Expected values come from the
demo's CSV files (csv module), the demo scenario and the formulas the README and
``sim.model.checkin`` document (Beta update with the lag-corrected exposure, open units still to move
on, the reset as a factor on the remaining top-of-funnel plan), or from an in-process run of the
same library call where only consistency can be checked. Few trials keep each run ~2 s.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import json
import shutil

import numpy as np
import pytest
from scipy import stats

from sim.data.demo_data import DEMO_PLAN_NAME, seed_demo
from sim.data.plans import list_plans, load_plan
from sim.data.store import Store
from sim.model.bands import plan_bands
from sim.model.forecast import simulate
from sim.model.targets import expected_arrivals, p_goal_at_scale
from sim.model.validation import scenario_from_dict

from ..conftest import DATA_DIR, DEMO_PATH, ROOT, refused, run_cli, succeeded

MONTHLY_CSV = ROOT / "data" / "actuals" / "northwind-monthly.csv"
AS_OF = "2027-06"
DONE = [f"2027-{m:02d}" for m in range(1, 7)]
LEFT = [f"2027-{m:02d}" for m in range(7, 13)]
TRIALS = "2000"

# The README's `checkin --json` table.
CHECKIN_FIELDS = {"plan", "as_of", "months_done", "months_left", "goal", "revenue_to_date", "revenue_path",
                  "revenue_plan_p10", "revenue_plan_p50", "revenue_plan_p90", "revenue_status",
                  "missing_revenue_months", "goal_reached", "surplus", "p_goal_plan", "p_goal_now",
                  "p_goal_now_ci", "prior_weight", "confidence", "bottleneck", "stages", "revenue_now",
                  "reset_reachable", "reset_scale", "reset_note", "reset", "plan_sla_left",
                  "reforecast_scenario", "saved_plan", "conflict_rule", "conflicts", "funnel_conflict_probability",
                  "conflict_note", "won_fees", "won_fees_note", "handoff", "handoff_not_measurable", "handoff_notes",
                  "agreement_review"}
STAGE_FIELDS = {"name", "owner", "actual", "plan_p10", "plan_p50", "plan_p90", "status", "revenue_effect",
                "rate_prior_mean", "rate_prior_p10", "rate_prior_p90", "rate_posterior_mean",
                "rate_posterior_p10", "rate_posterior_p90", "successes", "exposure", "naive_rate",
                "open_pipeline", "conflict_probability", "conflict", "prior_weight_used"}


def monthly_csv():
    """{stage: [count per month 2027-01..06]}, {month: revenue} from northwind-monthly.csv."""
    with MONTHLY_CSV.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["month"] for r in rows] == DONE
    stages = [c for c in rows[0] if c not in ("month", "revenue")]
    return {s: [int(r[s]) for r in rows] for s in stages}, {r["month"]: float(r["revenue"]) for r in rows}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A database with the demo's imports and plan of record (closed): copied by each test."""
    path = tmp_path_factory.mktemp("seeded") / "demo.duckdb"
    with Store(path) as store:
        seed_demo(store, DATA_DIR)
    return path


def copy_of(seeded, directory):
    db = directory / "funnel.duckdb"
    shutil.copyfile(seeded, db)
    return db


@pytest.fixture(scope="module")
def plan_run(seeded, tmp_path_factory):
    """``checkin --plan <the demo plan> --as-of 2027-06 --json`` on its own copy: (doc, db)."""
    db = copy_of(seeded, tmp_path_factory.mktemp("plan_run"))
    out = succeeded(run_cli("checkin", "--plan", DEMO_PLAN_NAME, "--db", str(db), "--as-of", AS_OF, "--json",
                 "--trials", TRIALS))
    return json.loads(out.stdout), db


# ------------------------------------------------------------------------------------------
# --json with --plan
# ------------------------------------------------------------------------------------------

def test_json_has_every_documented_field(plan_run):
    doc, _ = plan_run
    assert set(doc) == CHECKIN_FIELDS
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("**`checkin`**"):readme.index("**`forecast --json`**")]
    for key in CHECKIN_FIELDS | STAGE_FIELDS:
        assert f"`{key}`" in section, f"{key} is not documented in the README's checkin table"
    assert all(set(s) == STAGE_FIELDS for s in doc["stages"])
    assert all(set(r) == {"month", "cumulative"} for r in doc["revenue_path"])
    assert all(set(r) == {"name", "owner", "monthly", "total"} for r in doc["reset"])
    assert all(set(r) == {"name", "monthly"} for r in doc["plan_sla_left"])
    assert set(doc["revenue_now"]) == {"mean", "p10", "p50", "p90"}
    assert doc["saved_plan"] is None


def test_where_we_stand_comes_from_the_csv_and_the_saved_plan(plan_run, demo):
    doc, db = plan_run
    counts, revenue = monthly_csv()
    assert (doc["plan"], doc["as_of"], doc["goal"]) == (DEMO_PLAN_NAME, AS_OF, demo.goal)
    assert doc["months_done"] == DONE and doc["months_left"] == LEFT
    assert doc["missing_revenue_months"] == []
    assert doc["revenue_to_date"] == pytest.approx(demo.baseline_revenue + sum(revenue.values()), abs=0.01)
    running = demo.baseline_revenue + np.cumsum([revenue[m] for m in DONE])
    assert [r["month"] for r in doc["revenue_path"]] == DONE
    assert [r["cumulative"] for r in doc["revenue_path"]] == pytest.approx(running, abs=0.01)
    assert not doc["goal_reached"] and doc["surplus"] == 0.0
    assert (doc["prior_weight"], doc["confidence"]) == (1.0, 0.8)
    assert [s["name"] for s in doc["stages"]] == list(demo.stage_names)
    assert [s["owner"] for s in doc["stages"]] == [s.owner for s in demo.stages]
    for s in doc["stages"]:
        assert s["actual"] == sum(counts[s["name"]]), s["name"]

    # The saved plan's P(goal) and bands (the plan of record was simulated from the demo).
    with Store(db) as store:
        (plan,) = list_plans(store)
    assert doc["p_goal_plan"] == plan.p_goal
    forecast, bands = plan_bands(demo)
    assert plan.p_goal == forecast.p_goal
    band = {(b.measure, b.stage, b.month): b.dist for b in bands}
    cum = band[("cumulative_revenue", None, AS_OF)]
    assert (doc["revenue_plan_p10"], doc["revenue_plan_p50"], doc["revenue_plan_p90"]) == \
        pytest.approx((cum.p10, cum.p50, cum.p90), rel=1e-12)
    to_date = doc["revenue_to_date"]
    assert doc["revenue_status"] == ("below" if to_date < cum.p10 else "above" if to_date > cum.p90 else "inside")
    for s in doc["stages"]:
        d = band[("cumulative_arrivals", s["name"], AS_OF)]
        assert (s["plan_p10"], s["plan_p50"], s["plan_p90"]) == pytest.approx((d.p10, d.p50, d.p90), rel=1e-12)
        assert s["status"] == ("below" if s["actual"] < d.p10 else "above" if s["actual"] > d.p90 else "inside")

    # The bottleneck: the largest shortfall against the median, valued at the mean downstream
    # conversion times the mean deal value.
    def unit_value(k):
        return float(np.prod([st.rate.mean for st in demo.stages[k + 1:]])) * demo.deal.mean
    effects = [(s["plan_p50"] - s["actual"]) * unit_value(k) for k, s in enumerate(doc["stages"])]
    assert [s["revenue_effect"] for s in doc["stages"]] == pytest.approx(effects, rel=1e-9)
    assert max(effects) > 0
    assert doc["bottleneck"] == doc["stages"][int(np.argmax(effects))]["name"]


def test_rates_and_open_pipeline_follow_the_documented_formulas(plan_run, demo):
    # Rate into stage k: Beta(a + s, b + n - s), s = arrivals to date, n = the exposure
    # sum_t N_{k-1}(t) F_k(a - t) + P_{k-1} F_k(a). Open units of stage k: each cohort's
    # N_k(t) (1 - F_{k+1}(a - t)), the start pipeline's P_k (1 - F_{k+1}(a)), times
    # (N_k - s_{k+1}) / (N_k - p n_{k+1}) (the units not moved on yet against those expected, p the
    # next stage's updated mean rate); the reforecast's pipeline lag from July on: sum of
    # N_k(t) P(lag = a - t + 1 + i), normalised.
    doc, _ = plan_run
    counts, _ = monthly_csv()
    a = len(DONE) - 1
    names = demo.stage_names
    start = dict(demo.start_pipeline)
    re = scenario_from_dict(doc["reforecast_scenario"])
    assert doc["stages"][0]["rate_prior_mean"] is None and doc["stages"][0]["rate_posterior_mean"] is None
    # The demo's actuals agree with its plan: no conflict, every belief keeps its full weight.
    assert doc["conflicts"] == [] and doc["conflict_note"] == "" and doc["conflict_rule"] is True
    assert doc["funnel_conflict_probability"] > 0.05
    assert [s["prior_weight_used"] for s in doc["stages"][1:]] == [1.0] * (len(demo.stages) - 1)
    assert all(0.05 <= s["conflict_probability"] <= 1 for s in doc["stages"][1:])
    posterior_mean, moved, exposure = {}, {}, {}
    for k in range(1, len(names)):
        s_doc = doc["stages"][k]
        prior = demo.stages[k].rate
        lag = np.asarray(demo.stages[k].lag)
        def F(d, lag=lag):
            return float(lag[:d + 1].sum())

        upstream = counts[names[k - 1]]
        s = sum(counts[names[k]])
        n = sum(upstream[t] * F(a - t) for t in range(a + 1)) + start.get(names[k - 1], 0) * F(a)
        alpha, beta = prior.alpha + s, prior.beta + n - s
        assert s_doc["successes"] == s
        assert s_doc["exposure"] == pytest.approx(n, rel=1e-12)
        assert s_doc["rate_prior_mean"] == pytest.approx(prior.mean, rel=1e-12)
        assert (s_doc["rate_prior_p10"], s_doc["rate_prior_p90"]) == \
            pytest.approx(stats.beta.ppf([0.1, 0.9], prior.alpha, prior.beta), rel=1e-9)
        assert s_doc["rate_posterior_mean"] == pytest.approx(alpha / (alpha + beta), rel=1e-9)
        assert (s_doc["rate_posterior_p10"], s_doc["rate_posterior_p90"]) == \
            pytest.approx(stats.beta.ppf([0.1, 0.9], alpha, beta), rel=1e-6)
        assert re.stages[k].rate.mean == pytest.approx(alpha / (alpha + beta), rel=1e-9)
        posterior_mean[k], moved[k], exposure[k] = alpha / (alpha + beta), s, n
    open_units = {}
    for k in range(len(names) - 1):
        lag = demo.stages[k + 1].lag
        ahead = np.zeros(len(lag))
        groups = [(counts[names[k]][t], a - t) for t in range(a + 1)] + [(start.get(names[k], 0), a)]
        for units, age in groups:
            rest = lag[age + 1:]
            ahead[:len(rest)] += units * np.asarray(rest)
        entered = sum(units for units, _ in groups)
        not_moved_on = (entered - moved[k + 1]) / (entered - posterior_mean[k + 1] * exposure[k + 1])
        assert 0.5 < not_moved_on < 1.5, names[k]              # the demo's actuals are ordinary
        total = ahead.sum() * not_moved_on
        assert doc["stages"][k]["open_pipeline"] == round(total), names[k]
        if round(total) > 0:
            open_units[names[k]] = round(total)
            got = np.asarray(re.pipeline_lag(k))
            assert got == pytest.approx(np.trim_zeros(ahead, "b") / ahead.sum(), abs=1e-12), names[k]
    assert doc["stages"][-1]["open_pipeline"] == 0
    assert dict(re.start_pipeline) == open_units
    assert len(open_units) >= 3 and re.pipeline_lags      # the demo's June leaves lags behind


def test_reforecast_and_reset(plan_run, demo):
    doc, _ = plan_run
    re = scenario_from_dict(doc["reforecast_scenario"])
    assert (re.start, re.months, re.trials, re.seed, re.goal) == ("2027-07", 6, int(TRIALS), demo.seed, demo.goal)
    assert re.month_labels == tuple(LEFT)
    assert re.baseline_revenue == doc["revenue_to_date"]             # one-time deals
    assert re.top.monthly == pytest.approx([12000 * 1.01 ** t for t in range(6, 12)], rel=1e-12)
    # P(goal) now is the reforecast's, with its Wilson interval.
    now = simulate(re)
    assert doc["p_goal_now"] == now.p_goal
    hits = round(now.p_goal * now.trials)
    ci = stats.binomtest(hits, now.trials).proportion_ci(0.95, method="wilson")
    assert doc["p_goal_now_ci"] == pytest.approx([ci.low, ci.high], rel=1e-12)
    assert doc["revenue_now"] == {"mean": now.revenue.mean, "p10": now.revenue.p10,
                                  "p50": now.revenue.p50, "p90": now.revenue.p90}
    # The reset: the remaining top plan times the scale, the stages' expected volumes under it,
    # and P(goal) >= 80% at that scale (the search's own trials and seed).
    scale = doc["reset_scale"]
    assert doc["reset_reachable"] is True and doc["reset_note"] == ""
    assert [r["name"] for r in doc["reset"]] == list(demo.stage_names)
    assert [r["owner"] for r in doc["reset"]] == [s.owner for s in demo.stages]
    assert all(len(r["monthly"]) == 6 for r in doc["reset"])
    assert doc["reset"][0]["monthly"] == pytest.approx([12000 * 1.01 ** t * scale for t in range(6, 12)], rel=1e-9)
    want = expected_arrivals(re, scale)
    for k, r in enumerate(doc["reset"]):
        assert r["monthly"] == pytest.approx(want[k, :6], rel=1e-9)
        assert r["total"] == pytest.approx(sum(r["monthly"]), rel=1e-12)
    assert p_goal_at_scale(re, scale, trials=int(TRIALS), seed=re.seed) >= 0.8
    # The old SLA for the remaining months: the plan's own expected volumes.
    plan_left = expected_arrivals(demo)
    assert [r["name"] for r in doc["plan_sla_left"]] == list(demo.stage_names)
    assert doc["plan_sla_left"][0]["monthly"] == pytest.approx([12000 * 1.01 ** t for t in range(6, 12)], rel=1e-12)
    for k, r in enumerate(doc["plan_sla_left"]):
        assert r["monthly"] == pytest.approx(plan_left[k, 6:12], rel=1e-12)


# ------------------------------------------------------------------------------------------
# A scenario file instead of --plan; --save
# ------------------------------------------------------------------------------------------

def test_a_scenario_file_gives_the_same_check_in(plan_run, seeded, tmp_path, demo):
    doc, _ = plan_run
    db = copy_of(seeded, tmp_path)
    out = succeeded(run_cli("checkin", str(DEMO_PATH), "--db", str(db), "--as-of", AS_OF, "--json", "--trials", TRIALS,
                 "--save", "From the file"))
    file_doc = json.loads(out.stdout)
    assert set(file_doc) == CHECKIN_FIELDS
    assert file_doc["plan"] == demo.name
    saved = file_doc.pop("saved_plan")
    # Same scenario, same bands and P(goal) as the plan of record: the same check-in.
    assert {k: v for k, v in file_doc.items() if k != "plan"} == \
        {k: v for k, v in doc.items() if k not in ("plan", "saved_plan")}
    assert (saved["name"], saved["parent_id"], saved["as_of"]) == ("From the file", None, AS_OF)
    assert (saved["start"], saved["months"], saved["trials"]) == ("2027-07", 6, int(TRIALS))
    with Store(db) as store:
        assert [p.name for p in list_plans(store)] == ["From the file", DEMO_PLAN_NAME]


def test_a_plan_the_actuals_contradict_is_named_and_discounted(seeded, tmp_path, demo_dict):
    # The demo's plan with a firm, optimistic belief about SQLs (55% at strength 600): the
    # demo's actuals (157 SQLs from 458 MQLs) contradict it.
    optimistic = copy.deepcopy(demo_dict)                     # the fixture is shared by the session
    next(s for s in optimistic["stages"] if s["name"] == "SQLs")["rate"] = {"mean": 0.55, "strength": 600}
    path = tmp_path / "optimistic.json"
    path.write_text(json.dumps(optimistic), encoding="utf-8")
    db = copy_of(seeded, tmp_path)
    args = ("checkin", str(path), "--db", str(db), "--as-of", AS_OF, "--trials", "500")
    doc = json.loads(succeeded(run_cli(*args, "--json")).stdout)
    assert doc["conflicts"] == ["SQLs"] and doc["conflict_rule"] is True
    stage = doc["stages"][3]
    assert stage["name"] == "SQLs" and stage["conflict"] and stage["conflict_probability"] < 1e-6
    w = stage["prior_weight_used"]
    assert w < 0.1
    s, n = stage["successes"], stage["exposure"]
    assert stage["rate_posterior_mean"] == pytest.approx((w * 0.55 * 600 + s) / (w * 600 + n), rel=1e-9)
    assert doc["conflict_note"].startswith("The actuals contradict the plan at SQLs (from MQLs)")
    text = succeeded(run_cli(*args)).stdout
    assert "The actuals contradict the plan at SQLs (from MQLs)" in text
    # Without the rule: reported, not applied, and a weight suggested.
    off = json.loads(succeeded(run_cli(*args, "--json", "--no-conflict-rule")).stdout)
    assert off["conflicts"] == ["SQLs"] and off["conflict_rule"] is False
    assert off["stages"][3]["prior_weight_used"] == 1.0
    assert "Consider a lower weight for the plan's rates" in off["conflict_note"]
    assert off["p_goal_now"] > doc["p_goal_now"]


def test_save_links_the_reset_plan_and_a_name_is_used_once(seeded, tmp_path, demo):
    db = copy_of(seeded, tmp_path)
    name = "Reset after June"
    out = succeeded(run_cli("checkin", "--plan", DEMO_PLAN_NAME, "--db", str(db), "--as-of", AS_OF, "--json",
                 "--trials", TRIALS, "--save", name))
    doc = json.loads(out.stdout)
    out = succeeded(run_cli("plan", "list", "--json", "--db", str(db)))
    plans = json.loads(out.stdout)
    assert [(p["id"], p["name"]) for p in plans] == [(2, name), (1, DEMO_PLAN_NAME)]
    reset, parent = plans
    assert (reset["parent_id"], reset["as_of"]) == (parent["id"], AS_OF)
    assert (parent["parent_id"], parent["as_of"]) == (None, None)
    assert doc["saved_plan"] == reset
    assert reset["scenario"] == f"{demo.name} — reset {AS_OF}"
    assert (reset["start"], reset["months"], reset["goal"]) == ("2027-07", 6, demo.goal)
    assert (reset["trials"], reset["seed"]) == (int(TRIALS), demo.seed)
    assert reset["p_goal"] >= 0.8                   # the reset is the plan at 80% confidence
    # The saved scenario is the reforecast with the reset volumes, open pipeline lags included.
    refo = scenario_from_dict(doc["reforecast_scenario"])
    with Store(db) as store:
        saved = load_plan(store, name).scenario
    assert dataclasses.replace(saved, agreement=refo.agreement) == dataclasses.replace(
        refo.with_top_scaled(doc["reset_scale"]), name=reset["scenario"])
    assert saved.agreement.version == refo.agreement.version + 1        # the agreement's next version
    assert saved.pipeline_lags and saved.pipeline_lags == refo.pipeline_lags

    # The same name again: refused (after the check-in), nothing saved.
    line = refused(run_cli("checkin", "--plan", DEMO_PLAN_NAME, "--db", str(db), "--as-of", AS_OF,
                       "--trials", TRIALS, "--save", name))
    assert line == (f"error: a plan named '{name}' already exists: plans of record are never "
                    f"overwritten, choose another name")
    with Store(db) as store:
        assert [p.name for p in list_plans(store)] == [name, DEMO_PLAN_NAME]


# ------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------

PLAN = ["--plan", DEMO_PLAN_NAME]


@pytest.mark.parametrize("args, message", [
    ([str(DEMO_PATH), *PLAN, "--as-of", AS_OF], "error: give either a scenario file or --plan NAME (one of them)"),
    (["--as-of", AS_OF], "error: give either a scenario file or --plan NAME (one of them)"),
    ([*PLAN, "--as-of", "2027-13"], "--as-of must be a month like 2027-06, not '2027-13'"),
    ([*PLAN, "--as-of", "June"], "--as-of must be a month like 2027-06, not 'June'"),
    ([*PLAN], "the following arguments are required: --as-of"),
    ([*PLAN, "--as-of", "2030-01"],
     "error: as-of month 2030-01 is not in the plan's months (2027-01 to 2027-12)"),
    ([str(DEMO_PATH), "--as-of", "2026-12"],
     "error: as-of month 2026-12 is not in the plan's months (2027-01 to 2027-12)"),
    ([*PLAN, "--as-of", AS_OF, "--prior-weight", "0"], "--prior-weight must be above 0 and at most 1"),
    ([*PLAN, "--as-of", AS_OF, "--prior-weight", "1.5"], "--prior-weight must be above 0 and at most 1"),
    ([*PLAN, "--as-of", AS_OF, "--prior-weight", "half"], "--prior-weight must be a number, not 'half'"),
    ([*PLAN, "--as-of", AS_OF, "--confidence", "1"], "--confidence must be between 0 and 1"),
    ([*PLAN, "--as-of", AS_OF, "--trials", "10"], "--trials must be between 100 and"),
    (["--plan", "No such plan", "--as-of", AS_OF],
     f"error: there is no plan named 'No such plan' (saved plans: {DEMO_PLAN_NAME})"),
    ([*PLAN, "--as-of", AS_OF, "--trials", "100", "--save", "   "], "error: a plan needs a name"),
    ([*PLAN, "--as-of", AS_OF, "--trials", "100", "--save", ""], "error: a plan needs a name"),
])
def test_bad_input_is_one_line_and_exit_2(seeded, tmp_path, args, message):
    db = copy_of(seeded, tmp_path)
    line = refused(run_cli("checkin", *args, "--db", str(db)))
    assert message in line
    with Store(db) as store:
        assert [p.name for p in list_plans(store)] == [DEMO_PLAN_NAME]      # nothing saved


# ------------------------------------------------------------------------------------------
# Text output
# ------------------------------------------------------------------------------------------

def test_text_output(plan_run, seeded, tmp_path):
    doc, _ = plan_run
    db = copy_of(seeded, tmp_path)
    out = succeeded(run_cli("checkin", "--plan", DEMO_PLAN_NAME, "--db", str(db), "--as-of", AS_OF, "--trials", TRIALS))
    text = out.stdout
    lines = text.splitlines()
    assert lines[0].startswith("Time to review the agreement")     # the demo's review month is June
    assert lines[2].startswith(f"Check-in of '{DEMO_PLAN_NAME}' after {AS_OF} (6 months done, 6 left)")
    assert f"Revenue to date: {doc['revenue_to_date']:,.0f}" in text
    assert f"P(goal): {doc['p_goal_plan']:.1%} at plan time -> {doc['p_goal_now']:.1%} now" in text
    assert f"bottleneck: {doc['bottleneck']}" in text
    # The stage table: one row per stage with its actual to date.
    for s in doc["stages"]:
        row = next(line for line in lines if line.startswith(s["name"] + " "))
        assert f"{s['actual']:,}" in row and s["status"] in row
    # The reset table: months of the rest of the year, then "new (plan's)" per stage and month.
    start = next(i for i, line in enumerate(lines) if line.startswith("Reset: volumes needed per month"))
    assert "P(goal) >= 80%" in lines[start] and f"plan x {doc['reset_scale']:.3f}" in lines[start]
    assert lines[start + 1].split() == ["Stage"] + [m[2:] for m in LEFT]
    old = {r["name"]: r["monthly"] for r in doc["plan_sla_left"]}
    for r, line in zip(doc["reset"], lines[start + 3:]):
        assert line.startswith(r["name"])
        cells = [f"{v:,.0f} ({o:,.0f})" for v, o in zip(r["monthly"], old[r["name"]])]
        assert " ".join(line.split()[1:]) == " ".join(cells)
    assert out.stderr == ""
