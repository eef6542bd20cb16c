"""An in-place save after one brush stroke on the demo, against rewriting the whole file.

    python benchmarks/save.py [--strokes 7] [--json]

Setup (not timed): the demo project (3,108 counties, 20,000 accounts, 500,000 sales rows, 40 territories)
saved to a temporary file and opened. Each stroke moves 15 units of one territory to its neighbour (as a
brush drag does) and saves in place: only the changed assignment rows, the two territories' polygons and
totals are written. The reference, timed in the same run, is "save as" of the same project to a new file,
the cost of a save that rewrites every table (what saves did before row-level writes).

Target (issue 9): median in-place save <= 0.3 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print JSON only")
    parser.add_argument("--profile", action="store_true", help="print a profile of the last save")
    args = parser.parse_args()
    import shapely

    from territory_desktop.services.demo import build_demo
    from territory_desktop.services.project import open_project, save_project

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.gpkg"
        save_project(build_demo(), path)
        project = open_project(path)
        units = project.units["unit_id"].tolist()
        geoms = project.units.geometry.to_numpy()
        tree = shapely.STRtree(geoms)
        adjacency = [tree.query(g, predicate="intersects") for g in geoms]
        plan = project.plan
        # a stroke on the border of two territories: a unit, its neighbours in the same territory
        seed = next(i for i in range(len(units))
                    if any(plan.territory_of(units[j]) != plan.territory_of(units[i]) for j in adjacency[i]))
        home = plan.territory_of(units[seed])
        other = next(plan.territory_of(units[j]) for j in adjacency[seed]
                     if plan.territory_of(units[j]) != home)
        stroke = [units[seed]] + [units[j] for j in adjacency[seed] if plan.territory_of(units[j]) == home]
        stroke = stroke[:15]
        times = []
        for k in range(args.strokes):
            plan.assign(stroke, other if k % 2 == 0 else home)
            project.mark_dirty("plans")
            t = time.perf_counter()
            if args.profile and k == args.strokes - 1:
                import cProfile
                cProfile.runctx("save_project(project)", globals(), locals(), sort="cumulative")
            else:
                save_project(project)
            times.append(time.perf_counter() - t)
        project.baseline = {}  # forget what the file holds: "save as" then writes every table from scratch
        t = time.perf_counter()
        save_project(project, Path(tmp) / "copy.gpkg")
        rewrite = time.perf_counter() - t
    median = statistics.median(times)
    result = {"benchmark": "save_after_brush_stroke", "units_in_stroke": len(stroke),
              "in_place_s": {"median": round(median, 3), "max": round(max(times), 3),
                             "all": [round(x, 3) for x in times]},
              "reference_full_rewrite_s": round(rewrite, 3), "ratio_in_place_to_rewrite": round(median / rewrite, 3),
              "target_s": 0.3, "meets_target": median <= 0.3}
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
