"""The package's exceptions: one family, so the CLI can tell a user's mistake from a bug.

Every error a user can cause (a missing or corrupt file, a bad argument, a run
that diverged) is a :class:`GcnrecError` with a one-line message that names the
file, row or argument and says how to fix it. The command line prints such
errors as one line and exits with status 2; anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations


class GcnrecError(Exception):
    """Base class: a problem the user can fix, described in one line."""


class DataError(GcnrecError, ValueError):
    """A data file is missing, corrupt or malformed (the message names it)."""


class ConfigError(GcnrecError, ValueError):
    """An argument or setting is out of range (the message names it)."""


class RunError(GcnrecError):
    """A run directory is incomplete, corrupt or inconsistent (the message names the file)."""


class TrainingError(GcnrecError):
    """Training diverged: a loss or metric became NaN or infinite (the message names the epoch)."""
