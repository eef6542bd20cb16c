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
    save_project(p)  # in place, writing no history table: the file keeps its own, not read for this
    assert p.history_pending
    ensure_history(p, read_project_history(path))  # a read after this window's own save is attached
    assert p.sales[SALES_COLUMNS].values.tolist() == [["a1", "2026-01", "Core", 10.0], ["a2", "2026-02", "Core", 20.0]]
    assert open_project(path).sales[SALES_COLUMNS].values.tolist() == [["a1", "2026-01", "Core", 10.0],
                                                                      ["a2", "2026-02", "Core", 20.0]]
    q = open_project(path, history=False)
    ensure_history(q, read_project_history(path))
    q.sales.loc[len(q.sales)] = ["a3", "2026-03", "Core", 5.0, None]
    q.mark_dirty("sales")
    save_project(q, tmp_path / "copy.gpkg")
    assert len(open_project(tmp_path / "copy.gpkg").sales) == 3


def test_a_history_read_before_this_windows_save_is_still_attached(path):
    p = open_project(path, history=False)
    early = read_project_history(path)  # the window's worker reads while the user saves an edit
    p.plan.assign(["u0"], "E")
    p.mark_dirty("plans")
    save_project(p)
    p.plan.assign(["u1"], "E")
    p.mark_dirty("plans")
    save_project(p)
    ensure_history(p, early)  # the saves wrote no history: the early read is still the file's history
    assert len(p.sales) == 2 and not p.history_pending
    p.sales.loc[len(p.sales)] = ["a3", "2026-03", "Core", 5.0, None]
    p.mark_dirty("sales")
    save_project(p)
    assert len(open_project(path).sales) == 3 and open_project(path).plan.territory_of("u1") == "E"


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


def _saved_meanwhile_by_another_process(path):
    """Another window saves the project while ``p`` (opened map-first) has not read its history yet."""
    p = open_project(path, history=False)
    p.plan.assign(["u0"], "E")  # this window's edit
    p.mark_dirty("plans")
    other = open_project(path)
    other.sales.loc[len(other.sales)] = ["a3", "2026-03", "Core", 30.0, None]
    other.mark_dirty("sales")
    save_project(other)
    return p


def test_save_in_place_after_another_save_is_refused_and_points_to_save_as(path):
    p = _saved_meanwhile_by_another_process(path)
    with pytest.raises(ProjectFileError, match="use Save As"):
        save_project(p)
    assert p.history_pending  # nothing was attached that this window did not read


def test_save_as_after_another_save_takes_the_history_as_the_file_holds_it_now(path, tmp_path):
    p = _saved_meanwhile_by_another_process(path)
    with pytest.raises(ProjectFileError):
        save_project(p)  # the refused in-place save does not get the window stuck
    copy = tmp_path / "mine.gpkg"
    assert save_project(p, copy) == copy
    assert len(p.save_notes) == 1 and "revision" in p.save_notes[0] and "3 sales rows" in p.save_notes[0]
    saved = open_project(copy)
    assert saved.sales[SALES_COLUMNS].values.tolist() == [["a1", "2026-01", "Core", 10.0],
                                                          ["a2", "2026-02", "Core", 20.0],
                                                          ["a3", "2026-03", "Core", 30.0]]
    assert saved.plan.territory_of("u0") == "E"  # this window's edit is in the copy
    assert open_project(path).plan.territory_of("u0") != "E"  # and the other save is left alone
    p.plan.assign(["u1"], "E")
    p.mark_dirty("plans")
    save_project(p)  # the copy is now this window's file: in-place saves work again, with no note
    assert not p.save_notes and open_project(copy).plan.territory_of("u1") == "E"
    assert len(open_project(copy).sales) == 3


def test_save_as_when_the_file_is_gone_saves_without_the_history_and_says_so(path, tmp_path):
    p = open_project(path, history=False)
    p.plan.assign(["u0"], "E")
    p.mark_dirty("plans")
    path.unlink()
    copy = tmp_path / "rescued.gpkg"
    save_project(p, copy)
    assert len(p.save_notes) == 1 and "without the sales, visits and opportunities" in p.save_notes[0]
    saved = open_project(copy)
    assert len(saved.sales) == 0 and saved.plan.territory_of("u0") == "E"
