"""Dock panels: layers (visibility, opacity, order), territories (table + hierarchy), unit properties,
validation. User strings are shown as text (ui.plaintext), never as HTML."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QRegion
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QTabWidget,
    QTextBrowser,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from .plaintext import esc, plain_label, tooltip
from .renderer import MapRenderer
from .territory_model import COLUMNS, ID_ROLE, SORT_ROLE, TerritoryTableModel
from .widgets import sortable_table

#: table columns hidden in the compact default (shown again from the header's right-click menu)
COMPACT_HIDDEN = {"units", "accounts", "potential", "route_workload_hours"}


class LayerPanel(QWidget):
    """Layer list with check boxes (visibility), an opacity slider and up/down buttons (order)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.renderer: MapRenderer | None = None
        self.list = QListWidget()
        self.list.setToolTip("Tick to show a layer; the top of the list is drawn on top")
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setToolTip("Opacity of the selected layer")
        up, down = QToolButton(), QToolButton()
        up.setArrowType(Qt.ArrowType.UpArrow)
        down.setArrowType(Qt.ArrowType.DownArrow)
        up.setToolTip("Draw the selected layer higher")
        down.setToolTip("Draw the selected layer lower")
        up.clicked.connect(lambda: self._move(-1))
        down.clicked.connect(lambda: self._move(1))
        row = QHBoxLayout()
        row.addWidget(QLabel("Opacity"))
        row.addWidget(self.opacity, 1)
        row.addWidget(up)
        row.addWidget(down)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list)
        layout.addLayout(row)
        self.list.itemChanged.connect(self._item_changed)
        self.list.currentRowChanged.connect(self._current_changed)
        self.opacity.valueChanged.connect(self._opacity_changed)

    def set_renderer(self, renderer: MapRenderer | None) -> None:
        self.renderer = renderer
        self.reload()

    def reload(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        if self.renderer is not None:
            for layer in reversed(self.renderer.layers):  # top of the list = drawn last
                item = QListWidgetItem(layer.title)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if layer.visible else Qt.CheckState.Unchecked)
                item.setData(Qt.ItemDataRole.UserRole, layer.key)
                self.list.addItem(item)
        self.list.blockSignals(False)
        if self.list.count() and self.list.currentRow() < 0:
            self.list.setCurrentRow(0)  # the slider then shows a real layer's opacity

    def _layer_of(self, item: QListWidgetItem | None):
        if item is None or self.renderer is None:
            return None
        return self.renderer.layer(item.data(Qt.ItemDataRole.UserRole))

    def _item_changed(self, item: QListWidgetItem) -> None:
        layer = self._layer_of(item)
        if layer is not None:
            layer.visible = item.checkState() == Qt.CheckState.Checked
            self.changed.emit()

    def _current_changed(self, row: int) -> None:
        layer = self._layer_of(self.list.item(row))
        if layer is not None:
            self.opacity.blockSignals(True)
            self.opacity.setValue(int(layer.opacity * 100))
            self.opacity.blockSignals(False)

    def _opacity_changed(self, value: int) -> None:
        layer = self._layer_of(self.list.currentItem())
        if layer is not None:
            layer.opacity = value / 100.0
            self.changed.emit()

    def _move(self, step: int) -> None:
        row = self.list.currentRow()
        if self.renderer is None or row < 0:
            return
        layers = self.renderer.layers
        i = len(layers) - 1 - row  # list is reversed
        j = i - step
        if 0 <= j < len(layers):
            layers[i], layers[j] = layers[j], layers[i]
            self.reload()
            self.list.setCurrentRow(row + step)
            self.changed.emit()


