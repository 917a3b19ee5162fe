"""CSV import of actuals into the store: validated, atomic, idempotent, undoable."""

from .batch import *  # noqa: F401,F403 - the public operations, re-exported
