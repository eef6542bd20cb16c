"""Page layouts: the wall map (one page) and the map book (cover, one page per territory, continued
account tables). Layout is computed in millimetres of paper and drawn in the device's pixels, so the same
code paints PDF, SVG, PNG, print preview and real printers."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QPen, QTransform

from ...services.printing import (
    ACCOUNT_COLUMNS,
    TerritorySummary,
    parallel_scale_factor,
    scale_bar,
    scale_text,
    transformer,
)
from ..renderer import view_transform
from .elements import (
    INK,
    MUTED,
    Page,
    draw_footer,
    draw_kpis,
    draw_legend,
    draw_north_arrow,
    draw_overview,
    draw_scale_bar,
    draw_table,
    draw_title,
    font,
    legend_fits,
    north_angle,
    swatch,
    table_row_height,
)
from .labels import place_labels
from .mapframe import GREY_TEXT, PrintMap
from .options import PrintOptions

MARGIN_MM = 10.0
GAP_MM = 4.0
TITLE_MM = 15.0
FOOTER_MM = 5.0


@dataclass
class Frame:
    """The regions of one sheet in device pixels."""

    title: QRectF
    body: QRectF
    footer: QRectF


def sheet_frame(page: Page, has_title: bool = True) -> Frame:
    r = page.rect.adjusted(page.mm(MARGIN_MM), page.mm(MARGIN_MM), -page.mm(MARGIN_MM), -page.mm(MARGIN_MM))
    title_h = page.mm(TITLE_MM) if has_title else 0.0
    footer = QRectF(r.left(), r.bottom() - page.mm(FOOTER_MM), r.width(), page.mm(FOOTER_MM))
    title = QRectF(r.left(), r.top(), r.width(), title_h)
    body = QRectF(r.left(), r.top() + title_h + (page.mm(GAP_MM) if has_title else 0), r.width(), 0)
    body.setBottom(footer.top() - page.mm(2.0))
    return Frame(title, body, footer)


def lonlat_of(print_map: PrintMap, x: float, y: float) -> tuple[float, float]:
    """Drawing-space point (metres, y negated) -> lon/lat."""
    t = transformer(print_map.scene.crs, "EPSG:4326")
    lon, lat = t.transform(x, -y)
    return float(lon), float(lat)


def map_scale(print_map: PrintMap, transform: QTransform, extent: QRectF, mm_px: float) -> tuple[float, float]:
    """(mm of paper per projected metre, projection scale factor k at the extent's centre)."""
    c = extent.center()
    lon, lat = lonlat_of(print_map, c.x(), c.y())
    k = parallel_scale_factor(print_map.scene.crs, lon, lat)
    return transform.m11() / mm_px, k


def paint_map(page: Page, print_map: PrintMap, frame: QRectF, extent: QRectF, summaries: list[TerritorySummary],
              options: PrintOptions, focus: str | None = None, overview: bool = False) -> QTransform:
    """The map in ``frame``: territories, labels, scale bar, north arrow and (optionally) an overview inset.
    Returns the drawing -> device transform used."""
    p = page.painter
    print_map.set_mm_px(page.mm_px)
    transform = view_transform(extent, frame)
    with print_map.focused(focus):
        print_map.paint(p, extent, frame)
    obstacles = []
    # scale bar, bottom-left
    mm_per_m, k = map_scale(print_map, transform, extent, page.mm_px)
    bar = scale_bar(mm_per_m, k, frame.width() / page.mm_px * 0.22, options.units)
    crs_label = "NAD83 / Conus Albers (EPSG:5070)" if print_map.scene.crs == "EPSG:5070" else \
        "Lambert azimuthal equal-area"
    origin = QPointF(frame.left() + page.mm(5), frame.bottom() - page.mm(3))
    obstacles.append(draw_scale_bar(page, origin, bar, f"Scale {scale_text(mm_per_m, k)} at map centre",
                                    crs_label, draw=False))
    # north arrow, top-left
    c = extent.center()
    arrow_centre = QPointF(frame.left() + page.mm(8), frame.top() + page.mm(11))
    angle = north_angle(print_map.scene.crs, *lonlat_of(print_map, c.x(), c.y()))
    obstacles.append(QRectF(arrow_centre.x() - page.mm(6), arrow_centre.y() - page.mm(10), page.mm(12),
                            page.mm(16)))
    inset = None
    if overview:
        w = min(frame.width() * 0.26, page.mm(70))
        full = print_map.full_extent(0.02)
        h = w * full.height() / max(full.width(), 1e-9)
        inset = QRectF(frame.right() - w - page.mm(3), frame.top() + page.mm(3), w, h)
        obstacles.append(inset.adjusted(-page.mm(1), -page.mm(1), page.mm(1), page.mm(1)))
    by_id = {s.territory_id: s for s in summaries}
    texts, numbers, colours = {}, {}, {}
    for key in print_map.scene.drawn_keys():
        if key is None or key not in by_id:
            continue
        s = by_id[key]
        if focus is None or key == focus:  # grey neighbours get their name or nothing
            numbers[key] = str(s.number)
            texts[key] = [s.name, s.rep_name]
        else:
            texts[key] = [s.name]
            colours[key] = GREY_TEXT
    obstacles += print_map.rep_boxes(transform, page.mm(1.6), focus)
    place_labels(p, transform, print_map.scene, texts, numbers, frame, obstacles, page.mm_px, colours)
    draw_scale_bar(page, origin, bar, f"Scale {scale_text(mm_per_m, k)} at map centre", crs_label)
    draw_north_arrow(page, arrow_centre, angle)
    if inset is not None:
        p.fillRect(inset, QColor("white"))
        with print_map.focused(focus):
            draw_overview(page, print_map, inset, extent)
    p.setBrush(QColor(0, 0, 0, 0))
    p.setPen(QPen(INK, page.mm(0.35)))
    p.drawRect(frame)
    return transform


def paint_wall_map(page: Page, print_map: PrintMap, summaries: list[TerritorySummary], options: PrintOptions,
                   footer: str, page_label: str = "", page_numbers: dict[str, int] | None = None,
                   extent: QRectF | None = None) -> QTransform:
    """One sheet: title, map, legend of every territory, footer. Landscape sheets put the legend beside the
    map, portrait sheets below it. Returns the map transform."""
    fr = sheet_frame(page)
    draw_title(page, fr.title, options.title or print_map.project.name, options.subtitle)
    body = fr.body
    gap = page.mm(GAP_MM)
    if body.width() >= body.height():
        # the legend beside the map, widened (up to half the sheet) until every territory fits
        for share in (0.3, 0.38, 0.46, 0.5):
            side = min(max(body.width() * share, page.mm(75)), max(page.mm(120), body.width() * share))
            legend_rect = QRectF(body.right() - side, body.top(), side, body.height())
            if legend_fits(page, legend_rect, summaries, page_numbers):
                break
        map_rect = QRectF(body.left(), body.top(), body.width() - side - gap, body.height())
    else:  # portrait: the map as tall as its extent needs (shorter if the legend needs room), legend below
        shape = extent or print_map.full_extent()
        want = body.width() * shape.height() / max(shape.width(), 1e-9) * 1.04
        map_h = min(max(want, body.height() * 0.45), body.height() * 0.75)
        while True:
            legend_rect = QRectF(body.left(), body.top() + map_h + gap, body.width(), body.height() - map_h - gap)
            if map_h <= body.height() * 0.45 or legend_fits(page, legend_rect, summaries, page_numbers):
                break
            map_h = max(map_h - body.height() * 0.05, body.height() * 0.45)
        map_rect = QRectF(body.left(), body.top(), body.width(), map_h)
    full = print_map.full_extent()
    extent = extent or full
    zoomed = extent.width() * extent.height() < 0.5 * full.width() * full.height()
    transform = paint_map(page, print_map, map_rect, extent, summaries, options,
                          overview=options.overview and zoomed)
    draw_legend(page, legend_rect, summaries, print_map.base_colours, page_numbers)
    draw_footer(page, fr.footer, footer, page_label)
    return transform


# ---------------------------------------------------------------- map book


@dataclass
class BookLayout:
    """Where things go on a territory page and how many account rows fit (first page / continued pages)."""

    landscape: bool
    first_rows: int
    rest_rows: int
    blocks: int  # table blocks side by side on continued pages


def book_layout(page: Page, options: PrintOptions) -> BookLayout:
    fr = sheet_frame(page)
    rh = table_row_height(page)
    landscape = fr.body.width() >= fr.body.height()
    if landscape:
        side_top = _overview_height(page, fr.body, landscape) + page.mm(GAP_MM) + _kpi_height(page)
        first = int((fr.body.height() - side_top - rh - page.mm(6)) // rh)
        blocks = 2
    else:
        first = 0
        blocks = 1
    rest = int((fr.body.height() - rh - page.mm(2)) // rh)
    return BookLayout(landscape, max(first, 0), max(rest, 1) * blocks, blocks)


def _overview_height(page: Page, body: QRectF, landscape: bool) -> float:
    return body.height() * 0.27 if landscape else body.height() * 0.25


def _kpi_height(page: Page) -> float:
    return page.metrics(font(8)).height() * 1.15 * 8 + page.mm(3)


def _side_width(page: Page, body: QRectF) -> float:
    return min(max(body.width() * 0.40, page.mm(95)), page.mm(170))


def paint_territory_page(page: Page, print_map: PrintMap, s: TerritorySummary, summaries: list[TerritorySummary],
                         rows: list[tuple[str, ...]], total_rows: int, options: PrintOptions, footer: str,
                         page_label: str, layout: BookLayout, more_on: int | None) -> None:
    """The territory's own page: map zoomed to it (neighbours grey), overview, KPIs and its first accounts."""
    fr = sheet_frame(page)
    subtitle = f"Rep: {s.rep_name}" + (f"   ·   {s.group}" if s.group else "") + f"   ·   {s.accounts:,} accounts"
    _territory_title(page, fr.title, s, print_map, subtitle)
    body = fr.body
    gap = page.mm(GAP_MM)
    extent = print_map.territory_extent(s.territory_id)
    if layout.landscape:
        side = _side_width(page, body)
        map_rect = QRectF(body.left(), body.top(), body.width() - side - gap, body.height())
        panel = QRectF(map_rect.right() + gap, body.top(), side, body.height())
        ov_h = _overview_height(page, body, True)
        full = print_map.full_extent(0.02)
        ov_w = min(panel.width() * 0.62, ov_h * full.width() / max(full.height(), 1e-9))
        ov = QRectF(panel.left(), panel.top(), ov_w, ov_w * full.height() / max(full.width(), 1e-9))
        paint_map(page, print_map, map_rect, extent, summaries, options, focus=s.territory_id)
        with print_map.focused(s.territory_id):
            draw_overview(page, print_map, ov, extent)
        kx = panel.left()
        y = panel.top() + ov_h + gap
        y = draw_kpis(page, kx, y, panel.width(), s.kpis)
        table_top = panel.top() + ov_h + gap + _kpi_height(page)
        if rows:
            y = draw_table(page, QRectF(panel.left(), table_top, panel.width(), 0), ACCOUNT_COLUMNS, rows)
        _continued_note(page, panel.left(), y + page.mm(1), len(rows), total_rows, more_on)
    else:
        map_h = body.height() * 0.68
        map_rect = QRectF(body.left(), body.top(), body.width(), map_h)
        paint_map(page, print_map, map_rect, extent, summaries, options, focus=s.territory_id)
        y0 = map_rect.bottom() + gap
        ov_h = body.bottom() - y0
        full = print_map.full_extent(0.02)
        ov_w = min(body.width() * 0.45, ov_h * full.width() / max(full.height(), 1e-9))
        ov = QRectF(body.right() - ov_w, y0, ov_w, ov_w * full.height() / max(full.width(), 1e-9))
        with print_map.focused(s.territory_id):
            draw_overview(page, print_map, ov, extent)
        y = draw_kpis(page, body.left(), y0, body.width() - ov_w - gap, s.kpis)
        _continued_note(page, body.left(), y + page.mm(1), 0, total_rows, more_on)
    draw_footer(page, fr.footer, footer, page_label)


def _territory_title(page: Page, rect: QRectF, s: TerritorySummary, print_map: PrintMap, subtitle: str,
                     suffix: str = "") -> None:
    sw = page.mm(9)
    swatch(page, QRectF(rect.left(), rect.top() + page.mm(1), sw, page.mm(7)),
           print_map.base_colours.get(s.territory_id, QColor("#ccc")), str(s.number))
    inner = QRectF(rect.left() + sw + page.mm(3), rect.top(), rect.width() - sw - page.mm(3), rect.height())
    draw_title(page, inner, f"{s.name}{suffix}", subtitle)
    page.hline(rect.left(), rect.right(), rect.bottom(), INK, 0.35)


def _continued_note(page: Page, x: float, y: float, shown: int, total: int, more_on: int | None) -> None:
    if total == 0:
        page.text(x, y, "No accounts in this territory.", font(7.5, italic=True), MUTED)
    elif more_on is not None and shown == 0:
        page.text(x, y, f"The {total:,} accounts are listed from page {more_on}.", font(7.5, italic=True), MUTED)
    elif more_on is not None:
        page.text(x, y, f"Accounts 1–{shown:,} of {total:,} shown here; the list continues on page {more_on}.",
                  font(7.5, italic=True), MUTED)


def paint_accounts_page(page: Page, print_map: PrintMap, s: TerritorySummary, rows: list[tuple[str, ...]],
                        first_index: int, total_rows: int, footer: str, page_label: str, layout: BookLayout) -> None:
    """A continued accounts page: the table in ``layout.blocks`` blocks side by side."""
    fr = sheet_frame(page)
    last = first_index + len(rows) - 1
    _territory_title(page, fr.title, s, print_map,
                     f"Rep: {s.rep_name}   ·   accounts {first_index + 1:,}–{last + 1:,} of {total_rows:,}, "
                     "largest potential first", suffix=" — accounts" + (" (continued)" if first_index else ""))
    body = fr.body
    gap = page.mm(6)
    per_block = max(1, layout.rest_rows // layout.blocks)  # fill the left block first
    w = (body.width() - gap * (layout.blocks - 1)) / layout.blocks
    for b in range(layout.blocks):
        chunk = rows[b * per_block:(b + 1) * per_block]
        if not chunk:
            break
        draw_table(page, QRectF(body.left() + b * (w + gap), body.top(), w, 0), ACCOUNT_COLUMNS, chunk)
    draw_footer(page, fr.footer, footer, page_label)
