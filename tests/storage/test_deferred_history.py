"""The window opens a project without its history first; the history comes later and nothing is lost."""

from __future__ import annotations

import pytest

from territory_desktop.models import ProjectFileError
from territory_desktop.models.project import SALES_COLUMNS
from territory_desktop.services.project import (
    ensure_history,
    open_project,
    read_project_history,
    save_project,
)
from territory_desktop.storage import project_file


@pytest.fixture
def path(grid_project, tmp_path):
    grid_project.sales.loc[0] = ["a1", "2026-01", "Core", 10.0]
    grid_project.sales.loc[1] = ["a2", "2026-02", "Core", 20.0]
    grid_project.mark_dirty("sales")
    p = tmp_path / "p.gpkg"
    save_project(grid_project, p)
    return p


def test_history_read_later_then_saved_without_loss(path, tmp_path):
    p = open_project(path, history=False)
    assert p.history_pending and len(p.sales) == 0
    p.plan.assign(["u0"], "E")
    p.mark_dirty("plans")
    save_project(p)  # reads the history first
    assert not p.history_pending
    assert open_project(path).sales[SALES_COLUMNS].values.tolist() == [["a1", "2026-01", "Core", 10.0],
                                                                      ["a2", "2026-02", "Core", 20.0]]
    q = open_project(path, history=False)
    ensure_history(q, read_project_history(path))
    q.sales.loc[len(q.sales)] = ["a3", "2026-03", "Core", 5.0, None]
    q.mark_dirty("sales")
    save_project(q, tmp_path / "copy.gpkg")
    assert len(open_project(tmp_path / "copy.gpkg").sales) == 3


def test_a_save_that_would_drop_the_history_is_refused(path, tmp_path):
    p = open_project(path, history=False)
    path.unlink()  # the file it came from is gone: "save as" must write everything from the project
    with pytest.raises(ProjectFileError, match=r"history .* is not loaded yet"):
        project_file.save_new(p, tmp_path / "other.gpkg")


def test_history_read_after_another_save_is_refused(path):
    p = open_project(path, history=False)
    other = open_project(path)
    other.mark_dirty("plans")
    save_project(other)
    with pytest.raises(ProjectFileError, match="changed by another window or process"):
        ensure_history(p)
