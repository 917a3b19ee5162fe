"""``python -m sim``: JSON documents, human tables, exit codes."""

import json

import pytest

from sim.model.forecast import simulate
from sim.model.scenario_io import load_scenario
from sim.model.targets import required_volumes

from ..conftest import DEMO_PATH, ROOT, refused, run_cli, run_cli_process


def test_forecast_json_matches_the_library():
    out = run_cli("forecast", str(DEMO_PATH), "--json", "--trials", "4000", "--seed", "7",
              "--sensitivity-trials", "2000")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    sc = load_scenario(DEMO_PATH)
    f = simulate(sc, trials=4000, seed=7)
    assert doc["p_goal"] == f.p_goal and doc["p_goal_ci"] == f.p_goal_ci.to_list()
    assert (doc["trials"], doc["seed"]) == (4000, 7)
    assert doc["revenue"] == {"mean": f.revenue.mean, "p10": f.revenue.p10, "p50": f.revenue.p50,
                              "p90": f.revenue.p90}
    assert [s["name"] for s in doc["stages"]] == list(sc.stage_names)
    assert set(doc["stages"][0]) >= {"name", "mean", "p10", "p50", "p90"}
    assert len(doc["monthly"]) == 12
    assert set(doc["monthly"][0]) >= {"month", "revenue_p10", "revenue_p50", "revenue_p90",
                                      "cum_revenue_p50"}
    assert doc["monthly"][0]["month"] == "2027-01"
    rows = doc["sensitivity"]
    assert rows and set(rows[0]) >= {"input", "owner", "p_goal_low", "p_goal_high"}


def test_forecast_defaults_to_the_scenarios_trials_and_seed():
    doc = json.loads(run_cli("forecast", str(DEMO_PATH), "--json", "--sensitivity-trials", "1000").stdout)
    sc = load_scenario(DEMO_PATH)
    assert (doc["trials"], doc["seed"]) == (sc.trials, sc.seed)
    assert doc["p_goal"] == simulate(sc).p_goal


def test_targets_json():
    out = run_cli("targets", str(DEMO_PATH), "--json", "--confidence", "0.7", "--trials", "4000")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    t = required_volumes(load_scenario(DEMO_PATH), 0.7, trials=4000)
    assert doc["confidence"] == 0.7
    assert doc["at_confidence"]["scale"] == t.at_confidence.scale
    assert doc["at_confidence"]["p_goal"] == t.at_confidence.p_goal >= 0.7
    for plan in ("deterministic", "at_confidence"):
        stages = doc[plan]["stages"]
        assert [s["name"] for s in stages] == list(load_scenario(DEMO_PATH).stage_names)
        assert set(stages[0]) >= {"name", "total", "monthly"} and len(stages[0]["monthly"]) == 12


def test_human_readable_output():
    out = run_cli("forecast", str(DEMO_PATH), "--trials", "2000", "--sensitivity-trials", "1000")
    assert out.returncode == 0 and "P(goal) =" in out.stdout and "Sensitivity" in out.stdout
    out = run_cli("targets", str(DEMO_PATH), "--trials", "2000")
    assert out.returncode == 0 and "For P(goal) >= 80%" in out.stdout


@pytest.mark.parametrize("args, message", [
    (["forecast", "{bad}"], "goal must be > 0"),
    (["forecast", "{missing}"], "cannot read the file"),
    (["targets", "{bad}"], "goal must be > 0"),
    (["forecast", str(DEMO_PATH), "--trials", "lots"], "--trials must be a whole number"),
    (["forecast", str(DEMO_PATH), "--trials", "1000000000"], "--trials must be between"),
    (["targets", str(DEMO_PATH), "--confidence", "1.5"], "--confidence must be between 0 and 1"),
])
def test_bad_input_exits_2_with_a_clear_line(tmp_path, demo_dict, args, message):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**demo_dict, "goal": -1}))
    args = [a.format(bad=bad, missing=tmp_path / "nope.json") for a in args]
    assert message in refused(run_cli(*args))


# -- in a new process: start-up, exit status (two or three smoke tests; the rest runs in-process)

def test_help_in_a_new_process():
    out = run_cli_process("--help")
    assert out.returncode == 0 and out.stderr == ""
    for command in ("forecast", "targets", "import", "actuals", "history", "undo", "plan", "compare", "checkin"):
        assert command in out.stdout


def test_forecast_in_a_new_process_matches_the_library():
    out = run_cli_process("forecast", DEMO_PATH, "--json", "--trials", "2000", "--sensitivity-trials", "500")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    sc = load_scenario(DEMO_PATH)
    assert doc["p_goal"] == simulate(sc, trials=2000, seed=sc.seed).p_goal
    assert doc["scenario"] == sc.name and "\\u2014" not in out.stdout      # non-ASCII kept as it is


def test_bad_input_in_a_new_process_exits_2():
    assert "goal must be > 0" not in refused(run_cli_process("forecast", DEMO_PATH, "--trials", "lots"))
    assert refused(run_cli_process("forecast", ROOT / "no-such.json")).startswith("error: ")
