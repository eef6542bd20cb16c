"""Map canvas benchmark: our MapCanvas against one QGraphicsPathItem per unit, offscreen, same run.

    python benchmarks/canvas.py --units 40000 --json

Builds a seeded Voronoi layer of N units (from ZIP centroids of the lower 48, random points if N is
larger than the number of ZIPs or --source random) in 200 territories (k-means of unit centroids),
opens it in the real canvas widget at 1600x1000 and times:

- first_draw_s: scene preparation (projection, dissolve, paths) plus the first full paint;
- frame_ms_median / frame_ms_p95: full repaints over a scripted sequence of 30 view changes
  (zoom in to city level, pans, zoom out);
- stroke_ms_median: a brush stroke reassigning 100 units (undo command, Plan change, re-dissolve of the
  touched territories) plus a full repaint, over 10 strokes; ``ours`` also reports
  stroke_on_screen_ms_median, the same strokes shown on screen, where only the touched area is repainted.

The same figures are measured for the reference: a QGraphicsScene with one QGraphicsPathItem per unit
in a QGraphicsView of the same size (fill by territory colour, thin cosmetic outline).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from territory_desktop.models import Plan, Project

STATE_SHP = "_plotly_geo/package_data/cb_2016_us_state_500k.shp"
NOT_LOWER48 = {"02", "15", "60", "66", "69", "72", "78"}
NOT_LOWER48_ABBR = {"AK", "HI", "PR", "GU", "VI", "AS", "MP", "AA", "AE", "AP", "FM", "MH", "PW"}


def _lower48_outline() -> shapely.Geometry | None:
    import importlib.util

    spec = importlib.util.find_spec("_plotly_geo")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(next(iter(spec.submodule_search_locations)), STATE_SHP.split("/", 1)[1])
    if not os.path.exists(path):
        return None
    states = gpd.read_file(path)
    states = states[~states["STATEFP"].isin(NOT_LOWER48)]
    return shapely.union_all(shapely.simplify(states.geometry.to_numpy(), 0.02))


def voronoi_project(n_units: int, n_territories: int = 200, seed: int = 7, source: str = "zip") -> Project:
    """A project of ``n_units`` Voronoi cells (EPSG:4326) assigned to ``n_territories`` k-means groups."""
    from scipy.cluster.vq import kmeans2

    rng = np.random.default_rng(seed)
    outline = _lower48_outline()
    pts = None
    if source == "zip":
        import zipcodes

        rows = [(float(z["long"]), float(z["lat"])) for z in zipcodes.list_all()
                if z["active"] and z["state"] not in NOT_LOWER48_ABBR and z["lat"] and z["long"]]
        xy = np.unique(np.round(np.array(rows), 4), axis=0)
        if len(xy) >= n_units:
            pts = xy[rng.choice(len(xy), n_units, replace=False)]
    if pts is None:
        minx, miny, maxx, maxy = outline.bounds if outline is not None else (-125, 25, -67, 49)
        pts = np.empty((0, 2))
        while len(pts) < n_units:
            cand = rng.uniform((minx, miny), (maxx, maxy), (n_units * 2, 2))
            if outline is not None:
                cand = cand[shapely.contains_xy(outline, cand[:, 0], cand[:, 1])]
            pts = np.vstack([pts, cand])[:n_units]
    frame = shapely.box(*(pts.min(0) - 0.5), *(pts.max(0) + 0.5))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=frame))
    # voronoi_polygons returns cells in arbitrary order: match them back to their seed points
    tree = shapely.STRtree(cells)
    seed_idx, cell_idx = tree.query(shapely.points(pts), predicate="intersects")
    order = np.full(len(pts), -1)
    order[seed_idx] = cell_idx
    cells = cells[order]
    if outline is not None:
        clipped = shapely.intersection(cells, outline)
        keep = ~shapely.is_empty(clipped) & (shapely.area(clipped) > 0)
        cells = np.where(keep, clipped, cells)
    cells = shapely.make_valid(cells)
    cells = np.array([g if g.geom_type in ("Polygon", "MultiPolygon") else
                      shapely.union_all([p for p in shapely.get_parts(g) if p.geom_type == "Polygon"])
                      for g in cells], dtype=object)
    centroids = np.column_stack([pts[:, 0] * np.cos(np.radians(38)), pts[:, 1]])
    _, labels = kmeans2(centroids, n_territories, seed=seed, minit="++")
    unit_ids = [f"U{i:05d}" for i in range(len(pts))]
    units = gpd.GeoDataFrame({"unit_id": unit_ids, "name": unit_ids, "area_km2": 0.0, "locked": False},
                             geometry=cells, crs="EPSG:4326")
    tids = [f"T{k:03d}" for k in range(n_territories)]
    territories = pd.DataFrame({"scenario_id": "base", "territory_id": tids, "name": [f"Territory {k + 1}" for k in range(n_territories)],
                                "colour": None, "rep_id": None, "parent_id": None, "level": "territory",
                                "kind": "geographic", "rule": None})
    project = Project(name=f"voronoi-{n_units}", units=units, territories=territories)
    project.plans = {"base": Plan({u: tids[k] for u, k in zip(unit_ids, labels, strict=True)})}
    return project


def view_sequence(extent: tuple[float, float, float, float], width: int, height: int) -> list[tuple[float, float, float]]:
    """30 scripted views (cx, cy, metres per pixel): zoom in on a city in steps, pan, zoom back out."""
    x0, y0, x1, y1 = extent
    full_px = max((x1 - x0) / width, (y1 - y0) / height) * 1.08
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    target = (x0 + 0.72 * (x1 - x0), y0 + 0.35 * (y1 - y0))
    views = [(cx, cy, full_px)]
    for i in range(1, 10):  # zoom in 9 steps of x1.6 towards the target
        f = i / 9
        views.append((cx + (target[0] - cx) * f, cy + (target[1] - cy) * f, full_px / 1.6 ** i))
    px = views[-1][2]
    x, y = views[-1][:2]
    for i in range(10):  # pan around at city level
        angle = i * 0.7
        x += np.cos(angle) * 400 * px
        y += np.sin(angle) * 250 * px
        views.append((x, y, px))
    for i in range(1, 11):  # zoom out again while drifting back
        f = i / 10
        views.append((x + (cx - x) * f, y + (cy - y) * f, px * 1.6 ** (i * 0.9)))
    return views


def _stats(frames_ms: list[float]) -> tuple[float, float]:
    return statistics.median(frames_ms), float(np.percentile(frames_ms, 95))


def bench_ours(project: Project, width: int, height: int, strokes: list[tuple[list[str], str]]) -> dict:
    from PySide6.QtCore import QPointF

    from territory_desktop.ui.canvas import MapCanvas
    from territory_desktop.ui.commands import AssignUnitsCommand

    t0 = time.perf_counter()
    canvas = MapCanvas(project)
    canvas.resize(width, height)
    canvas.zoom_full()
    canvas.grab()
    first = time.perf_counter() - t0
    frames = []
    for cx, cy, px in view_sequence(canvas.scene.extent, width, height):
        t = time.perf_counter()
        canvas.center, canvas.px = QPointF(cx, cy), px
        canvas.grab()
        frames.append((time.perf_counter() - t) * 1000)
    canvas.zoom_full()
    canvas.grab()
    stroke_ms = []
    for unit_ids, territory in strokes:
        t = time.perf_counter()
        stroke = canvas.begin_stroke()
        canvas.undo_stack.push(AssignUnitsCommand(project, dict.fromkeys(unit_ids, territory), stroke=stroke))
        canvas.grab()
        stroke_ms.append((time.perf_counter() - t) * 1000)
    # the same strokes on screen: the canvas repaints only the touched territories' area (Qt update
    # regions), flushed by the event loop; strokes are undone first so each one changes 100 units again
    from PySide6.QtWidgets import QApplication

    canvas.show()
    QApplication.processEvents()
    for _ in strokes:
        canvas.undo_stack.undo()
    QApplication.processEvents()
    screen_ms = []
    for unit_ids, territory in strokes:
        t = time.perf_counter()
        stroke = canvas.begin_stroke()
        canvas.undo_stack.push(AssignUnitsCommand(project, dict.fromkeys(unit_ids, territory), stroke=stroke))
        QApplication.processEvents()
        screen_ms.append((time.perf_counter() - t) * 1000)
    canvas.hide()
    med, p95 = _stats(frames)
    return {"first_draw_s": round(first, 3), "frame_ms_median": round(med, 1), "frame_ms_p95": round(p95, 1),
            "stroke_ms_median": round(statistics.median(stroke_ms), 1),
            "stroke_on_screen_ms_median": round(statistics.median(screen_ms), 1)}


def bench_reference(project: Project, width: int, height: int, strokes: list[tuple[list[str], str]],
                    extent: tuple[float, float, float, float]) -> dict:
    """One QGraphicsPathItem per unit in a QGraphicsScene/QGraphicsView (the plain approach)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QBrush, QColor, QPainter, QPen
    from PySide6.QtWidgets import QGraphicsScene, QGraphicsView

    from territory_desktop.ui.geometry import display_crs, geometries_to_path, project_geometries
    from territory_desktop.ui.scene import palette_colour

    t0 = time.perf_counter()
    geoms = project.units.geometry.to_numpy()
    crs = display_crs(tuple(project.units.total_bounds))
    geoms = project_geometries(geoms, crs)
    colours = {}
    scene = QGraphicsScene()
    pen = QPen(QColor(255, 255, 255, 170), 0.8)
    pen.setCosmetic(True)
    items = {}
    plan = project.plan
    for uid, geom in zip(project.units["unit_id"], geoms, strict=True):
        t = plan.territory_of(uid)
        if t not in colours:
            colours[t] = QBrush(QColor(palette_colour(len(colours))))
        item = scene.addPath(geometries_to_path([geom]), pen, colours[t])
        items[uid] = item
    view = QGraphicsView(scene)
    view.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setFrameShape(QGraphicsView.Shape.NoFrame)
    view.resize(width, height)
    view.fitInView(scene.itemsBoundingRect(), Qt.AspectRatioMode.KeepAspectRatio)
    view.grab()
    first = time.perf_counter() - t0
    frames = []
    for cx, cy, px in view_sequence(extent, width, height):
        t = time.perf_counter()
        view.resetTransform()
        view.scale(1 / px, 1 / px)
        view.centerOn(cx, cy)
        view.grab()
        frames.append((time.perf_counter() - t) * 1000)
    view.fitInView(scene.itemsBoundingRect(), Qt.AspectRatioMode.KeepAspectRatio)
    view.grab()
    stroke_ms = []
    for unit_ids, territory in strokes:
        t = time.perf_counter()
        brush = colours.setdefault(territory, QBrush(QColor(palette_colour(len(colours)))))
        for uid in unit_ids:
            items[uid].setBrush(brush)
        view.grab()
        stroke_ms.append((time.perf_counter() - t) * 1000)
    med, p95 = _stats(frames)
    return {"first_draw_s": round(first, 3), "frame_ms_median": round(med, 1), "frame_ms_p95": round(p95, 1),
            "stroke_ms_median": round(statistics.median(stroke_ms), 1)}


