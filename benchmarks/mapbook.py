"""Map book benchmark: a 50-territory map book of the demo project, against a geopandas + matplotlib atlas
(PdfPages) of the same maps, in the same run.

    python benchmarks/mapbook.py --json                 # builds /tmp/mapbook_demo.gpkg with `territory-desktop demo`
    python benchmarks/mapbook.py --project demo.gpkg --territories 50 --page letter --json

The demo has 40 territories; to get 50, the 10 largest (by unit count) are each split in two at the median of
their unit centroids along the longer side of their bounding box (EPSG:5070), and each new half gets a new
rep ("New Hire N") living at the half's centre. Timed:

- open_s: opening the project file;
- book_s: the full map book (cover, one page per territory, every account listed on continued pages) to a
  vector PDF with bookmarks -- the number the issue asks to keep within 30 s;
- maps_s: the same cover and territory pages with no continued account pages (--max-accounts = the rows that
  fit beside the map): the like-for-like comparison with the peer;
- peer_maps_s: geopandas + matplotlib: for the cover and each territory, a figure of the dissolved territories
  (neighbours grey, the territory in its colour, its accounts as points), zoomed, saved to one PdfPages PDF.
  The peer draws no labels, legend, scale bar, tables or bookmarks, so it does less work per page.

Also reported: pages, PDF size, and whether any page holds a raster image (pdfimages, when installed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from territory_desktop.models import Project


def split_to(project: Project, n: int) -> list[str]:
    """Split the largest territories of the active scenario in two until there are ``n``; returns new ids."""
    terr = project.scenario_territories()
    have = len(terr)
    if n <= have:
        return []
    plan = project.plan.as_dict()
    units = project.units.set_index("unit_id").to_crs("EPSG:5070")
    xy = pd.DataFrame({"x": units.geometry.centroid.x.to_numpy(), "y": units.geometry.centroid.y.to_numpy()},
                      index=units.index)
    sizes = pd.Series(list(plan.values())).value_counts()
    largest = [k for k in sizes.index if k in set(terr["territory_id"])][: n - have]
    new_rows, new_reps, changes = [], [], {}
    inv = pyproj.Transformer.from_crs("EPSG:5070", "EPSG:4326", always_xy=True)
    for i, tid in enumerate(largest, start=1):
        members = [u for u, k in plan.items() if k == tid]
        pts = xy.loc[members]
        axis = "x" if np.ptp(pts["x"]) >= np.ptp(pts["y"]) else "y"
        cut = float(np.median(pts[axis]))
        moved = pts.index[pts[axis] > cut].tolist()
        new_id = f"S{i:02d}"
        rep_id = f"NH{i:02d}"
        row = terr[terr["territory_id"] == tid].iloc[0].to_dict()
        side = "East" if axis == "x" else "North"
        new_rows.append({**row, "territory_id": new_id, "name": f"{row['name']} {side}", "rep_id": rep_id,
                         "colour": "#b07aa1"})
        lon, lat = inv.transform(float(pts.loc[moved, "x"].mean()), float(pts.loc[moved, "y"].mean()))
        new_reps.append({"rep_id": rep_id, "name": f"New Hire {i}", "capacity_hours": 1600.0, "lon": lon, "lat": lat})
        changes.update({u: new_id for u in moved})
    project.territories = pd.concat([project.territories, pd.DataFrame(new_rows)], ignore_index=True)
    reps = pd.DataFrame(new_reps)
    extra = gpd.GeoDataFrame(reps.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(reps.lon, reps.lat),
                             crs=project.reps.crs)
    project.reps = pd.concat([project.reps, extra], ignore_index=True)
    project.plan.assign_many(changes)
    return [r["territory_id"] for r in new_rows]


def raster_images(pdf: Path) -> int | None:
    if not shutil.which("pdfimages"):
        return None
    out = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    return max(0, len(out.splitlines()) - 2)


def peer_matplotlib(project: Project, out: Path, page_in: tuple[float, float]) -> tuple[float, int]:
    """geopandas + matplotlib PdfPages atlas of the same maps; returns (seconds, pages)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from territory_desktop.services.metrics import account_owners

    t0 = time.perf_counter()
    units = project.units.to_crs("EPSG:5070")
    units["territory_id"] = units["unit_id"].map(project.plan.as_dict())
    terr = units.dissolve(by="territory_id")[["geometry"]]
    terr["geometry"] = terr.geometry.simplify(200.0)
    colours = project.scenario_territories().set_index("territory_id")["colour"].reindex(terr.index).fillna("#ccc")
    accounts = project.accounts.to_crs("EPSG:5070")
    owners = account_owners(project).to_numpy()
    pages = 0
    with PdfPages(out) as pdf:
        for key in [None, *terr.index]:
            fig, ax = plt.subplots(figsize=page_in)
            if key is None:
                terr.plot(ax=ax, color=colours.to_numpy(), edgecolor="#333", linewidth=0.4)
            else:
                terr.plot(ax=ax, color="#e3e5e8", edgecolor="#333", linewidth=0.3)
                terr.loc[[key]].plot(ax=ax, color=colours[key], edgecolor="#111", linewidth=1.0)
                pts = accounts[owners == key]
                ax.scatter(pts.geometry.x, pts.geometry.y, s=2, c="#1b1e22")
                x0, y0, x1, y1 = terr.loc[key].geometry.bounds
                pad = 0.08 * max(x1 - x0, y1 - y0)
                ax.set_xlim(x0 - pad, x1 + pad)
                ax.set_ylim(y0 - pad, y1 + pad)
                ax.set_title(str(key))
            ax.set_axis_off()
            pdf.savefig(fig)
            plt.close(fig)
            pages += 1
    return time.perf_counter() - t0, pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", default="/tmp/mapbook_demo.gpkg",
                        help="demo project file (built with `territory-desktop demo` if missing)")
    parser.add_argument("--territories", type=int, default=50)
    parser.add_argument("--page", default="letter")
    parser.add_argument("--portrait", action="store_true", help="portrait pages (default landscape)")
    parser.add_argument("--out", default=None, help="PDF to write (default: a temporary file)")
    parser.add_argument("--no-peer", action="store_true", help="skip the matplotlib peer")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    project_path = Path(args.project)
    if not project_path.exists():
        exe = [sys.executable, "-m", "territory_desktop", "demo", str(project_path)]
        subprocess.run(exe, check=True, capture_output=True)

    from territory_desktop.services.printing import page_spec
    from territory_desktop.services.project import open_project
    from territory_desktop.ui.print import PrintOptions, ensure_application, export_book
    from territory_desktop.ui.print.document import paint_book_document  # noqa: F401  (import cost not timed)

    ensure_application()
    t0 = time.perf_counter()
    project = open_project(project_path)
    open_s = time.perf_counter() - t0
    new_ids = split_to(project, args.territories)
    n_terr = len(project.scenario_territories())
    spec = page_spec(args.page, landscape=not args.portrait)
    tmp = Path(tempfile.mkdtemp(prefix="mapbook-"))
    out = Path(args.out) if args.out else tmp / "book.pdf"

    t0 = time.perf_counter()
    export_book(project, out, PrintOptions(page=spec))
    book_s = time.perf_counter() - t0
    from pypdf import PdfReader

    book_pages = len(PdfReader(str(out)).pages)
    book_bytes = out.stat().st_size
    images = raster_images(out)

    maps_out = tmp / "maps.pdf"
    t0 = time.perf_counter()
    export_book(project, maps_out, PrintOptions(page=spec, max_accounts=15))
    maps_s = time.perf_counter() - t0
    maps_pages = len(PdfReader(str(maps_out)).pages)

    result = {
        "benchmark": "mapbook", "python": platform.python_version(), "machine": platform.machine(),
        "cpus": os.cpu_count(), "units": len(project.units), "accounts": len(project.accounts),
        "territories": n_terr, "split_territories": len(new_ids), "page": f"{spec.name} "
        f"{spec.width_mm:.0f}x{spec.height_mm:.0f} mm", "open_s": round(open_s, 2),
        "book_s": round(book_s, 2), "book_pages": book_pages, "book_mb": round(book_bytes / 1e6, 1),
        "book_pages_per_s": round(book_pages / book_s, 1), "raster_images": images,
        "book_within_30s": book_s <= 30.0, "maps_s": round(maps_s, 2), "maps_pages": maps_pages,
    }
    if not args.no_peer:
        peer_s, peer_pages = peer_matplotlib(project, tmp / "peer.pdf",
                                             (spec.width_mm / 25.4, spec.height_mm / 25.4))
        result.update({"peer": "geopandas+matplotlib PdfPages (maps only)", "peer_maps_s": round(peer_s, 2),
                       "peer_pages": peer_pages, "maps_vs_peer_ratio": round(maps_s / peer_s, 2)})
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>22}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
