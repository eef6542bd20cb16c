"""The Comments dock: a comment thread on a territory, account or scenario (post, @mention, resolve), the
list of open threads, the activity feed (three tabs); and the map's comment markers (a speech bubble on every
territory and account with an open thread)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..models import TerritoryError
from ..services import comments
from ..services.audit import activity
from . import plaintext as msg
from .layers import PointsLayer

KINDS = (("territory", "Territory"), ("account", "Account"), ("scenario", "Scenario"))
BUBBLE = QColor("#e8590c")


class CommentMarkers:
    """Speech bubbles with the number of open comments, at territories' label points and accounts."""

    def __init__(self, points: np.ndarray, counts: list[int]) -> None:
        self.xy = points  # drawing space, one row per marker
        self.counts = counts

    def paint(self, painter: QPainter, view) -> None:
        painter.setTransform(view.base)
        font = QFont()
        font.setPointSizeF(7.0)
        font.setBold(True)
        painter.setFont(font)
        for (x, y), n in zip(self.xy, self.counts, strict=True):
            p = view.transform.map(QPointF(x, y)) + QPointF(0, -9)  # above the territory's label
            if view.target.adjusted(-20, -20, 20, 20).contains(p):
                _bubble(painter, p, n)


def _bubble(painter: QPainter, p: QPointF, n: int) -> None:
    box = QRectF(p.x() - 2, p.y() - 19, 18, 13)
    tail = QPolygonF([QPointF(p.x() + 1, p.y() - 7), QPointF(p.x(), p.y()), QPointF(p.x() + 6, p.y() - 7)])
    painter.setPen(QPen(QColor("white"), 1.4))
    painter.setBrush(BUBBLE)
    painter.drawRoundedRect(box, 3, 3)
    painter.drawPolygon(tail)
    painter.setPen(QColor("white"))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, str(n) if n < 100 else "99+")


def comment_markers(window) -> CommentMarkers | None:
    """The markers of the window's project now (None without a scene)."""
    scene, project = window.canvas.scene, window.project
    if scene is None or project is None:
        return None
    t = comments.threads(project)
    t = t[t["open"] > 0]
    points, counts = [], []
    for tid, n in t.loc[t["entity_type"] == "territory", ["entity_id", "open"]].itertuples(index=False):
        anchor = scene.label_point(tid)
        if anchor is not None:
            points.append(anchor)
            counts.append(int(n))
    open_accounts = dict(t.loc[t["entity_type"] == "account", ["entity_id", "open"]].itertuples(index=False))
    acc = project.accounts[project.accounts["account_id"].astype(str).isin(list(open_accounts))]
    if len(acc):
        points.extend(map(tuple, PointsLayer(scene, acc.geometry.to_numpy()).xy))
        counts.extend(int(open_accounts[str(a)]) for a in acc["account_id"])
    return CommentMarkers(np.array(points, dtype=float).reshape(-1, 2), counts)


