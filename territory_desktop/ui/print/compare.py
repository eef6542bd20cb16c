"""The change report between two scenarios, printed with the map-book engine: a diff map page (scenario B's
territories, the units that change territory hatched, one arrow per flow from the old territory's centre
to the new one's, as thick as the units moved) with the disruption figures, then the tables per territory,
per rep and of the accounts that change rep. Also draws the dialog's diff map (:class:`DiffLayer`)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import shapely
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF

from ...models import Project
from ...services.compare import (
    ACCOUNT_REPORT_COLUMNS,
    REP_REPORT_COLUMNS,
    TERRITORY_REPORT_COLUMNS,
    Comparison,
    account_report_rows,
    rep_report_rows,
    summary_lines,
    territory_report_rows,
)
from ...services.printing import footer_text, paginate, territory_summaries
from ..geometry import geometries_to_path
from ..renderer import Layer, RenderView
from .document import scenario_view
from .elements import INK, MUTED, Page, draw_footer, draw_table, draw_title, font, table_row_height
from .mapframe import PrintMap, _drawing, _Painted
from .options import PrintOptions
from .output import make_sink
from .pages import GAP_MM, paint_map, sheet_frame

HATCH = QColor("#b3261e")
ARROW = QColor("#7a1f17")
#: the most accounts listed in the report (largest revenue first)
MAX_ACCOUNT_ROWS = 150


class DiffLayer(_Painted):
    """Moved units hatched in red with a red outline, and flow arrows (old centre -> new centre)."""

    def __init__(self, crs: str, unit_geoms_lonlat: np.ndarray, flows,
                 account_points_lonlat: np.ndarray | None = None) -> None:
        points = np.asarray(account_points_lonlat if account_points_lonlat is not None else [], dtype=object)
        points = points[[p is not None and not p.is_empty for p in points]] if len(points) else points
        drawn = _drawing(points, crs) if len(points) else points
        #: accounts that change rep while their unit stays (an override, a key-account rule, a new rep)
        self.accounts = [QPointF(shapely.get_x(p), shapely.get_y(p)) for p in drawn]
        geoms = _drawing(np.asarray(unit_geoms_lonlat, dtype=object), crs)
        self.path = geometries_to_path(geoms, flip_y=False) if len(geoms) else QPainterPath()
        ok = flows.dropna(subset=["from_lon", "from_lat", "to_lon", "to_lat"]) if len(flows) else flows
        if len(ok):
            start = _drawing(shapely.points(ok["from_lon"].to_numpy(float), ok["from_lat"].to_numpy(float)), crs)
            end = _drawing(shapely.points(ok["to_lon"].to_numpy(float), ok["to_lat"].to_numpy(float)), crs)
            self.arrows = [(shapely.get_x(s), shapely.get_y(s), shapely.get_x(e), shapely.get_y(e), int(n))
                           for s, e, n in zip(start, end, ok["units"], strict=True)]
        else:
            self.arrows = []
        self.max_units = max([a[4] for a in self.arrows], default=1)

    def paint(self, painter: QPainter, view: RenderView) -> None:
        if self.path.isEmpty():
            return
        painter.save()
        painter.setBrush(QColor(179, 38, 30, 40))
        painter.setPen(QPen(HATCH, self.width(view, 0.25)))
        painter.drawPath(self.path)
        painter.setClipPath(self.path, Qt.ClipOperation.IntersectClip)
        self._hatch(painter, view)
        painter.restore()
        for x0, y0, x1, y1, n in self.arrows:
            self._arrow(painter, view, QPointF(x0, y0), QPointF(x1, y1), 0.45 + 1.1 * math.sqrt(n / self.max_units))
        if self.accounts:
            r = self.width(view, 0.9)
            painter.setBrush(QColor("white"))
            painter.setPen(QPen(ARROW, self.width(view, 0.45)))
            for p in self.accounts:
                painter.drawEllipse(p, r, r)

    def _hatch(self, painter: QPainter, view: RenderView) -> None:
        r = self.path.boundingRect().intersected(view.visible)
        step = self.width(view, 1.4)
        if r.isEmpty() or step <= 0 or (r.width() + r.height()) / step > 20_000:
            return
        painter.setPen(QPen(HATCH, self.width(view, 0.22)))
        x = r.left() - r.height()
        lines = []
        while x < r.right():
            lines.append(QLineF(x, r.bottom(), x + r.height(), r.top()))
            x += step
        painter.drawLines(lines)

    def _arrow(self, painter: QPainter, view: RenderView, a: QPointF, b: QPointF, mm: float) -> None:
        line = QLineF(a, b)
        if line.length() <= 0:
            return
        head = self.width(view, 1.6 + mm)
        angle = math.radians(-line.angle())
        tip = b
        base = QPointF(tip.x() - head * math.cos(angle), tip.y() - head * math.sin(angle))
        side = QPointF(-math.sin(angle) * head * 0.5, math.cos(angle) * head * 0.5)
        shaft = QLineF(a, base)
        for colour, width in ((QColor(255, 255, 255, 230), mm + 0.5), (ARROW, mm)):
            pen = QPen(colour, self.width(view, width))
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            painter.setPen(pen)
            painter.drawLine(shaft)
        painter.setPen(QPen(QColor("white"), self.width(view, 0.25)))
        painter.setBrush(ARROW)
        painter.drawPolygon(QPolygonF([tip, base + side, base - side]))


def install_diff_layer(renderer, project: Project, comparison: Comparison, crs: str) -> DiffLayer:
    """Add the diff layer (key ``diff``) on top of ``renderer``'s layers; returns it."""
    units = project.units
    moved = units[units["unit_id"].astype(str).isin(set(comparison.units["unit_id"]))]
    acc = comparison.accounts
    alone = acc[acc["changes_rep"] & ~acc["unit_id"].isin(set(comparison.units["unit_id"]))]
    points = project.accounts[project.accounts["account_id"].astype(str).isin(set(alone["account_id"]))]
    layer = DiffLayer(crs, moved.geometry.to_numpy(), comparison.flows, points.geometry.to_numpy())
    renderer.extras["diff"] = layer
    if not any(x.key == "diff" for x in renderer.layers):
        renderer.layers.append(Layer("diff", "Changes"))
    return layer


