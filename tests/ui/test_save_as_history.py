"""The window's Save As after another process saved while the history was still loading: saved, and told."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog

from territory_desktop.models.project import SALES_COLUMNS
from territory_desktop.services.project import open_project, save_project
from territory_desktop.ui import main_window


def test_save_as_is_not_stuck_and_says_where_the_history_came_from(grid_project, tmp_path, open_window,
                                                                   monkeypatch):
    path = tmp_path / "p.gpkg"
    grid_project.sales.loc[0] = ["a1", "2026-01", "Core", 10.0]
    grid_project.mark_dirty("sales")
    save_project(grid_project, path)
    mine = open_project(path, history=False)  # the map first, as the window opens projects
    other = open_project(path)
    other.sales.loc[1] = ["a2", "2026-02", "Core", 20.0, None]
    other.mark_dirty("sales")
    save_project(other)  # another process saves before this window has read the history
    shown = []
    monkeypatch.setattr(main_window.msg, "warning", lambda _parent, title, text: shown.append((title, text)))
    monkeypatch.setattr(main_window.msg, "critical", lambda _parent, title, text: shown.append((title, text)))
    w = open_window(mine)
    copy = tmp_path / "mine.gpkg"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(copy), ""))
    assert w.save_as() is True
    assert [t for t, _ in shown] == ["Project saved"] and "2 sales rows" in shown[0][1]
    assert open_project(copy).sales[SALES_COLUMNS].values.tolist() == [["a1", "2026-01", "Core", 10.0],
                                                                      ["a2", "2026-02", "Core", 20.0]]
