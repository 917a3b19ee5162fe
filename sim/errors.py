"""The project's own validation error."""


class ScenarioError(ValueError):
    """An input (scenario field, command-line option, ...) is invalid.

    ``problems`` lists every problem found, each naming the offending field, e.g.
    ``stages[3].rate.p90 must be > p10``; ``source`` names where the input came from (a file),
    when known. ``str(error)`` is one line: ``source: problem; problem; ...``.
    """

    def __init__(self, problems, source: str | None = None):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = tuple(problems)
        self.source = source
        text = "; ".join(self.problems)
        super().__init__(f"{source}: {text}" if source else text)