class CommentsPanel(QWidget):
    """A thread (pick an entity, read, post, resolve), the open threads and the activity feed."""

    def __init__(self, window) -> None:
        super().__init__()
        self.window_ = window
        self.kind = QComboBox()
        for key, title in KINDS:
            self.kind.addItem(title, key)
        self.entity = QComboBox()
        self.entity.setEditable(True)
        self.entity.setMinimumContentsLength(10)
        self.kind.currentIndexChanged.connect(lambda _i: self._fill_ids())
        self.entity.currentTextChanged.connect(lambda _t: self.show_thread())
        self.open_list = QListWidget()
        self.open_list.setToolTip("Threads with open comments; click to read")
        self.open_list.itemClicked.connect(self._open_clicked)
        self.thread_view = QTextBrowser()
        self.thread_view.setOpenLinks(False)
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("Write a comment; @id or @Name mentions a user or rep")
        self.text.setMaximumHeight(60)
        self.post_button, self.resolve_button = QPushButton("Post"), QPushButton("Resolve")
        self.post_button.clicked.connect(lambda: self.post())
        self.resolve_button.clicked.connect(lambda: self.toggle_resolved())
        self.feed = QListWidget()
        self.feed.setWordWrap(True)
        self.feed.setAlternatingRowColors(True)
        for widget, low in ((self.open_list, 24), (self.thread_view, 40), (self.text, 28), (self.feed, 40)):
            widget.setMinimumHeight(low)  # the dock shares its column: it must be able to get small
        self.tabs = QTabWidget()
        self.tabs.addTab(self._threads_tab(), "Thread")
        self.tabs.addTab(self.open_list, "Open threads")
        self.tabs.addTab(self.feed, "Activity")
        self.tabs.currentChanged.connect(lambda _i: self.refresh_feed())
        outer = QVBoxLayout(self)
        outer.setContentsMargins(2, 2, 2, 2)
        outer.addWidget(self.tabs)
        self.reload()

    def sizeHint(self) -> QSize:
        return QSize(360, 460)  # room for a thread when the dock opens; it can shrink to its minimum

    def _threads_tab(self) -> QWidget:
        page = QWidget()
        pick = QHBoxLayout()
        pick.addWidget(self.kind)
        pick.addWidget(self.entity, 1)
        buttons = QVBoxLayout()
        buttons.addWidget(self.post_button)
        buttons.addWidget(self.resolve_button)
        buttons.addStretch(1)
        compose = QHBoxLayout()
        compose.addWidget(self.text, 1)
        compose.addLayout(buttons)
        column = QVBoxLayout(page)
        column.setContentsMargins(4, 4, 4, 4)
        column.addLayout(pick)
        column.addWidget(self.thread_view, 1)
        column.addLayout(compose)
        return page

    # ---- following the window
    def reload(self) -> None:
        self._fill_ids()
        self.refresh()

    def _fill_ids(self) -> None:
        project = self.window_.project
        current = self.entity.currentText()
        self.entity.blockSignals(True)
        self.entity.clear()
        if project is not None:
            kind = self.kind.currentData()
            ids = {"territory": lambda: project.scenario_territories(level="territory")["territory_id"],
                   "account": lambda: project.accounts["account_id"],
                   "scenario": lambda: list(project.plans)}[kind]()
            self.entity.addItems([str(i) for i in ids])
            self.entity.setCurrentText(current if self.entity.findText(current) >= 0 else
                                       (self.entity.itemText(0) if self.entity.count() else ""))
        self.entity.blockSignals(False)
        self.show_thread()

    def select(self, entity_type: str, entity_id: str) -> None:
        """Show the thread of one entity (the territory table's current territory follows here)."""
        self.kind.setCurrentIndex(max(0, self.kind.findData(entity_type)))
        self.entity.setCurrentText(str(entity_id))
        self.show_thread()

    def refresh(self) -> None:
        """Re-read the threads: the open list, the thread shown, the feed and the map markers."""
        project = self.window_.project
        self.open_list.clear()
        if project is not None:
            t = comments.threads(project)
            for row in t[t["open"] > 0].itertuples():
                item = QListWidgetItem(f"{row.entity_type} {row.entity_id}: {row.open} open of {row.comments}")
                item.setData(Qt.ItemDataRole.UserRole, (row.entity_type, row.entity_id))
                self.open_list.addItem(item)
            self.tabs.setTabText(1, f"Open threads ({self.open_list.count()})")
        self.show_thread()
        self.refresh_feed()
        self._update_markers()

    def _open_clicked(self, item: QListWidgetItem) -> None:
        self.select(*item.data(Qt.ItemDataRole.UserRole))
        self.tabs.setCurrentIndex(0)

    def _update_markers(self) -> None:
        renderer = getattr(self.window_.canvas, "renderer", None)
        if renderer is None:
            return
        markers = comment_markers(self.window_)
        if markers is None:
            renderer.extras.pop("comments", None)
        else:
            renderer.extras["comments"] = markers
        self.window_.canvas.update()

    # ---- a thread
    def current(self) -> tuple[str, str]:
        return self.kind.currentData(), self.entity.currentText().strip()

    def show_thread(self) -> None:
        project = self.window_.project
        kind, eid = self.current()
        if project is None or not eid:
            self.thread_view.setHtml("")
            return
        rows = comments.thread(project, kind, eid)
        parts = [_comment_html(r) for r in rows.itertuples()]
        self.thread_view.setHtml("".join(parts) or f"<p style='color:#777'>No comments on {msg.esc(kind)} "
                                 f"{msg.esc(eid)} yet.</p>")
        unresolved = (~rows["resolved"].fillna(False).astype(bool)).any() if len(rows) else False
        self.resolve_button.setText("Resolve" if unresolved or not len(rows) else "Reopen")
        self.resolve_button.setEnabled(bool(len(rows)))

    def post(self, text: str | None = None) -> str | None:
        project = self.window_.project
        if project is None:
            return None
        kind, eid = self.current()
        try:
            cid = comments.add_comment(project, kind, eid, self.text.toPlainText() if text is None else text)
        except TerritoryError as exc:
            msg.warning(self, "Comment", str(exc))
            return None
        self.text.clear()
        self.window_.mark_modified()
        self.refresh()
        return cid

    def toggle_resolved(self) -> int:
        project = self.window_.project
        if project is None:
            return 0
        kind, eid = self.current()
        changed = comments.resolve_thread(project, kind, eid, self.resolve_button.text() == "Resolve")
        if changed:
            self.window_.mark_modified()
        self.refresh()
        return changed

    def refresh_feed(self) -> None:
        project = self.window_.project
        self.feed.clear()
        if project is None or self.tabs.currentWidget() is not self.feed:
            return
        for r in activity(project).itertuples():
            when = str(r.ts or "")[:16].replace("T", " ")
            self.feed.addItem(f"{when}  {r.user or ''}  [{r.kind}]  {r.text}")


def _comment_html(r) -> str:
    resolved = bool(r.resolved) if r.resolved == r.resolved and r.resolved is not None else False
    colour = "#888" if resolved else "#1d2125"
    tag = " · field note" if r.source == "field" else ""
    state = " · resolved" if resolved else ""
    when = str(r.created or "")[:16].replace("T", " ")
    return (f"<p style='color:{colour};margin:0 0 8px 0'><b>{msg.esc(r.author or '')}</b> "
            f"<span style='color:#777'>{msg.esc(when)}{tag}{state}</span><br>"
            f"{msg.esc(r.text).replace(chr(10), '<br>')}</p>")


def install_comments_ui(window) -> CommentsPanel:
    """Add the Comments dock (tabbed with Properties); it follows the project and the current territory."""
    panel = CommentsPanel(window)
    window.add_dock("comments", "Comments", panel, Qt.DockWidgetArea.RightDockWidgetArea, tabify_with="properties")
    window.state.project_changed.connect(lambda _p: panel.reload())
    window.state.scenario_changed.connect(lambda _s: panel.reload())
    window.territory_panel.current.connect(lambda tid: tid and panel.select("territory", tid))
    return panel
