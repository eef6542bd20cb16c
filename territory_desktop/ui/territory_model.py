"""Territory table (QAbstractTableModel) and hierarchy tree fed by services.metrics.territory_totals."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QStandardItem, QStandardItemModel

from ..models import Project
from ..services.live_totals import LiveTotals
from ..services.metrics import territory_totals
from ..services.workload import add_route_columns
from .plaintext import tooltip

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ID_ROLE = Qt.ItemDataRole.UserRole + 2
COLUMNS = [("name", "Territory"), ("rep", "Rep"), ("units", "Units"), ("accounts", "Accounts"),
           ("workload_hours", "Hours/yr"), ("potential", "Potential"), ("workload_deviation_pct", "Dev %"),
           ("route_workload_hours", "Route h/yr"), ("route_load_pct", "Load %")]
NUMERIC = {"units", "accounts", "workload_hours", "potential", "workload_deviation_pct", "route_workload_hours",
           "route_load_pct"}
#: the columns a live refresh fills one event-loop turn after the others (``refresh(defer_route=True)``)
ROUTE_KEYS = ("route_workload_hours", "route_load_pct")
#: text colour of route cells that still show the numbers of an earlier plan
PENDING_COLOUR = QColor("#9a9a9a")
#: text colours of numbers well off target (deviation, route load) and a little off
RED, AMBER = QColor("#c0392b"), QColor("#b9770e")
HEADER_TIPS = {"units": "Units (counties, ZIPs...) in the territory", "accounts": "Accounts the territory owns",
               "workload_hours": "Yearly visit workload in hours (visits x service time)",
               "potential": "Summed sales potential of the accounts",
               "workload_deviation_pct": "Workload deviation from the mean of the geographic territories, %",
               "route_workload_hours": "Route workload in hours a year: service plus the driving to make every "
                                       "visit, estimated from the accounts' frequencies and geography and the rep's home",
               "route_load_pct": "Route workload as a share of the rep's capacity, %; over 100 the rep cannot "
                                 "make every visit"}


#: the deferred route columns follow a refresh after this many ms, after the repaint the refresh caused
ROUTE_DELAY_MS = 12


def compact(value: float) -> str:
    """1234567 -> '1.23 M', 45600 -> '45.6 k' (table cells; tooltips show full numbers)."""
    for limit, suffix in ((1e9, " B"), (1e6, " M"), (1e3, " k")):
        if abs(value) >= limit:
            return f"{value / limit:,.3g}{suffix}" if abs(value) < limit * 1000 else f"{value / limit:,.0f}{suffix}"
    return f"{value:,.0f}"


class TerritoryTableModel(QAbstractTableModel):
    """One row per territory of the active scenario; ``refresh()`` recomputes the totals.

    Every cell is computed once per refresh into plain lists (``_cells[role][column][row]``), so
    :meth:`data` is a list look-up: a repaint of the whole table asks for thousands of cells. A refresh
    that keeps the rows emits ``dataChanged`` only for the rows whose cells changed.

    ``refresh(defer_route=True)`` (the live refresh after an edit) publishes the totals at once and the
    route-workload columns (Route h/yr, Load %) one event-loop turn later (``routePending`` meanwhile:
    the cells of the territories the edit touched keep their last numbers, greyed); ``routeReady`` says
    when they hold the plan's numbers.
    """

    routeReady = Signal()

    def __init__(self, project: Project | None = None, parent=None) -> None:
        super().__init__(parent)
        self.project = project
        self.frame = pd.DataFrame()
        self.colours: dict[str, QColor] = {}
        self._ids: list[str] = []
        self._cells: dict[int, list[list]] = {}
        #: True while the route columns show the numbers of an earlier plan (a deferred refresh)
        self.route_pending = False
        #: during a brush stroke: deferred route columns stay greyed until :meth:`release_route` (a route
        #: refresh plus the repaints it causes ran to 55-70 ms in one turn, every 120 ms of a stroke)
        self.hold_route = False
        #: the totals' live snapshot, and the rep name and colour of each of its rows
        self._live: LiveTotals | None = None
        self._reps: list[str] = []
        #: territory ids whose deferred route columns are still owed (None: all)
        self._route_todo: set[str] | None = set()
        #: source rows whose cells the last refresh changed (all rows after a reset)
        self.changed_rows: list[int] = []
        self.refresh()

    def set_project(self, project: Project | None) -> None:
        self.project = project
        self.refresh()

    def refresh(self, defer_route: bool = False, units: Iterable[str] | None = None) -> None:
        """Recompute totals; keeps rows in place when the territories are the same (live painting). With
        ``defer_route`` and the same rows, the route columns follow in the next event-loop turn.

        ``units``: the units reassigned since the last refresh, when nothing else changed (a brush step,
        an undo): the live snapshot (:class:`LiveTotals`) then moves only their measures and the route
        columns of the territories they left or joined are re-estimated; a full recompute otherwise."""
        touched = self._live.update(units) if units is not None and self._live is not None \
            and self._live.project is self.project else None
        if touched is None:
            self._rebuild()
        live = self._live
        frame = live.frame() if live is not None else pd.DataFrame()
        if len(frame):
            frame["rep"] = self._reps
        ids = live.ids if live is not None and len(frame) else []
        same_rows = bool(ids) and ids == self._ids
        todo = None if touched is None else {ids[r] for r in touched}
        if same_rows:
            for key in ROUTE_KEYS:  # the last numbers: kept where nothing changed, greyed while deferred
                frame[key] = self.frame[key].to_numpy()
        deferred = defer_route and same_rows and (todo is None or bool(todo) or self.route_pending)
        if deferred:
            self._route_todo = None if todo is None or self._route_todo is None else self._route_todo | todo
            # a timer, not a posted call: a posted call ran in the same event-loop pass as the table's and
            # the map's repaint (route 18 ms + paints 32 ms in one stall); a no-op if a full refresh or a
            # flush came first
            if not self.hold_route:
                QTimer.singleShot(ROUTE_DELAY_MS, self._refresh_route)
        elif len(frame):
            if same_rows and todo is not None and self.route_pending:
                todo = None if self._route_todo is None else self._route_todo | todo
            self._add_route(frame, todo if same_rows else None)
            self._route_todo = set()
        self.route_pending = deferred
        self._publish(frame, ids)
        if not deferred:
            self.routeReady.emit()

    def _rebuild(self) -> None:
        """A new live snapshot of the project's totals, with the names and colours the rows show."""
        self._live = LiveTotals(self.project) if self.project is not None else None
        self._route_todo = None
        if self._live is None or not self._live.ids:
            return
        terr = self._live.territories
        reps = self.project.reps
        names = dict(zip(reps["rep_id"].astype(str), reps["name"].astype(str), strict=True)) if len(reps) else {}
        self._reps = [names.get(str(r), str(r)) if pd.notna(r) else "" for r in terr["rep_id"].tolist()]
        self.colours = {str(t): QColor(c) for t, c in zip(terr["territory_id"], terr["colour"], strict=True)
                        if isinstance(c, str)}

    def _add_route(self, frame: pd.DataFrame, only: set[str] | None) -> None:
        """The route columns of ``frame``: for the territory ids ``only`` (the others keep theirs) or all."""
        live = self._live
        if live is not None and (only is None or only):
            add_route_columns(self.project, frame, live.scenario_id, owners=live.owners, only=only,
                              accounts=live.route_accounts())

    def release_route(self, delay_ms: int = ROUTE_DELAY_MS) -> None:
        """The stroke is over: fill the held route columns ``delay_ms`` from now, in a turn of their own."""
        self.hold_route = False
        if self.route_pending:
            QTimer.singleShot(delay_ms, self._refresh_route)

    def flush_route(self) -> None:
        """Fill the deferred route columns now (nothing to do when none are pending)."""
        if self.route_pending:
            self._refresh_route()

    def _refresh_route(self) -> None:
        """The deferred half of a refresh: the route columns for the plan the totals were computed on."""
        if not self.route_pending or self.project is None or not len(self.frame):
            return
        frame = self.frame.copy()
        self._add_route(frame, self._route_todo)
        self.route_pending, self._route_todo = False, set()
        self._publish(frame, self._ids)
        self.routeReady.emit()

    def _publish(self, frame: pd.DataFrame, ids: list[str]) -> None:
        """Make ``frame`` the model's data: ``dataChanged`` for the changed rows when the rows are the same
        territories in the same order, else a model reset."""
        cells = self._build_cells(frame)
        if ids and ids == self._ids:
            changed = _changed_rows(self._cells, cells, len(ids))
            self.frame, self._cells, self.changed_rows = frame, cells, changed
            last = len(COLUMNS) - 1
            for first, end in _runs(changed):
                self.dataChanged.emit(self.index(first, 0), self.index(end, last))
        else:
            self.beginResetModel()
            self.frame, self._ids, self._cells = frame, ids, cells
            self.changed_rows = list(range(len(ids)))
            self.endResetModel()

    def _build_cells(self, frame: pd.DataFrame) -> dict[int, list[list]]:
        """Display text, sort key, tooltip, colours and alignment of every cell, column by column (the
        cells of the label columns, the same until the territories change, are made once)."""
        if not len(frame):
            return {}
        ids = frame["territory_id"].astype(str).tolist()
        static = self._static_cells(frame, ids)
        values = {key: frame[key].to_numpy() for key in NUMERIC}
        blank = [None] * len(frame)
        display = [static[key][0] if key not in NUMERIC else _display_column(values[key], key, static["account"])
                   for key, _title in COLUMNS]
        sort = [np.nan_to_num(values[key].astype(float), nan=-1.0).tolist() if key in NUMERIC else static[key][1]
                for key, _title in COLUMNS]
        dev = np.abs(values["workload_deviation_pct"].astype(float))
        warn = [RED if d > 15 else AMBER if d > 7.5 else None for d in dev.tolist()]
        load = np.nan_to_num(values["route_load_pct"].astype(float))
        over = [RED if v > 100 else AMBER if v > 90 else None for v in load.tolist()]
        # greyed: the route cells of the territories whose deferred numbers are owed (all when None)
        todo = self._route_todo if self.route_pending else set()
        stale = [todo is None or t in todo for t in ids]
        tips = _tooltips(frame, ids)
        role = Qt.ItemDataRole
        foreground = {"workload_deviation_pct": warn,
                      "route_load_pct": [PENDING_COLOUR if s else c for s, c in zip(stale, over, strict=True)],
                      "route_workload_hours": [PENDING_COLOUR if s else None for s in stale]}
        return {
            role.DisplayRole: display, SORT_ROLE: sort, ID_ROLE: [ids] * len(COLUMNS),
            role.ToolTipRole: [tips] * len(COLUMNS),
            role.DecorationRole: static["decoration"], role.TextAlignmentRole: static["alignment"],
            role.ForegroundRole: [foreground.get(k, blank) for k, _title in COLUMNS],
        }

    def _static_cells(self, frame: pd.DataFrame, ids: list[str]) -> dict:
        """Cells that follow the territories, not the numbers: texts and sort keys of the label columns,
        swatches, alignment; cached for these rows, names, reps and colours."""
        labels = [key for key, _title in COLUMNS if key not in NUMERIC]
        key = (tuple(ids), *(tuple(frame[k].tolist()) for k in (*labels, "kind")),
               tuple((t, c.rgba()) for t, c in self.colours.items()))
        cached = self.__dict__.get("_static")
        if cached is not None and cached[0] == key:
            return cached[1]
        n, blank = len(frame), [None] * len(frame)
        account = (frame["kind"] == "account").to_numpy()
        right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        swatch = [self.colours.get(t, QColor("#cccccc")) for t in ids]
        static: dict = {k: (_display_column(frame[k].to_numpy(), k, account),
                            [str(v).lower() for v in frame[k].tolist()]) for k in labels}
        static.update(account=account,
                      decoration=[swatch if k == "name" else blank for k, _title in COLUMNS],
                      alignment=[[right] * n if k in NUMERIC else blank for k, _title in COLUMNS])
        self._static = (key, static)
        return static

    # ---- Qt model API
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.frame)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section][1]
            if role == Qt.ItemDataRole.ToolTipRole:
                return HEADER_TIPS.get(COLUMNS[section][0])
            if role == Qt.ItemDataRole.TextAlignmentRole and COLUMNS[section][0] in NUMERIC:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        column = self._cells.get(role)
        if column is None or not index.isValid():
            return None
        cells = column[index.column()]
        row = index.row()
        return cells[row] if row < len(cells) else None

    def totals(self) -> dict[str, float]:
        """Column sums of the geographic territories (the status line under the table)."""
        if not len(self.frame):
            return {}
        geo = self.frame[self.frame["kind"] != "account"]
        return {k: float(geo[k].sum()) for k in ("units", "accounts", "workload_hours", "potential")}


