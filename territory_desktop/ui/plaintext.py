"""User text shown by Qt as text, never as HTML.

Qt renders a QLabel, a QMessageBox, a QInputDialog's label and a tooltip as rich text when the string merely
looks like HTML (``Qt::mightBeRichText``), so a unit, territory, account or file named
``<img src="file:///etc/hostname"><a href="x">link</a>`` would load an image and show a live link. Every
widget that shows a user string goes through this module: labels and message boxes are set to
``Qt.TextFormat.PlainText``; strings put into HTML we write ourselves (the Properties panel, bold titles)
are escaped with :func:`esc`; message boxes, input dialogs and tooltips get :func:`rich` text, escaped
inside markup Qt cannot mistake for anything else.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QLabel, QMessageBox, QWidget

Button = QMessageBox.StandardButton


def esc(value) -> str:
    """``value`` as text safe inside HTML we build (``<``, ``>``, ``&`` and quotes escaped)."""
    return html.escape(str(value), quote=True)


def rich(text, wrap: bool = True) -> str:
    """``text`` as rich text that Qt shows literally, line breaks and indentation kept: for the APIs that
    decide by themselves whether a string is HTML (message boxes, input dialogs' labels, tooltips).
    ``wrap=False`` keeps each line on one line."""
    return f"<p style='white-space:{'pre-wrap' if wrap else 'pre'}'>{html.escape(str(text), quote=False)}</p>"


def tooltip(text) -> str:
    """A tooltip showing ``text`` literally, its lines as given (Qt would wrap a rich-text tooltip narrowly)."""
    return rich(text, wrap=False)


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A QLabel that never interprets its text as HTML."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label


def markup_label(html_text: str = "", parent: QWidget | None = None) -> QLabel:
    """A QLabel for markup we build ourselves, every user string in it passed through :func:`esc`."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setText(html_text)
    return label


def window_title(text: str) -> str:
    """``text`` for setWindowTitle: Qt reads ``[*]`` as the modified marker, ``[*][*]`` shows it literally."""
    return str(text).replace("[*]", "[*][*]")


# Message boxes and input dialogs go through Qt's static functions (so tests can stand in for them), with
# the user's text escaped by rich().

def warning(parent: QWidget | None, title: str, text: str) -> Button:
    return QMessageBox.warning(parent, window_title(title), rich(text))


def information(parent: QWidget | None, title: str, text: str) -> Button:
    return QMessageBox.information(parent, window_title(title), rich(text))


def critical(parent: QWidget | None, title: str, text: str) -> Button:
    return QMessageBox.critical(parent, window_title(title), rich(text))


def question(parent: QWidget | None, title: str, text: str,
             buttons: Button = Button.Yes | Button.No, default: Button = Button.NoButton) -> Button:
    return QMessageBox.question(parent, window_title(title), rich(text), buttons, default)


def information_markup(parent: QWidget | None, title: str, html_text: str) -> Button:
    """An information box of markup we build ourselves, every user string in it passed through :func:`esc`."""
    return QMessageBox.information(parent, window_title(title), html_text)


def get_text(parent: QWidget | None, title: str, label: str, text: str = "") -> tuple[str, bool]:
    """QInputDialog.getText with the label shown literally: (text, ok)."""
    return QInputDialog.getText(parent, window_title(title), rich(label), text=text)


def get_item(parent: QWidget | None, title: str, label: str, items: list[str], current: int = 0) -> tuple[str, bool]:
    """QInputDialog.getItem (not editable) with the label shown literally: (item, ok)."""
    return QInputDialog.getItem(parent, window_title(title), rich(label), items, current, False)