def _title(c: Comparison) -> str:
    return f"Change report: {c.a_name} → {c.b_name}" if len(c.a_name) + len(c.b_name) < 50 else "Change report"


def _subtitle(c: Comparison, text: str) -> str:
    return text if len(c.a_name) + len(c.b_name) < 50 else f"{c.a_name} → {c.b_name} · {text}"


def _figures(page: Page, x: float, y: float, width: float, lines: list[tuple[str, str]]) -> float:
    """Label left, value right-aligned: the disruption figures beside the map."""
    f, fb = font(8), font(8, bold=True)
    for label, value in lines:
        page.text(x, y, label, f, MUTED, width=width * 0.62)
        h = page.text(x + width * 0.6, y, value, fb, INK, align="r", width=width * 0.4)
        y += h * 1.2
    return y


def _legend(page: Page, x: float, y: float, width: float, accounts: bool = False) -> float:
    p = page.painter
    box = QRectF(x, y, page.mm(7), page.mm(4.5))
    p.setBrush(QColor(179, 38, 30, 40))
    p.setPen(QPen(HATCH, page.mm(0.25)))
    p.drawRect(box)
    p.save()
    p.setClipRect(box)
    p.setPen(QPen(HATCH, page.mm(0.22)))
    for i in range(-6, 12):
        p.drawLine(QPointF(x + page.mm(i * 1.4), box.bottom()), QPointF(x + page.mm(i * 1.4 + 4.5), box.top()))
    p.restore()
    page.text(x + page.mm(9), y, "unit that changes territory", font(8), INK, width=width - page.mm(9))
    y += page.mm(6.5)
    p.setPen(QPen(ARROW, page.mm(0.9)))
    p.drawLine(QPointF(x, y + page.mm(2)), QPointF(x + page.mm(6), y + page.mm(2)))
    p.setBrush(ARROW)
    p.drawPolygon(QPolygonF([QPointF(x + page.mm(7.5), y + page.mm(2)), QPointF(x + page.mm(5.5), y + page.mm(0.8)),
                             QPointF(x + page.mm(5.5), y + page.mm(3.2))]))
    page.text(x + page.mm(9), y, "from the old territory to the new (width: units)", font(8), INK,
              width=width - page.mm(9))
    y += page.mm(6.5)
    if accounts:
        p.setBrush(QColor("white"))
        p.setPen(QPen(ARROW, page.mm(0.45)))
        p.drawEllipse(QPointF(x + page.mm(3.5), y + page.mm(2)), page.mm(0.9), page.mm(0.9))
        page.text(x + page.mm(9), y, "account that changes rep, its unit staying", font(8), INK,
                  width=width - page.mm(9))
        y += page.mm(6.5)
    return y


