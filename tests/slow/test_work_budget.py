"""Bounded work: the cost estimate, refusal beyond the budget before any work, memory of the
largest runs measured in a child process (peak resident size), and the cancellation hook."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from sim.errors import ScenarioError
from sim.model.forecast import simulate
from sim.model.run_cancellation import RunCancelled
from sim.model.sensitivity import sensitivity
from sim.model.targets import required_volumes
from sim.model.validation import scenario_from_dict
from sim.model.work_budget import (
    MEMORY_BUDGET_BYTES,
    WORK_BUDGET_SECONDS,
    WorkBudgetExceeded,
    check_run_budget,
    estimate_run,
    max_trials_within_budget,
)

from ..conftest import ROOT, worst_case_link

GIB = 2 ** 30


def run_child(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON line; add the child's own peak
    resident size (VmHWM) in bytes."""
    probe = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        + code +
        "\nwith open('/proc/self/status') as f:\n"
        "    peak = next(int(l.split()[1]) * 1024 for l in f if l.startswith('VmHWM:'))\n"
        "print(json.dumps({**result, 'peak': peak}))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_worst_case_link_is_refused_before_any_work(tmp_path):
    sc = scenario_from_dict(worst_case_link())
    with pytest.raises(WorkBudgetExceeded) as info:
        simulate(sc)
    message = str(info.value)
    assert "too large to simulate" in message and "lower trials to at most" in message
    assert isinstance(info.value, ScenarioError)            # the CLI and pages report it as such
    fits = max_trials_within_budget(sc, detail_trials=2_048)
    assert 100 <= fits < 2_000_000 and f"{fits:,}" in message
    # ... in a fresh process through the command line: exit 2, one line, little memory.
    doc = json.dumps(worst_case_link())
    child = run_child(
        "import io, contextlib\n"
        "from sim.cli import main\n"
        f"path = {str(tmp_path / 'worst-case.json')!r}\n"
        "import pathlib; pathlib.Path(path).write_text(" + repr(doc) + ")\n"
        "err = io.StringIO()\n"
        "with contextlib.redirect_stderr(err):\n"
        "    code = main(['forecast', path])\n"
        "result = {'code': code, 'stderr': err.getvalue()}\n")
    assert child["code"] == 2 and "lower trials to at most" in child["stderr"]
    assert child["peak"] < 400 * 2 ** 20


def test_a_goal_of_2e9_is_searched_within_a_cap_without_growing_memory(demo_dict):
    # The confidence search used to grow the funnel until the server ran out of memory.
    child = run_child(
        "from sim.model.validation import scenario_from_dict\n"
        "from sim.model.targets import required_volumes\n"
        f"sc = scenario_from_dict({{**{demo_dict!r}, 'goal': 2e9}})\n"
        "t = required_volumes(sc, 0.8, trials=20_000)\n"
        "result = {'scale': t.at_confidence.scale, 'p': t.at_confidence.p_goal, 'reachable': t.reachable,\n"
        "          'expected_value': t.expected_value.scale}\n")
    assert child["peak"] < GIB
    assert child["reachable"] and child["p"] >= 0.8 and child["scale"] > child["expected_value"]


def test_the_largest_runs_within_budget_stay_below_1_gib():
    # Memory-bound: 36 months of a cheap funnel at the most trials the budgets allow; and the
    # demo at 10^7 visits a month at its own 20,000 trials.
    cheap = worst_case_link(months=36, stages=2, lag_entries=1)
    cheap["top"]["per_month"], cheap["start_pipeline"] = 100.0, {}
    cheap["deal"]["kind"] = "one_time"
    trials = max_trials_within_budget(scenario_from_dict(cheap), detail_trials=2_048)
    assert trials > 100_000
    cheap["trials"] = trials
    child = run_child(
        "from sim.model.validation import scenario_from_dict\n"
        "from sim.model.forecast import simulate\n"
        f"f = simulate(scenario_from_dict({cheap!r}))\n"
        "result = {'trials': f.trials}\n")
    assert child["trials"] == trials and child["peak"] < GIB, child
    assert estimate_run(scenario_from_dict(cheap), detail_trials=2_048).peak_bytes <= MEMORY_BUDGET_BYTES


def test_the_demo_at_ten_million_visits_a_month_runs(demo_dict):
    child = run_child(
        "from sim.model.validation import scenario_from_dict\n"
        "from sim.model.forecast import simulate\n"
        f"f = simulate(scenario_from_dict({{**{demo_dict!r}, 'top': {{**{demo_dict['top']!r}, 'per_month': 1e7}}}}))\n"
        "result = {'p': f.p_goal, 'customers': f.stages[-1].total.mean}\n")
    assert child["peak"] < GIB and child["customers"] > 30_000


def test_the_estimate_grows_with_trials_not_with_customers_beyond_the_caps(demo):
    a, b = estimate_run(demo, trials=10_000), estimate_run(demo, trials=20_000)
    assert b.cpu_seconds == pytest.approx(2 * a.cpu_seconds, rel=0.05)
    big = [estimate_run(demo.with_top_scaled(s), trials=10_000).cpu_seconds for s in (1e3, 1e5, 1e7)]
    assert big[0] == big[1] == big[2]
    assert check_run_budget(demo).within_budget
    assert 0 < WORK_BUDGET_SECONDS and MEMORY_BUDGET_BYTES + 300 * 2 ** 20 <= GIB


def test_the_search_and_the_sensitivity_check_the_budget_too():
    sc = scenario_from_dict(worst_case_link())
    with pytest.raises(WorkBudgetExceeded, match="the confidence search"):
        required_volumes(sc, 0.8)
    with pytest.raises(WorkBudgetExceeded, match="the sensitivity"):
        sensitivity(sc)


def test_a_run_can_be_stopped_between_chunks(demo):
    seen = []

    def stop_after_two():
        seen.append(1)
        return len(seen) > 2

    with pytest.raises(RunCancelled):
        simulate(demo, trials=40_000, should_stop=stop_after_two)
    event = threading.Event()
    event.set()
    with pytest.raises(RunCancelled):
        required_volumes(demo, 0.8, trials=8_192, should_stop=event)
    with pytest.raises(RunCancelled):
        sensitivity(demo, trials=4_096, should_stop=event)
    with pytest.raises(TypeError):
        simulate(demo, trials=1_000, should_stop=True)
    # The pool is usable again after a stopped run.
    assert simulate(demo, trials=5_000).p_goal == simulate(demo, trials=5_000).p_goal


def test_progress_is_reported_up_to_one(demo):
    fractions = []
    simulate(demo, trials=20_000, progress=fractions.append)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) > 2
    steps = []
    required_volumes(demo, 0.8, trials=8_192, progress=steps.append)
    assert steps == sorted(steps) and steps[-1] == 1.0
    rows = []
    sensitivity(demo, trials=2_048, progress=rows.append)
    # All runs (two per uncertain input, one chunk each) go to the pool as one batch: one
    # report per chunk finished.
    assert rows == sorted(rows) and rows[-1] == 1.0 and len(rows) == 2 * 7
