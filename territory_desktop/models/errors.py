"""Errors a user can act on. Messages name the row, column or file at fault."""

from __future__ import annotations

from dataclasses import dataclass


class TerritoryError(Exception):
    """Base class of every error the application reports to a user (no traceback)."""


@dataclass(frozen=True)
class RowProblem:
    """One bad input row: 1-based ``row`` as a person counts data rows (header not counted) or None."""

    row: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


class InvalidInputError(TerritoryError):
    """The input cannot be used; ``problems`` lists every bad row found (validated all at once)."""

    def __init__(self, source: str, problems: list[RowProblem] | list[str], limit: int = 50,
                 outcome: str = "nothing was changed"):
        self.source = source
        self.problems = [p if isinstance(p, RowProblem) else RowProblem(None, None, str(p)) for p in problems]
        lines = [str(p) for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"... and {len(self.problems) - limit} more")
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(f"{source}: {len(self.problems)} {noun}; {outcome}\n  " + "\n  ".join(lines))


def import_error(source: str, problems: list[RowProblem] | list[str]) -> InvalidInputError:
    """The error of a failed import: every problem listed, and the promise that nothing was written."""
    return InvalidInputError(source, problems, outcome="nothing was imported")


class InfeasibleError[R](TerritoryError):
    """A request that cannot be met; the message says why (which unit, which tolerance).

    ``result``: the best the computation reached anyway (e.g. ``InfeasibleError[BalanceResult]`` carries
    the best plan found when the tolerance was missed), or None when the request is provably impossible.
    """

    def __init__(self, message: str, result: R | None = None) -> None:
        super().__init__(message)
        self.result: R | None = result


class ProjectFileError(TerritoryError):
    """A project file that cannot be opened or saved (not a GeoPackage, newer schema, corrupt)."""


class CancelledError(TerritoryError):
    """The user cancelled a long-running operation."""
