"""Territory table (QAbstractTableModel) and hierarchy tree fed by services.metrics.territory_totals."""

from __future__ import annotations

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QStandardItem, QStandardItemModel

from ..models import Project
from ..services.metrics import territory_totals
from .plaintext import tooltip

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ID_ROLE = Qt.ItemDataRole.UserRole + 2
COLUMNS = [("name", "Territory"), ("rep", "Rep"), ("units", "Units"), ("accounts", "Accounts"),
           ("workload_hours", "Hours/yr"), ("potential", "Potential"), ("workload_deviation_pct", "Dev %")]
NUMERIC = {"units", "accounts", "workload_hours", "potential", "workload_deviation_pct"}


def compact(value: float) -> str:
    """1234567 -> '1.23 M', 45600 -> '45.6 k' (table cells; tooltips show full numbers)."""
    for limit, suffix in ((1e9, " B"), (1e6, " M"), (1e3, " k")):
        if abs(value) >= limit:
            return f"{value / limit:,.3g}{suffix}" if abs(value) < limit * 1000 else f"{value / limit:,.0f}{suffix}"
    return f"{value:,.0f}"


class TerritoryTableModel(QAbstractTableModel):
    """One row per territory of the active scenario; ``refresh()`` recomputes the totals."""

    def __init__(self, project: Project | None = None, parent=None) -> None:
        super().__init__(parent)
        self.project = project
        self.frame = pd.DataFrame()
        self.colours: dict[str, QColor] = {}
        self.refresh()

    def set_project(self, project: Project | None) -> None:
        self.project = project
        self.refresh()

    def refresh(self) -> None:
        """Recompute totals; keeps rows in place when the territories are the same (live painting)."""
        frame = territory_totals(self.project) if self.project is not None else pd.DataFrame()
        if len(frame):
            reps = self.project.reps
            rep_names = dict(zip(reps["rep_id"].astype(str), reps["name"].astype(str), strict=True)) \
                if len(reps) else {}
            frame["rep"] = frame["rep_id"].map(lambda r: rep_names.get(str(r), str(r)) if pd.notna(r) else "")
            terr = self.project.scenario_territories()
            self.colours = {str(t): QColor(c) for t, c in zip(terr["territory_id"], terr["colour"], strict=True)
                            if isinstance(c, str)}
        same_rows = len(frame) == len(self.frame) and len(frame) and \
            (frame["territory_id"].to_numpy() == self.frame["territory_id"].to_numpy()).all()
        if same_rows:
            self.frame = frame
            self.dataChanged.emit(self.index(0, 0), self.index(len(frame) - 1, len(COLUMNS) - 1))
        else:
            self.beginResetModel()
            self.frame = frame
            self.endResetModel()

    # ---- Qt model API
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.frame)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][1]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        key = COLUMNS[index.column()][0]
        row = self.frame.iloc[index.row()]
        value = row[key]
        if role == Qt.ItemDataRole.DisplayRole:
            if key == "name" and row["kind"] == "account":
                return f"{value} (accounts)"
            if key in ("units", "accounts"):
                return f"{int(value):,}"
            if key == "workload_hours":
                return f"{value:,.0f}"
            if key == "potential":
                return compact(float(value))
            if key == "workload_deviation_pct":
                return f"{value:+.1f}" if row["kind"] != "account" else ""
            return "" if pd.isna(value) else str(value)
        if role == SORT_ROLE:
            return float(value) if key in NUMERIC else str(value).lower()
        if role == ID_ROLE:
            return str(row["territory_id"])
        if role == Qt.ItemDataRole.DecorationRole and key == "name":
            return self.colours.get(str(row["territory_id"]), QColor("#cccccc"))
        if role == Qt.ItemDataRole.TextAlignmentRole and key in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and key == "workload_deviation_pct":
            dev = abs(float(value))
            return QColor("#c0392b") if dev > 15 else QColor("#b9770e") if dev > 7.5 else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(f"{row['name']} ({row['territory_id']}): {int(row['units'])} units, "
                           f"{int(row['accounts'])} accounts, {row['workload_hours']:,.0f} h/yr, "
                           f"potential {row['potential']:,.0f}, deviation {row['workload_deviation_pct']:+.1f}%")
        return None

    def totals(self) -> dict[str, float]:
        """Column sums of the geographic territories (the status line under the table)."""
        if not len(self.frame):
            return {}
        geo = self.frame[self.frame["kind"] != "account"]
        return {k: float(geo[k].sum()) for k in ("units", "accounts", "workload_hours", "potential")}


def hierarchy_model(project: Project, totals: pd.DataFrame | None = None) -> QStandardItemModel:
    """Tree region -> district -> territory with summed units, accounts, workload and potential."""
    model = QStandardItemModel()
    model.setHorizontalHeaderLabels(["Name", "Level", "Units", "Accounts", "Workload (h/yr)", "Potential"])
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
            cells += [QStandardItem(f"{int(v[0]):,}"), QStandardItem(f"{int(v[1]):,}"),
                      QStandardItem(f"{v[2]:,.0f}"), QStandardItem(f"{v[3]:,.0f}")]
            if isinstance(r.colour, str):
                cells[0].setData(QColor(r.colour), Qt.ItemDataRole.DecorationRole)
            cells[0].setData(str(r.territory_id), ID_ROLE)
            for c in cells:
                c.setEditable(False)
            parent_item.appendRow(cells)
            add(cells[0], children.get(str(r.territory_id), []))

    add(model.invisibleRootItem(), children.get(None, []))
    return model
