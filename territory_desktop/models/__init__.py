"""Pure domain objects: Project, Plan, fields, errors, progress. No Qt, no files, no database."""

from .errors import (
    CancelledError,
    InfeasibleError,
    InvalidInputError,
    ProjectFileError,
    RowProblem,
    TerritoryError,
)
from .plan import Plan
from .progress import Progress, StopFlag, no_progress
from .project import CRS, Project

__all__ = [
    "CRS", "CancelledError", "InfeasibleError", "InvalidInputError", "Plan", "Progress", "Project",
    "ProjectFileError", "RowProblem", "StopFlag", "TerritoryError", "no_progress",
]
