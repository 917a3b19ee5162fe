"""Reader process of tests/slow/test_durability.py: the app's way of reading, beside a writer.

``python -m tests.durability_reader DB`` reads the database in a loop as the app's pages do:
each read opens it read-only, reads the import history and the actuals, and closes it. After
each read it checks that the actuals are exactly those of the active imports it saw (whole
imports, whole undos: :func:`tests.durability_child.expected_actuals`) and prints ``ok <imports>
<undone>`` or ``MISMATCH <imports> <undone> <what differs>``. It prints ``ready`` first and
runs until killed.
"""

from __future__ import annotations

import math
import sys

from tests.durability_child import expected_actuals, file_number, make_file


def main(db: str) -> None:
    from sim.data.actuals import load_actuals
    from sim.data.history import import_history
    from sim.data.store import Store
    print("ready", flush=True)
    while True:
        with Store(db, read_only=True, wait=120) as store:
            history = import_history(store)
            actuals = load_actuals(store)
        files = [make_file(file_number(h.file_name)) for h in reversed(history) if h.active]
        counts, revenue = expected_actuals(files)
        got_counts = {(m, s): c for m, s, c in actuals.counts}
        got_revenue = dict(actuals.revenue)
        same = got_counts == counts and set(got_revenue) == set(revenue) and all(
            math.isclose(got_revenue[m], revenue[m], rel_tol=1e-9, abs_tol=1e-6) for m in revenue)
        undone = sum(not h.active for h in history)
        if same:
            print(f"ok {len(history)} {undone}", flush=True)
        else:
            differs = sorted(set(got_counts.items()) ^ set(counts.items()))[:3]
            print(f"MISMATCH {len(history)} {undone} {differs}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
