"""The command line: exit codes, messages on stderr, help for every command, no Qt when headless."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from territory_desktop.cli import build_parser, main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "territory_desktop", *args], capture_output=True, text=True,
                          timeout=300, check=False)


def test_importing_the_cli_does_not_load_qt():
    code = "import sys, territory_desktop.cli; sys.exit(1 if any(m.startswith(('PySide6', 'pyqtgraph')) " \
           "for m in sys.modules) else 0)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_every_command_has_help(capsys):
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert {"demo", "import-units", "import-accounts", "import-reps", "info"} <= set(commands)
    for name in commands:
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0
        out = capsys.readouterr().out
        assert f"usage: territory-desktop {name}" in out and len(out) > 200


def test_import_info_and_errors_end_to_end(tmp_path, make_grid):
    units = make_grid()
    units_file = tmp_path / "units.geojson"
    units.to_file(units_file, engine="pyogrio")
    project = tmp_path / "p.gpkg"
    r = run_cli("import-units", str(project), str(units_file), "--id", "unit_id", "--name", "name")
    assert r.returncode == 0, r.stderr
    assert "imported 9 units" in r.stdout

    good = tmp_path / "a.csv"
    good.write_text("id,name,lat,lon,potential\na1,A,40.5,-99.5,10\na2,B,10,10,5\n")
    r = run_cli("import-accounts", str(project), str(good))
    assert r.returncode == 0, r.stderr
    assert "1 accounts lie outside every unit" in r.stderr and "a2" in r.stderr

    before = project.read_bytes()
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,lat,lon,potential\nb1,A,40.5,-99.5,ten\nb1,B,40.5,-99.5,1\n")
    r = run_cli("import-accounts", str(project), str(bad))
    assert r.returncode == 2
    assert "error: bad.csv: 2 problems; nothing was imported" in r.stderr.splitlines()
    assert "row 2, column 'potential': 'ten' is not a number" in r.stderr
    assert "row 3, column 'id': duplicate id 'b1' (first on row 2)" in r.stderr
    assert "Traceback" not in r.stderr
    assert project.read_bytes() == before  # nothing written

    r = run_cli("info", str(project), "--json")
    assert r.returncode == 0
    info = json.loads(r.stdout)
    assert info["counts"]["units"] == 9 and info["counts"]["accounts"] == 2
    assert info["counts"]["accounts_outside_units"] == 1 and info["crs"] == "EPSG:4326"


def test_user_errors_exit_2_without_traceback(tmp_path):
    r = run_cli("info", str(tmp_path / "missing.gpkg"))
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "no such project file" in r.stderr
    existing = tmp_path / "x.gpkg"
    existing.write_bytes(b"")
    r = run_cli("demo", str(existing))
    assert r.returncode == 2 and "pass --force" in r.stderr
    r = run_cli("import-units", str(tmp_path / "p.gpkg"), str(tmp_path / "none.shp"), "--id", "x")
    assert r.returncode == 2 and "none.shp" in r.stderr and "no such file" in r.stderr
    assert not (tmp_path / "p.gpkg").exists()


def test_bad_arguments_exit_2():
    assert run_cli("info").returncode == 2
    assert run_cli("no-such-command").returncode == 2
