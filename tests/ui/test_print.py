"""Printed maps and map books: page counts, text on each page (pdftotext), vector output (pdfimages), pixel
colours where known territories lie (pdftoppm), true scale against pyproj.Geod, label overlap, CLI."""

from __future__ import annotations

import importlib.util
import itertools
import math
import shutil
import subprocess
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage

from territory_desktop.services.printing import METRES_PER_MILE, page_spec, paginate
from territory_desktop.ui.print import PrintOptions, export_book, export_map
from territory_desktop.ui.print.document import _prepare
from territory_desktop.ui.print.mapframe import PrintMap
from territory_desktop.ui.print.output import PdfSink, make_sink
from territory_desktop.ui.print.pages import map_scale, paint_wall_map

POPPLER = all(shutil.which(t) for t in ("pdftotext", "pdftoppm", "pdfimages"))
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftotext, pdftoppm, pdfimages) missing")

_spec = importlib.util.spec_from_file_location("printing_fixture", Path(__file__).parents[1] / "services" /
                                               "test_printing.py")
_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixture)
four_territory_project = _fixture.four_territory_project

NAMES = {"T1": "Mesa", "T2": "Canyon", "T3": "Prairie", "T4": "Riverside"}
REPS = {"T1": "Ann Archer", "T2": "Bob Baker", "T3": "Cid Carter", "T4": "Dee Dunn"}
COLOURS = {"T1": (225, 87, 89), "T2": (78, 121, 167), "T3": (89, 161, 79), "T4": (242, 142, 43)}


def pdf_text(path: Path, page: int | None = None) -> str:
    args = ["pdftotext", "-layout"] + (["-f", str(page), "-l", str(page)] if page else []) + [str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def pdf_pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(str(path)).pages)


def page_images(path: Path) -> list[tuple[int, int, int]]:
    """(page, width, height) of every image in the PDF, from pdfimages -list."""
    out = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines()[2:]:
        f = line.split()
        rows.append((int(f[0]), int(f[3]), int(f[4])))
    return rows


def blend(rgb: tuple[int, int, int], alpha: float = 0.8) -> np.ndarray:
    """A territory colour drawn at the print fill opacity over white paper."""
    return np.array(rgb) * alpha + 255 * (1 - alpha)


def interior_points(project, key: str) -> list[tuple[float, float]]:
    """Lon/lat centres of the territory's boxes on the bottom row (away from labels and rep markers)."""
    u = project.units
    ids = [uid for uid, t in project.plan.as_dict().items() if t == key and uid.endswith("r0")]
    return [(g.centroid.x, g.centroid.y) for g in u.set_index("unit_id").geometry[ids]]


def to_device(pm: PrintMap, transform, lon: float, lat: float) -> QPointF:
    x, y = pyproj.Transformer.from_crs("EPSG:4326", pm.scene.crs, always_xy=True).transform(lon, lat)
    return transform.map(QPointF(x, -y))


@pytest.fixture
def wall_pdf(qapp, tmp_path):
    """The wall map of the four-territory project as a PDF, plus the PrintMap and transform used."""
    project = four_territory_project()
    project.path = str(tmp_path / "four.gpkg")
    options = PrintOptions(page=page_spec("letter", landscape=True), title="Four territories",
                           subtitle="Test print", when=date(2026, 11, 26))
    out = tmp_path / "wall.pdf"
    sink = PdfSink(out, options.page, options.dpi)
    _, pm, summaries = _prepare(project, options)
    page = sink.begin()
    transform = paint_wall_map(page, pm, summaries, options, "Printed 2026-11-26 · Source: four.gpkg")
    sink.finish()
    return out, project, pm, transform, options


@needs_poppler
def test_wall_map_pdf_text_legend_and_vector(wall_pdf):
    out, _, _, _, _ = wall_pdf
    assert pdf_pages(out) == 1
    text = pdf_text(out)
    for word in ["Four territories", "Test print", "Territories", "Territory", "Rep", "Accts", "Potential",
                 "mi", "Printed 2026-11-26", "four.gpkg", "NAD83 / Conus Albers", "N", *NAMES.values(),
                 *REPS.values()]:
        assert word in text, word
    # legend rows: name, rep and the plain account count (24 per territory) on one line
    for key, name in NAMES.items():
        line = next(ln for ln in text.splitlines() if name in ln and REPS[key] in ln and "$" in ln)
        assert " 24 " in line
    assert page_images(out) == []  # every mark is vector: no raster image at all


