"""Menus, toolbar and keyboard shortcuts of the main window (every tool has a shortcut and tooltip)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QSpinBox

from ..services import editing
from . import plaintext as msg
from .plaintext import esc, tooltip

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"  # inside the package: ships in the wheel


def icon(name: str) -> QIcon:
    """An icon from resources/icons; its strokes are lightened under a dark system theme."""
    from PySide6.QtCore import QByteArray
    from PySide6.QtGui import QGuiApplication, QPalette, QPixmap

    path = ICONS / f"{name}.svg"
    if not path.exists():
        return QIcon()
    app = QGuiApplication.instance()
    if app is None or app.palette().color(QPalette.ColorRole.Window).lightness() >= 128:
        return QIcon(str(path))
    svg = path.read_text().replace("#3a4756", "#d5dbe3")
    pixmap = QPixmap()
    pixmap.loadFromData(QByteArray(svg.encode()), "SVG")
    return QIcon(pixmap)


class _Builder:
    """Makes the window's actions (each with its shortcut in the tooltip) and keeps them by key."""

    def __init__(self, w: QMainWindow) -> None:
        self.w = w
        self.acts: dict[str, QAction] = {}

    def act(self, key: str, text: str, slot, shortcut=None, tip: str = "", icon_name: str | None = None,
            checkable: bool = False) -> QAction:
        a = QAction(text, self.w)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
        if icon_name:
            a.setIcon(icon(icon_name))
        a.setCheckable(checkable)
        keys = f" ({a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})" if shortcut else ""
        a.setToolTip(f"{tip or text.replace('&', '').replace('...', '')}{keys}")
        a.setStatusTip(tip or text.replace("&", ""))
        if slot is not None:
            a.triggered.connect(slot)
        self.acts[key] = a
        return a

    def menu(self, key: str, title: str):
        """A menu of the menu bar, registered as ``w.menus[key]``."""
        menu = self.w.menuBar().addMenu(title)
        self.w.menus[key] = menu
        return menu


def build_actions(w: QMainWindow) -> dict[str, QAction]:
    """Create the actions of main window ``w``, its menus (``w.menus``) and its toolbar (``w.toolbar``);
    returns actions by key."""
    b = _Builder(w)
    _undo_redo(b)
    for part in (_file_menu, _edit_menu, _view_menu, _tools_menu, _territory_menu, _help_menu, _toolbar):
        part(b)
    return b.acts


def _undo_redo(b: _Builder) -> None:
    w, acts = b.w, b.acts
    stack = w.undo_stack
    undo = stack.createUndoAction(w, "&Undo")
    undo.setShortcut(QKeySequence.StandardKey.Undo)
    undo.setIcon(icon("undo"))
    redo = stack.createRedoAction(w, "&Redo")
    redo.setShortcuts([QKeySequence.StandardKey.Redo, QKeySequence("Ctrl+Y")])
    redo.setIcon(icon("redo"))
    for action, step in ((undo, stack.undo), (redo, stack.redo)):
        action.triggered.disconnect()  # Qt's own connection calls QUndoStack's C++ slot, past the
        action.triggered.connect(step)  # stack's Python undo/redo and their refusal (PlanUndoStack)
    acts["undo"], acts["redo"] = undo, redo



def _file_menu(b: _Builder) -> None:
    w = b.w
    file_menu = b.menu("file", "&File")
    file_menu.addAction(b.act("open", "&Open...", w.open_dialog, QKeySequence.StandardKey.Open, "Open a project", "open"))
    recent = file_menu.addMenu("Open &Recent")

    def fill_recent() -> None:
        recent.clear()
        for path in w.recent_files():
            recent.addAction(Path(path).name, lambda p=path: w.maybe_save() and w.open_path_async(p)).setToolTip(tooltip(path))
        if recent.isEmpty():
            recent.addAction("(none)").setEnabled(False)

    recent.aboutToShow.connect(fill_recent)
    file_menu.addAction(b.act("save", "&Save", w.save, QKeySequence.StandardKey.Save, "Save the project", "save"))
    file_menu.addAction(b.act("save_as", "Save &As...", w.save_as, "Ctrl+Shift+S", "Save under a new name"))
    file_menu.addSeparator()
    file_menu.addAction(b.act("import", "&Import Data...", lambda: _import_dialog(w), "Ctrl+I",
                            "Import accounts, reps, sales, opportunities, visits (CSV/XLSX) or units (vector file); or drop "
                            "files on the window"))
    file_menu.addSeparator()
    for key, text, mode, shortcut, tip in (
            ("print_preview", "Print Pre&view...", "preview", "Ctrl+Alt+P",
             "Preview the wall map of the territories as it will print"),
            ("print", "&Print...", "print", QKeySequence.StandardKey.Print, "Print the wall map on a printer"),
            ("book_preview", "Map &Book Preview...", "book", "Ctrl+Alt+B",
             "Preview the map book: an overview page, then one page per territory with its accounts"),
            ("export_map", "&Export Map...", "export", "Ctrl+E", "Export the wall map or the map book to PDF, SVG or PNG")):
        file_menu.addAction(b.act(key, text, lambda _c=False, m=mode: _print(w, m), shortcut, tip))
    file_menu.addSeparator()
    file_menu.addAction(b.act("quit", "&Quit", w.close, QKeySequence.StandardKey.Quit))


