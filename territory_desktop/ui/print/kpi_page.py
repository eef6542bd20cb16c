"""The map book's KPI pages: a table of the period's KPIs per territory with a bar chart beside it (sales
against the same period a year earlier, on one scale for every page), and the definitions under it.
The content is ``services.kpi_pages`` (Qt-free)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QPen

from ...services.kpi_pages import KPI_PAGE_COLUMNS, KpiPage
from ...services.printing import fmt_money, nice_length
from .elements import INK, MUTED, RULE, Page, draw_footer, draw_table, draw_title, font, table_row_height
from .pages import GAP_MM, sheet_frame

PRIOR = QColor("#b8bec6")
NOTE_SIZE = 6.5


def _chart_share(page: Page, body: QRectF) -> float:
    return 0.30 if body.width() >= body.height() else 0.26


def _wrapped(page: Page, width: float, note: str) -> list[str]:
    """``note`` broken into lines no wider than ``width`` at the notes' font."""
    fm = page.metrics(font(NOTE_SIZE))
    lines, line = [], ""
    for word in note.split():
        trial = f"{line} {word}".strip()
        if fm.horizontalAdvance(trial) > width and line:
            lines.append(line)
            line = word
        else:
            line = trial
    return [*lines, line] if line else lines


def _note_columns(page: Page, width: float, notes: list[str]) -> tuple[float, list[list[str]]]:
    """The definitions in two columns: (column width, the lines of each column)."""
    col_w = (width - page.mm(GAP_MM)) / 2
    half = (len(notes) + 1) // 2
    return col_w, [[line for n in part for line in _wrapped(page, col_w, n)] for part in (notes[:half], notes[half:])]


def _notes_height(page: Page, width: float, notes: list[str]) -> float:
    _w, columns = _note_columns(page, width, notes)
    return max(len(c) for c in columns) * page.metrics(font(NOTE_SIZE)).height() * 1.1 + page.mm(3)


#: table font sizes tried, largest first: the smaller ones only to keep every territory on one page
SIZES = (7.0, 6.5, 6.0)


def _rows_per_page(page: Page, data: KpiPage, size: float) -> tuple[int, int]:
    """(rows on a page, rows on the last page, which also holds the total and the definitions)."""
    body = sheet_frame(page).body
    rh = table_row_height(page, size)
    rows = int((body.height() - 2 * rh - page.mm(2)) // rh)
    notes = _notes_height(page, body.width(), data.definitions)
    last = int((body.height() - 3 * rh - notes - page.mm(2)) // rh)
    return max(rows, 1), max(last, 1)


@dataclass(frozen=True)
class KpiLayout:
    """The table's font size and the (first row, end row) of each KPI page."""

    size: float
    pages: list[tuple[int, int]]


def kpi_layout(page: Page, data: KpiPage) -> KpiLayout:
    """One page at the largest size that holds every territory, else full pages at the first size and a
    last page with room for the total and the notes."""
    n = len(data.rows)
    for size in SIZES:
        if n <= _rows_per_page(page, data, size)[1]:
            return KpiLayout(size, [(0, n)])
    per, last = _rows_per_page(page, data, SIZES[0])
    out, start = [], 0
    while n - start > last:  # a full page, leaving at least one row for the last page
        out.append((start, start + min(per, n - start - 1)))
        start = out[-1][1]
    out.append((start, n))
    return KpiLayout(SIZES[0], out)


def paint_kpi_page(page: Page, data: KpiPage, rows: tuple[int, int], colours: dict[str, QColor], footer: str,
                   page_label: str, size: float = SIZES[0]) -> None:
    """One KPI page: rows ``rows`` (first, end) of the table and their bars; the last page adds the total
    row and the definitions."""
    fr = sheet_frame(page)
    first, end = rows
    more = f"   ·   territories {first + 1}–{end} of {len(data.rows)}" if first or end < len(data.rows) else ""
    draw_title(page, fr.title, f"Performance by territory, {data.period}",
               f"Sales, growth, win rate, visit coverage and pipeline of {data.period}; bars: sales against "
               f"{data.prior_period}" + more)
    body = fr.body
    gap = page.mm(GAP_MM)
    chart_w = body.width() * _chart_share(page, body)
    table = QRectF(body.left(), body.top(), body.width() - chart_w - gap, 0)
    cells = list(data.rows[first:end])
    last = end == len(data.rows)
    if last:
        cells.append(data.total)
    y = draw_table(page, table, KPI_PAGE_COLUMNS, cells, size)
    chart = QRectF(table.right() + gap, body.top(), chart_w, y - body.top())
    _paint_bars(page, chart, data, (first, end), colours, table_row_height(page, size))
    if last:
        _paint_notes(page, QRectF(body.left(), y + page.mm(3), body.width(), body.bottom() - y), data.definitions)
    draw_footer(page, fr.footer, footer, page_label)


def _paint_bars(page: Page, rect: QRectF, data: KpiPage, rows: tuple[int, int], colours: dict[str, QColor],
               rh: float) -> None:
    """Horizontal bars beside the table rows: the period's sales (territory colour) over the year-earlier
    sales (grey), on one scale for all pages; a tick every 'nice' step with its amount in the header row."""
    p = page.painter
    first, end = rows
    top_value = float(max(data.sales.max(initial=0.0), data.prior.max(initial=0.0)))
    if top_value <= 0:
        page.text(rect.left(), rect.top(), "no sales in either period", font(7, italic=True), MUTED)
        return
    label_w = page.mm(2)
    scale = (rect.width() - label_w) / top_value
    step = nice_length(top_value / 3)
    f = font(6)
    tick = 0.0
    while tick <= top_value * 1.0001:
        x = rect.left() + tick * scale
        p.setPen(QPen(RULE, page.mm(0.15)))
        p.drawLine(QPointF(x, rect.top() + rh), QPointF(x, rect.top() + rh * (end - first + 1)))
        page.text(x - page.mm(8), rect.top() + rh * 0.2, fmt_money(tick), f, MUTED, align="c", width=page.mm(16))
        tick += step
    p.setPen(QPen(INK, page.mm(0.25)))
    p.drawLine(QPointF(rect.left(), rect.top() + rh), QPointF(rect.right(), rect.top() + rh))
    for k, i in enumerate(range(first, end)):
        y = rect.top() + rh * (k + 1)
        colour = colours.get(data.territory_ids[i], QColor("#4a78a8"))
        p.fillRect(QRectF(rect.left(), y + rh * 0.58, data.prior[i] * scale, rh * 0.26), PRIOR)
        p.fillRect(QRectF(rect.left(), y + rh * 0.14, data.sales[i] * scale, rh * 0.42), colour)


def _paint_notes(page: Page, rect: QRectF, notes: list[str]) -> None:
    """The definitions of the columns, in two columns wrapped to their width."""
    f = font(NOTE_SIZE)
    col_w, columns = _note_columns(page, rect.width(), notes)
    for k, lines in enumerate(columns):
        x, y = rect.left() + k * (col_w + page.mm(GAP_MM)), rect.top()
        for line in lines:
            y += page.text(x, y, line, f, MUTED, width=col_w) * 1.1
