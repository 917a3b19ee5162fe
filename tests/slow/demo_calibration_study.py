"""The demo's check-in in years drawn from its own beliefs, with and without the conflict rule:
a study, not a test (see ``test_calibration.py``'s docstring for why). Run from the repository:

    .venv/bin/python -m tests.slow.demo_calibration_study --years 3000 --seed 3

It prints the share of years whose true revenue fell inside the check-in's P10–P90 (and its
standard error), as ``test_calibration.check_in_study`` measures it; ``--no-rule`` turns the
conflict rule off. About 4 minutes for 3,000 years on two cores.
"""

from __future__ import annotations

import argparse

import numpy as np

from .reference_funnel import prior_rates
from .test_calibration import DEMO, check_in_study, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--no-rule", action="store_true")
    args = parser.parse_args()
    rates = prior_rates(DEMO, args.years, np.random.default_rng(args.seed))
    study = check_in_study(DEMO, rates, args.seed + 100, conflict_rule=not args.no_rule)
    rule = "without the rule" if args.no_rule else "conflict rule"
    print(report(f"demo check-in, prior world, {rule}", study))
    print(f"years whose every belief kept its full weight: {np.mean((study.weights == 1.0).all(axis=1)):.1%}")


if __name__ == "__main__":
    main()
