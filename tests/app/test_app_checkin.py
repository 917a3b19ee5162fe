"""AppTest of the Check-in page: where we stand, the rate updates, the reforecast and the reset.

Every test gets its own temporary database (``FUNNEL_DB`` in ``tmp_path``; the page's store is
cached per path, so a new path is a new, freshly seeded or, with ``FUNNEL_DEMO_DATA=0``, empty
database). The project's data/funnel.duckdb is never touched.

The expected numbers are computed independently of the page: revenue from the demo's monthly
file (``data/actuals/northwind-monthly.csv``) with the csv module, and the check-in itself by
calling :func:`sim.model.checkin.check_in` on a *separate* database seeded the same way
(``reference``): the same scenario, actuals and seed give the very same Monte Carlo numbers.
(The page's own database is held open by the AppTest's process, so it is not reopened here.)
"""

from __future__ import annotations

import csv
import dataclasses
import re
from dataclasses import replace
from itertools import accumulate

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from sim.data.actuals import load_actuals
from sim.data.demo_data import DEMO_PLAN_NAME, seed_demo
from sim.data.plans import all_bands, list_plans, load_plan, stored_bands
from sim.data.store import Store
from sim.model.beliefs import RateBelief
from sim.model.checkin import CheckIn, check_in
from sim.model.confidence import DEFAULT_CONFIDENCE
from sim.model.monthly_actuals import Actuals
from sim.model.scenario_io import scenario_from_url_token
from ui import database as stores

from ..conftest import DATA_DIR, ROOT, plain, unchecked
from .apptest import open_app, small_demo

PAGE = "app_pages/checkin.py"
ACTUALS_PAGE = "app_pages/actuals.py"
CURRENT = "The current scenario (not saved)"
MONTHLY_DEMO = ROOT / "data" / "actuals" / "northwind-monthly.csv"
CHANCE, REVENUE, BOTTLENECK = "Chance of hitting the goal now", "Revenue to date", "Largest shortfall"
NUMBERS = "The numbers: stages"
PIPELINE_STAGES = ("Visits", "Leads", "MQLs", "SQLs", "Proposals")   # checkin-pipe-0 .. 4


# -- fixtures and helpers -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An independent database seeded like the page's: (store, the demo's plan of record)."""
    store = Store(tmp_path_factory.mktemp("reference") / "funnel.duckdb")
    seed_demo(store, DATA_DIR)
    try:
        yield store, load_plan(store, DEMO_PLAN_NAME)
    finally:
        store.close()


_EXPECTED: dict[tuple, CheckIn] = {}


def expected(reference, as_of: str = "2027-06", *, prior_weight: float = 1.0,
             pipeline: dict[str, int] | None = None) -> CheckIn:
    """The check-in of the demo's plan of record, computed here through the library (once per
    set of arguments: the reference database does not change)."""
    key = (id(reference), as_of, prior_weight, tuple(sorted((pipeline or {}).items())))
    if key not in _EXPECTED:
        _EXPECTED[key] = _check_in(reference, as_of, prior_weight, pipeline)
    return _EXPECTED[key]


def _check_in(reference, as_of, prior_weight, pipeline) -> CheckIn:
    store, plan = reference
    return check_in(plan.scenario, load_actuals(store, stage_order=plan.scenario.stage_names), as_of, plan_name=plan.name,
                    bands=all_bands(store, plan), p_goal_plan=plan.p_goal, confidence=DEFAULT_CONFIDENCE,
                    prior_weight=prior_weight, pipeline=pipeline)


