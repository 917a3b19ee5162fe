"""Benchmark: the confidence search's cost, as the app runs it (issue 10: server CPU per journey).

    .venv/bin/python benchmarks/bench_search.py [--seeds 6]

For the demo and the two-stage funnel of about 5,000 won deals a year, with ``--seeds`` seeds
each, the app's search (80%, at most 20,000 trials): a cold search (a link opened), then
searches from the last answer after changes, as a session makes them (the demo: the
"Visits → Leads" rate's P90 moved three times as ``bench_load.py`` moves it; the 5,000-deal
funnel: the goal raised 5% each time). Prints the trials the engine ran per search (the
first trials' runs, their Newton-like steps and the runs of all trials, of which only the
trials that the runs so far leave open are simulated), the process's CPU
per search, and every answer (the answer does not depend on the search's path: compare the
answers of two versions of the code to check that).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from sim import load_scenario  # noqa: E402
from sim.model import targets  # noqa: E402
from sim.model.editing import rate_from_range  # noqa: E402
from sim.model.validation import scenario_from_dict  # noqa: E402

SEARCH_TRIALS = 20_000          # ui.compute.SEARCH_TRIALS (not imported: no Streamlit here)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=6)
    args = ap.parse_args(argv)
    ran = [0]
    engine_run, engine_run_of = targets.period_revenue, targets.period_revenue_of

    def counted(scenario, *, trials, seed, should_stop=None):
        ran[0] += trials
        return engine_run(scenario, trials=trials, seed=seed, should_stop=should_stop)

    def counted_of(scenario, trials, *, seed, should_stop=None):      # the trials a run leaves open
        ran[0] += len(trials)
        return engine_run_of(scenario, trials, seed=seed, should_stop=should_stop)
    targets.period_revenue, targets.period_revenue_of = counted, counted_of

    def search(scenario, start=None):
        ran[0] = 0
        t0 = time.process_time()
        found = targets.required_volumes(scenario, 0.8, trials=min(scenario.trials, SEARCH_TRIALS), start_scale=start)
        return found.at_confidence.scale, ran[0], time.process_time() - t0

    demo = load_scenario(REPO_ROOT / "data" / "scenarios" / "demo.json")
    deals = load_scenario(REPO_ROOT / "data" / "scenarios" / "two-stage-5000-deals.json")
    search(replace(demo, seed=99))                       # imports and first tables: not counted
    for name, base in (("demo", demo), ("5,000 deals", deals)):
        cold, warm, answers = [], [], []
        for seed in range(args.seeds):
            scenario = replace(base, seed=seed)
            scale, trials, cpu = search(scenario)
            cold.append((trials, cpu))
            answers.append(scale)
            for p90 in (0.036, 0.0359, 0.0459):
                if base is demo:
                    doc = scenario.to_dict()
                    doc["stages"][1]["rate"] = rate_from_range(0.018, p90)
                    scenario = scenario_from_dict(doc)
                else:
                    scenario = replace(scenario, goal=scenario.goal * 1.05)
                scale, trials, cpu = search(scenario, scale)
                warm.append((trials, cpu))
                answers.append(scale)
        for label, runs in (("cold", cold), ("after a change", warm)):
            print(f"{name:12s} {label:15s} trials per search: {statistics.mean(t for t, _ in runs):9,.0f}   "
                  f"CPU per search: {statistics.median(c for _, c in runs) * 1000:6.0f} ms (median of {len(runs)})")
        print(f"{name:12s} answers: {' '.join(f'{a:.6f}' for a in answers)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
