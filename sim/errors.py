"""The project's errors: one root, :class:`PlannerError`, and one class per kind of input.

Every error carries ``problems`` (each naming the offending field, row or column, e.g.
``stages[3].rate.p90 must be > p10``) and ``source`` (where the input came from, a file, when
known); ``str(error)`` is one line: ``source: problem; problem; ...``. Catch
:class:`PlannerError` to report any of them to a user. This module imports nothing of the
project: every layer may raise these.
"""


class PlannerError(ValueError):
    """Bad input or an unusable database, described for the user."""

    def __init__(self, problems, source: str | None = None):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = tuple(problems)
        self.source = source
        text = "; ".join(self.problems)
        super().__init__(f"{source}: {text}" if source else text)


class ScenarioError(PlannerError):
    """An input (scenario field, command-line option, plan name, ...) is invalid."""


class ImportRejected(PlannerError):
    """A file was not imported (or an import cannot be undone); nothing changed."""


class StoreError(PlannerError):
    """The database cannot be opened or used (in use by another process, not a DuckDB file,
    written by a newer version, ...)."""


class StoreBusy(StoreError):
    """The database is being written by another process (or, in this process, the wait for the
    writer took too long): nothing was read or changed; try again in a moment."""
