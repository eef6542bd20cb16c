"""The week calendar of a rep's visit plan: one column per working weekday (Mon-Fri), one card per visit
(start time, account name, minutes on site), a footer per day (stops, drive hours, km).

Cards are dragged between columns (``moveRequested``), cancelled from their context menu
(``cancelRequested``); clicking a column or a card selects its day (``daySelected``). The calendar only
asks: the routes dock re-plans and then calls :meth:`WeekCalendar.show_week` again.
"""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .plaintext import plain_label, tooltip

#: one colour per weekday (Mon..Sun), shared by calendar headers and the route layer: deep, saturated
#: colours that stand out from the light territory fills (and are readable under white stop numbers)
DAY_COLOURS = ["#0b57d0", "#d9480f", "#2b8a3e", "#c2255c", "#6741d9", "#0c8599", "#7c4a1e"]
MIME = "application/x-territory-visit"
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def day_colour(d: date) -> QColor:
    return QColor(DAY_COLOURS[d.weekday()])


def _clock(minutes: float) -> str:
    m = round(minutes)
    return f"{m // 60:02d}:{m % 60:02d}"


class DayList(QListWidget):
    """The visit cards of one day; a drop from another day asks for a move instead of moving the item."""

    dropped = Signal(str, object, object)  # account_id, from_day, to_day
    cancel = Signal(str, object)  # account_id, day

    def __init__(self, day: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.day = day
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setWordWrap(True)
        self.setSpacing(2)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)

    def mimeTypes(self) -> list[str]:
        return [MIME]

    def mimeData(self, items) -> QMimeData:
        data = QMimeData()
        if items:
            data.setData(MIME, f"{self.day.isoformat()}|{items[0].data(Qt.ItemDataRole.UserRole)}".encode())
        return data

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasFormat(MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        """Decode ``day|account`` and emit ``dropped``; the item is not moved here (a copy action tells
        the source list to keep it): the plan decides, then the calendar is redrawn from it."""
        if not event.mimeData().hasFormat(MIME):
            event.ignore()
            return
        raw = bytes(event.mimeData().data(MIME)).decode()
        day, account_id = raw.split("|", 1)
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        from_day = date.fromisoformat(day)
        if from_day != self.day:
            self.dropped.emit(account_id, from_day, self.day)

    def _menu(self, pos) -> None:
        item = self.itemAt(pos)
        if item is None:
            return
        account_id = item.data(Qt.ItemDataRole.UserRole)
        menu = QMenu(self)
        menu.addAction(f"Cancel visit to {item.data(Qt.ItemDataRole.UserRole + 1)}",
                       lambda: self.cancel.emit(account_id, self.day))
        menu.popup(self.viewport().mapToGlobal(pos))


class WeekCalendar(QWidget):
    """Five day columns for the week starting ``monday``; fed with a plan's days by :meth:`show_week`."""

    daySelected = Signal(object)  # date
    moveRequested = Signal(str, object, object)  # account_id, from_day, to_day
    cancelRequested = Signal(str, object)  # account_id, day

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lists: dict[date, DayList] = {}
        self.headers: dict[date, QToolButton] = {}
        self.footers: dict[date, QLabel] = {}
        self.selected: date | None = None
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.setSpacing(4)

    def show_week(self, monday: date, days: dict, names: dict[str, str], service_min: dict[str, float],
                  weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)) -> None:
        """Rebuild the columns. ``days``: date -> DayRoute (dates missing = no work, e.g. a holiday);
        ``names``: account_id -> name; ``service_min``: account_id -> minutes on site."""
        while self._row.count():
            w = self._row.takeAt(0).widget()
            if w is not None:
                w.hide()  # gone at once, even before the deferred delete runs
                w.deleteLater()
        self.lists.clear()
        self.headers.clear()
        self.footers.clear()
        for k in sorted(set(weekdays) | {0, 1, 2, 3, 4}):
            d = monday + timedelta(k)
            if k >= 5 and d not in days:
                continue  # weekends appear only when the plan works them
            self._row.addWidget(self._column(d, days.get(d), names, service_min), 1)
        if self.selected is not None and self.selected not in self.lists:
            self.selected = None
        self._restyle()

    def _column(self, d: date, route, names: dict[str, str], service_min: dict[str, float]) -> QFrame:
        frame = QFrame()
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        box = QVBoxLayout(frame)
        box.setContentsMargins(3, 3, 3, 3)
        box.setSpacing(2)
        head = QToolButton()
        head.setText(f"{WEEKDAYS[d.weekday()]} {d.strftime('%d %b')}")
        head.setCheckable(True)
        head.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        head.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        head.setToolTip("Show this day's route on the map")
        head.clicked.connect(lambda _c=False, day=d: self.select_day(day))
        lst = DayList(d)
        lst.dropped.connect(self.moveRequested)
        lst.cancel.connect(self.cancelRequested)
        lst.itemClicked.connect(lambda _i, day=d: self.select_day(day))
        tint = QColor(day_colour(d))
        tint.setAlpha(40)
        if route is None:
            lst.setEnabled(False)
            lst.addItem("no work (holiday or outside the plan)")
            foot = "—"
        else:
            for s in route.stops:
                name = names.get(s.visit_id, s.visit_id)
                minutes = service_min.get(s.visit_id, s.depart_min - s.start_min)
                item = QListWidgetItem(f"{_clock(s.start_min)}  {name}\n{minutes:.0f} min · {s.drive_km:.1f} km drive")
                item.setData(Qt.ItemDataRole.UserRole, s.visit_id)
                item.setData(Qt.ItemDataRole.UserRole + 1, name)
                item.setToolTip(tooltip(f"{name} ({s.visit_id})\narrive {_clock(s.arrive_min)}, start "
                                        f"{_clock(s.start_min)}, leave {_clock(s.depart_min)}; wait "
                                        f"{s.wait_min:.0f} min\nDrag to another day to move; right-click to cancel"))
                item.setBackground(QBrush(tint))
                lst.addItem(item)
            lunch = f", lunch {_clock(route.lunch_start_min)}" if route.lunch_start_min is not None else ""
            foot = (f"{len(route.stops)} stops · {route.drive_min / 60:.1f} h drive · {route.drive_km:.0f} km"
                    + (f"\n{_clock(route.leave_home_min)}–{_clock(route.back_home_min)}{lunch}" if route.stops else ""))
        footer = plain_label(foot)
        footer.setWordWrap(True)
        footer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(head)
        box.addWidget(lst, 1)
        box.addWidget(footer)
        self.lists[d], self.headers[d], self.footers[d] = lst, head, footer
        return frame

    def select_day(self, d: date | None) -> None:
        """Emphasise day ``d`` (None = the whole week) and emit ``daySelected``."""
        self.selected = d
        self._restyle()
        self.daySelected.emit(d)

    def _restyle(self) -> None:
        for d, head in self.headers.items():
            c = day_colour(d).name()
            on = d == self.selected
            head.setChecked(on)
            head.setStyleSheet(f"QToolButton {{ border-bottom: {4 if on else 2}px solid {c}; font-weight: "
                               f"{'bold' if on else 'normal'}; padding: 3px; }}")

    def cards(self, d: date) -> list[str]:
        """Account ids of the cards shown for day ``d``, top to bottom."""
        lst = self.lists.get(d)
        if lst is None:
            return []
        return [lst.item(i).data(Qt.ItemDataRole.UserRole) for i in range(lst.count())
                if lst.item(i).data(Qt.ItemDataRole.UserRole) is not None]