@needs_poppler
def test_wall_map_pixels_where_territories_lie(wall_pdf, tmp_path):
    out, project, pm, transform, options = wall_pdf
    dpi = 100
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(out), str(tmp_path / "page")], check=True)
    image = QImage(str(tmp_path / "page.png"))
    scale = dpi / options.dpi
    assert abs(image.width() - round(options.page.width_mm / 25.4 * dpi)) <= 1
    for key, rgb in COLOURS.items():
        for lon, lat in interior_points(project, key):
            p = to_device(pm, transform, lon, lat)
            c = image.pixelColor(int(p.x() * scale), int(p.y() * scale))
            got = np.array([c.red(), c.green(), c.blue()])
            assert np.abs(got - blend(rgb)).max() <= 14, (key, lon, lat, got)
    # outside the data, inside the map frame: white paper
    far = to_device(pm, transform, -113.5, 41.5)
    c = image.pixelColor(int(far.x() * scale), int(far.y() * scale))
    assert min(c.red(), c.green(), c.blue()) >= 235


def test_scale_bar_true_on_the_printed_page(wall_pdf):
    """Two unit centres' distance on paper over their geodesic distance equals the scale bar's ratio."""
    _, project, pm, transform, options = wall_pdf
    mm_px = options.dpi / 25.4
    boxes = project.units.set_index("unit_id").geometry
    a, b = shapely.centroid(boxes["c2r2"]), shapely.centroid(boxes["c5r2"])
    pa, pb = to_device(pm, transform, a.x, a.y), to_device(pm, transform, b.x, b.y)
    paper_mm = math.hypot(pb.x() - pa.x(), pb.y() - pa.y()) / mm_px
    _, _, ground_m = pyproj.Geod(ellps="GRS80").inv(a.x, a.y, b.x, b.y)
    from territory_desktop.services.printing import scale_bar

    frame_extent = pm.full_extent()
    mm_per_m, k = map_scale(pm, transform, frame_extent, mm_px)
    bar = scale_bar(mm_per_m, k, 60.0, "mi")
    truth = paper_mm / ground_m
    assert truth == pytest.approx(bar.length_mm / (bar.length * METRES_PER_MILE), rel=3e-3)
    # a bar that ignored the projection's scale factor (k ~ 0.991 here) would be ~0.9% off
    naive = scale_bar(mm_per_m, 1.0, 60.0, "mi")
    assert truth != pytest.approx(naive.length_mm / (naive.length * METRES_PER_MILE), rel=3e-3)


@needs_poppler
def test_map_book_pages_text_bookmarks_and_pagination(qapp, tmp_path):
    project = four_territory_project()
    out = tmp_path / "book.pdf"
    options = PrintOptions(page=page_spec("letter", landscape=True), when=date(2026, 11, 26))
    files = export_book(project, out, options)
    assert files == [out]
    n = pdf_pages(out)
    texts = [pdf_text(out, i) for i in range(1, n + 1)]
    assert "territory map book" in texts[0] and all(name in texts[0] for name in NAMES.values())
    # each territory starts on a page titled with its name and rep; its 24 accounts are listed exactly once
    starts = {}
    for key, name in NAMES.items():
        starts[key] = next(i for i, t in enumerate(texts) if i > 0 and f"Rep: {REPS[key]}" in t
                           and t.lstrip().split("\n")[0].strip().endswith(name))
        assert "Potential" in texts[starts[key]] and "Workload" in texts[starts[key]]
    order = sorted(starts, key=starts.get)
    bounds = [starts[k] for k in order] + [n]
    a = project.accounts.assign(territory=project.accounts["unit_id"].map(project.plan.as_dict()))
    for key, lo, hi in zip(order, bounds, bounds[1:], strict=False):
        listed = " ".join(texts[lo:hi])
        for acc in a.loc[a["territory"] == key, "account_id"]:
            assert listed.count(acc) == 1, (key, acc)
        others = a.loc[a["territory"] != key, "account_id"]
        assert not any(f" {acc} " in f" {listed} " for acc in others)
    assert n == 1 + sum(hi - lo for lo, hi in itertools.pairwise(bounds))
    from pypdf import PdfReader

    reader = PdfReader(str(out))
    assert reader.metadata.title == "Four: territory map book"
    marks = [(o.title, reader.get_destination_page_number(o)) for o in reader.outline if not isinstance(o, list)]
    assert marks[0] == ("Overview map", 0)
    assert [(t.split(". ", 1)[1].split(" (")[0], p) for t, p in marks[1:]] == [(NAMES[k], starts[k]) for k in order]
    assert page_images(out) == []


def test_long_account_lists_are_paginated(qapp, tmp_path):
    project = four_territory_project()
    out = tmp_path / "book.png"
    options = PrintOptions(page=page_spec("a4"), dpi=40, when=date(2026, 11, 26))  # portrait: table after the map
    files = export_book(project, out, options)
    # portrait: no rows beside the map, so every territory gets its map page plus ceil(24 / rows per page)
    assert files[0].name == "book-001.png" and all(f.exists() for f in files)
    assert len(files) >= 1 + 4 * 2
    assert paginate(list(range(24)), 0, 10) == [[], list(range(10)), list(range(10, 20)), list(range(20, 24))]


