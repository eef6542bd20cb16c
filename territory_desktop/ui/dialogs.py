"""Small dialogs: choropleth settings, new territory (geographic or by account attributes, whose rule is
built with a form of conditions: field, operator, value)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..models import InvalidInputError
from ..services.classify import METRICS, SCHEMES

#: the table files the app writes (through storage.export), as save-dialog filters
TABLE_FILTERS = {".xlsx": "Excel workbooks (*.xlsx)", ".csv": "CSV files (*.csv)"}


def ask_table_path(parent: QWidget, title: str, suggested: str) -> str:
    """Ask where to write a table (.xlsx or .csv, the suggested name's kind listed first); '' = cancelled."""
    first = Path(suggested).suffix.lower()
    filters = sorted(TABLE_FILTERS.items(), key=lambda kv: kv[0] != first)
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, ";;".join(text for _, text in filters))
    return path


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


#: account fields a territory rule can test (field -> label); ``account_ids`` names key accounts
RULE_FIELDS = {"industry": "Industry", "segment": "Segment", "size_class": "Size class", "zip": "ZIP code",
               "account_ids": "Account id"}
RULE_OPERATORS = {"is": "is", "in": "is one of"}


class RuleRow(QWidget):
    """One condition: field, operator, value(s) (an editable box offering the values the accounts have)."""

    def __init__(self, values_of, remove, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values_of = values_of
        self.field = QComboBox()
        for key, label in RULE_FIELDS.items():
            self.field.addItem(label, key)
        self.operator = QComboBox()
        for key, label in RULE_OPERATORS.items():
            self.operator.addItem(label, key)
        self.value = QComboBox()
        self.value.setEditable(True)
        self.value.setMinimumWidth(180)
        self.value.lineEdit().setPlaceholderText("value, or values separated by commas")
        drop = QToolButton()
        drop.setText("✕")
        drop.setToolTip("Remove this condition")
        drop.clicked.connect(lambda: remove(self))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.field)
        row.addWidget(self.operator)
        row.addWidget(self.value, 1)
        row.addWidget(drop)
        self.field.currentIndexChanged.connect(self._field_changed)
        self._field_changed()

    def _field_changed(self) -> None:
        text = self.value.currentText()
        self.value.clear()
        self.value.addItems(self.values_of(self.field.currentData()))
        self.value.setEditText(text)
        many = self.field.currentData() == "account_ids"
        self.operator.setCurrentIndex(self.operator.findData("in") if many else self.operator.currentIndex())

    def values(self) -> list[str]:
        text = self.value.currentText()
        parts = [v.strip() for v in text.split(",")] if self.operator.currentData() == "in" else [text.strip()]
        return [v for v in parts if v]


class RuleEditor(QWidget):
    """Conditions that must all hold (field, operator, value), built into the rule dict that
    ``services.editing.create_territory`` stores: ``{"industry": ["Healthcare"], ...}``."""

    def __init__(self, accounts=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.accounts = accounts
        self.rows: list[RuleRow] = []
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.add_button = QPushButton("Add condition")
        self.add_button.clicked.connect(self.add_row)
        self.box.addWidget(self.add_button)
        self.hint = QLabel("Accounts matching every condition belong to this territory wherever they lie.")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: gray")
        self.box.addWidget(self.hint)
        self.add_row()

    def values_of(self, field: str) -> list[str]:
        """Distinct values of ``field`` among the accounts (at most 200, sorted), to pick from."""
        a = self.accounts
        column = "account_id" if field == "account_ids" else field
        if a is None or column not in a.columns:
            return []
        values = sorted({str(v) for v in a[column].dropna() if str(v)})
        return values[:200]

    def add_row(self) -> RuleRow:
        row = RuleRow(self.values_of, self.remove_row)
        self.rows.append(row)
        self.box.insertWidget(len(self.rows) - 1, row)
        return row

    def remove_row(self, row: RuleRow) -> None:
        self.rows.remove(row)
        row.deleteLater()

    def rule(self) -> dict[str, list[str]]:
        """The rule; a field used twice keeps the values both conditions allow. Raises InvalidInputError
        naming the condition that has no value, or when no condition is given."""
        rule: dict[str, list[str]] = {}
        problems = []
        for k, row in enumerate(self.rows, 1):
            values = row.values()
            if not values:
                problems.append(f"condition {k} ({row.field.currentText()}): no value")
                continue
            key = row.field.currentData()
            rule[key] = [v for v in rule[key] if v in values] if key in rule else values
        if not rule and not problems:
            problems.append("add at least one condition")
        if problems:
            raise InvalidInputError("account rule", problems)
        return rule


class NewTerritoryDialog(QDialog):
    """Name, level, kind and (for account territories) the rule, built with a form of conditions."""

    def __init__(self, parent: QWidget | None = None, reps: list[tuple[str, str]] | None = None,
                 accounts=None) -> None:
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
        self.rules = RuleEditor(accounts)
        self.rules.setEnabled(False)
        self.kind.currentIndexChanged.connect(lambda _i: self.rules.setEnabled(self.kind.currentData() == "account"))
        form = QFormLayout(self)
        form.addRow("Name", self.name)
        form.addRow("Level", self.level)
        form.addRow("Kind", self.kind)
        form.addRow("Rep", self.rep)
        form.addRow("Account rule", self.rules)
        add_ok_cancel(self, form)

    def values(self) -> dict:
        """Keyword arguments of ``services.editing.create_territory``; InvalidInputError for a bad rule."""
        kind = self.kind.currentData()
        return {"name": self.name.text(), "level": self.level.currentText(), "kind": kind,
                "rep_id": self.rep.currentData(), "rule": self.rules.rule() if kind == "account" else None}
