"""Shared widget builders (ui/widgets.py)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel

from territory_desktop.ui.widgets import sortable_table

ROLE = Qt.ItemDataRole.UserRole + 7


def test_sortable_table_sorts_by_the_role_not_the_text(qtbot):
    model = QStandardItemModel()
    for text, key in (("10", 10.0), ("9", 9.0), ("100", 100.0)):
        item = QStandardItem(text)
        item.setData(key, ROLE)
        model.appendRow([item])
    table, proxy = sortable_table(model, ROLE)
    qtbot.addWidget(table)
    table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert [proxy.index(i, 0).data() for i in range(3)] == ["9", "10", "100"]  # as text it would be 10, 100, 9
    table.selectRow(1)
    assert [ix.row() for ix in table.selectionModel().selectedRows()] == [1]  # whole rows are selected
    assert table.verticalHeader().isHidden()
