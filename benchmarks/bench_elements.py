"""What an element costs the server per viewer (not a test).

    .venv/bin/python benchmarks/bench_elements.py

Three pages, each on a server of its own (started as the app's, ``python -m ui.serve``), each opened by ten browsers at once (started
beforehand; through nginx with the README's configuration when it is installed, as
``bench_load.py`` does) three times after a first viewer: one element (``one_line_app.py``),
45 markdown elements, and the same 45 lines in one element. Prints the server's CPU per viewer
(from /proc, median of the three groups) and, from the difference, what one element costs: the
part of a viewer's cost that a page with fewer elements saves. Exits 0 whatever the figures.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.bench_load import CHROMIUM, app_viewers_cpu

LINES = 45
#: Each page shows the text bench_load's viewers wait for.
PAGES = {
    "one element": None,
    f"{LINES} elements": (f"import streamlit as st\nfor i in range({LINES}):\n"
                          f"    st.markdown(f'Chance of hitting the goal, line {{i}}, a short sentence.')\n"),
    f"{LINES} lines in one element": (f"import streamlit as st\nst.markdown('\\n\\n'.join("
                                      f"f'Chance of hitting the goal, line {{i}}, a short sentence.' "
                                      f"for i in range({LINES})))\n"),
}


async def per_viewer(app: str, groups: int = 3, viewers: int = 10) -> float:
    used, errors = await app_viewers_cpu(app, [viewers] * groups)
    if errors:
        raise RuntimeError(errors[0])
    return statistics.median(used) / viewers


def main() -> int:
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: install Debian's chromium package", file=sys.stderr)
        return 0
    costs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, source in PAGES.items():
            app = Path(__file__).with_name("one_line_app.py")
            if source is not None:
                app = Path(tmp) / f"page_{len(costs)}.py"
                app.write_text(source)
            costs[name] = asyncio.run(per_viewer(str(app)))
            print(f"{name:<28} {costs[name] * 1e3:5.1f} ms of server CPU per viewer", flush=True)
    many, merged = costs[f"{LINES} elements"], costs[f"{LINES} lines in one element"]
    print(f"one element more: {(many - costs['one element']) / (LINES - 1) * 1e3:.2f} ms per viewer; "
          f"the same text in one element instead of {LINES}: {(many - merged) / (LINES - 1) * 1e3:.2f} ms per element saved")
    return 0


if __name__ == "__main__":
    sys.exit(main())
