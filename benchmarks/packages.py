"""Field packages: ``export-package --all`` for the demo's reps (1-week schedule each) and the field app's
time to a drawn map in headless Chromium with about 1,000 accounts.

    python benchmarks/packages.py --project demo/demo.gpkg [--time-limit 0.5] [--no-pdf] [--jobs 2] > packages.json

Prints JSON: wall and CPU seconds of the whole --all export (open, key, plan, files, PDF maps), packages, mean
and largest package size (zip bytes), and the browser's milliseconds from navigation start to the first
frame after the map was drawn (median of 5 loads, with the account count). Run with ``nice -n 10``: the
machine is shared, so the numbers are noisy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from territory_desktop.cli import main as cli_main


def _cpu() -> float:
    import resource

    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def _children_cpu() -> float:
    import resource

    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def export_all(project: str, out: Path, time_limit: float, pdf: bool, jobs: int = 1) -> dict:
    t0, c0 = time.perf_counter(), _cpu()
    args = ["export-package", "--project", project, "--all", "--out", str(out), "--weeks", "1",
            "--time-limit", str(time_limit), "--start", "2027-03-01", "--jobs", str(jobs)]
    code = cli_main(args + ([] if pdf else ["--no-pdf"]))
    seconds, cpu = time.perf_counter() - t0, _cpu() - c0 + _children_cpu()
    sizes = sorted(p.stat().st_size for p in out.glob("*.zip"))
    return {"exit_code": code, "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
            "load_average_1min": round(__import__("os").getloadavg()[0], 1), "packages": len(sizes), "pdf": pdf, "jobs": jobs,
            "time_limit_per_rep_s": time_limit, "mean_package_bytes": int(statistics.mean(sizes)) if sizes else 0,
            "largest_package_bytes": sizes[-1] if sizes else 0, "total_bytes": sum(sizes)}


def big_package(project_path: str, out: Path, accounts: int = 1000) -> tuple[Path, int]:
    """A package for one rep who is given territories until they own about ``accounts`` accounts."""
    from territory_desktop.services.metrics import account_owners
    from territory_desktop.services.packages import PackageOptions, export_rep_package
    from territory_desktop.services.project import open_project

    project = open_project(project_path)
    owners = account_owners(project).value_counts()
    terr = project.territories
    rep = str(terr.iloc[0]["rep_id"])
    total = 0
    for k, row in terr[terr["level"] == "territory"].iterrows():
        if total >= accounts:
            break
        terr.loc[k, "rep_id"] = rep
        total += int(owners.get(row["territory_id"], 0))
    opts = PackageOptions(key=b"benchmark-key-not-a-project-key", start=date(2027, 3, 1), time_limit=1.0)
    return export_rep_package(project, rep, out / "big", opts), total


def time_to_map(package: Path, loads: int = 5) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "services"))
    from test_fieldapp_browser import browser, size, wait

    driver = browser(package.parent)
    times = []
    try:
        size(driver, 375, 812)
        for _ in range(loads):
            driver.get((package / "index.html").as_uri())
            times.append(float(wait(driver, "return document.documentElement.dataset.mapDrawn")))
        shown = driver.execute_script("return window.FIELD_DATA.accounts.length")
    finally:
        driver.quit()
    return {"accounts": shown, "ms_to_drawn_map_median": round(statistics.median(times)),
            "ms_each": [round(t) for t in times], "data_js_bytes": (package / "data.js").stat().st_size}


def run() -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--project", default="demo/demo.gpkg")
    parser.add_argument("--time-limit", type=float, default=0.5)
    parser.add_argument("--no-pdf", action="store_true")
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--jobs", type=int, default=1, help="export-package --jobs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        result = {} if args.skip_export else {"export_all": export_all(args.project, tmp / "all", args.time_limit,
                                                                        not args.no_pdf, args.jobs)}
        package, owned = big_package(args.project, tmp)
        result["field_app"] = {**time_to_map(package), "accounts_owned": owned}
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
