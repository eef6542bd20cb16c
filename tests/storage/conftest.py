"""Fixtures of the storage tests."""

from __future__ import annotations

import pytest

from territory_desktop.services.project import save_project


@pytest.fixture
def path(grid_project, tmp_path):
    """The 3x3 grid project saved to p.gpkg (a test module may override it with its own)."""
    p = tmp_path / "p.gpkg"
    save_project(grid_project, p)
    return p
