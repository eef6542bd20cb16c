"""The import commands' modes on the command line: upsert by default, append refuses existing ids,
replace prints what it would remove and exits 2 without --yes (file untouched), and replaces with it."""

from __future__ import annotations

import json
import subprocess
import sys


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "territory_desktop", *args], capture_output=True, text=True,
                          timeout=300, check=False)


def counts(project) -> dict:
    r = run_cli("info", str(project), "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["counts"]


def test_import_modes_end_to_end(tmp_path, make_grid):
    units = tmp_path / "units.geojson"
    make_grid().to_file(units, engine="pyogrio")
    project = tmp_path / "p.gpkg"
    assert run_cli("import-units", str(project), str(units), "--id", "unit_id").returncode == 0
    first = tmp_path / "a.csv"
    first.write_text("id,lat,lon\na1,40.5,-99.5\na2,41.5,-98.5\n")
    assert run_cli("import-accounts", str(project), str(first)).returncode == 0

    more = tmp_path / "b.csv"
    more.write_text("id,lat,lon\na2,42.5,-97.5\nb1,40.5,-97.5\nb2,40.5,-98.5\n")
    r = run_cli("import-accounts", str(project), str(more))  # upsert: a2 updated, b1 and b2 added
    assert r.returncode == 0, r.stderr
    assert "imported 3 accounts from b.csv (upsert: 2 added, 1 updated, 0 removed)" in r.stdout
    assert counts(project)["accounts"] == 4

    r = run_cli("import-accounts", str(project), str(more), "--mode", "append")
    assert r.returncode == 2 and "3 ids exist in the project already" in r.stderr and "a2, b1, b2" in r.stderr

    before = project.read_bytes()
    r = run_cli("import-accounts", str(project), str(first), "--mode", "replace")
    assert r.returncode == 2
    assert "0 added, 2 updated, 2 removed" in r.stderr and "run again with --yes" in r.stderr
    assert project.read_bytes() == before
    r = run_cli("import-accounts", str(project), str(first), "--mode", "replace", "--yes")
    assert r.returncode == 0, r.stderr
    assert counts(project)["accounts"] == 2
