"""The main window: map canvas in the centre, docks for layers, territories, properties and validation,
menus and toolbar with shortcuts, status bar with cursor coordinates and selection totals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QColorDialog,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
)

from ..models import InvalidInputError, Project, TerritoryError
from ..services import editing
from ..services.metrics import unit_measures
from . import plaintext as msg
from .actions import build_actions
from .canvas import MapCanvas
from .commands import AccountOverrideCommand, PlanUndoStack, ProjectEditCommand
from .features import install_window_features
from .layers import ChoroplethLayer, ContextLayer, HeatmapLayer, PointsLayer, RepLayer, bundled_state_outlines
from .layout import adopt_dock, create_docks, restore_layout, save_layout
from .panels import LayerPanel, PropertiesPanel, TerritoryPanel, ValidationPanel
from .plaintext import esc, window_title
from .state import AppState
from .territory_model import TerritoryTableModel, compact, hierarchy_model
from .validation_view import ValidationController

MAX_RECENT = 8
#: modules of the tools installed after the first paint at start-up (they import the solvers and pyqtgraph)
TOOL_MODULES = ("territory_desktop.ui.balance_dialog", "territory_desktop.ui.routes", "territory_desktop.ui.kpi_dock",
                "territory_desktop.ui.leads_panel")
DATA_SUFFIXES = {".csv", ".xlsx", ".xls", ".shp", ".geojson", ".json", ".gpkg", ".kml", ".zip"}




class MainWindow(QMainWindow):
    """Territory Desktop's main window for one project at a time."""

    def __init__(self, project: Project | None = None, settings: QSettings | None = None,
                 defer_tools: bool = False) -> None:
        super().__init__()
        self.settings = settings or QSettings("TerritoryDesktop", "TerritoryDesktop")
        #: the Qt-free application state (project, scenario, selection, jobs) the docks subscribe to
        self.state = AppState()
        self.project: Project | None = None
        self.undo_stack = PlanUndoStack(self)
        self.canvas = MapCanvas(undo_stack=self.undo_stack)
        self.setCentralWidget(self.canvas)
        self.table_model = TerritoryTableModel()
        self.territory_panel = TerritoryPanel(self.table_model)
        self.layer_panel = LayerPanel()
        self.properties = PropertiesPanel()
        self.validation = ValidationPanel()
        self.validation_view = ValidationController(self)
        self.legend = QLabel()
        self._unit_measures = None
        self._choropleth = ("workload_hours", "quantiles", 5)
        self.docks: dict[str, QDockWidget] = {}
        #: None until the saved dock layout is applied; docks added later then take their saved place
        self._layout_restored: bool | None = None
        #: extra choropleth metrics: name -> function returning one value per unit of the canvas scene
        self.metric_providers = {}
        self.menus: dict = {}
        self._routes = None  # the Routes dock's widget, the Balance action and the KPI dock: _install_tools
        self.balance_action = None
        self.kpis = None
        self._pending_scene = None  # the MapScene set_project was given, for _show_project
        self._build_docks()
        self.active_combo = QComboBox()
        self.active_combo.setMinimumWidth(180)
        self.active_combo.setToolTip("Active territory: the brush and Assign (A) paint units into it")
        self.state.project_changed.connect(self._show_project)  # first: the docks' listeners see the new canvas
        self.state.scenario_changed.connect(self._show_scenario)
        self.state.selection_changed.connect(self._selection_changed)
        self.toolbar = self.addToolBar("Main")
        self.toolbar.setObjectName("toolbar_main")
        self.actions_ = build_actions(self)
        self.features = install_window_features(self)
        if defer_tools:  # start-up: the routing, balancing and KPI UI once the map is painted (or after 4 s)
            from .loading import import_then

            self.canvas.firstPainted.connect(lambda: import_then(TOOL_MODULES, self._install_tools),
                                             Qt.ConnectionType.SingleShotConnection)
            QTimer.singleShot(4000, lambda: import_then(TOOL_MODULES, self._install_tools))
        else:
            self._install_tools()
        self._status_widgets()
        self._totals_timers()
        self._connect()
        self.setAcceptDrops(True)
        self.resize(1600, 1000)
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        self._layout_restored = restore_layout(self, self.settings)
        self.set_project(project)
        self._tool_changed(self.canvas.tool)

    def _totals_timers(self) -> None:
        """The totals' throttle and, during a brush stroke, the fallback when no map paint follows it."""
        self._totals_timer = QTimer(self, singleShot=True, interval=60, timeout=self._totals_timeout)
        #: during a brush stroke: the throttle's time is up and the refresh waits for the map's next paint
        self._totals_due = False
        self._totals_fallback = QTimer(self, singleShot=True, interval=40, timeout=self._refresh_if_due)
        #: a change asked for a totals refresh that has not run yet
        self._totals_owed = False
        #: units reassigned since the last totals refresh (None: something else changed ownership too)
        self._changed_units: set[str] | None = set()

    def _build_docks(self) -> None:
        """Territories on top of one right-hand column, Layers / Properties / Validation tabbed below it
        (ui.layout); registered like every other dock, so ``docks`` and ``dock_widget`` find them."""
        self.docks.update(create_docks(self, {"territories": ("Territories", self.territory_panel),
                                              "layers": ("Layers", self.layer_panel),
                                              "properties": ("Properties", self.properties),
                                              "validation": ("Validation", self.validation)}))

    def _install_tools(self) -> None:
        """Routes, balancing and KPI UI; their modules import the solvers (scipy, OR-Tools) and pyqtgraph,
        so start-up installs them once the window is on screen. Idempotent."""
        if self.balance_action is not None:
            return
        from .balance_dialog import install_balance_ui
        from .kpi_dock import install_kpi_ui
        from .leads_panel import install_leads_ui
        from .quota_dialog import install_quota_ui
        from .routes import install_routing_ui

        self._routes = install_routing_ui(self)
        adopt_dock(self, self.docks["routes"])  # after install_routing_ui hid it: the saved state wins
        self.balance_action = install_balance_ui(self)
        self.kpis = install_kpi_ui(self)
        self.leads_panel = install_leads_ui(self)
        install_quota_ui(self)

    def _connect(self) -> None:
        self.canvas.selectionChanged.connect(self.state.set_selection)
        self.canvas.cursorMoved.connect(lambda lon, lat: self.coords.setText(f"{lat:.4f}°, {lon:.4f}°"))
        self.canvas.toolChanged.connect(self._tool_changed)
        self.canvas.assignmentChanged.connect(self._assignment_changed)
        self.canvas.accountOverridesChanged.connect(self._overrides_changed)
        self.canvas.framePainted.connect(self._map_painted)
        self.canvas.strokeEnded.connect(self._stroke_ended)
        self.layer_panel.changed.connect(self._layers_changed)
        self.territory_panel.activated.connect(self.canvas.zoom_to_territory)
        self.territory_panel.current.connect(self.set_active_territory)
        self.active_combo.currentIndexChanged.connect(
            lambda _i: setattr(self.canvas, "active_territory", self.active_combo.currentData()))
        self.validation.check.clicked.connect(self.validate)
        self.validation.picked.connect(self._select_and_zoom)
        self.undo_stack.cleanChanged.connect(lambda clean: self.setWindowModified(not clean))
        self.undo_stack.indexChanged.connect(lambda _i: self._command_done())

    # ---- extension points: docks and actions other modules add (nothing sets attributes on the window)
    def add_dock(self, key: str, title: str, widget, area: Qt.DockWidgetArea,
                 tabify_with: str | None = None) -> QDockWidget:
        """Add ``widget`` as dock ``key`` (object name ``dock_KEY``, restored by saveState)."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        if tabify_with in self.docks:
            self.tabifyDockWidget(self.docks[tabify_with], dock)
        self.docks[key] = dock
        if self._layout_restored is not None:  # added after start-up: it takes its saved place, if any
            adopt_dock(self, dock)
        return dock

    def add_action(self, menu: str, key: str, action, toolbar: bool = False, separator: bool = True) -> None:
        """Put ``action`` (as ``actions_[key]``) in menu ``menu`` ("file", "tools", ...) and the toolbar."""
        if separator:
            self.menus[menu].addSeparator()
        self.menus[menu].addAction(action)
        if toolbar:
            self.toolbar.addAction(action)
        self.actions_[key] = action

    def dock_widget(self, key: str):
        """The widget of dock ``key`` (None until that dock exists)."""
        dock = self.docks.get(key)
        return dock.widget() if dock is not None else None

    @property
    def routes_dock(self):
        return self._routes

    @property
    def balance_dock(self) -> QDockWidget | None:
        return self.docks.get("balance")

    @property
    def balance_panel(self):
        return self.dock_widget("balance")

    # ---- project
    def set_project(self, project: Project | None, scene=None) -> None:
        """Show ``project`` (None = empty window; ``scene``: its MapScene if already built, e.g. by the
        loader); clears the undo history. Goes through the app state, whose ``project_changed`` event
        every dock follows."""
        self._pending_scene = scene
        self.state.set_project(project)

    def _show_project(self, project: Project | None, clear_history: bool = True) -> None:
        scene, self._pending_scene = self._pending_scene, None
        if project is not self.project:
            self._release_project_lock()
            self.project = project
            self._hold_project_lock()
        if clear_history:
            self.undo_stack.clear()
        self._unit_measures = None
        if project is None:
            self.canvas.clear()
        else:
            self.canvas.set_project(project, scene)
            self._install_layers()
            if QApplication.instance().palette().color(QPalette.ColorRole.Window).lightness() < 128:
                self.canvas.renderer.background = QColor("#25292e")  # dark system theme
        self.table_model.set_project(project)
        self.validation_view.reset()
        self.layer_panel.set_renderer(self.canvas.renderer)
        self._reload_territories()
        self._update_title()
        self.setWindowModified(not clear_history and not self.undo_stack.isClean())
        collector = getattr(QApplication.instance(), "garbage_collector", None)  # the app's (ui.app.application)
        if collector is not None and project is not None:
            QTimer.singleShot(0, collector.settle)  # the project's objects leave the collector's rounds

    def _hold_project_lock(self) -> None:
        """While a project is shown, its lock file says so to other windows and processes."""
        from ..services.project import hold_for_editing

        path = getattr(self.project, "path", None)
        self._locked_path = None
        if path:
            busy = hold_for_editing(path, "Territory Desktop window")
            if busy is None:
                self._locked_path = path
            else:
                self.statusBar().showMessage(f"Read-only: {busy}", 15000)

    def _release_project_lock(self) -> None:
        from ..services.project import release_editing

        release_editing(getattr(self, "_locked_path", None))
        self._locked_path = None

    def mark_modified(self) -> None:
        """Changes outside the undo stack (an import, a route plan): ask before closing, show the star."""
        self.undo_stack.resetClean()
        self.setWindowModified(True)

    def _update_title(self) -> None:
        project = self.project
        name = project.name if project else "No project"
        path = getattr(project, "path", None) if project else None
        self.setWindowTitle(f"{window_title(name)}{' — ' + window_title(Path(path).name) if path else ''}[*]"
                            " — Territory Desktop")

    def _show_scenario(self, _scenario_id: str | None) -> None:
        """Map, tables, totals and the territory list follow the active scenario."""
        if self.project is None:
            return
        self.canvas.refresh()
        self.canvas.set_selection(np.array([], dtype=int))
        self._unit_measures = None
        self.validation_view.reset()  # another plan: the old problems and the unit adjacency go
        self.table_model.set_project(self.project)
        self._reload_territories()
        self._refresh_account_colours()
        if getattr(self, "_highlighted", None) is not None:  # the outline follows the new scenario's shape
            self.highlight_territory(self._highlighted)

    def _install_layers(self) -> None:
        scene, renderer, p = self.canvas.scene, self.canvas.renderer, self.project
        if len(p.accounts):
            renderer.extras["accounts"] = PointsLayer(scene, p.accounts.geometry.to_numpy())
            renderer.extras["heatmap"] = HeatmapLayer(scene, p.accounts.geometry.to_numpy())
        if len(p.reps):
            renderer.extras["reps"] = RepLayer(scene, p.reps.geometry.to_numpy(), p.reps["name"].astype(str).tolist())
        if scene.crs == "EPSG:5070":
            states = bundled_state_outlines()
            if states is not None:
                renderer.extras["context"] = ContextLayer(scene, states)
        saved = self.settings.value("layers")
        if isinstance(saved, str) and saved:
            state = dict(item.split("=", 1) for item in saved.split(";") if "=" in item)
            for layer in renderer.layers:
                if layer.key in state:
                    visible, opacity = state[layer.key].split(",")
                    layer.visible, layer.opacity = visible == "1", float(opacity)
            order = [k for k in state if any(layer.key == k for layer in renderer.layers)]
            renderer.layers.sort(key=lambda layer: order.index(layer.key) if layer.key in order else len(order))
        if renderer.layer("choropleth").visible or renderer.layer("basemap").visible:
            self._layers_changed()

    def _reload_territories(self) -> None:
        current = self.active_combo.currentData()
        self.active_combo.blockSignals(True)
        self.active_combo.clear()
        if self.project is not None:
            terr = self.project.scenario_territories()
            for row in terr[terr["kind"] != "account"].itertuples():
                self.active_combo.addItem(self._swatch(row.territory_id), str(row.name), str(row.territory_id))
        i = self.active_combo.findData(current)
        self.active_combo.setCurrentIndex(max(i, 0))
        self.active_combo.blockSignals(False)
        self.canvas.active_territory = self.active_combo.currentData()
        self.table_model.refresh()
        self.territory_panel.show_hierarchy(hierarchy_model(self.project, self.table_model.frame)
                                            if self.project is not None else None)
        self._update_totals_label()

    def _swatch(self, territory_id):
        from PySide6.QtGui import QIcon, QPixmap

        pix = QPixmap(12, 12)
        pix.fill(self.canvas.scene.colour_of(str(territory_id)) if self.canvas.scene else Qt.GlobalColor.gray)
        return QIcon(pix)

    def set_active_territory(self, territory_id: str | None) -> None:
        """Make ``territory_id`` the brush's territory and outline it on the map."""
        i = self.active_combo.findData(territory_id)
        if i >= 0:
            self.active_combo.setCurrentIndex(i)
        self.highlight_territory(territory_id)

    def highlight_territory(self, territory_id: str | None) -> None:
        """Outline one territory in a bright overlay (the one picked in the table). The overlay draws the
        territory's path as the map paints it (:class:`TerritoryOverlay`), so it follows edits and zoom by
        itself: an edit's own repaint covers the outline's new place, and nothing is rebuilt per refresh."""
        from PySide6.QtGui import QPainterPath

        from .renderer import TerritoryOverlay

        self._highlighted = territory_id
        scene = self.canvas.scene
        if scene is None:
            return
        old = self.canvas.renderer.overlays.get("territory")
        if isinstance(old, TerritoryOverlay) and old.territory == territory_id:
            return
        overlay = TerritoryOverlay(QPainterPath(), QColor(0, 0, 0, 0), QColor("#00d5ff"), 3.0, territory=territory_id)
        self.canvas.renderer.overlays["territory"] = overlay
        level = scene.level_for(self.canvas.px)
        rect = overlay.resolve(scene, level).boundingRect()
        if old is not None:  # repaint where the outline was and where it is
            rect = rect.united(old.resolve(scene, level).boundingRect())
        self.canvas.update_drawing_rect(rect, margin_px=4)

    # ---- live updates
    def _assignment_changed(self, ids: list) -> None:
        if self._changed_units is not None:
            self._changed_units.update(ids)  # the next totals refresh moves just these units' measures
        self._unit_measures = None
        self._schedule_totals()
        self.validation_view.plan_changed()

    def _overrides_changed(self, _account_ids: list) -> None:
        """Accounts changed owner regardless of their units: the next totals refresh recomputes all."""
        self._changed_units = None
        self._assignment_changed([])

    def _schedule_totals(self) -> None:
        """Refresh the totals at the next idle moment (so a burst of plan changes refreshes once); during a
        brush stroke at most every 120 ms (a throttle, not a debounce, so the totals stay live while the
        planner paints). A command on the undo stack refreshes at once (:meth:`_command_done`)."""
        self._totals_owed = True
        if not self._totals_timer.isActive():
            self._totals_timer.start(120 if self.canvas.stroking() else 0)

    def _command_done(self) -> None:
        """A command was pushed, undone or redone. If it changed the plan (a refresh is pending) outside a
        brush stroke, its totals are computed and the table painted now, before the map's repaint (which
        the canvas queues for the next event-loop turn); otherwise the totals refresh when idle."""
        if self.canvas.stroking() or not self._totals_timer.isActive():
            self._schedule_totals()
            return
        self._totals_timer.stop()
        self._refresh_totals(paint_now=True)

    def _totals_timeout(self) -> None:
        """The throttle's time is up. During a brush stroke the refresh then waits for the map's next paint
        and runs in the event-loop turn after it (:meth:`_map_painted`), so that a refresh and a map
        repaint do not stall the same turn; without a paint within 40 ms it runs anyway."""
        if self.canvas.stroking():
            self._totals_due = True
            self._totals_fallback.start()
            return
        self._refresh_totals()

    def _stroke_ended(self) -> None:
        """After a stroke, one piece per event-loop turn: the canvas places the labels and repaints (25 ms
        on), then the totals a stroke's throttle still owes (90 ms on), then the route columns (12 ms after
        that refresh, or 90 ms on when none was owed); together at the release they stalled 66-75 ms."""
        owed = self._totals_timer.isActive() or self._totals_due
        self._totals_timer.stop()
        self._totals_fallback.stop()
        self._totals_due = False
        if owed:
            QTimer.singleShot(90, self._refresh_owed)  # not held: its route columns follow 12 ms later
        else:
            self.table_model.release_route(delay_ms=90)

    def _map_painted(self) -> None:
        if self._totals_due:
            self._totals_due = False
            self._totals_fallback.stop()
            QTimer.singleShot(4, self._refresh_owed)  # a timer: a posted call joined the paint's pass

    def _refresh_owed(self) -> None:
        """A timer's refresh: only when a change asked for one since the last refresh (the fallback and
        the post-paint timer could both fire for one change, and a refresh asked for nothing recomputes
        everything)."""
        if self._totals_owed:
            self._refresh_totals()

    def _refresh_if_due(self) -> None:
        if self._totals_due:
            self._totals_due = False
            self._refresh_totals()

    def _refresh_totals(self, paint_now: bool = False) -> None:
        """Totals of the table and the panel's summary line (painted at once with ``paint_now``), then the
        highlight, account colours and selection totals that follow the plan."""
        self._totals_due = self._totals_owed = False
        if self.project is None:
            return
        # a stroke's refresh fills the route columns in the next turn (two short turns); a command's at once,
        # so the one repaint below shows the whole table (that repaint may also paint a map made dirty by
        # the same change, e.g. a cleared validation overlay, after the table)
        self.table_model.hold_route = self.canvas.stroking()
        # only units reassigned since the last refresh: the model moves their measures (anything else,
        # or a refresh no reassignment asked for, recomputes from scratch)
        units, self._changed_units = self._changed_units, set()
        self.table_model.refresh(defer_route=not paint_now, units=units or None)
        self._update_totals_label()
        if paint_now:
            self.territory_panel.repaint_rows(self.table_model.changed_rows)
        if getattr(self, "_highlighted", None) is not None:
            self.highlight_territory(self._highlighted)
        self._refresh_account_colours()
        self._selection_changed(self.canvas.selected_unit_ids())

    def _refresh_account_colours(self) -> None:
        """Colour account dots by their owning territory (only while the accounts layer is shown)."""
        from ..services.metrics import account_owners

        layer = self.canvas.renderer.extras.get("accounts") if self.canvas.renderer else None
        if layer is None or not self.canvas.renderer.layer("accounts").visible:
            return
        scene = self.canvas.scene
        owners = account_owners(self.project).to_numpy()
        layer.set_fill(np.array([scene.colour_of(o).name() if isinstance(o, str) else "#ffffff" for o in owners],
                                dtype=object))
        self.canvas.update()

    def _update_totals_label(self) -> None:
        t = self.table_model.totals()
        self.territory_panel.totals.setText(
            f"{len(self.table_model.frame)} territories · {int(t.get('units', 0)):,} units · "
            f"{int(t.get('accounts', 0)):,} accounts · {t.get('workload_hours', 0):,.0f} h/yr · "
            f"potential {compact(t.get('potential', 0))}" if t else "")
        self.territory_panel.totals.setToolTip(f"Potential {t.get('potential', 0):,.0f}" if t else "")

    def _status_widgets(self) -> None:
        bar = self.statusBar()
        self.tool_label, self.selection_label, self.coords = QLabel(), QLabel(), QLabel()
        self.coords.setMinimumWidth(150)
        bar.addWidget(self.tool_label)
        bar.addWidget(self.selection_label, 1)
        bar.addPermanentWidget(self.legend)
        bar.addPermanentWidget(self.coords)

    def selection_totals(self, unit_ids: list[str]) -> dict[str, float]:
        """Accounts, workload (h/yr) and potential of the accounts lying in ``unit_ids``."""
        if self.project is None or not unit_ids:
            return {"units": len(unit_ids), "accounts": 0, "workload_hours": 0.0, "potential": 0.0}
        if self._unit_measures is None:
            self._unit_measures = unit_measures(self.project)
        m = self._unit_measures.loc[unit_ids]
        return {"units": len(unit_ids), "accounts": float(m["accounts"].sum()),
                "workload_hours": float(m["workload_hours"].sum()), "potential": float(m["potential"].sum())}

    def _selection_changed(self, unit_ids) -> None:
        unit_ids = list(unit_ids)
        t = self.selection_totals(unit_ids)
        self.selection_label.setText(
            f"Selected: {t['units']:,} units · {int(t['accounts']):,} accounts · {t['workload_hours']:,.0f} h/yr"
            f" · potential {t['potential']:,.0f}" if unit_ids else "No selection")
        self._show_properties(unit_ids)

    def _show_properties(self, unit_ids: list[str]) -> None:
        if self.project is None or not unit_ids:
            self.properties.show_units([], {})
            return
        units = self.project.units.set_index("unit_id")
        rows = []
        for u in unit_ids[:PropertiesPanel.MAX_ROWS]:
            r = units.loc[u]
            terr = self.project.plan.territory_of(u)
            name = self.canvas.scene.names.get(terr, "—") if terr else "— (orphan)"
            rows.append((str(r.get("name", u)), str(u), str(name), bool(r.get("locked", False))))
        self.properties.show_units(rows, self.selection_totals(unit_ids), count=len(unit_ids))

    def _tool_changed(self, tool: str) -> None:
        names = {"pan": "Pan (drag, wheel to zoom)", "select": "Select (Shift adds, Ctrl toggles)",
                 "rect": "Rectangle select", "lasso": "Lasso select",
                 "brush": "Brush: drag to paint units into the active territory ([ and ] size)"}
        self.tool_label.setText(names.get(tool, tool))
        action = self.actions_.get(f"tool_{tool}")
        if action is not None and not action.isChecked():
            action.setChecked(True)

    def _layers_changed(self) -> None:
        renderer = self.canvas.renderer
        if renderer is not None and renderer.layer("choropleth").visible and "choropleth" not in renderer.extras:
            self.apply_choropleth(*self._choropleth)
        if renderer is not None and renderer.layer("basemap").visible and "basemap" not in renderer.extras:
            from .tiles import TileLayer

            url = str(self.settings.value("basemap/url", "") or "") or None
            renderer.extras["basemap"] = TileLayer(self.canvas.scene.crs, **({"url": url} if url else {}),
                                                   on_tile=self.canvas.update)
        self._update_legend()
        self._refresh_account_colours()
        self.canvas.update()

    # ---- edits
    def run_edit(self, edit, text: str) -> object | None:
        """Apply a services.editing call as one undo step; show an error dialog if it is refused."""
        if self.project is None:
            return None
        command = ProjectEditCommand(self.project, edit, text, after=self._after_edit)
        try:
            result = command.apply_first()
        except (TerritoryError, ValueError) as exc:
            msg.warning(self, text, str(exc))
            return None
        self.undo_stack.push(command)
        return result

    def _after_edit(self) -> None:
        self.canvas.refresh_locks()
        self.canvas.refresh()
        self._unit_measures = None
        self._reload_territories()

    def assign_selection(self, territory_id: str | None = None, unassign: bool = False) -> None:
        target = None if unassign else (territory_id or self.canvas.active_territory)
        n = self.canvas.assign_selection(target)
        self.statusBar().showMessage(f"{n} unit(s) assigned" if n else "Nothing to assign (locked or already there)", 4000)

    def lock_selection(self, locked: bool) -> None:
        ids = self.canvas.selected_unit_ids()
        if ids:
            self.run_edit(lambda p: editing.set_units_locked(p, ids, locked),
                          f"{'Lock' if locked else 'Unlock'} {len(ids)} unit(s)")

    def new_territory(self) -> None:
        from .dialogs import NewTerritoryDialog

        reps = list(zip(self.project.reps["rep_id"].astype(str), self.project.reps["name"].astype(str), strict=True)) \
            if self.project is not None and len(self.project.reps) else []
        dialog = NewTerritoryDialog(self, reps, self.project.accounts if self.project is not None else None)
        if dialog.exec():
            try:
                values = dialog.values()
            except InvalidInputError as exc:
                msg.warning(self, "New territory", str(exc))
                return
            tid = self.run_edit(lambda p: editing.create_territory(p, **values), f"New territory {values['name']}")
            if tid:
                self.set_active_territory(tid)

    def _picked_territories(self, ids: list[str] | None = None) -> list[str]:
        """``ids`` when given (a context menu's row), else the table's selected rows, else the active one.
        (A QAction's ``checked`` flag passed as ``ids`` counts as not given.)"""
        if isinstance(ids, list) and ids:
            return ids
        ids = self.territory_panel.selected_ids()
        if not ids and self.canvas.active_territory:
            ids = [self.canvas.active_territory]
        return ids

    def rename_territory(self, ids: list[str] | None = None) -> None:
        ids = self._picked_territories(ids)
        if ids:
            old = self.canvas.scene.names.get(ids[0], ids[0])
            name, ok = msg.get_text(self, "Rename territory", "Name:", old)
            if ok:
                self.run_edit(lambda p: editing.rename_territory(p, ids[0], name), f"Rename {old} to {name}")

    def recolour_territory(self, ids: list[str] | None = None) -> None:
        ids = self._picked_territories(ids)
        if ids:
            colour = QColorDialog.getColor(self.canvas.scene.colour_of(ids[0]), self, "Territory colour")
            if colour.isValid():
                self.run_edit(lambda p: editing.recolour_territory(p, ids[0], colour.name()), "Recolour territory")

    def set_parent(self, ids: list[str] | None = None) -> None:
        """Put the picked territories under a district or region (or detach them)."""
        ids = self._picked_territories(ids)
        if not ids or self.project is None:
            return
        t = self.project.territories
        parents = t[(t["scenario_id"] == self.project.active_scenario) & (t["level"] != "territory")]
        choices = ["(none)"] + [f"{r.name} [{r.level}] ({r.territory_id})" for r in parents.itertuples()]
        choice, ok = msg.get_item(self, "Set parent", f"Parent of {len(ids)} territory(ies):", choices, 0)
        if ok:
            parent = None if choice == "(none)" else choice.rsplit("(", 1)[1].rstrip(")")
            self.run_edit(lambda p: [editing.set_parent(p, tid, parent) for tid in ids], "Set parent")

    def set_rep(self, ids: list[str] | None = None) -> None:
        """Give the picked territory to a rep."""
        ids = self._picked_territories(ids)
        if not ids or self.project is None:
            return
        reps = self.project.reps
        choices = ["(vacant)"] + [f"{r.name} ({r.rep_id})" for r in reps.itertuples()]
        choice, ok = msg.get_item(self, "Assign rep", f"Rep of {self.canvas.scene.names.get(ids[0], ids[0])}:",
                                  choices, 0)
        if ok:
            rep = None if choice == "(vacant)" else choice.rsplit("(", 1)[1].rstrip(")")
            self.run_edit(lambda p: editing.assign_rep(p, ids[0], rep), "Assign rep")

    def merge_territories(self) -> None:
        ids = self.territory_panel.selected_ids()
        if len(ids) < 2:
            msg.information(self, "Merge territories", "Select two or more territories in the table; "
                            "the first selected one keeps its name.")
            return
        self.run_edit(lambda p: editing.merge_territories(p, ids[0], ids[1:]), f"Merge {len(ids)} territories")

    def delete_territory(self, ids: list[str] | None = None) -> None:
        ids = self._picked_territories(ids)
        if ids and msg.question(self, "Delete territory", f"Delete {len(ids)} territory(ies)? Their units "
                                "become orphans (undo with Ctrl+Z).") == QMessageBox.StandardButton.Yes:
            self.run_edit(lambda p: [editing.delete_territory(p, t) for t in ids], f"Delete {len(ids)} territory(ies)")

    def move_account(self) -> None:
        """Account override: move accounts (by id) to the active territory."""
        if self.project is None or not self.canvas.active_territory:
            return
        selected = self.canvas.selected_unit_ids()
        accounts = self.project.accounts
        prefill = accounts.loc[accounts["unit_id"].isin(selected), "account_id"].astype(str).tolist()[:50] \
            if selected else []
        text, ok = msg.get_text(self, "Move accounts", "Account ids (comma separated) to move to "
                                f"{self.canvas.scene.names.get(self.canvas.active_territory)}:", ", ".join(prefill))
        ids = [a.strip() for a in text.split(",") if a.strip()] if ok else []
        if not ids:
            return
        known = set(self.project.accounts["account_id"].astype(str))
        missing = [a for a in ids if a not in known]
        if missing:
            msg.warning(self, "Move accounts", f"Unknown account id(s): {', '.join(missing[:10])}")
            return
        self.undo_stack.push(AccountOverrideCommand(self.project, dict.fromkeys(ids, self.canvas.active_territory)))

    def validate(self) -> None:
        """Check the plan in a worker, show the problems, and keep the overlay in step with the plan."""
        self.validation_view.validate()

    def _select_and_zoom(self, unit_ids: list[str]) -> None:
        self.canvas.select_ids(unit_ids)
        self.canvas.zoom_to_selection()

    def apply_choropleth(self, metric: str, scheme: str, k: int) -> None:
        from ..services.classify import unit_metric_values

        if self.project is None:
            return
        if metric in self.metric_providers:  # e.g. a KPI from the KPI dock: values per unit of the scene
            values = self.metric_providers[metric]()
        else:
            values = unit_metric_values(self.project, metric)
        self._choropleth = (metric, scheme, k)
        self.canvas.renderer.extras["choropleth"] = ChoroplethLayer(self.canvas.scene, values, metric, scheme, k)
        self.canvas.renderer.layer("choropleth").visible = True
        self.layer_panel.reload()
        self._update_legend()
        self.canvas.update()

    def choropleth_dialog(self) -> None:
        from .dialogs import ChoroplethDialog

        if self.project is None:
            return
        extra = [c for c in self.project.units.columns if c not in ("unit_id", "name", "locked", "geometry")
                 and self.project.units[c].dtype.kind in "fi"]
        dialog = ChoroplethDialog(self, *self._choropleth, extra_metrics=extra)
        if dialog.exec():
            self.apply_choropleth(*dialog.values())

    def _update_legend(self) -> None:
        layer = self.canvas.renderer.extras.get("choropleth") if self.canvas.renderer else None
        if layer is None or not self.canvas.renderer.layer("choropleth").visible:
            self.legend.setText("")
            return
        from ..services.classify import SCHEMES
        from .dialogs import UNIT_METRICS

        self.legend.setText(f"Choropleth: <b>{esc(UNIT_METRICS.get(layer.metric, layer.metric))}</b>, "
                            f"{SCHEMES.get(layer.classes.scheme, '')}, {len(layer.classes.bins)} classes")

    # ---- files
    def maybe_save(self) -> bool:
        """Ask before losing unsaved work; True when it is fine to go on."""
        if self.project is None or self.undo_stack.isClean():
            return True
        answer = msg.question(
            self, "Unsaved changes", f"Save the changes to {self.project.name}?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def _load(self, path: str, **options):
        """(project, None) or (None, error message) for a project file (``options`` go to open_project;
        safe to call in a worker thread)."""
        from ..services.project import open_project

        try:
            return open_project(path, **options), None
        except TerritoryError as exc:
            return None, f"{Path(path).name} could not be opened:\n\n{exc}"
        except Exception as exc:  # a broken file must never crash the window
            return None, (f"{Path(path).name} is not a readable Territory Desktop project:\n\n"
                          f"{type(exc).__name__}: {exc}")

    def _finish_open(self, path: str, project, error, scene=None) -> bool:
        QApplication.restoreOverrideCursor()
        self.statusBar().clearMessage()
        if error is not None:
            msg.critical(self, "Cannot open project", error)
            return False
        self.set_project(project, scene)
        self._add_recent(path)
        if not self.statusBar().currentMessage().startswith("Read-only"):
            self.statusBar().showMessage(f"Opened {path}", 4000)
        if project.open_notes:
            self._show_open_notes(project)
        return True

    def _show_open_notes(self, project: Project) -> None:
        """Say what opening found and repaired (edits made in GIS), as plain text."""
        box = QMessageBox(QMessageBox.Icon.Information, "Project checked on opening",
                          f"{project.name} was changed in another program since it was last saved here. "
                          "What was found and repaired (saved with your next save):", parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setDetailedText("\n\n".join(project.open_notes))
        box.setInformativeText("\n".join(f"• {n[:160]}" for n in project.open_notes[:5]))
        box.open()

    def open_path(self, path: str) -> bool:
        """Open a project file now (blocking); an error dialog names the file and the reason."""
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        return self._finish_open(path, *self._load(path))

    def open_path_async(self, path: str) -> None:
        """Open a project file in a worker thread with a progress bar; the window stays responsive and
        shows the map as soon as it is ready (the history follows in the background)."""
        from .loading import open_in_background

        QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        open_in_background(self, path)

    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open project", self._last_dir(), "Projects (*.gpkg)")
        if path:
            self.open_path_async(path)

    def save(self) -> bool:
        if self.project is None:
            return False
        if not getattr(self.project, "path", None):
            return self.save_as()
        return self._save_to(None)

    def save_as(self) -> bool:
        if self.project is None:
            return False
        path, _ = QFileDialog.getSaveFileName(self, "Save project as", self._last_dir(), "Projects (*.gpkg)")
        return bool(path) and self._save_to(path if path.endswith(".gpkg") else path + ".gpkg")

    def _save_to(self, path: str | None) -> bool:
        from ..services.project import save_project

        try:
            target = save_project(self.project, path)
        except TerritoryError as exc:
            msg.critical(self, "Cannot save project", str(exc))
            return False
        self.undo_stack.setClean()
        if str(target) != getattr(self, "_locked_path", None):  # saved as a new file: that is the one held now
            self._release_project_lock()
            self._hold_project_lock()
        self._add_recent(str(target))
        self._update_title()
        self.statusBar().showMessage(f"Saved {target}", 4000)
        if self.project.save_notes:
            msg.warning(self, "Project saved", "\n\n".join(self.project.save_notes))
        return True

    def _last_dir(self) -> str:
        recent = self.recent_files()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent", [])
        return [value] if isinstance(value, str) else list(value or [])

    def _add_recent(self, path: str) -> None:
        path = str(Path(path).resolve())
        recent = [path] + [p for p in self.recent_files() if p != path]
        self.settings.setValue("recent", recent[:MAX_RECENT])

    def import_files(self, paths: list[str]) -> None:
        """Import dropped or chosen data files: .gpkg opens a project, tables become accounts or reps,
        vector files become units (ui.import_dialogs: mode choice with a preview, one undo step)."""
        from .import_dialogs import import_data_file

        for path in paths:
            if Path(path).suffix.lower() == ".gpkg":
                if self.maybe_save():
                    self.open_path_async(path)
                continue
            if self.project is None:
                msg.information(self, "Import", "Open or create a project first.")
                return
            import_data_file(self, path)

    def refresh_project(self) -> None:
        """Redraw the shown project after its tables changed (an import or its undo); keeps the undo history."""
        self._show_project(self.project, clear_history=False)

    def dragEnterEvent(self, event) -> None:
        urls = event.mimeData().urls()
        if urls and all(Path(u.toLocalFile()).suffix.lower() in DATA_SUFFIXES for u in urls):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        self.import_files([u.toLocalFile() for u in event.mimeData().urls()])

    def closeEvent(self, event) -> None:
        if self.maybe_save():
            self.settings.setValue("window/geometry", self.saveGeometry())
            save_layout(self, self.settings)
            if self.canvas.renderer is not None:  # layer order, visibility and opacity
                self.settings.setValue("layers", ";".join(
                    f"{layer.key}={int(layer.visible)},{layer.opacity:.2f}" for layer in self.canvas.renderer.layers))
            self._release_project_lock()
            event.accept()
        else:
            event.ignore()

    def select_all(self) -> None:
        if self.canvas.scene is not None:
            self.canvas.set_selection(np.arange(len(self.canvas.scene.unit_ids)))


