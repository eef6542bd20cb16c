"""Hover identify: resting the mouse on the map shows the unit under it, its territory and rep, and the
totals of both (accounts, workload, potential, deviation) in a tooltip."""

from __future__ import annotations

import html

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QToolTip

from .territory_model import compact


class HoverIdentify(QObject):
    """Debounced (``delay_ms``) identify of the unit under the mouse; ``text`` holds the last one."""

    def __init__(self, window, delay_ms: int = 150) -> None:
        super().__init__(window)
        self.window = window
        self.text = ""
        self.timer = QTimer(self, singleShot=True, interval=delay_ms, timeout=self.identify)
        window.canvas.cursorMoved.connect(lambda _lon, _lat: self.timer.start())

    def identify(self) -> str:
        """Describe the unit under the mouse (empty text off the units); shows it as the canvas tooltip."""
        canvas = self.window.canvas
        p = canvas.cursor_position()
        index = canvas.unit_index_at(p) if p.x() >= 0 else None
        self.text = self.describe(str(canvas.scene.unit_ids[index])) if index is not None else ""
        canvas.setToolTip(self.text)
        if self.text and canvas.isVisible():
            QToolTip.showText(canvas.mapToGlobal(p.toPoint()), self.text, canvas)
        return self.text

    def describe(self, unit_id: str) -> str:
        """HTML: unit name and id with its accounts and workload; territory, rep and the territory's totals."""
        w = self.window
        project = w.project
        units = project.units
        name = units.loc[units["unit_id"].astype(str) == unit_id, "name"]
        t = w.selection_totals([unit_id])
        lines = [f"<b>{html.escape(str(name.iloc[0]) if len(name) else unit_id)}</b> ({html.escape(unit_id)})",
                 (f"{int(t['accounts']):,} accounts · {t['workload_hours']:,.0f} h/yr · "
                 f"potential {compact(t['potential'])}")]
        terr = project.plan.territory_of(unit_id)
        frame = w.table_model.frame
        row = frame[frame["territory_id"].astype(str) == str(terr)] if terr is not None and len(frame) else frame[:0]
        if terr is None:
            lines.append("<i>No territory (orphan)</i>")
        elif len(row):
            r = row.iloc[0]
            rep = str(r.get("rep", "") or "vacant")
            lines.append(f"<b>{html.escape(str(r['name']))}</b> ({html.escape(str(terr))}) · rep "
                         f"{html.escape(rep)}")
            lines.append(f"{int(r['units']):,} units · {int(r['accounts']):,} accounts · "
                         f"{r['workload_hours']:,.0f} h/yr ({r['workload_deviation_pct']:+.1f} %) · "
                         f"potential {compact(r['potential'])}")
        return "<br>".join(lines)
