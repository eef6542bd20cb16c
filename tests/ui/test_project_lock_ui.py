"""A window holds its project's lock while it shows it; what opening repaired is shown, as plain text."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from territory_desktop.services.project import save_project
from territory_desktop.storage import gpkg, lock

SECOND_WRITER = """
import sys
from territory_desktop.services.project import open_project, save_project
from territory_desktop.models import ProjectFileError
p = open_project(sys.argv[1])
p.mark_dirty("plans")
try:
    save_project(p)
except ProjectFileError as exc:
    print(exc)
    sys.exit(3)
"""


def test_the_window_holds_the_lock_and_other_writers_are_refused(grid_project, tmp_path, open_window):
    path = tmp_path / "p.gpkg"
    save_project(grid_project, path)
    w = open_window(None)
    assert w.open_path(str(path))
    other = subprocess.run([sys.executable, "-c", SECOND_WRITER, str(path)], capture_output=True, text=True, check=False)
    assert other.returncode == 3
    assert "p.gpkg is open in another window or process (Territory Desktop window" in other.stdout
    w.close()
    assert not lock.lock_path(path).exists()  # closing the window gives the lock back
    again = subprocess.run([sys.executable, "-c", SECOND_WRITER, str(path)], capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stdout + again.stderr


def test_open_notes_are_shown_as_plain_text(grid_project, tmp_path, open_window, qtbot):
    path = tmp_path / "p.gpkg"
    save_project(grid_project, path)
    con = sqlite3.connect(path)
    gpkg.register_functions(con)
    con.execute("DELETE FROM territories WHERE territory_id = 'E'")
    con.execute("UPDATE accounts SET attrs = '<b>[1]</b>' WHERE account_id = 'a1'")
    con.commit()
    con.close()
    w = open_window(None)
    assert w.open_path(str(path))
    boxes = [b for b in QApplication.topLevelWidgets() if isinstance(b, QMessageBox) and b.isVisible()]
    assert boxes and boxes[0].textFormat() == Qt.TextFormat.PlainText
    assert "territory E is not in the territories layer" in boxes[0].detailedText()
    boxes[0].close()
