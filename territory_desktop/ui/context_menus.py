"""Right-click menus on the map and on the territory table.

A right click never changes the selection, the table's current row or the active territory: the canvas
ignores the right button, and the table's right button press is taken before the view sees it. Every
menu entry names the unit or territory it acts on.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt
from PySide6.QtWidgets import QMenu

from .territory_model import ID_ROLE


def map_menu(window, p: QPointF) -> QMenu:
    """The map's menu for widget point ``p``: what to do with the unit and the territory under it."""
    canvas = window.canvas
    menu = QMenu(canvas)
    index = canvas.unit_index_at(p)
    if index is not None:
        _unit_entries(window, menu, index)
        menu.addSeparator()
    if len(canvas.selection):
        menu.addAction(f"Zoom to Selection ({len(canvas.selection):,} units)", canvas.zoom_to_selection)
    menu.addAction("Full Extent", canvas.zoom_full)
    return menu


def _unit_entries(window, menu: QMenu, index: int) -> None:
    canvas, scene = window.canvas, window.canvas.scene
    unit = str(scene.unit_ids[index])
    terr = window.project.plan.territory_of(unit)
    name = scene.names.get(terr, terr) if terr else None
    title = menu.addAction(f"{window.project.units['name'].iat[index]} ({unit}) — {name or 'no territory'}")
    title.setEnabled(False)
    active = canvas.active_territory
    targets = canvas.selected_unit_ids() if index in set(canvas.selection.tolist()) else [unit]
    if active and active != terr:
        menu.addAction(f"Assign {_units(targets)} to {scene.names.get(active, active)}",
                       lambda: _assign(window, targets, active))
    if terr:
        menu.addAction(f"Zoom to {name}", lambda: canvas.zoom_to_territory(terr))
        menu.addAction(f"Select the Units of {name}", lambda: canvas.set_selection(scene.units_of(terr)))
        menu.addAction(f"Make {name} the Active Territory", lambda: window.set_active_territory(terr))
    locked = bool(scene.locked[index])
    menu.addAction(f"{'Unlock' if locked else 'Lock'} {_units(targets)}",
                   lambda: _lock(window, targets, not locked))


def _units(ids: list[str]) -> str:
    return f"{len(ids):,} selected units" if len(ids) > 1 else f"unit {ids[0]}"


def _assign(window, unit_ids: list[str], territory_id: str) -> None:
    from .commands import AssignUnitsCommand

    scene = window.canvas.scene
    free = [u for u in unit_ids if not scene.locked[scene.index_of[u]]]
    if free:
        window.undo_stack.push(AssignUnitsCommand(window.project, dict.fromkeys(free, territory_id),
                                                  f"Assign {len(free)} units to {scene.names.get(territory_id)}"))


def _lock(window, unit_ids: list[str], locked: bool) -> None:
    from ..services import editing

    window.run_edit(lambda p: editing.set_units_locked(p, unit_ids, locked),
                    f"{'Lock' if locked else 'Unlock'} {len(unit_ids)} unit(s)")


def table_menu(window, territory_id: str) -> QMenu:
    """The territory table's menu for one row (acts on that territory, whatever row is current)."""
    name = window.canvas.scene.names.get(territory_id, territory_id) if window.canvas.scene else territory_id
    menu = QMenu(window.territory_panel.table)
    title = menu.addAction(f"{name} ({territory_id})")
    title.setEnabled(False)
    ids = [territory_id]
    menu.addAction(f"Zoom to {name}", lambda: window.canvas.zoom_to_territory(territory_id))
    menu.addAction(f"Make {name} the Active Territory", lambda: window.set_active_territory(territory_id))
    menu.addSeparator()
    menu.addAction("Rename...", lambda: window.rename_territory(ids))
    menu.addAction("Recolour...", lambda: window.recolour_territory(ids))
    menu.addAction("Assign Rep...", lambda: window.set_rep(ids))
    menu.addAction("Set Parent...", lambda: window.set_parent(ids))
    menu.addSeparator()
    menu.addAction("Delete...", lambda: window.delete_territory(ids))
    return menu


class TableRightClick(QObject):
    """Event filter on the table's viewport: a right press opens :func:`table_menu` for the row under the
    mouse and is not passed on, so the current row (the active territory) stays as it is."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.menu: QMenu | None = None
        window.territory_panel.table.viewport().installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if kind == QEvent.Type.ContextMenu:  # the menu key opens the menu of the current row
            if event.reason() == event.Reason.Keyboard:
                table = self.window.territory_panel.table
                self.open_at(table.visualRect(table.currentIndex()).center())
            return True
        is_press = kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease,
                            QEvent.Type.MouseButtonDblClick)
        if not is_press or event.button() != Qt.MouseButton.RightButton:
            return False
        if kind == QEvent.Type.MouseButtonPress:
            self.open_at(event.position().toPoint())
        return True

    def open_at(self, pos: QPoint) -> QMenu | None:
        table = self.window.territory_panel.table
        ix = table.indexAt(pos)
        if not ix.isValid() or not ix.data(ID_ROLE):
            return None
        self.menu = table_menu(self.window, str(ix.data(ID_ROLE)))
        self.menu.popup(table.viewport().mapToGlobal(pos))
        return self.menu


def install_context_menus(window) -> TableRightClick:
    """Right-click menus on the map and on the territory table."""
    canvas = window.canvas
    canvas.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def on_map(pos: QPoint) -> None:
        if canvas.scene is not None:
            menu = map_menu(window, QPointF(pos))
            menu.popup(canvas.mapToGlobal(pos))

    canvas.customContextMenuRequested.connect(on_map)
    return TableRightClick(window)
