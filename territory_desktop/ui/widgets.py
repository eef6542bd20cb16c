"""Small widget builders shared by the docks (one way to make each common widget)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QSortFilterProxyModel
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget


def sortable_table(model: QAbstractItemModel, sort_role: int,
                   parent: QWidget | None = None) -> tuple[QTableView, QSortFilterProxyModel]:
    """A table of ``model`` that sorts by ``sort_role`` when a header is clicked (so numbers sort as numbers,
    not as their formatted text) and selects whole rows, without row numbers; returns (view, proxy)."""
    proxy = QSortFilterProxyModel(parent)
    proxy.setSourceModel(model)
    proxy.setSortRole(sort_role)
    table = QTableView(parent)
    table.setModel(proxy)
    table.setSortingEnabled(True)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    return table, proxy


def fit_columns(view: QTableView) -> None:
    """Every column of ``view`` as wide as its contents."""
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