def test_png_and_svg_outputs(qapp, tmp_path):
    project = four_territory_project()
    png = export_map(project, tmp_path / "map.png", PrintOptions(page=page_spec("a4"), dpi=60))[0]
    image = QImage(str(png))
    assert (image.width(), image.height()) == (round(210 / 25.4 * 60), round(297 / 25.4 * 60))
    svg = export_map(project, tmp_path / "map.svg", PrintOptions(page=page_spec("a3", True)))[0]
    root = ET.parse(svg).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f".//{ns}path")) > 10
    assert root.findall(f".//{ns}image") == []
    text = " ".join("".join(t.itertext()) for t in root.iter(f"{ns}text"))
    assert all(name in text for name in NAMES.values())


def test_labels_do_not_overlap_and_sit_inside(qapp):
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QPainter

    from territory_desktop.ui.print.labels import place_labels
    from territory_desktop.ui.renderer import view_transform

    project = four_territory_project()
    pm = PrintMap(project, PrintOptions())
    image = QImage(600, 300, QImage.Format.Format_ARGB32)  # a small, crowded frame at 150 dpi
    image.setDotsPerMeterX(5906)
    image.setDotsPerMeterY(5906)
    painter = QPainter(image)
    frame = QRectF(10, 10, 580, 280)
    t = view_transform(pm.full_extent(), frame)
    texts = {k: [f"{v} territory of the plains", REPS[k]] for k, v in NAMES.items()}
    texts["T1"] = ["M"]
    placed = place_labels(painter, t, pm.scene, texts, {k: str(i) for i, k in enumerate(NAMES, 1)}, frame,
                          [QRectF(10, 200, 200, 90)], 150 / 25.4)
    painter.end()
    assert {p.key for p in placed} == set(NAMES)
    assert any(p.number_only for p in placed)  # long names fall back to legend numbers
    inv = t.inverted()[0]
    for i, a in enumerate(placed):
        assert not a.rect.intersects(QRectF(10, 200, 200, 90))
        for b in placed[i + 1:]:
            assert not a.rect.intersects(b.rect)
        if not a.number_only:
            r = inv.mapRect(a.rect)
            assert shapely.contains(pm.scene.territory_geometry(a.key),
                                    shapely.box(r.left(), r.top(), r.right(), r.bottom()))


def test_bad_output_names_are_user_errors(tmp_path):
    from territory_desktop.models import InvalidInputError

    with pytest.raises(InvalidInputError, match="suffix"):
        make_sink(tmp_path / "map.docx", page_spec("letter"), 300, False)
    with pytest.raises(InvalidInputError, match="does not exist"):
        make_sink(tmp_path / "missing" / "map.pdf", page_spec("letter"), 300, False)


@needs_poppler
def test_print_cli_end_to_end(qapp, tmp_path, capsys):
    from territory_desktop.cli import main
    from territory_desktop.services.project import save_project

    project = four_territory_project()
    gpkg = tmp_path / "four.gpkg"
    save_project(project, gpkg)
    out = tmp_path / "atlas.pdf"
    code = main(["print", "--project", str(gpkg), "--out", str(out), "--page", "letter", "--landscape", "--atlas",
                 "--max-accounts", "5"])
    assert code == 0
    assert "wrote" in capsys.readouterr().out
    assert pdf_pages(out) == 5  # cover + 4 territory pages (5 accounts fit beside each map)
    assert "Riverside" in pdf_text(out, 5) or "Riverside" in pdf_text(out, 4)
    assert main(["print", "--project", str(gpkg), "--out", str(tmp_path / "x.doc")]) == 2
    assert "use a .pdf, .svg or .png" in capsys.readouterr().err
    assert main(["print", "--project", str(gpkg), "--out", str(out), "--page", "b7"]) == 2
    # routes from a vector file in another CRS, drawn on a PNG wall map
    import geopandas as gpd
    from shapely.geometry import LineString

    routes = gpd.GeoDataFrame({"rep": ["R1"]}, geometry=[shapely.segmentize(LineString([(-111.5, 39), (-97.5, 39)]),
                                                                             0.1)], crs="EPSG:4326")
    routes.to_crs("EPSG:3857").to_file(tmp_path / "routes.geojson")
    png = tmp_path / "routes.png"
    assert main(["print", "--project", str(gpkg), "--out", str(png), "--routes", str(tmp_path / "routes.geojson"),
                 "--dpi", "60", "--units", "km"]) == 0
    assert QImage(str(png)).width() == round(215.9 / 25.4 * 60)
    assert main(["print", "--project", str(gpkg), "--out", str(png), "--routes", str(tmp_path / "none.geojson")]) == 2
    assert "--routes" in capsys.readouterr().err