def _edit_menu(b: _Builder) -> None:
    w, acts = b.w, b.acts
    edit = b.menu("edit", "&Edit")
    edit.addAction(acts["undo"])
    edit.addAction(acts["redo"])
    edit.addSeparator()
    edit.addAction(b.act("assign", "&Assign Selection", lambda: w.assign_selection(), "A",
                       "Assign the selected units to the active territory", "assign"))
    edit.addAction(b.act("unassign", "U&nassign Selection", lambda: w.assign_selection(unassign=True), "Shift+A",
                       "Make the selected units orphans"))
    edit.addAction(b.act("lock", "&Lock Selection", lambda: w.lock_selection(True), "L",
                       "Lock the selected units: the brush and the balancer leave them alone", "lock"))
    edit.addAction(b.act("unlock", "Unl&ock Selection", lambda: w.lock_selection(False), "Shift+L",
                       "Unlock the selected units", "unlock"))
    edit.addAction(b.act("move_account", "&Move Accounts...", w.move_account, "M",
                       "Move accounts by id to the active territory (account override)"))
    edit.addSeparator()
    edit.addAction(b.act("select_all", "Select &All", w.select_all, QKeySequence.StandardKey.SelectAll))


def _view_menu(b: _Builder) -> None:
    w, acts = b.w, b.acts
    view = b.menu("view", "&View")
    view.addAction(b.act("zoom_full", "&Full Extent", w.canvas.zoom_full, "Home", "Zoom to all units", "zoom-full"))
    view.addAction(b.act("zoom_selection", "Zoom to &Selection", w.canvas.zoom_to_selection, "Z",
                       "Zoom to the selected units", "zoom-selection"))
    view.addAction(b.act("zoom_territory", "Zoom to &Territory", lambda: w.canvas.zoom_to_territory(
        w.canvas.active_territory), "T", "Zoom to the active territory"))
    view.addAction(b.act("zoom_in", "Zoom &In", lambda: w.canvas.zoom_by(1.5), QKeySequence.StandardKey.ZoomIn,
                       icon_name="zoom-in"))
    view.addAction(b.act("zoom_out", "Zoom &Out", lambda: w.canvas.zoom_by(1 / 1.5), QKeySequence.StandardKey.ZoomOut,
                       icon_name="zoom-out"))
    view.addSeparator()
    view.addAction(b.act("choropleth", "&Choropleth...", w.choropleth_dialog, "C",
                       "Colour units by a metric in classes (quantiles, natural breaks, equal interval)", "choropleth"))

    def toggle(key: str):
        def run(checked: bool) -> None:
            if w.canvas.renderer is not None:
                w.canvas.renderer.layer(key).visible = checked
                w.layer_panel.reload()
                w._layers_changed()
        return run

    for key, text, shortcut in (("heatmap", "Account &Density Heatmap", "H"), ("labels", "Territory &Labels", "Shift+T"),
                                ("accounts", "A&ccounts", "Shift+C"), ("basemap", "&Basemap Tiles", None)):
        a = b.act(f"layer_{key}", text, None, shortcut, checkable=True)
        a.toggled.connect(toggle(key))
        view.addAction(a)
    view.aboutToShow.connect(lambda: [acts[f"layer_{k}"].setChecked(w.canvas.renderer.layer(k).visible)
                                      for k in ("heatmap", "labels", "accounts", "basemap")]
                             if w.canvas.renderer else None)
    view.addSeparator()
    for dock in w.docks.values():
        view.addAction(dock.toggleViewAction())


def _tools_menu(b: _Builder) -> None:
    w, acts = b.w, b.acts
    tools = b.menu("tools", "&Tools")
    group = QActionGroup(w)
    for key, text, shortcut, tip in (
            ("pan", "&Pan", "P", "Drag to pan, wheel to zoom (middle button pans in every tool)"),
            ("select", "&Select", "S", "Click a unit to select it; Shift adds, Ctrl toggles"),
            ("rect", "&Rectangle Select", "R", "Drag a rectangle to select units"),
            ("lasso", "&Lasso Select", "O", "Draw a free-hand outline to select units"),
            ("brush", "&Brush", "B", "Drag across units to paint them into the active territory; [ ] size")):
        a = b.act(f"tool_{key}", text, lambda _c=False, k=key: w.canvas.set_tool(k), shortcut, tip, key, True)
        group.addAction(a)
        tools.addAction(a)
    acts["tool_pan"].setChecked(True)
    tools.addSeparator()
    tools.addAction(b.act("validate", "&Validate Plan", w.validate, "V",
                        "Highlight orphan units, detached pieces and holes", "validate"))


