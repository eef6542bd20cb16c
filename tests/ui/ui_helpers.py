"""Grid constants and mouse helpers for the UI tests (real QMouseEvents: press, moves, release)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

NX, NY, SIZE, X0, Y0 = 8, 5, 0.5, -100.0, 38.0
COLOURS = {"T1": "#1f77b4", "T2": "#d62728", "T3": "#2ca02c"}


def column_territory(i: int) -> str:
    return "T1" if i < 3 else ("T2" if i < 6 else "T3")


def unit_id(i: int, j: int) -> str:
    """Unit in column ``i`` (west to east) and row ``j`` (south to north)."""
    return f"c{i}r{j}"


def centre_lonlat(i: int, j: int) -> tuple[float, float]:
    return X0 + (i + 0.5) * SIZE, Y0 + (j + 0.5) * SIZE


def _send(widget, kind, pos: QPointF, button, buttons, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    event = QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons, modifiers)
    QApplication.sendEvent(widget, event)


def drag(widget, points: list[QPointF], modifiers=Qt.KeyboardModifier.NoModifier,
         button=Qt.MouseButton.LeftButton) -> None:
    """Press at points[0], move through the others with ``button`` held, release at the last one."""
    _send(widget, QEvent.Type.MouseButtonPress, points[0], button, button, modifiers)
    for p in points[1:]:
        _send(widget, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, button, modifiers)
    _send(widget, QEvent.Type.MouseButtonRelease, points[-1], button, Qt.MouseButton.NoButton, modifiers)


def click(widget, point: QPointF, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    drag(widget, [point], modifiers)