def demo_monthly() -> list[dict]:
    with open(MONTHLY_DEMO, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def assert_fine(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def open_page(db, scenario=None) -> AppTest:
    at = open_app(PAGE, scenario or small_demo())
    assert db.exists(), "the page did not open the test's temporary database"
    assert_fine(at)
    return at


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert_fine(at)
    return at


def metric(at: AppTest, label: str):
    found = [m for m in at.metric if m.label.startswith(label)]
    assert len(found) == 1, [m.label for m in at.metric]
    return found[0]


def number(text: str) -> float:
    """'672,961' / '+103,628 vs plan median' / '83%' / '+30.2 pts vs plan' -> the number."""
    return float(re.match(r"\s*([+-]?[\d,]*\.?\d+)", text).group(1).replace(",", ""))


def percents(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"(\d+(?:\.\d+)?)%", text)]


def assert_chance(at: AppTest, check: CheckIn) -> None:
    """The P(goal) metric equals ``check``'s numbers to the precision shown."""
    m = metric(at, CHANCE)
    assert number(m.value) == pytest.approx(check.p_goal_now * 100, abs=0.5), (m.value, check.p_goal_now)
    assert number(m.proto.delta) == pytest.approx((check.p_goal_now - check.p_goal_plan) * 100, abs=0.05)
    (plan_time,) = percents(re.search(r"At plan time [\d.]+%", m.help).group())
    lo, hi = percents(re.search(r"interval [\d.]+%–[\d.]+%", m.help).group())
    assert plan_time == pytest.approx(check.p_goal_plan * 100, abs=0.05)
    assert (lo, hi) == pytest.approx([x * 100 for x in check.p_goal_now_ci.to_list()], abs=0.05)
    assert f"{len(check.months_left)} months left" in m.help


def chance(at: AppTest) -> str:
    return metric(at, CHANCE).value


def chart_frames(chart) -> list:
    """The datasets of an Altair chart as sent to the browser."""
    return [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets]


def charts(at: AppTest) -> dict[str, object]:
    """The page's charts by the first words of their title."""
    out = {}
    for c in at.get("vega_lite_chart"):
        spec = c.proto.spec
        for key in ("Revenue: actual", "Where we stand", "What we learned"):
            if key in spec:
                out[key] = c
    return out


def numbers_table(at: AppTest):
    (expander,) = [e for e in at.expander if e.label == NUMBERS]
    (frame,) = expander.dataframe
    return frame.value.set_index("Stage")


def reset_table(at: AppTest):
    frame = at.dataframe[0].value
    assert list(frame.columns[:5]) == ["Stage", "Owner", "Needed", "Plan", "Change"], frame.columns
    return frame.set_index("Stage")


def assert_reset_table(at: AppTest, check: CheckIn) -> None:
    """The reset SLA table: per stage the needed and planned totals of the remaining months, the
    change, and the needed volume in each remaining month."""
    table = reset_table(at)
    assert list(table.columns[4:]) == list(check.months_left)
    old = dict(check.plan_targets_left)
    for stage in check.reset.at_confidence.stages:
        assert table.loc[stage.name, "Needed"] == pytest.approx(stage.total, abs=0.5), stage.name
        assert table.loc[stage.name, "Plan"] == pytest.approx(sum(old[stage.name]), abs=0.5), stage.name
        assert table.loc[stage.name, "Change"] == pytest.approx(stage.total / sum(old[stage.name]) - 1), stage.name
        for month, new in zip(check.months_left, stage.monthly):
            assert table.loc[stage.name, month] == pytest.approx(new, abs=0.5), (stage.name, month)


def updated_means(at: AppTest) -> dict[str, float]:
    """The 'Updated' rate means in the rate chart's data, by stage."""
    frames = [f for f in chart_frames(charts(at)["What we learned"]) if "belief" in f.columns]
    assert frames
    rows = frames[0]
    updated = rows[rows.belief == "Updated"]
    # Rows are labelled "Leads: 2.19% → 1.91%"; "rate" holds the belief's mean itself.
    return dict(zip((label.split(":")[0] for label in updated["stage"]), updated["rate"]))


# -- the seeded database --------------------------------------------------------------------------

def test_seeded_database_checks_the_plan_of_record_in_at_the_last_month_of_actuals(new_db, reference):
    at = open_page(new_db)
    assert not at.error and not at.warning, ([e.value for e in at.error], [w.value for w in at.warning])
    picker = at.selectbox(key="checkin-plan")
    assert picker.value == DEMO_PLAN_NAME and picker.options == [DEMO_PLAN_NAME, CURRENT]
    rows = demo_monthly()
    as_of = at.selectbox(key="checkin-as-of")
    assert as_of.options == [r["month"] for r in rows] and as_of.value == rows[-1]["month"] == "2027-06"
    assert at.select_slider(key="checkin-confidence").value == DEFAULT_CONFIDENCE
    assert at.slider(key="checkin-weight").value == 1.0

    # Revenue to date: the CSV's revenue (the demo's baseline is 0), against the stored plan median.
    store, plan = reference
    assert plan.scenario.baseline_revenue == 0
    revenue = sum(float(r["revenue"]) for r in rows)
    m = metric(at, REVENUE)
    assert m.label == f"{REVENUE} (through 2027-06)"
    assert number(m.value) == pytest.approx(revenue, abs=0.5)
    median = next(b.dist.p50 for b in stored_bands(store, plan, "cumulative_revenue") if b.month == "2027-06")
    assert number(m.proto.delta) == pytest.approx(revenue - median, abs=0.5)

    check = expected(reference)
    assert check.revenue_to_date == pytest.approx(revenue)            # the oracle agrees with the CSV
    assert_chance(at, check)
    assert metric(at, BOTTLENECK).value == check.bottleneck
    assert_reset_table(at, check)

    found = charts(at)
    assert len(at.get("vega_lite_chart")) == 3 and set(found) == {"Revenue: actual", "Where we stand",
                                                                  "What we learned"}
    actual = [f for f in chart_frames(found["Revenue: actual"]) if "actual" in f.columns]
    assert actual and list(actual[0]["month"]) == [r["month"] for r in rows]
    assert list(actual[0]["actual"]) == pytest.approx(list(accumulate(float(r["revenue"]) for r in rows)))

    table = numbers_table(at)
    for stage in ("Visits", "Leads", "MQLs", "SQLs", "Proposals", "Customers"):
        assert table.loc[stage, "Actual to date"] == sum(int(r[stage]) for r in rows), stage
    assert [b.label for b in at.get("download_button")] == ["Download the reset SLA (CSV)"]


def test_sessions_on_the_same_plan_share_its_charts_and_an_import_redraws_them(db, monkeypatch):
    """The charts are built once per plan, data and settings (chart_specs.show), not per session;
    a new import is new data: the charts are built again and show it."""
    from sim.present import charts as chart_builders
    built = []
    fan = chart_builders.checkin_fan
    monkeypatch.setattr(chart_builders, "checkin_fan", lambda check: built.append(check.as_of) or fan(check))
    first, second = open_page(db), open_page(db)
    assert built == ["2027-06"], "a second session on the same plan rebuilt the chart"
    assert charts(first)["Revenue: actual"].proto.spec == charts(second)["Revenue: actual"].proto.spec
    rows = demo_monthly()

    def actual(at):
        frames = [f for f in chart_frames(charts(at)["Revenue: actual"]) if "actual" in f.columns]
        return list(frames[0]["actual"])
    assert actual(first) == pytest.approx(list(accumulate(float(r["revenue"]) for r in rows)))

    page = open_app(ACTUALS_PAGE, small_demo())
    (uploader,) = [u for u in page.file_uploader if u.key and u.key.startswith("actuals-upload")]
    uploader.set_value(("revenue-fix.csv", b"month,Leads,revenue\n2027-01,999,1\n", "text/csv")).run()
    page.radio(key="actuals-demo-choice").set_value("beside").run()
    page.button(key="actuals-import").click().run()
    assert not page.exception and plain(page.success[0].value).startswith("Imported revenue-fix.csv")
    rerun(first)
    assert built == ["2027-06", "2027-06"]
    revenue = [1.0] + [float(r["revenue"]) for r in rows[1:]]
    assert actual(first) == pytest.approx(list(accumulate(revenue)))


def test_an_earlier_as_of_month_counts_only_the_months_through_it(db, reference):
    at = open_page(db)
    at.selectbox(key="checkin-as-of").set_value("2027-03")
    rerun(at)
    rows = demo_monthly()[:3]
    m = metric(at, REVENUE)
    assert m.label == f"{REVENUE} (through 2027-03)"
    assert number(m.value) == pytest.approx(sum(float(r["revenue"]) for r in rows), abs=0.5)
    check = expected(reference, "2027-03")
    assert_chance(at, check)
    assert_reset_table(at, check)                     # the reset covers 2027-04 .. 2027-12
    assert numbers_table(at).loc["Leads", "Actual to date"] == sum(int(r["Leads"]) for r in rows)


def test_the_prior_weight_moves_the_updated_rates_toward_the_lag_corrected_counts(db, reference):
    at = open_page(db)
    priors = {s.name: s.rate for s in reference[1].scenario.stages if s.rate is not None}
    shown = {}
    for w in (1.0, 0.05):
        at.slider(key="checkin-weight").set_value(w)
        rerun(at)
        table = numbers_table(at)
        means = updated_means(at)
        for stage, prior in priors.items():
            s, n = table.loc[stage, "Arrivals"], table.loc[stage, "Trials (lag-corrected)"]
            # Beta(w·α + s, w·β + n − s): the mean, from the plan's belief and the counts shown.
            want = (w * prior.alpha + s) / (w * (prior.alpha + prior.beta) + max(n, s))
            assert table.loc[stage, "Rate updated"] == pytest.approx(want, rel=1e-9), (w, stage)
            assert means[stage] == pytest.approx(want, rel=1e-9), (w, stage)       # the chart shows it
        shown[w] = table
        assert_chance(at, expected(reference, prior_weight=w))
    for stage in priors:
        observed = shown[1.0].loc[stage, "Arrivals"] / shown[1.0].loc[stage, "Trials (lag-corrected)"]
        strong, weak = shown[1.0].loc[stage, "Rate updated"], shown[0.05].loc[stage, "Rate updated"]
        assert weak != pytest.approx(strong, rel=1e-3), stage
        assert abs(weak - observed) < abs(strong - observed), stage


def test_the_current_scenario_is_checked_in_against_its_own_forecast(db, reference):
    session = small_demo(name="Session scenario for the check-in", goal=900_000)
    at = open_page(db, session)
    at.selectbox(key="checkin-plan").set_value(CURRENT)
    rerun(at)
    assert not at.error
    store, _ = reference
    used = scenario_from_url_token(session.to_url_token())
    check = check_in(used, load_actuals(store, stage_order=used.stage_names), "2027-06", plan_name=used.name,
                     confidence=DEFAULT_CONFIDENCE, prior_weight=1.0)
    assert_chance(at, check)
    # The goal line and the save placeholder are the session's scenario's, not the plan's.
    goals = [f for f in chart_frames(charts(at)["Revenue: actual"]) if "goal" in f.columns]
    assert goals and list(goals[0]["goal"]) == [900_000]
    assert at.text_input(key="checkin-save-name").placeholder == "Session scenario for the check-in — reset 2027-06"
    assert number(metric(at, REVENUE).value) == pytest.approx(sum(float(r["revenue"]) for r in demo_monthly()),
                                                             abs=0.5)
    assert_reset_table(at, check)


def test_saving_the_reset_makes_a_linked_plan_of_record(db):
    at = open_page(db)
    name = "FY2027 reset after June"
    at.text_input(key="checkin-save-name").set_value(name)
    at.button(key="checkin-save").click()
    rerun(at)
    assert not at.error, [e.value for e in at.error]
    (success,) = [plain(s.value) for s in at.success]
    assert success == f"Saved plan of record “{name}”, linked to “{DEMO_PLAN_NAME}”."
    picker = at.selectbox(key="checkin-plan")
    assert picker.options == [name, DEMO_PLAN_NAME, CURRENT]
    assert picker.value == DEMO_PLAN_NAME                     # the page stays on the plan checked in

    # In the page's database: the new plan is linked to its parent and as-of month.
    with Store(db, read_only=True) as store:
        saved = {p.name: p for p in list_plans(store)}
    assert saved[name].parent_id == saved[DEMO_PLAN_NAME].id and saved[name].as_of == "2027-06"
    assert saved[name].scenario.month_labels == tuple(f"2027-{m:02d}" for m in range(7, 13))

    # The reset plan starts after the actuals: the page says so and still works.
    at.selectbox(key="checkin-plan").set_value(name)
    rerun(at)
    assert any("no actuals fall in the plan's months (2027-07 to 2027-12)" in i.value for i in at.info)
    assert not at.metric and not at.get("vega_lite_chart"), "no numbers without actuals"

    # The Actuals page lists it among the plans of record.
    at.switch_page(ACTUALS_PAGE)
    rerun(at)
    assert name in at.selectbox(key="actuals-plan").options

    # A second save under the same name is refused, nothing is overwritten.
    at.switch_page(PAGE)
    rerun(at)
    at.selectbox(key="checkin-plan").set_value(DEMO_PLAN_NAME)
    rerun(at)
    at.text_input(key="checkin-save-name").set_value(name)
    at.button(key="checkin-save").click()
    rerun(at)
    (error,) = [plain(e.value) for e in at.error]
    assert "The plan was not saved" in error and "already exists" in error
    assert at.selectbox(key="checkin-plan").options == [name, DEMO_PLAN_NAME, CURRENT]


def test_empty_database_says_there_is_nothing_to_check_yet(empty_db):
    at = open_page(empty_db)
    assert not at.error
    picker = at.selectbox(key="checkin-plan")
    assert picker.options == [CURRENT] and picker.value == CURRENT
    assert any("Nothing to check yet" in i.value for i in at.info), [i.value for i in at.info]
    # No misleading numbers (a revenue of 0 "to date", a reset) before there are actuals.
    assert not at.metric and not at.get("vega_lite_chart") and not at.dataframe


def test_an_open_pipeline_entered_by_hand_replaces_the_estimate(db, reference):
    at = open_page(db)
    assert_chance(at, expected(reference))
    estimated = numbers_table(at)["Open pipeline"]
    assert estimated.loc["SQLs"] > 0
    before = chance(at)

    at.toggle(key="checkin-by-hand").set_value(True)
    rerun(at)
    # By hand, every field starts at the estimate: nothing changes until a number is typed.
    fields = {s: at.number_input(key=f"checkin-pipe-{i}").value for i, s in enumerate(PIPELINE_STAGES)}
    assert fields == {s: int(estimated.loc[s]) for s in PIPELINE_STAGES}
    assert chance(at) == before
    assert_chance(at, expected(reference, pipeline=fields))

    at.number_input(key=f"checkin-pipe-{PIPELINE_STAGES.index('SQLs')}").set_value(300)
    rerun(at)
    assert numbers_table(at).loc["SQLs", "Open pipeline"] == 300
    assert_chance(at, expected(reference, pipeline={**fields, "SQLs": 300}))
    assert number(chance(at)) > number(before)                # 300 open SQLs instead of ~22 raise the chance


def test_stage_names_are_shown_literally(db, reference, monkeypatch):
    """Finding 6: the "Open pipeline at the check-in" expander label and the "Largest shortfall"
    metric rendered stage names as Markdown: ``![](http://host/…)`` in a share link loaded a
    remote image (a tracking pixel). Validation refuses such names now; the page escapes them
    anyway: here a check-in of names validation would refuse (built without it) is shown."""
    store, plan = reference
    hostile = {name: f"![](http://127.0.0.1:9/{name}.png) **{name}** <b>x</b> &amp;" for name in plan.scenario.stage_names}
    scenario = replace(unchecked(plan.scenario, stage_names=[hostile[n] for n in plan.scenario.stage_names]),
                       trials=2000)
    found = load_actuals(store, stage_order=plan.scenario.stage_names)
    actuals = Actuals(tuple(hostile[s] for s in found.stages), tuple((m, hostile[s], c) for m, s, c in found.counts),
                      found.revenue)
    check = check_in(scenario, actuals, "2027-06", plan_name=plan.name, trials=2000)
    assert check.bottleneck in hostile.values()
    monkeypatch.setattr(stores, "checkin", lambda *args, **kwargs: check)
    at = open_page(db)
    at.toggle(key="checkin-by-hand").set_value(True).run()
    assert_fine(at)
    (expander,) = [e for e in at.expander if e.label.startswith("Open pipeline at the check-in")]
    shortfall = metric(at, "Largest shortfall")
    shown = [expander.label, shortfall.value] + [at.number_input(key=f"checkin-pipe-{k}").label for k in range(5)]
    for text in shown:
        assert "![](" not in text and "**" not in text and "<b>" not in text, text
        assert "http://127.0.0.1:9/" not in text, "an address would become a link"
    assert plain(shortfall.value) == check.bottleneck
    assert all(hostile[s] in plain(expander.label) for s in ("MQLs", "SQLs", "Proposals"))


def test_a_plan_the_actuals_contradict_is_named_in_a_warning_and_the_rule_can_be_turned_off(db, reference):
    # The session's plan believes firmly in 55% of MQLs becoming SQLs (strength 600); the demo's
    # actuals (157 SQLs from 458 MQLs) contradict it.
    base = small_demo()
    stages = tuple(dataclasses.replace(s, rate=RateBelief.from_mean_strength(0.55, 600)) if s.name == "SQLs" else s
                   for s in base.stages)
    session = dataclasses.replace(base, name="Optimistic about SQLs", stages=stages)
    at = open_page(db, session)
    at.selectbox(key="checkin-plan").set_value(CURRENT)
    rerun(at)
    store, _ = reference
    used = scenario_from_url_token(session.to_url_token())
    actuals = load_actuals(store, stage_order=used.stage_names)
    for rule in (True, False):
        check = check_in(used, actuals, "2027-06", plan_name=used.name, confidence=DEFAULT_CONFIDENCE,
                         conflict_rule=rule)
        assert check.conflicts == ("SQLs",)
        (warning,) = [w for w in at.warning if "contradict" in w.value]
        assert plain(warning.value) == plain(check.conflict_note)
        assert plain(warning.value).startswith("The actuals contradict the plan at SQLs (from MQLs)")
        assert ("count for less" in plain(warning.value)) == rule and ("Consider a lower weight" in plain(warning.value)) != rule
        assert_chance(at, check)
        at.toggle(key="checkin-conflict-rule").set_value(False)
        rerun(at)
    # The demo's own plan: no conflict, no warning.
    at.selectbox(key="checkin-plan").set_value(DEMO_PLAN_NAME)
    rerun(at)
    assert not [w for w in at.warning if "contradict" in w.value]