def _display_column(values: np.ndarray, key: str, account: np.ndarray) -> list[str]:
    """Cell texts of one column: thousands separators, compact potential, signed deviation."""
    items = values.tolist()
    if key == "name":
        return [f"{v} (accounts)" if acc else str(v) for v, acc in zip(items, account.tolist(), strict=True)]
    if key in ("units", "accounts"):
        return [f"{int(v):,}" for v in items]
    if key == "workload_hours":
        return [f"{v:,.0f}" for v in items]
    if key == "potential":
        return [compact(float(v)) for v in items]
    if key == "workload_deviation_pct":
        return ["" if acc else f"{v:+.1f}" for v, acc in zip(items, account.tolist(), strict=True)]
    if key in ("route_workload_hours", "route_load_pct"):  # empty without a rep home or accounts
        return ["" if v != v else f"{v:,.0f}" for v in values.astype(float).tolist()]  # v != v: NaN
    return ["" if v is None or pd.isna(v) else str(v) for v in items]


def _tooltips(frame: pd.DataFrame, ids: list[str]) -> list[str]:
    columns = [frame[k].tolist() for k in ("name", "units", "accounts", "workload_hours", "potential",
                                            "workload_deviation_pct")]
    return [tooltip(f"{name} ({tid}): {int(units)} units, {int(accounts)} accounts, {hours:,.0f} h/yr, "
                    f"potential {potential:,.0f}, deviation {dev:+.1f}%")
            for tid, name, units, accounts, hours, potential, dev in zip(ids, *columns, strict=True)]


