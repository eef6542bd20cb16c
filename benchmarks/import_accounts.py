"""Import and place 1,000,000 accounts into the lower-48 county units and save, against a plain sjoin.

    python benchmarks/import_accounts.py [--accounts 1000000] [--json]

Setup (not timed): a CSV of N accounts at jittered real ZIP centroids with the usual columns, and a project
holding the 3,108 county units. Timed, each in a fresh process so peak memory is its own:

- ours: open the project, ``import_accounts`` (read, validate every row, place by point-in-polygon), save
  (atomic, into the GeoPackage);
- reference: ``pandas.read_csv`` + ``geopandas.points_from_xy`` + ``geopandas.sjoin(predicate="within")``
  of the same points against the same county polygons (no validation, no save).

Targets (issue 2): ours <= 10 s and peak memory < 2 GB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

OURS = """
import json, resource, sys, time
t0 = time.perf_counter()
from territory_desktop.services.importing import import_accounts
from territory_desktop.services.project import open_project, save_project
stages = {}
t = time.perf_counter()
p = open_project(sys.argv[1])
stages["open_s"] = time.perf_counter() - t
marks = []
t = time.perf_counter()
report = import_accounts(p, sys.argv[2], progress=lambda f, m: marks.append((m, time.perf_counter())))
stages["import_s"] = time.perf_counter() - t
names = [m for m, _ in marks]
times = [x for _, x in marks]
for (name, start), end in zip(marks, times[1:] + [time.perf_counter()]):
    stages[name.replace(" ", "_") + "_s"] = end - start
t = time.perf_counter()
save_project(p)
stages["save_s"] = time.perf_counter() - t
total = time.perf_counter() - t0
print(json.dumps({"seconds": total, "stages": stages, "placed": int(p.accounts["unit_id"].notna().sum()),
                  "outside": len(report.outside),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

REFERENCE = """
import json, resource, sys, time
t0 = time.perf_counter()
import geopandas as gpd, pandas as pd, pyogrio
units = pyogrio.read_dataframe(sys.argv[1], layer="units", columns=["unit_id"])
t = time.perf_counter()
frame = pd.read_csv(sys.argv[2], engine="pyarrow")
points = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=units.crs)
joined = gpd.sjoin(points, units, predicate="within", how="left")
joined = joined[~joined.index.duplicated()]
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "placed": int(joined["unit_id"].notna().sum()),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_inputs(folder: Path, n: int, seed: int) -> tuple[Path, Path]:
    from territory_desktop.models import Project
    from territory_desktop.services.demo import load_counties
    from territory_desktop.services.project import save_project
    from territory_desktop.storage.geocode import zip_table

    project_path = folder / "counties.gpkg"
    project = Project(name="bench")
    project.units = load_counties()
    project.mark_dirty("units")
    save_project(project, project_path)

    rng = np.random.default_rng(seed)
    zips = zip_table()
    zips = zips[(zips["zip_code_type"] == "STANDARD") & ~zips["state"].isin(["AK", "HI", "PR", "VI", "GU"])]
    pick = rng.integers(0, len(zips), n)
    csv_path = folder / "accounts.csv"
    pd.DataFrame({
        "account_id": np.char.add("A", np.arange(n).astype(str)),
        "name": np.char.add("Account ", np.arange(n).astype(str)),
        "lat": np.round(zips["lat"].to_numpy()[pick] + rng.normal(0, 0.02, n), 5),
        "lon": np.round(zips["lon"].to_numpy()[pick] + rng.normal(0, 0.02, n), 5),
        "potential": np.round(rng.lognormal(10, 1, n), 2),
        "segment": rng.choice(np.array(["A", "B", "C"]), n),
        "visit_frequency_weeks": rng.choice([1, 2, 4, 8], n),
        "service_minutes": rng.choice([30, 45, 60], n),
    }).to_csv(csv_path, index=False)
    return project_path, csv_path


def run_child(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        project_path, csv_path = make_inputs(Path(tmp), args.accounts, args.seed)
        setup = time.perf_counter() - t
        reference = run_child(REFERENCE, str(project_path), str(csv_path))
        ours = run_child(OURS, str(project_path), str(csv_path))
        size_mb = project_path.stat().st_size / 1e6
    result = {
        "benchmark": "import_accounts",
        "accounts": args.accounts,
        "units": 3108,
        "setup_s": round(setup, 2),
        "ours": ours,
        "reference_geopandas_sjoin": reference,
        "ratio_ours_to_sjoin": ours["seconds"] / reference["seconds"],
        "same_placement_count": ours["placed"] == reference["placed"],
        "project_mb": round(size_mb, 1),
        "targets": {"seconds": 10.0, "peak_rss_mb": 2048},
        "meets_targets": ours["seconds"] <= 10.0 and ours["peak_rss_mb"] < 2048,
        "cpu_count": __import__("os").cpu_count(),
        "parent_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
