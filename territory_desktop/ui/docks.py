"""Adding a feature's dock and menu action to the main window in one call (for ``install_*_ui`` hooks)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenu, QWidget


def add_dock(window, key: str, title: str, widget: QWidget,
             area: Qt.DockWidgetArea = Qt.DockWidgetArea.BottomDockWidgetArea) -> QDockWidget:
    """A hidden dock ``dock_<key>`` holding ``widget``, registered in ``window.docks[key]``."""
    dock = QDockWidget(title, window)
    dock.setObjectName(f"dock_{key}")
    dock.setWidget(widget)
    window.addDockWidget(area, dock)
    dock.hide()
    window.docks[key] = dock
    return dock


def menu(window, title: str) -> QMenu:
    """The menu bar's menu called ``title`` ("&View" finds "View"), created when missing."""
    plain = title.replace("&", "")
    found = next((a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == plain), None)
    return found or window.menuBar().addMenu(title)


def add_action(window, key: str, menu_title: str, text: str, shortcut: str, tip: str, slot) -> QAction:
    """An action in ``window.actions_[key]`` and at the end of the menu ``menu_title``."""
    action = QAction(text, window)
    action.setShortcut(QKeySequence(shortcut))
    action.setToolTip(f"{tip} ({shortcut})")
    action.setStatusTip(tip)
    action.triggered.connect(slot)
    window.actions_[key] = action
    menu(window, menu_title).addAction(action)
    return action