def paint_diff_page(page: Page, pm: PrintMap, c: Comparison, options: PrintOptions, footer: str, label: str) -> None:
    """The first page: the diff map with the disruption figures, legend and the largest flows beside it."""
    fr = sheet_frame(page)
    draw_title(page, fr.title, _title(c), _subtitle(c, f"{c.totals['units_moved']:,} units and "
               f"{c.totals['accounts_changing_rep']:,} accounts change; the map shows the plan after"))
    body = fr.body
    side = min(max(body.width() * 0.3, page.mm(75)), page.mm(110))
    map_rect = QRectF(body.left(), body.top(), body.width() - side - page.mm(GAP_MM), body.height())
    extent = pm.full_extent()
    moved = pm.renderer.extras["diff"].path.boundingRect()
    if not moved.isEmpty() and moved.width() * moved.height() < 0.25 * extent.width() * extent.height():
        m = 0.35 * max(moved.width(), moved.height(), 40_000.0)
        extent = moved.adjusted(-m, -m, m, m)
    paint_map(page, pm, map_rect, extent, territory_summaries(pm.project), options)
    x, w = map_rect.right() + page.mm(GAP_MM), side
    y = _figures(page, x, body.top(), w, summary_lines(c)) + page.mm(3)
    y = _legend(page, x, y, w, bool(pm.renderer.extras["diff"].accounts)) + page.mm(2)
    flows = [(f"{_t(r.territory_before)} → {_t(r.territory_after)}", f"{r.units:,}", f"{r.accounts:,}",
              f"{r.revenue:,.0f}") for r in c.flows.head(int((body.bottom() - y) // table_row_height(page)) - 2)
             .itertuples()]
    if flows:
        cols = [("flow", "Moves", "l", 1.6), ("units", "Units", "r", 0.6), ("accounts", "Accounts", "r", 0.8),
                ("revenue", "Revenue", "r", 1.0)]
        draw_table(page, QRectF(x, y, w, 0), cols, flows)
    draw_footer(page, fr.footer, footer, label)


def _t(value) -> str:
    return value if isinstance(value, str) else "none"


def _table_pages(c: Comparison) -> list[tuple[str, list, list]]:
    """(heading, columns, rows) of each table after the map page."""
    accounts = account_report_rows(c, MAX_ACCOUNT_ROWS)
    more = c.totals["accounts_changing_rep"] - len(accounts)
    heading = "Accounts that change rep, largest revenue first" + (f" (first {len(accounts):,}; {more:,} more "
                                                                     "in the XLSX)" if more > 0 else "")
    return [("Territories: before → after", TERRITORY_REPORT_COLUMNS, territory_report_rows(c)),
            ("Reps affected", REP_REPORT_COLUMNS, rep_report_rows(c)),
            (heading, ACCOUNT_REPORT_COLUMNS, accounts)]


def export_comparison(project: Project, c: Comparison, out: str | Path, options: PrintOptions) -> Path:
    """Write the change report PDF (or PNG/SVG pages) to ``out``; returns the first file written."""
    view = scenario_view(project, c.b)
    pm = PrintMap(view, options)
    install_diff_layer(pm.renderer, view, c, pm.scene.crs)
    sink = make_sink(out, options.page, options.dpi, many=True)
    sink.title = _title(c)
    footer = footer_text(view, options.source, options.when)
    try:
        page = sink.begin()
        rh = table_row_height(page)
        per_page = max(1, int((sheet_frame(page).body.height() - page.mm(8)) // rh) - 1)
        chunks = [(h, cols, part, i) for h, cols, rows in _table_pages(c) if rows
                  for i, part in enumerate(paginate(rows, per_page, per_page))]
        total = 1 + len(chunks)
        paint_diff_page(page, pm, c, options, footer, f"Page 1 of {total}")
        for n, (heading, cols, part, i) in enumerate(chunks, start=2):
            page = sink.next_page()
            fr = sheet_frame(page)
            draw_title(page, fr.title, _title(c), _subtitle(c, heading + (" (continued)" if i else "")))
            draw_table(page, QRectF(fr.body.left(), fr.body.top(), fr.body.width(), 0), cols, part)
            draw_footer(page, fr.footer, footer, f"Page {n} of {total}")
    finally:
        files = sink.finish()
    return files[0]


__all__ = ["DiffLayer", "export_comparison", "install_diff_layer", "paint_diff_page"]