class TerritoryPanel(QWidget):
    """Sortable territory table, hierarchy tree and edit buttons; emits the territory ids picked."""

    activated = Signal(str)  # double click: zoom to it
    current = Signal(str)  # selection: the active territory for the brush

    def __init__(self, model: TerritoryTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.table, self.proxy = sortable_table(model, SORT_ROLE, self)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self._compact_columns()
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.doubleClicked.connect(lambda ix: self.activated.emit(ix.data(ID_ROLE)))
        self.table.selectionModel().currentRowChanged.connect(
            lambda ix, _old: ix.isValid() and self.current.emit(ix.data(ID_ROLE)))
        self.tree = QTreeView()
        self.tree.setAlternatingRowColors(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideNone)  # names in full; the tree scrolls instead
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(False)
        self.tree.doubleClicked.connect(lambda ix: self.activated.emit(ix.siblingAtColumn(0).data(ID_ROLE)))
        self.tabs = QTabWidget()
        self.tabs.addTab(self.table, "Table")
        self.tabs.addTab(self.tree, "Hierarchy")
        self.totals = plain_label()
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QHBoxLayout()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tabs)
        layout.addWidget(self.totals)
        layout.addLayout(self.buttons)

    def repaint_rows(self, rows: list[int]) -> None:
        """Paint the table rows of source rows ``rows`` (a refresh's changed rows) and the totals line
        now, not the whole table: a full repaint of the 26 visible rows took 8-12 ms."""
        view, viewport = self.table, self.table.viewport()
        region = QRegion()
        for row in rows:
            rect = view.visualRect(self.proxy.mapFromSource(self.model.index(row, 0)))
            if rect.isValid() and rect.intersects(viewport.rect()):
                region += QRect(0, rect.top(), viewport.width(), rect.height())
        self.totals.update()
        if region.isEmpty():
            self.totals.repaint()
        else:
            viewport.repaint(region)  # paints every dirty widget of the window: the totals line too

    def show_hierarchy(self, model) -> None:
        """Show the region/district/territory tree, expanded; the Level column is left out (the
        indentation and the swatch say it) so the numbers fit beside the full names."""
        self.tree.setModel(model)
        if model is not None:
            self.tree.setColumnHidden(1, True)
        self.tree.expandAll()

    def _compact_columns(self) -> None:
        """Territory (stretching), rep, workload, Dev % and route Load % in view; units, accounts, potential
        and route hours hidden until the planner ticks them in the header's right-click menu."""
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(40)
        keys = [k for k, _ in COLUMNS]
        widths = {"name": 130, "rep": 120, "units": 52, "accounts": 66, "workload_hours": 70, "potential": 70,
                  "workload_deviation_pct": 58, "route_workload_hours": 76, "route_load_pct": 58}
        for i, key in enumerate(keys):
            header.resizeSection(i, widths.get(key, 70))
            header.setSectionHidden(i, key in COMPACT_HIDDEN)
        header.setSectionResizeMode(keys.index("name"), QHeaderView.ResizeMode.Stretch)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._column_menu)

    def _column_menu(self, pos) -> None:
        from PySide6.QtWidgets import QMenu

        header = self.table.horizontalHeader()
        menu = QMenu(self)
        for i, (key, title) in enumerate(COLUMNS):
            action = menu.addAction(title)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(i))
            action.setEnabled(key != "name")
            action.toggled.connect(lambda on, i=i: header.setSectionHidden(i, not on))
        menu.exec(header.mapToGlobal(pos))

    def add_button(self, action) -> None:
        button = QToolButton()
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.buttons.addWidget(button)

    def selected_ids(self) -> list[str]:
        rows = self.table.selectionModel().selectedRows() if self.tabs.currentIndex() == 0 else \
            [ix.siblingAtColumn(0) for ix in self.tree.selectionModel().selectedRows()]
        return [ix.data(ID_ROLE) for ix in rows if ix.data(ID_ROLE)]

    def select_territory(self, territory_id: str) -> None:
        for row in range(self.proxy.rowCount()):
            ix = self.proxy.index(row, 0)
            if ix.data(ID_ROLE) == territory_id:
                self.table.selectRow(row)
                return


class PropertiesPanel(QTextBrowser):
    """Names, ids and territories of the selected units with their totals. Names are escaped, links are not
    followed and no resource (image, style sheet) is ever loaded, whatever a name contains."""

    MAX_ROWS = 12

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.show_units([], {})

    def loadResource(self, kind: int, url):
        return None  # our HTML references nothing; a planted <img src=file:...> must load nothing

    def show_units(self, rows: list[tuple[str, str, str, bool]], totals: dict[str, float],
                   count: int | None = None) -> None:
        """``rows``: (unit name, unit id, territory name, locked) of the first selected units (MAX_ROWS are
        listed), ``totals``: accounts, workload_hours, potential of all ``count`` selected units (default:
        len(rows)). No rows: a hint to select units."""
        count = len(rows) if count is None else count
        if not rows:
            self.setHtml("<p style='color:gray'>Select units on the map to see their properties.</p>")
            return
        cells = "".join(f"<tr><td><b>{esc(name)}</b>{' 🔒' if locked else ''}</td><td>{esc(uid)}</td>"
                        f"<td>{esc(terr)}</td></tr>" for name, uid, terr, locked in rows[:self.MAX_ROWS])
        shown = min(len(rows), self.MAX_ROWS)
        more = f"<p>… and {count - shown:,} more</p>" if count > shown else ""
        self.setHtml(
            f"<h3>{count:,} unit(s)</h3><p>{int(totals['accounts']):,} accounts · "
            f"{totals['workload_hours']:,.0f} h/yr · potential {totals['potential']:,.0f}</p>"
            f"<table cellspacing=4><tr><th align=left>Unit</th><th align=left>Id</th>"
            f"<th align=left>Territory</th></tr>{cells}</table>{more}")


class ValidationPanel(QWidget):
    """Lists validation problems; clicking one selects its units on the map."""

    picked = Signal(list)  # unit ids

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = plain_label("Press Check to validate the plan")
        self.summary.setWordWrap(True)
        self.list = QListWidget()
        self.check = QPushButton("Check")
        self.check.setToolTip("Find orphan units, detached territory pieces and holes (V)")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.list)
        layout.addWidget(self.check)
        self.list.itemClicked.connect(lambda item: self.picked.emit(item.data(Qt.ItemDataRole.UserRole)))

    def show_report(self, report, names: dict[str, str]) -> None:
        self.list.clear()
        self.summary.setText(report.summary() if not report.ok else "No problems: every unit is assigned, "
                             "every territory is one piece without holes.")

        def add(text: str, units: list[str]) -> None:
            item = QListWidgetItem(text)
            item.setToolTip(tooltip(f"{text}: click to select and zoom"))
            item.setData(Qt.ItemDataRole.UserRole, units)
            self.list.addItem(item)

        if report.orphans:
            add(f"{len(report.orphans)} orphan unit(s) (no territory)", report.orphans)
        for tid, pieces in report.pieces.items():
            for piece in pieces:
                add(f"{names.get(tid, tid)}: detached piece of {len(piece)} unit(s)", piece)
        for hole in report.holes:
            add(f"{names.get(hole.territory_id, hole.territory_id)}: hole of {hole.area_km2:,.0f} km² "
                f"({len(hole.unit_ids)} unit(s) inside)", hole.unit_ids)