def test_routes_and_account_points_are_drawn(qapp, tmp_path):
    """A route line and the account dots show up where they lie (PNG pixels), and not without them."""
    from shapely.geometry import LineString

    project = four_territory_project()
    route = shapely.segmentize(LineString([(-111.5, 39.0), (-97.5, 39.0)]), 0.1)  # along lat 39 N
    options = PrintOptions(page=page_spec("letter", True), dpi=100, routes=[route], accounts=True, reps=False)
    sink = make_sink(tmp_path / "r.png", options.page, options.dpi, many=False)
    _, pm, summaries = _prepare(project, options)
    page = sink.begin()
    transform = paint_wall_map(page, pm, summaries, options, "footer")
    sink.finish()
    image = QImage(str(tmp_path / "r.png"))

    def rgb(lon, lat):
        p = to_device(pm, transform, lon, lat)
        c = image.pixelColor(round(p.x()), round(p.y()))
        return np.array([c.red(), c.green(), c.blue()])

    on_route = rgb(-104.7, 39.0)
    assert on_route[0] > 150 and on_route[1] < 90 and on_route[2] < 90  # route red (#b3261e)
    dot = rgb(-111.0, 33.0)  # account A000 (centre of box c0r0); dots are near-black
    assert dot.max() < 90


def test_legend_with_many_territories_keeps_every_name(qapp, tmp_path):
    """60 one-unit territories on a letter page: all names and reps readable in the legend, unelided."""
    import geopandas as gpd
    import pandas as pd

    from territory_desktop.models import CRS, Plan, Project

    ids = [f"u{i}" for i in range(60)]
    boxes = [shapely.box(-110 + (i % 10) * 1.5, 33 + (i // 10) * 1.2, -108.5 + (i % 10) * 1.5, 34.2 + (i // 10) * 1.2)
             for i in range(60)]
    units = gpd.GeoDataFrame({"unit_id": ids, "name": ids, "area_km2": 1.0, "locked": False}, geometry=boxes, crs=CRS)
    reps = gpd.GeoDataFrame({"rep_id": [f"R{i}" for i in range(60)], "name": [f"Rep Person {i:02d}" for i in range(60)],
                             "capacity_hours": 1600.0}, geometry=[b.centroid for b in boxes], crs=CRS)
    terr = pd.DataFrame([{"scenario_id": "base", "territory_id": f"T{i}", "name": f"Territory {i:02d}",
                          "colour": None, "rep_id": f"R{i}", "parent_id": None, "level": "territory",
                          "kind": "geographic", "rule": None} for i in range(60)])
    project = Project(name="Sixty", units=units, reps=reps, territories=terr,
                      plans={"base": Plan({f"u{i}": f"T{i}" for i in range(60)})})
    out = tmp_path / "sixty.pdf"
    export_map(project, out, PrintOptions(page=page_spec("letter", True)))
    if not POPPLER:
        pytest.skip("pdftotext missing")
    text = pdf_text(out)
    for i in range(60):
        assert f"Territory {i:02d}" in text and f"Rep Person {i:02d}" in text, i
    assert "more territories" not in text and "..." not in text


def test_map_book_has_a_kpi_page_after_the_overview(qapp, tmp_path):
    project = four_territory_project()
    # sales in 2026-Q3 and 2025-Q3 for one account of each territory (T1 owns c0r0 -> A000x, T4 c6r0 -> A006x)
    rows = [("A000", "2026-08", 500.0), ("A000", "2025-08", 250.0), ("A060", "2026-07", 1200.0),
            ("A061", "2026-09", 300.0)]  # September: 2026-Q3 is the last complete quarter
    project.sales = pd.DataFrame([{"account_id": a, "period": m, "product": "Core", "amount": x} for a, m, x in rows])
    out = tmp_path / "book.pdf"
    options = PrintOptions(page=page_spec("letter", landscape=True), when=date(2026, 11, 26))
    export_book(project, out, options)
    without = tmp_path / "plain.pdf"
    export_book(project, without, PrintOptions(page=options.page, when=options.when, kpi_page=False))
    assert pdf_pages(out) == pdf_pages(without) + 1
    text = pdf_text(out, 2)
    assert "Performance by territory, 2026-Q3" in text and "against 2025-Q3" in text
    for name in NAMES.values():
        assert name in text
    assert "$500" in text and "+100%" in text and "$1,500" in text and "All territories" in text
    assert "$2,000" in text  # the total
    from pypdf import PdfReader

    marks = [(o.title, PdfReader(str(out)).get_destination_page_number(o)) for o in PdfReader(str(out)).outline
             if not isinstance(o, list)]
    assert marks[1] == ("Performance by territory, 2026-Q3", 1)
    assert marks[2][1] == 2  # the first territory page follows
