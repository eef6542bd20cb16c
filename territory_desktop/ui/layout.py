"""The main window's dock layout: map first, one column of docks on the right, remembered in QSettings.

Default at 1600x1000: the map takes about 70 % of the width; on the right the Territories dock (table
with territory, rep, workload and Dev % visible without scrolling) above a tabbed Layers / Properties /
Validation dock. Dock positions, sizes and the table's column layout are saved on close
(``QMainWindow.saveState``) and restored at start; docks created later (Routes, Balance Proposal) take
their saved place through ``restoreDockWidget``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

#: bump when the default layout changes so older saved layouts are not applied to new docks
STATE_VERSION = 2
RIGHT_FRACTION = 0.29  # of the window width for the dock column (~460 px at 1600)
RIGHT_MIN, RIGHT_MAX = 400, 560


def create_docks(window: QMainWindow, panels: dict[str, tuple[str, object]]) -> dict[str, QDockWidget]:
    """One QDockWidget per ``key -> (title, widget)``, all in the right dock area; the Territories dock
    on top, the others tabbed below it (Layers first)."""
    docks: dict[str, QDockWidget] = {}
    for key, (title, widget) in panels.items():
        dock = QDockWidget(title, window)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(widget)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        docks[key] = dock
    rest = [d for k, d in docks.items() if k != "territories"]
    for other in rest[1:]:
        window.tabifyDockWidget(rest[0], other)
    if rest:
        rest[0].raise_()
    return docks


def apply_default_sizes(window: QMainWindow) -> None:
    """Dock column width and the split between the table and the tabbed docks for the window's size."""
    docks = window.docks
    width = int(min(RIGHT_MAX, max(RIGHT_MIN, window.width() * RIGHT_FRACTION)))
    window.resizeDocks([docks["territories"]], [width], Qt.Orientation.Horizontal)
    below = docks.get("layers")
    if below is not None:
        h = max(window.height() - 140, 300)
        window.resizeDocks([docks["territories"], below], [int(h * 0.75), int(h * 0.25)], Qt.Orientation.Vertical)


def restore_layout(window: QMainWindow, settings) -> bool:
    """Restore the saved dock layout and table columns; False (defaults applied) when there is none."""
    state = settings.value("window/state")
    header = settings.value("territories/header")
    if header is not None:
        window.territory_panel.table.horizontalHeader().restoreState(header)
    if state is not None and window.restoreState(state, STATE_VERSION):
        return True
    apply_default_sizes(window)
    return False


def save_layout(window: QMainWindow, settings) -> None:
    settings.setValue("window/state", window.saveState(STATE_VERSION))
    settings.setValue("territories/header", window.territory_panel.table.horizontalHeader().saveState())


def adopt_dock(window: QMainWindow, dock: QDockWidget) -> None:
    """A dock created after start-up takes its saved place (if any): call right after adding it."""
    window.restoreDockWidget(dock)
