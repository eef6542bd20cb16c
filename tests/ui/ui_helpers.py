"""Mouse helpers: send real QMouseEvents to a widget (press, moves with the button held, release)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication


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
