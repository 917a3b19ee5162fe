"""Where things are: the database (``$FUNNEL_DB``, else ``data/funnel.duckdb`` under a folder
the caller names: the command line, the working directory; the app, its own folder) and the
demo's files in a project's ``data/`` folder. The library never guesses a project folder from
where its own files are installed."""

from __future__ import annotations

import os
from pathlib import Path

DB_ENV = "FUNNEL_DB"
#: The database file, relative to the project folder, when ``$FUNNEL_DB`` is not set.
DEFAULT_DB = Path("data") / "funnel.duckdb"
#: Under a project's data folder: the demo scenario and the folder of its actuals.
DEMO_SCENARIO = Path("scenarios") / "demo.json"
DEMO_ACTUALS = Path("actuals")


def default_db_path(base: str | Path | None = None) -> Path:
    """``$FUNNEL_DB`` when set, else ``data/funnel.duckdb`` under ``base`` (default: the
    working directory)."""
    env = os.environ.get(DB_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(base if base is not None else Path.cwd()) / DEFAULT_DB
