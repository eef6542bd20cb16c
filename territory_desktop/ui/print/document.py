"""Whole documents: the wall map and the map book, on any sink (file or printer). Shared by the CLI, the
export dialog and the print preview."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ...models import InvalidInputError, Project, StopFlag
from ...models.progress import Progress, no_progress
from ...services.printing import (
    TerritorySummary,
    accounts_by_territory,
    footer_text,
    paginate,
    territory_summaries,
)
from .kpi_page import kpi_layout, paint_kpi_page
from .mapframe import PrintMap
from .options import PrintOptions
from .output import OutlineEntry, Sink, add_pdf_outline, make_sink
from .pages import book_layout, paint_accounts_page, paint_territory_page, paint_wall_map


def ensure_application():
    """The running QApplication, created (offscreen-capable) when there is none: fonts need one."""
    import sys

    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "territory-desktop"])


def scenario_view(project: Project, scenario_id: str | None) -> Project:
    """``project`` as seen with ``scenario_id`` active: a shallow copy sharing every table, so printing
    another scenario never changes ``project.active_scenario`` behind the user's back."""
    if not scenario_id or scenario_id == project.active_scenario:
        return project
    if scenario_id not in project.plans:
        raise InvalidInputError("--scenario", [(f"no scenario '{scenario_id}' (have "
                                               f"{', '.join(project.plans)})")])
    return replace(project, active_scenario=scenario_id)


def _prepare(project: Project, options: PrintOptions) -> tuple[Project, PrintMap, list[TerritorySummary]]:
    project = scenario_view(project, options.scenario)
    if not len(project.units):
        raise InvalidInputError(project.path or project.name, ["the project has no units to map"])
    return project, PrintMap(project, options), territory_summaries(project)


def paint_map_document(sink: Sink, project: Project, options: PrintOptions) -> int:
    """Paint the one-page wall map on ``sink`` (already created, not begun). Returns the page count."""
    project, pm, summaries = _prepare(project, options)
    page = sink.begin()
    paint_wall_map(page, pm, summaries, options, footer_text(project, options.source, options.when))
    return 1


def paint_book_document(sink: Sink, project: Project, options: PrintOptions, progress: Progress = no_progress,
                        stop: StopFlag | None = None) -> list[OutlineEntry]:
    """Paint the map book: cover (wall map with a page column in the legend), then per territory its map
    page and continued account pages. Returns the outline entries (title, 0-based page, parent)."""
    stop = stop or StopFlag()
    progress(0.0, "preparing the map book")
    project, pm, summaries = _prepare(project, options)
    rows = accounts_by_territory(project, limit=options.max_accounts)
    page = sink.begin()
    layout = book_layout(page, options)
    kpis = _kpi_data(project, summaries, options)
    kpi_pages = kpi_layout(page, kpis) if kpis is not None else None
    kpi_parts = kpi_pages.pages if kpi_pages is not None else []
    chunks, first_page, totals = {}, {}, {}
    n = 2 + len(kpi_parts)
    for s in summaries:
        r = rows.get(s.territory_id, [])
        totals[s.territory_id] = len(r)
        chunks[s.territory_id] = paginate(r, layout.first_rows, layout.rest_rows)
        first_page[s.territory_id] = n
        n += len(chunks[s.territory_id])
    total_pages = n - 1
    footer = footer_text(project, options.source, options.when)
    if not options.title:
        options = PrintOptions(**{**options.__dict__, "title": f"{project.name}: territory map book"})
    if not options.subtitle:
        options.subtitle = f"{len(summaries)} territories · {sum(s.accounts for s in summaries):,} accounts"
    paint_wall_map(page, pm, summaries, options, footer, f"Page 1 of {total_pages}", page_numbers=first_page)
    outline: list[OutlineEntry] = [("Overview map", 0, None)]
    for j, part in enumerate(kpi_parts):
        paint_kpi_page(sink.next_page(), kpis, part, pm.base_colours, footer, f"Page {2 + j} of {total_pages}",
                       kpi_pages.size)
    if kpi_parts:
        outline.append((f"Performance by territory, {kpis.period}", 1, None))
    for i, s in enumerate(summaries):
        stop.check()
        progress((i + 1) / (len(summaries) + 1), f"territory {s.number}/{len(summaries)}: {s.name}")
        parts = chunks[s.territory_id]
        start = first_page[s.territory_id]
        for j, part in enumerate(parts):
            page = sink.next_page()
            label = f"Page {start + j} of {total_pages}"
            if j == 0:
                more = start + 1 if len(parts) > 1 else None
                paint_territory_page(page, pm, s, summaries, part, totals[s.territory_id], options, footer, label,
                                     layout, more)
            else:
                first_index = sum(len(c) for c in parts[:j])
                paint_accounts_page(page, pm, s, part, first_index, totals[s.territory_id], footer, label, layout)
        outline.append((f"{s.number}. {s.name} ({s.rep_name})", start - 1, s.group or None))
    progress(1.0, f"{total_pages} pages")
    return outline


def _kpi_data(project: Project, summaries: list[TerritorySummary], options: PrintOptions):
    """The KPI page's content, or None (switched off, or no sales history)."""
    if not options.kpi_page:
        return None
    from ...services.kpi_pages import kpi_page

    return kpi_page(project, summaries, options.kpi_period)


def export_map(project: Project, out: str | Path, options: PrintOptions) -> list[Path]:
    """Write the wall map to ``out`` (.pdf, .png or .svg by suffix). Returns the files written."""
    sink = make_sink(out, options.page, options.dpi, many=False)
    sink.title = options.title or project.name
    try:
        paint_map_document(sink, project, options)
    finally:
        files = sink.finish()
    return files


def export_book(project: Project, out: str | Path, options: PrintOptions, progress: Progress = no_progress,
                stop: StopFlag | None = None) -> list[Path]:
    """Write the map book to ``out``: one PDF with bookmarks, or numbered PNG/SVG pages."""
    sink = make_sink(out, options.page, options.dpi, many=True)
    sink.title = options.title or f"{project.name}: territory map book"
    try:
        outline = paint_book_document(sink, project, options, progress, stop)
    finally:
        files = sink.finish()
    if Path(out).suffix.lower() == ".pdf":
        progress(1.0, "adding bookmarks")
        add_pdf_outline(Path(out), outline)
    return files