def _territory_menu(b: _Builder) -> None:
    w = b.w
    terr = b.menu("territory", "Te&rritory")
    terr.addAction(b.act("new_territory", "&New Territory...", w.new_territory, "Ctrl+T",
                       "Create a territory, district, region or account-type territory", "new-territory"))
    terr.addAction(b.act("rename", "&Rename...", w.rename_territory, "F2", "Rename the selected territory"))
    terr.addAction(b.act("recolour", "Re&colour...", w.recolour_territory, "Ctrl+K", "Change the territory's colour"))
    terr.addAction(b.act("auto_colour", "Colour &Automatically", lambda: w.run_edit(
        editing.auto_colour_territories, "Colour territories automatically"), "",
        "Give every territory a distinct colour; touching territories always differ"))
    terr.addAction(b.act("set_rep", "Assign Re&p...", w.set_rep, "Ctrl+R", "Give the territory to a rep"))
    terr.addAction(b.act("set_parent", "Set &Parent...", w.set_parent, "Ctrl+Shift+P",
                       "Put territories under a district or region (hierarchy roll-up)"))
    terr.addAction(b.act("merge", "&Merge", w.merge_territories, "Ctrl+M", "Merge the selected territories into the first"))
    terr.addAction(b.act("delete", "&Delete", w.delete_territory, "Ctrl+Del", "Delete the territory (units become orphans)"))


def _help_menu(b: _Builder) -> None:
    w, acts = b.w, b.acts
    help_menu = b.menu("help", "&Help")
    help_menu.addAction(b.act("shortcuts", "&Keyboard Shortcuts", lambda: _shortcuts(w, acts), "F1"))


def _toolbar(b: _Builder) -> None:
    w, acts = b.w, b.acts
    bar = w.toolbar
    bar.setIconSize(QSize(22, 22))
    for key in ("open", "save"):
        bar.addAction(acts[key])
    bar.addSeparator()
    bar.addAction(acts["undo"])
    bar.addAction(acts["redo"])
    bar.addSeparator()
    for key in ("pan", "select", "rect", "lasso", "brush"):
        bar.addAction(acts[f"tool_{key}"])
    bar.addSeparator()
    bar.addWidget(QLabel(" Active territory "))
    bar.addWidget(w.active_combo)
    brush = QSpinBox()
    brush.setRange(3, 200)
    brush.setValue(int(w.canvas.brush_radius_px))
    brush.setSuffix(" px")
    brush.setToolTip("Brush radius in screen pixels ([ and ] change it)")
    brush.valueChanged.connect(lambda v: setattr(w.canvas, "brush_radius_px", float(v)))
    w.canvas.brushChanged.connect(lambda r: brush.setValue(round(r)))
    bar.addWidget(QLabel(" Brush "))
    bar.addWidget(brush)
    bar.addAction(acts["assign"])
    bar.addSeparator()
    for key in ("zoom_full", "zoom_selection", "choropleth", "validate", "new_territory"):
        bar.addAction(acts[key])
    for key in ("new_territory", "rename", "recolour", "merge", "delete"):
        w.territory_panel.add_button(acts[key])


def _import_dialog(w) -> None:
    from PySide6.QtWidgets import QFileDialog

    paths, _ = QFileDialog.getOpenFileNames(w, "Import data", w._last_dir(),
                                            "Data files (*.csv *.xlsx *.shp *.geojson *.gpkg *.kml *.zip)")
    if paths:
        w.import_files(paths)


def _shortcuts(w, acts: dict[str, QAction]) -> None:

    rows = "".join(f"<tr><td>{esc(a.text().replace('&', ''))}</td><td><b>{esc(a.shortcut().toString())}</b></td></tr>"
                   for a in acts.values() if not a.shortcut().isEmpty())
    msg.information_markup(w, "Keyboard shortcuts", f"<table cellspacing=3>{rows}</table><p>Arrows pan, + and - "
                           "zoom, [ and ] change the brush, Esc clears the selection.</p>")


def _print(w, what: str) -> None:
    """File menu print entries: the print engine lives in ui/print (shared with the ``print`` command)."""
    if w.project is None:
        msg.information(w, "Print", "Open a project first.")
        return
    from .print.dialogs import export_map_dialog, open_print_preview, print_map_dialog

    if what == "preview":
        open_print_preview(w, w.project)
    elif what == "book":
        open_print_preview(w, w.project, book=True)
    elif what == "print":
        print_map_dialog(w, w.project)
    else:
        export_map_dialog(w, w.project)
