"""``python -m sim``: the command line (see README, "Command line").

:mod:`.parsing` builds the parser, :mod:`.commands` runs a command, :mod:`.rendering` prints
its result. :func:`main` takes the arguments and returns the exit code: 0 on success, 2 on bad
input with one line on stderr (a rejected import lists its problems, one per line).
"""

from __future__ import annotations

from ..errors import ImportRejected, PlannerError
from .parsing import EXIT_BAD_INPUT, build_parser
from .rendering import print_error

__all__ = ["main", "EXIT_BAD_INPUT"]


def main(argv=None) -> int:
    """Run ``python -m sim`` with ``argv`` (default: the process's arguments); the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:          # --help (0) or a bad option (2), already printed
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    try:
        return args.func(args)
    except ImportRejected as exc:
        if args.command != "import":        # e.g. undo: "there is no import #N", one line
            print_error(f"error: {exc}")
            return EXIT_BAD_INPUT
        problems = exc.problems
        print_error(f"error: {exc.source or 'the file'}: not imported ({len(problems)} "
                    f"problem{'s' if len(problems) != 1 else ''}; the database is unchanged):")
        for problem in problems:
            print_error(f"  {problem}")
        return EXIT_BAD_INPUT
    except PlannerError as exc:
        print_error(f"error: {exc}")
        return EXIT_BAD_INPUT