def _changed_rows(old: dict[int, list[list]], new: dict[int, list[list]], n: int) -> list[int]:
    """Rows whose text, sort key or colour differ between two cell tables of ``n`` rows each."""
    roles = (Qt.ItemDataRole.DisplayRole, SORT_ROLE, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.DecorationRole)
    if not old:
        return list(range(n))
    changed = np.zeros(n, dtype=bool)
    for role in roles:
        for a, b in zip(old[role], new[role], strict=True):
            if a is not b:
                changed |= np.fromiter((x != y for x, y in zip(a, b, strict=True)), dtype=bool, count=n)
    return np.flatnonzero(changed).tolist()


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Consecutive runs of sorted ``rows`` as (first, last) pairs: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    out: list[tuple[int, int]] = []
    for r in rows:
        if out and r == out[-1][1] + 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


def hierarchy_model(project: Project, totals: pd.DataFrame | None = None) -> QStandardItemModel:
    """Tree region -> district -> territory with summed units, accounts, workload and potential."""
    model = QStandardItemModel()
    model.setHorizontalHeaderLabels(["Name", "Level", "Units", "Accounts", "Hours/yr", "Potential"])
    for column in range(2, 6):
        model.horizontalHeaderItem(column).setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if project is None:
        return model
    totals = territory_totals(project) if totals is None else totals
    terr = project.territories[project.territories["scenario_id"] == project.active_scenario]
    measures = ["units", "accounts", "workload_hours", "potential"]
    values: dict[str, np.ndarray] = {str(r.territory_id): np.array([getattr(r, m) for m in measures], float)
                                     for r in totals.itertuples()}
    children: dict[str | None, list] = {}
    for r in terr.itertuples():
        parent = str(r.parent_id) if isinstance(r.parent_id, str) and r.parent_id else None
        children.setdefault(parent, []).append(r)

    def total(tid: str) -> np.ndarray:
        if tid in values:
            return values[tid]
        out = sum((total(str(c.territory_id)) for c in children.get(tid, [])), np.zeros(4))
        values[tid] = out
        return out

    def add(parent_item, rows) -> None:
        order = {"region": 0, "district": 1, "territory": 2}
        for r in sorted(rows, key=lambda r: (order.get(r.level, 3), str(r.name))):
            v = total(str(r.territory_id))
            cells = [QStandardItem(str(r.name)), QStandardItem(str(r.level))]
            numbers = [QStandardItem(f"{int(v[0]):,}"), QStandardItem(f"{int(v[1]):,}"),
                       QStandardItem(f"{v[2]:,.0f}"), QStandardItem(compact(v[3]))]
            for item, value in zip(numbers, v, strict=True):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(f"{value:,.0f}")
            cells += numbers
            if isinstance(r.colour, str):
                cells[0].setData(QColor(r.colour), Qt.ItemDataRole.DecorationRole)
            cells[0].setData(str(r.territory_id), ID_ROLE)
            for c in cells:
                c.setEditable(False)
            parent_item.appendRow(cells)
            add(cells[0], children.get(str(r.territory_id), []))

    add(model.invisibleRootItem(), children.get(None, []))
    return model
