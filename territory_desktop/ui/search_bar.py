"""Edit > Find (Ctrl+F): a search box at the right of the menu bar for an account, territory, rep or unit (id or name,
services.search). Picking a hit zooms to it and selects its units; a territory is outlined, never made
the active territory behind the user's back."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSize, Qt
from PySide6.QtGui import QAction, QKeySequence, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QCompleter, QLineEdit

from ..services.search import Hit, search

KIND_NAMES = {"territory": "Territory", "rep": "Rep", "account": "Account", "unit": "Unit"}
HIT_ROLE = Qt.ItemDataRole.UserRole + 10


class SearchBox(QLineEdit):
    """The search field with a pop-up list of hits (best first)."""

    def __init__(self, window) -> None:
        super().__init__()
        self.window = window
        self.hits: list[Hit] = []
        self.setPlaceholderText("Find account, territory, rep, unit (Ctrl+F)")
        self.setClearButtonEnabled(True)
        self.setFixedWidth(270)
        self.model = QStandardItemModel(self)
        self.completer_ = QCompleter(self.model, self)
        self.completer_.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer_.setMaxVisibleItems(14)
        self.completer_.setWidget(self)
        self.completer_.popup().setMinimumWidth(440)  # account names are long
        self.completer_.activated[QModelIndex].connect(lambda ix: self.go_to(self.hits[ix.data(HIT_ROLE)]))
        self.textEdited.connect(self.update_hits)
        self.returnPressed.connect(self.go_to_first)

    def sizeHint(self) -> QSize:  # the menu bar lays its corner widget out by the size hint
        return QSize(self.width(), super().sizeHint().height())

    def update_hits(self, text: str) -> list[Hit]:
        """Search the window's project for ``text`` and list the hits in the pop-up."""
        project = self.window.project
        self.hits = search(project, text, limit=40) if project is not None else []
        self.model.clear()
        for k, hit in enumerate(self.hits):
            item = QStandardItem(f"{KIND_NAMES[hit.kind]}: {hit.label}")
            item.setData(k, HIT_ROLE)
            self.model.appendRow(item)
        if self.hits:
            self.completer_.complete()
        else:
            self.completer_.popup().hide()
        return self.hits

    def go_to_first(self) -> None:
        if not self.hits:
            self.update_hits(self.text())
        if self.hits:
            self.go_to(self.hits[0])

    def go_to(self, hit: Hit) -> None:
        """Zoom to ``hit`` and select its units; a territory is also outlined; the status bar says what."""
        w = self.window
        self.completer_.popup().hide()
        if not hit.unit_ids:
            w.statusBar().showMessage(f"{KIND_NAMES[hit.kind]} {hit.label} has no units on the map", 6000)
            return
        w.canvas.select_ids(list(hit.unit_ids))
        w.canvas.zoom_to_selection()
        if hit.kind == "territory":
            w.highlight_territory(hit.id)
        w.statusBar().showMessage(f"{KIND_NAMES[hit.kind]} {hit.label}: {len(hit.unit_ids):,} unit(s)", 6000)


def install_search(window) -> SearchBox:
    """Edit > Find... (Ctrl+F) and the search box at the right end of the menu bar."""
    box = SearchBox(window)
    window.menuBar().setCornerWidget(box, Qt.Corner.TopRightCorner)  # always visible, whatever the toolbar fits
    action = QAction("&Find...", window)
    action.setShortcut(QKeySequence.StandardKey.Find)
    action.setToolTip("Find an account, territory, rep or unit by id or name and zoom to it (Ctrl+F)")
    action.setStatusTip("Find an account, territory, rep or unit and zoom to it")
    action.triggered.connect(lambda: (box.setFocus(Qt.FocusReason.ShortcutFocusReason), box.selectAll()))
    window.add_action("edit", "find", action)
    return box
