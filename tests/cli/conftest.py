"""Fixtures of the CLI tests: the hostile project (tests/hostile_data.py) saved to a file."""

from __future__ import annotations

import pytest
from hostile_data import hostile_project


@pytest.fixture
def saved_project(tmp_path):
    """The hostile project saved as tmp_path/p.gpkg; returns the path."""
    from territory_desktop.services.project import save_project

    path = tmp_path / "p.gpkg"
    save_project(hostile_project(), path)
    return path
