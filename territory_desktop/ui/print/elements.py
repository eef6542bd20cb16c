"""Page furniture drawn in device pixels: title block, legend, scale bar, north arrow, overview inset,
KPI block, tables and footer. ``mm`` converts paper millimetres to device pixels for the page."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen, QPolygonF, QTransform

from ...services.printing import ScaleBar, TerritorySummary, transformer
from ..renderer import view_transform

INK = QColor("#1d2125")
MUTED = QColor("#5f656d")
RULE = QColor("#c9cdd2")
ZEBRA = QColor("#f2f4f6")


def font(size: float, bold: bool = False, italic: bool = False) -> QFont:
    f = QFont()
    f.setPointSizeF(size)
    f.setBold(bold)
    f.setItalic(italic)
    return f


class Page:
    """A painter on one sheet: ``rect`` is the sheet in device pixels, ``mm_px`` device pixels per mm."""

    def __init__(self, painter: QPainter, rect: QRectF, mm_px: float) -> None:
        self.painter = painter
        self.rect = rect
        self.mm_px = mm_px

    def mm(self, v: float) -> float:
        return v * self.mm_px

    def metrics(self, f: QFont) -> QFontMetricsF:
        key = f.key()
        cache = self.__dict__.setdefault("_metrics", {})
        fm = cache.get(key)
        if fm is None:
            fm = cache[key] = QFontMetricsF(f, self.painter.device())
        return fm

    def text(self, x: float, y: float, s: str, f: QFont, colour: QColor = INK,
             align: str = "l", width: float | None = None) -> float:
        """Draw ``s`` with its top at ``y``; ``align`` l/r/c within ``width`` from ``x``; elides to ``width``.
        Returns the line height."""
        fm = self.metrics(f)
        w = fm.horizontalAdvance(s)
        if width is not None and w > width:
            s = fm.elidedText(s, Qt.TextElideMode.ElideRight, width)
            w = fm.horizontalAdvance(s)
        if align == "r" and width is not None:
            x = x + width - w
        elif align == "c" and width is not None:
            x = x + (width - w) / 2
        self.painter.setFont(f)
        self.painter.setPen(colour)
        self.painter.drawText(QPointF(x, y + fm.ascent()), s)
        return fm.height()

    def hline(self, x0: float, x1: float, y: float, colour: QColor = RULE, width_mm: float = 0.2) -> None:
        self.painter.setPen(QPen(colour, self.mm(width_mm)))
        self.painter.drawLine(QPointF(x0, y), QPointF(x1, y))


def column_widths(page: Page, headers: list[str], flex: list[float], rows: list[tuple[str, ...]], f: QFont,
                  fb: QFont, total: float, pad: float) -> list[float]:
    """Widths that fit ``total``: columns with ``flex`` 0 get their natural width (widest of header and
    cells plus ``pad`` each side); the others share what is left in proportion to ``flex``, capped at their
    natural width (spare space then widens them evenly). Falls back to proportional widths when the
    fixed columns alone do not fit."""
    fm, fmb = page.metrics(f), page.metrics(fb)
    natural = []
    for i, h in enumerate(headers):
        w = fmb.horizontalAdvance(h)
        for r in rows:
            w = max(w, fm.horizontalAdvance(r[i]))
        natural.append(w + 2 * pad)
    fixed = sum(n for n, x in zip(natural, flex, strict=True) if x == 0)
    rest = total - fixed
    share = sum(flex)
    if rest <= 0 or share == 0:
        weights = [n if x == 0 else n * 0.5 for n, x in zip(natural, flex, strict=True)]
        return [total * w / sum(weights) for w in weights]
    widths = [n if x == 0 else min(n, rest * x / share) for n, x in zip(natural, flex, strict=True)]
    spare = total - sum(widths)
    if spare > 0:  # room left: widen the flexible columns, so numbers stay at the right edge
        for i, x in enumerate(flex):
            widths[i] += spare * x / share
    return widths


def draw_title(page: Page, rect: QRectF, title: str, subtitle: str) -> None:
    h = page.text(rect.left(), rect.top(), title, font(17, bold=True), INK, width=rect.width())
    if subtitle:
        page.text(rect.left(), rect.top() + h, subtitle, font(9.5), MUTED, width=rect.width())
    page.hline(rect.left(), rect.right(), rect.bottom(), INK, 0.35)


def draw_footer(page: Page, rect: QRectF, left: str, right: str) -> None:
    page.hline(rect.left(), rect.right(), rect.top(), RULE, 0.2)
    f = font(6.5)
    page.text(rect.left(), rect.top() + page.mm(0.8), left, f, MUTED, width=rect.width() * 0.75)
    page.text(rect.left(), rect.top() + page.mm(0.8), right, f, MUTED, align="r", width=rect.width())


def swatch(page: Page, rect: QRectF, colour: QColor, number: str | None = None) -> None:
    p = page.painter
    p.setPen(QPen(QColor("#2f3338"), page.mm(0.15)))
    c = QColor(colour)
    c.setAlphaF(0.8)
    p.setBrush(c)
    p.drawRect(rect)
    if number:
        f = font(max(5.2, min(rect.height() / page.mm_px * 1.3, 12.0)), bold=True)
        fm = page.metrics(f)
        tw = fm.horizontalAdvance(number)
        p.setFont(f)
        p.setPen(INK if c.lightnessF() > 0.45 else QColor("white"))
        p.drawText(QPointF(rect.center().x() - tw / 2, rect.center().y() + fm.ascent() / 2 - fm.descent() / 2),
                   number)


def _legend_plan(page: Page, rect: QRectF, rows: list[TerritorySummary], page_numbers: dict[str, int] | None,
                 draw_head: bool = False):
    """Font size, row height, rows per column, columns, column width and items of the legend in ``rect``
    (the last element None when nothing fits without cutting rows)."""
    from ...services.printing import fmt_money

    def build_items(with_groups: bool) -> list[tuple[str, object]]:
        out: list[tuple[str, object]] = []
        group = None
        for s in rows:
            if with_groups and s.group and s.group != group:
                out.append(("group", s.group))
                group = s.group
            out.append(("row", s))
        return out

    head = font(9, bold=True)
    top = rect.top() + (page.text(rect.left(), rect.top(), "Territories", head) if draw_head else
                        page.metrics(head).height()) + page.mm(1.0)
    avail_h = rect.bottom() - top
    headers = ["Territory", "Rep", "Accts", "Potential"] + (["Page"] if page_numbers else [])
    cells = [(s.name, s.rep_name, f"{s.accounts:,}", fmt_money(s.potential))
             + ((str(page_numbers.get(s.territory_id, "")),) if page_numbers else ()) for s in rows]
    gap = page.mm(4)
    chosen = None
    # the largest font, then the fewest columns, that fit with room for ~28 characters of name and rep;
    # group headings are dropped before the font gets smaller than 6.5 pt
    attempts = [(size, True) for size in (8.0, 7.5, 7.0, 6.5)] + [(size, False) for size in (7.0, 6.5, 6.0, 5.5)]
    for size, with_groups in attempts:
        items = build_items(with_groups)
        fm = page.metrics(font(size))
        fmb = page.metrics(font(size, bold=True))
        row_h = fm.height() * 1.22
        per_col_max = max(1, int((avail_h - row_h) // row_h))
        fixed = sum(max(fmb.horizontalAdvance(h), *(fm.horizontalAdvance(c[i]) for c in cells)) + page.mm(1.6)
                    for i, h in enumerate(headers) if i >= 2) if cells else 0.0
        need = fixed + row_h * 1.2 + page.mm(1.5) + fm.averageCharWidth() * 28
        for ncols in (1, 2, 3, 4):
            per_col = math.ceil(len(items) / ncols)
            col_w = (rect.width() - (ncols - 1) * gap) / ncols
            if per_col <= per_col_max and col_w >= need:
                chosen = (size, row_h, per_col_max, ncols, col_w, items)
                break
        if chosen:
            break
    fits = chosen is not None
    if chosen is None:  # too many territories for the box: smallest font, rows cut
        items = build_items(False)
        fm = page.metrics(font(5.5))
        row_h = fm.height() * 1.22
        per_col_max = max(1, int((avail_h - row_h) // row_h))
        ncols = max(1, min(4, int((rect.width() + gap) // (page.mm(60) + gap))))
        chosen = (5.5, row_h, per_col_max, ncols, (rect.width() - (ncols - 1) * gap) / ncols, items)
    return headers, cells, gap, top, (chosen, fits)


def legend_fits(page: Page, rect: QRectF, rows: list[TerritorySummary],
                page_numbers: dict[str, int] | None = None) -> bool:
    """Whether every legend row fits ``rect`` without cutting (nothing is drawn)."""
    return _legend_plan(page, rect, rows, page_numbers)[4][1]


def draw_legend(page: Page, rect: QRectF, rows: list[TerritorySummary], colours: dict[str, QColor],
                page_numbers: dict[str, int] | None = None) -> bool:
    """Territory legend: swatch with the label number, name, rep, accounts, potential (and page in a map
    book), under district headings when the project has a hierarchy. Picks the largest font (8 down to
    5.5 pt) and column count that fit ``rect``; returns False when rows had to be cut (a "... and N more"
    line says so)."""
    headers, cells, gap, top, (chosen, _) = _legend_plan(page, rect, rows, page_numbers, draw_head=True)
    size, row_h, per_col, ncols, col_w, items = chosen
    n = len(items)
    per_col = min(per_col, math.ceil(n / ncols))  # balance the columns
    capacity = per_col * ncols
    fits = n <= capacity
    shown = items if fits else items[:capacity - 1]
    f, fb = font(size), font(size, bold=True)
    sw = row_h * 0.78
    lead = sw * 1.25 + page.mm(1.5)
    widths = column_widths(page, headers, [1.2, 1.0] + [0.0] * (len(headers) - 2), cells, f, fb, col_w - lead,
                           page.mm(0.8))
    for c in range(ncols):
        chunk = shown[c * per_col:(c + 1) * per_col]
        if not chunk:
            break
        x0 = rect.left() + c * (col_w + gap)
        xs, x = [], x0 + lead
        for w in widths:
            xs.append((x, w))
            x += w
        y = top
        for i, (title, (cx, cw)) in enumerate(zip(headers, xs, strict=True)):
            page.text(cx, y, title, fb, MUTED, align="l" if i < 2 else "r", width=cw - page.mm(0.8))
        y += row_h
        page.hline(x0, x0 + col_w, y - row_h * 0.1)
        for kind, item in chunk:
            if kind == "group":
                page.text(x0, y + row_h * 0.15, str(item), font(size * 0.92, bold=True, italic=True), MUTED,
                          width=col_w)
                y += row_h
                continue
            s = item
            swatch(page, QRectF(x0, y + (row_h - sw) / 2, sw * 1.25, sw), colours.get(s.territory_id,
                   QColor("#ccc")), str(s.number))
            row = cells[rows.index(s)]
            for i, (cell, (cx, cw)) in enumerate(zip(row, xs, strict=True)):
                page.text(cx, y + row_h * 0.1, cell, f, INK, align="l" if i < 2 else "r",
                          width=cw - page.mm(0.8))
            y += row_h
    if not fits:
        last_col_x = rect.left() + (ncols - 1) * (col_w + gap)
        hidden = sum(1 for kind, _ in items[len(shown):] if kind == "row")
        page.text(last_col_x, top + row_h * per_col, f"... and {hidden} more territories",
                  font(size, italic=True), MUTED)
    return fits


def draw_scale_bar(page: Page, origin: QPointF, bar: ScaleBar, scale_label: str, crs_label: str,
                   draw: bool = True) -> QRectF:
    """Alternating black/white segments from ``origin`` (bottom-left, device px) with tick labels;
    returns the box drawn (white, behind the bar); ``draw=False`` only measures it."""
    p = page.painter
    length = page.mm(bar.length_mm)
    seg = length / bar.segments
    h = page.mm(1.4)
    f = font(6.5)
    fm = page.metrics(f)
    end_label = f"{bar.length:g}"
    tail = fm.horizontalAdvance(end_label) / 2 + fm.horizontalAdvance(f" {bar.units}")
    box = QRectF(origin.x() - page.mm(2), origin.y() - h - fm.height() * 3 - page.mm(3.2),
                 max(length + tail, fm.horizontalAdvance(crs_label),
                     fm.horizontalAdvance(scale_label)) + page.mm(4) + fm.averageCharWidth(),
                 h + fm.height() * 3 + page.mm(4.8))
    if not draw:
        return box
    p.setPen(QPen(RULE, page.mm(0.15)))
    p.setBrush(QColor(255, 255, 255, 235))
    p.drawRect(box)
    y = origin.y() - h - fm.height() * 2 - page.mm(1.5)
    p.setPen(QPen(INK, page.mm(0.18)))
    for i in range(bar.segments):
        p.setBrush(INK if i % 2 == 0 else QColor("white"))
        p.drawRect(QRectF(origin.x() + i * seg, y, seg, h))
    label_y = y - fm.height() - page.mm(0.3)
    for value, x in ((0.0, origin.x()), (bar.length / 2, origin.x() + length / 2), (bar.length, origin.x() + length)):
        s = f"{value:g}"
        w = fm.horizontalAdvance(s)
        page.text(x - w / 2, label_y, s, f)  # numbers centred on their ticks
    last = fm.horizontalAdvance(f"{bar.length:g}")
    page.text(origin.x() + length + last / 2 + fm.horizontalAdvance(" "), label_y, bar.units, f)
    page.text(origin.x(), y + h + page.mm(0.6), scale_label, f, MUTED)
    page.text(origin.x(), y + h + page.mm(0.6) + fm.height(), crs_label, font(5.8), MUTED)
    return box


def north_angle(crs: str, lon: float, lat: float) -> float:
    """Angle (degrees, clockwise from page-up) of true north at (lon, lat) in projection ``crs``."""
    t = transformer("EPSG:4326", crs)
    x0, y0 = t.transform(lon, lat)
    x1, y1 = t.transform(lon, lat + 0.05)
    return math.degrees(math.atan2(x1 - x0, y1 - y0))


def draw_north_arrow(page: Page, centre: QPointF, angle_deg: float, size_mm: float = 9.0) -> QRectF:
    """A two-tone arrow with an "N", rotated to true north; returns its bounding box."""
    p = page.painter
    s = page.mm(size_mm)
    p.save()
    p.setPen(QPen(RULE, page.mm(0.15)))
    p.setBrush(QColor(255, 255, 255, 235))
    p.drawRoundedRect(QRectF(centre.x() - s * 0.42, centre.y() - s * 0.5 - page.mm(4.2), s * 0.84,
                             s * 0.9 + page.mm(4.6)), page.mm(1), page.mm(1))
    p.translate(centre)
    p.rotate(angle_deg)
    left = QPolygonF([QPointF(0, -s / 2), QPointF(-s * 0.22, s * 0.32), QPointF(0, s * 0.18)])
    right = QPolygonF([QPointF(0, -s / 2), QPointF(s * 0.22, s * 0.32), QPointF(0, s * 0.18)])
    p.setPen(QPen(INK, page.mm(0.2)))
    p.setBrush(INK)
    p.drawPolygon(left)
    p.setBrush(QColor("white"))
    p.drawPolygon(right)
    f = font(8, bold=True)
    fm = page.metrics(f)
    p.setFont(f)
    p.setPen(INK)
    p.drawText(QPointF(-fm.horizontalAdvance("N") / 2, -s / 2 - page.mm(0.8)), "N")
    p.restore()
    return QRectF(centre.x() - s * 0.45, centre.y() - s * 0.5 - fm.height() - page.mm(1), s * 0.9,
                  s + fm.height() + page.mm(1))


def draw_overview(page: Page, print_map, rect: QRectF, extent: QRectF) -> None:
    """The whole map small in ``rect`` with the printed ``extent`` outlined in red."""
    p = page.painter
    full = print_map.full_extent(0.02)
    context = print_map.renderer.layer("print_context")
    accounts = print_map.renderer.layer("print_accounts")
    reps = print_map.renderer.layer("print_reps")
    saved = (context.visible, accounts.visible, reps.visible)
    context.visible = accounts.visible = reps.visible = False
    outlines = print_map.outlines.width_mm
    print_map.outlines.width_mm = 0.1
    print_map.paint(p, full, rect, clip=False)
    context.visible, accounts.visible, reps.visible = saved
    print_map.outlines.width_mm = outlines
    t: QTransform = view_transform(full, rect)
    box = t.mapRect(extent)
    min_side = page.mm(1.5)
    if box.width() < min_side or box.height() < min_side:
        box = QRectF(box.center().x() - min_side / 2, box.center().y() - min_side / 2, min_side, min_side)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(QPen(QColor("#d62728"), page.mm(0.45)))
    p.drawRect(box.intersected(rect))
    p.setPen(QPen(INK, page.mm(0.25)))
    p.drawRect(rect)


def draw_kpis(page: Page, x: float, y: float, width: float, kpis: list[tuple[str, str]]) -> float:
    """Label/value lines; returns the y below them."""
    f, fb = font(8), font(8, bold=True)
    lw = width * 0.38
    for label, value in kpis:
        h = page.text(x, y, label, f, MUTED, width=lw - page.mm(1))
        page.text(x + lw, y, value, fb, INK, width=width - lw)
        y += h * 1.15
    return y


def table_row_height(page: Page, size: float = 7.0) -> float:
    return page.metrics(font(size)).height() * 1.3


def draw_table(page: Page, rect: QRectF, columns: list[tuple[str, str, str, float]], rows: list[tuple[str, ...]],
               size: float = 7.0) -> float:
    """A zebra-striped table with a bold header; cells elide to their column. Returns the y below it."""
    rh = table_row_height(page, size)
    f, fb = font(size), font(size, bold=True)
    pad = page.mm(1.0)
    flex = [c[3] if c[2] == "l" and c[3] >= 1.2 else 0.0 for c in columns]
    widths = column_widths(page, [c[1] for c in columns], flex, rows, f, fb, rect.width(), pad)
    xs, x = [], rect.left()
    for w in widths:
        xs.append((x, w))
        x += w
    y = rect.top()
    for (_, header, align, _), (cx, cw) in zip(columns, xs, strict=True):
        page.text(cx + pad, y + rh * 0.12, header, fb, MUTED, align=align, width=cw - 2 * pad)
    y += rh
    page.hline(rect.left(), rect.right(), y, INK, 0.25)
    p = page.painter
    for i, row in enumerate(rows):
        if i % 2 == 1:
            p.fillRect(QRectF(rect.left(), y, rect.width(), rh), ZEBRA)
        for cell, (_, _, align, _), (cx, cw) in zip(row, columns, xs, strict=True):
            page.text(cx + pad, y + rh * 0.12, cell, f, INK, align=align, width=cw - 2 * pad)
        y += rh
    page.hline(rect.left(), rect.right(), y, RULE, 0.2)
    return y
