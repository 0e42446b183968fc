"""One flat family of errors. Every error a user can cause is a :class:`BlackoutError`.

The CLI turns any ``BlackoutError`` into one line on stderr and exit status 2;
anything else is an internal error (exit status 1).
"""

from __future__ import annotations

__all__ = [
    "BlackoutError",
    "CaseFormatError",
    "ConvergenceError",
    "ResourceLimitError",
    "ScenarioError",
    "UnknownCaseError",
    "UnknownElementError",
]


class BlackoutError(Exception):
    """Base class of every error caused by input the user gave."""


class CaseFormatError(BlackoutError):
    """A case file is malformed: the message names the file, table, row and field."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        table: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path, self.table, self.row, self.field = path, table, row, field
        where = []
        if path:
            where.append(str(path))
        if table:
            where.append(f"table '{table}'")
        if row is not None:
            where.append(f"row {row}")
        if field:
            where.append(f"field '{field}'")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class UnknownCaseError(BlackoutError):
    """A case name is neither a built-in case nor an existing file."""


class UnknownElementError(BlackoutError):
    """An element name does not exist in the grid; the message lists the closest matches."""


class ScenarioError(BlackoutError):
    """A scenario file is invalid: the message names the file, field path and what is allowed."""


class ConvergenceError(BlackoutError):
    """A power flow did not converge and the caller asked for strict mode."""


class ResourceLimitError(BlackoutError):
    """A run would pass a resource bound (events, time steps): the message names the
    input that drove it (see :mod:`blackout.bounds`)."""
