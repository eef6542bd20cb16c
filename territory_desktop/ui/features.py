"""Window features beyond the core menus: File > New and Close, the territory table export, the scenario
switcher, Find (Ctrl+F), right-click menus, hover identify and the Help menu. ``install_window_features``
is called once by the main window; each feature uses the window's public extension points
(``add_action``, ``menus``, ``toolbar``, ``state``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence

from ..models import Project, TerritoryError
from ..services.printing import safe_file_name
from ..services.territory_table import export_territory_table
from . import plaintext as msg
from .dialogs import ask_table_path


def new_project(window, ask_import: bool = True) -> Project | None:
    """File > New: an empty project (after asking to save the open one), then the import dialog."""
    if not window.maybe_save():
        return None
    project = Project(name="Untitled")
    window.set_project(project)
    window.statusBar().showMessage("New project: import units first (a vector file), then accounts and reps", 8000)
    if ask_import:
        window.actions_["import"].trigger()
    return project


def close_project(window) -> bool:
    """File > Close: ask to save, then show no project. True when closed."""
    if window.project is None or not window.maybe_save():
        return False
    window.set_project(None)
    return True


def suggested_table_path(project: Project, suffix: str = ".xlsx") -> Path:
    folder = Path(project.path).resolve().parent if project.path else Path.home()
    return folder / safe_file_name(f"{project.name} territories", suffix)


def export_table(window, path: str | None = None) -> Path | None:
    """Territory > Export Table...: the territory table (active scenario) to CSV or XLSX."""
    project = window.project
    if project is None:
        return None
    if path is None:
        path = ask_table_path(window, "Export territory table", str(suggested_table_path(project)))
        if not path:
            return None
    try:
        written = export_territory_table(project, path)
    except TerritoryError as exc:
        msg.warning(window, "Export territory table", str(exc))
        return None
    window.statusBar().showMessage(f"Territory table written to {written}", 6000)
    return written


def _action(window, text: str, slot, shortcut=None, tip: str = "") -> QAction:
    action = QAction(text, window)
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
    action.setStatusTip(tip)
    action.setToolTip(tip)
    action.triggered.connect(lambda _checked=False: slot())
    return action


def _install_file_actions(window) -> None:
    file_menu = window.menus["file"]
    first = file_menu.actions()[0]
    new = _action(window, "&New", lambda: new_project(window), QKeySequence.StandardKey.New,
                  "A new empty project; then import its units, accounts and reps")
    file_menu.insertAction(first, new)
    window.actions_["new"] = new
    close = _action(window, "&Close", lambda: close_project(window), QKeySequence.StandardKey.Close,
                    "Close the project (asks to save changes)")
    file_menu.insertAction(window.actions_["save"], close)
    window.actions_["close"] = close
    export = _action(window, "E&xport Table...", lambda: export_table(window), "Ctrl+Shift+E",
                     "Write the territory table of the shown scenario to Excel (.xlsx) or CSV")
    window.add_action("territory", "export_table", export)


@dataclass
class WindowFeatures:
    """What :func:`install_window_features` made; the window keeps it as ``window.features``."""

    scenarios: object
    search: object
    table_right_click: object
    hover: object


def install_window_features(window) -> WindowFeatures:
    from .comments_dock import install_comments_ui
    from .context_menus import install_context_menus
    from .field_packages import install_field_packages
    from .help import install_help
    from .identify import HoverIdentify
    from .review_ui import install_review_ui
    from .scenario_manager import install_scenario_manager
    from .scenarios import install_scenario_switcher
    from .search_bar import install_search

    _install_file_actions(window)
    features = WindowFeatures(install_scenario_switcher(window), install_search(window),
                              install_context_menus(window), HoverIdentify(window))
    install_field_packages(window)
    install_scenario_manager(window)
    install_review_ui(window)
    install_comments_ui(window)
    install_help(window)
    return features