def make_strokes(project: Project, n_strokes: int = 10, per_stroke: int = 100, seed: int = 3) -> list:
    """Brush strokes: the 100 units nearest a random unit, painted with the territory of a neighbour."""
    rng = np.random.default_rng(seed)
    cent = shapely.get_coordinates(shapely.centroid(project.units.geometry.to_numpy()))
    ids = project.units["unit_id"].to_numpy()
    plan = project.plan
    strokes = []
    for _ in range(n_strokes):
        i = int(rng.integers(len(ids)))
        d = np.hypot(*(cent - cent[i]).T)
        near = np.argsort(d)[: per_stroke * 3]
        own = plan.territory_of(ids[i])
        other = next((plan.territory_of(ids[j]) for j in near if plan.territory_of(ids[j]) != own), own)
        chosen = [ids[j] for j in near if plan.territory_of(ids[j]) != other][:per_stroke]
        strokes.append((chosen, other))
    return strokes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=40000, help="number of Voronoi units (default 40000)")
    parser.add_argument("--territories", type=int, default=200, help="number of territories (default 200)")
    parser.add_argument("--size", default="1600x1000", help="canvas size WxH in pixels (default 1600x1000)")
    parser.add_argument("--source", choices=("zip", "random"), default="zip", help="seed points (default zip)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841 - keeps Qt alive
    t = time.perf_counter()
    project = voronoi_project(args.units, args.territories, args.seed, args.source)
    build_s = time.perf_counter() - t
    strokes = make_strokes(project)
    # the reference gets its own copy of the plan so both start from the same assignment
    plan_copy = Plan(project.plan.as_dict())
    ours = bench_ours(project, width, height, strokes)
    from territory_desktop.ui.geometry import display_crs, project_geometries

    crs = display_crs(tuple(project.units.total_bounds))
    g = project_geometries(project.units.geometry.to_numpy(), crs)
    b = shapely.total_bounds(g)
    extent = (b[0], -b[3], b[2], -b[1])
    project.plans["base"] = plan_copy
    reference = bench_reference(project, width, height, strokes, extent)
    result = {
        "units": len(project.units), "territories": args.territories, "size": args.size,
        "vertices": int(shapely.get_num_coordinates(project.units.geometry.to_numpy()).sum()),
        "layer_build_s": round(build_s, 2),
        "ours": ours, "reference_qgraphicspathitem_per_unit": reference,
        "ratio_reference_over_ours": {k: round(reference[k] / ours[k], 1) if ours[k] else None
                                      for k in ours if k in reference},
        "targets": {"first_draw_s": 1.0, "frame_ms_median": 33, "frame_ms_p95": 66, "stroke_ms_median": 50},
        "meets_targets": bool(ours["first_draw_s"] <= 1.0 and ours["frame_ms_median"] <= 33
                              and ours["frame_ms_p95"] < 66 and ours["stroke_ms_median"] <= 50),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_1min": round(os.getloadavg()[0], 2)},
    }
    result.update({k: ours[k] for k in reference})
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
