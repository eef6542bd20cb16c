"""``territory-desktop print --project P.gpkg --out map.pdf [--page letter --landscape] [--atlas]``: a printed
territory map (one page) or, with ``--atlas``, a map book (cover + one page per territory). The format
follows --out's suffix: .pdf (vector, bookmarks), .svg (vector), .png. Qt is imported lazily."""

from __future__ import annotations

import argparse
import os
import textwrap
import time
from datetime import date

from ..models import InvalidInputError
from ._common import TextProgress, input_file, number_in, output_file, project_file

PRINT_SUFFIXES = (".pdf", ".svg", ".png")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "print", help="print the territory map or a map book to PDF, SVG or PNG",
        description=textwrap.fill(
                    "Print the territories of a project as a wall map with title, legend of territories with "
                    "reps and totals, a scale bar true at the map's scale, north arrow, labels and a date and "
                    "source footer; or, with --atlas, a map book: a cover overview page, then one page per "
                    "territory zoomed to it (neighbours grey) with its KPIs and accounts table, continued on "
                    "further pages when long. A PDF map book has one bookmark per territory. The output "
                    "format follows --out's suffix: .pdf (vector), .svg (vector), .png (raster at --dpi). "
                    "A multi-page book written as .svg or .png becomes NAME-001.svg, NAME-002.svg, ...", 100),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  territory-desktop print --project demo.gpkg --out map.pdf --page tabloid --landscape\n"
               "  territory-desktop print --project demo.gpkg --out book.pdf --page letter --landscape --atlas\n"
               "  territory-desktop print --project demo.gpkg --out map.png --page a4 --dpi 150 --units km\n"
               "  territory-desktop print --project demo.gpkg --out poster.pdf --page 24x36in --accounts")
    p.add_argument("--project", required=True, type=project_file, help="project file (.gpkg)")
    p.add_argument("--out", required=True, type=output_file(*PRINT_SUFFIXES),
                   help="output file: .pdf, .svg or .png (format by suffix), in an existing folder")
    p.add_argument("--page", default="letter",
                   help="paper: letter, legal, tabloid, a4, a3, or custom WxH in mm or inches, e.g. 600x900mm, "
                        "24x36in (default letter)")
    p.add_argument("--landscape", action="store_true", help="long side across (default portrait)")
    p.add_argument("--atlas", action="store_true",
                   help="map book: cover overview, then one page per territory with its accounts table")
    p.add_argument("--title", default="", help="title (default: the project name)")
    p.add_argument("--subtitle", default="", help="subtitle under the title")
    p.add_argument("--scenario", default=None, help="scenario id to print (default: the active one)")
    p.add_argument("--units", default="mi", choices=("mi", "km"), help="scale bar units (default mi)")
    p.add_argument("--accounts", action="store_true",
                   help="draw account points on the wall map (territory pages of a map book always show them)")
    p.add_argument("--no-reps", action="store_true", help="do not mark rep homes")
    p.add_argument("--routes", default=None, type=input_file,
                   help="vector file of route lines (GeoPackage, GeoJSON, shapefile; lon/lat or any CRS) to draw")
    p.add_argument("--source", default=None, help="source text for the footer (default: the project file name)")
    p.add_argument("--max-accounts", type=number_in(0, 1_000_000, int), default=0, metavar="N",
                   help="map book: list at most N accounts per territory, largest potential first (0 = all, "
                        "at most 1000000)")
    p.add_argument("--kpi-period", default=None, metavar="PERIOD",
                   help="map book: the period of the KPI page, e.g. 2026-Q3, 2026-07 or 2026 (default: the last "
                        "complete quarter with sales)")
    p.add_argument("--no-kpi-page", action="store_true", help="map book: leave out the KPI page")
    p.add_argument("--dpi", type=number_in(50, 1200, int), default=None,
                   help="PNG pixel density, 50 to 1200 (default 200); PDF/SVG are vector (coordinates at 300 dpi)")
    p.set_defaults(func=run)


def _routes(path: str | None):
    if not path:
        return None
    if not os.path.exists(path):
        raise InvalidInputError("--routes", [f"{path}: file not found"])
    from ..storage.vector import read_lines

    try:
        return read_lines(path)
    except InvalidInputError as exc:  # name the option and the file, as for a missing file
        raise InvalidInputError("--routes", [f"{path}: {p.reason}" for p in exc.problems]) from None


def run(args: argparse.Namespace) -> int:
    from ..services.printing import page_spec

    spec = page_spec(args.page, args.landscape)
    suffix = os.path.splitext(args.out)[1].lower()
    dpi = args.dpi or (200 if suffix == ".png" else 300)
    routes = _routes(args.routes)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ..services.project import open_project

    t0 = time.perf_counter()
    project = open_project(args.project)
    from ..ui.print import PrintOptions, ensure_application, export_book, export_map

    ensure_application()

    options = PrintOptions(page=spec, title=args.title, subtitle=args.subtitle, units=args.units,
                           accounts=args.accounts, reps=not args.no_reps, routes=routes, source=args.source,
                           when=date.today(), dpi=dpi, scenario=args.scenario, max_accounts=args.max_accounts,
                           kpi_page=not args.no_kpi_page, kpi_period=args.kpi_period)
    if args.atlas:
        files = export_book(project, args.out, options, progress=TextProgress())
    else:
        files = export_map(project, args.out, options)
    elapsed = time.perf_counter() - t0
    pages = _page_count(files)
    shown = files[0] if len(files) == 1 else f"{files[0]} .. {files[-1].name}"
    print(f"wrote {shown}: {pages} page{'s' if pages != 1 else ''}, {spec.name} "
          f"{spec.width_mm:.0f}x{spec.height_mm:.0f} mm, {elapsed:.1f} s")
    return 0


def _page_count(files) -> int:
    if len(files) == 1 and str(files[0]).lower().endswith(".pdf"):
        from pypdf import PdfReader

        return len(PdfReader(str(files[0])).pages)
    return len(files)
