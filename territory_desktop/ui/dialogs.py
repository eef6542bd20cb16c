"""Small dialogs: choropleth settings, new territory (geographic or by account attributes)."""

from __future__ import annotations

import json

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from ..services.classify import METRICS, SCHEMES


def add_ok_cancel(dialog: QDialog, form: QFormLayout) -> QDialogButtonBox:
    """OK/Cancel buttons as the last row of ``form``, wired to the dialog's accept/reject."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form.addRow(buttons)
    return buttons


#: choropleth metrics by key: display name with units (services.classify.METRICS)
UNIT_METRICS = {key: metric.label for key, metric in METRICS.items()}


class ChoroplethDialog(QDialog):
    """Pick a unit metric, a classification scheme and the number of classes."""

    def __init__(self, parent: QWidget | None = None, metric: str = "workload_hours",
                 scheme: str = "quantiles", k: int = 5, extra_metrics: list[str] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choropleth")
        self.metric = QComboBox()
        for key, title in UNIT_METRICS.items():
            self.metric.addItem(title, key)
        for key in extra_metrics or []:
            if key not in UNIT_METRICS:
                self.metric.addItem(key, key)
        self.metric.setCurrentIndex(max(0, self.metric.findData(metric)))
        self.scheme = QComboBox()
        for key, title in SCHEMES.items():
            self.scheme.addItem(title, key)
        self.scheme.setCurrentIndex(max(0, self.scheme.findData(scheme)))
        self.k = QSpinBox()
        self.k.setRange(3, 7)
        self.k.setValue(k)
        form = QFormLayout(self)
        form.addRow("Unit metric", self.metric)
        form.addRow("Classification", self.scheme)
        form.addRow("Classes", self.k)
        add_ok_cancel(self, form)

    def values(self) -> tuple[str, str, int]:
        return self.metric.currentData(), self.scheme.currentData(), self.k.value()


class NewTerritoryDialog(QDialog):
    """Name, level, kind and (for account territories) the attribute rule as JSON."""

    def __init__(self, parent: QWidget | None = None, reps: list[tuple[str, str]] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New territory")
        self.name = QLineEdit()
        self.level = QComboBox()
        self.level.addItems(["territory", "district", "region"])
        self.kind = QComboBox()
        self.kind.addItem("Geographic (units on the map)", "geographic")
        self.kind.addItem("By account attributes", "account")
        self.rep = QComboBox()
        self.rep.addItem("(no rep)", None)
        for rep_id, name in reps or []:
            self.rep.addItem(f"{name} ({rep_id})", rep_id)
        self.rule = QPlainTextEdit()
        self.rule.setPlaceholderText('{"industry": ["Healthcare"], "size_class": ["Enterprise"]}\n'
                                     'or {"account_ids": ["A00012", "A00345"]}')
        self.rule.setMaximumHeight(70)
        self.rule.setEnabled(False)
        self.kind.currentIndexChanged.connect(lambda _i: self.rule.setEnabled(self.kind.currentData() == "account"))
        form = QFormLayout(self)
        form.addRow("Name", self.name)
        form.addRow("Level", self.level)
        form.addRow("Kind", self.kind)
        form.addRow("Rep", self.rep)
        form.addRow("Account rule", self.rule)
        add_ok_cancel(self, form)

    def values(self) -> dict:
        rule_text = self.rule.toPlainText().strip()
        kind = self.kind.currentData()
        return {"name": self.name.text(), "level": self.level.currentText(), "kind": kind,
                "rep_id": self.rep.currentData(),
                "rule": (json.loads(rule_text) if rule_text.startswith("{") else rule_text) if kind == "account"
                else None}
