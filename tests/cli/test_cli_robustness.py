"""Hostile command lines: every bad value is refused with one ``error:`` line and exit code 2, before any work
(no output file, no scenario saved), never a traceback. One test per class, parametrised over the commands."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from territory_desktop.cli import main


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *words: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert lines and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in err, (word, err)


def _balance(p, tmp_path):
    return ["balance", "--project", p, "--weight", "work", "--quiet"]


def _route(p, tmp_path):
    return ["route", "--project", p, "--rep", "r1", "--start", "2027-03-01"]


def _print(p, tmp_path):
    return ["print", "--project", p, "--out", tmp_path / "map.pdf"]


OUT_OF_RANGE = [
    (_balance, ["--max-distance", "0"], "--max-distance", "more than 0"),
    (_balance, ["--max-distance", "-3"], "--max-distance", "more than 0"),
    (_balance, ["--time-limit", "-5"], "--time-limit", "more than 0 and at most 3600"),
    (_balance, ["--time-limit", "nan"], "--time-limit", "more than 0"),
    (_balance, ["--alternatives", "100000"], "--alternatives", "1 to 20"),
    (_balance, ["--alternatives", "0"], "--alternatives", "1 to 20"),
    (_balance, ["--tolerance", "0"], "--tolerance", "more than 0 and at most 1"),
    (_balance, ["--tolerance", "inf"], "--tolerance", "at most 1"),
    (_balance, ["--tolerance-for", "work=-1"], "--tolerance-for", "more than 0"),
    (_balance, ["-k", "0"], "-k", "1 to 100,000"),
    (_balance, ["--max-moved", "1.5"], "--max-moved", "0 to 1"),
    (_balance, ["--seed", "-1"], "--seed", "0 to 2,147,483,647"),
    (_balance, ["--seed", "x"], "--seed", "not a whole number"),
    (_route, ["--time-limit", "-5"], "--time-limit", "more than 0"),
    (_route, ["--circuity", "0"], "--circuity", "1 to 3"),
    (_route, ["--weeks", "9"], "--weeks", "1 to 5"),
    (_route, ["--seed", "-2"], "--seed", "0 to"),
    (_route, ["--lunch", "25:00-26:00/30"], "--lunch", "HH:MM"),
    (_route, ["--lunch", "11:30-13:30/900"], "--lunch", "240 minutes"),
    (_route, ["--weekdays", ","], "--weekdays", "at least one"),
    (_route, ["--start", "9999-12-28"], "--start", "outside 1900-01-01 .. 2999-12-31"),  # was OverflowError
    (_route, ["--holiday", "9999-12-31"], "--holiday", "outside 1900-01-01 .. 2999-12-31"),
    (_balance, ["--moved-measure", "nope", "--max-moved", "0.1"], "--moved-measure", "not one of the --weight"),
    (_balance, ["--id", "unit_id", "--current", "terr"], "--id, --current", "not used when balancing a project"),
    (_print, ["--dpi", "0"], "--dpi", "50 to 1200"),
    (_print, ["--dpi", "100000"], "--dpi", "50 to 1200"),
    (_print, ["--max-accounts", "-1"], "--max-accounts", "0 to"),
]


@pytest.mark.parametrize(("command", "extra", "flag", "reason"), OUT_OF_RANGE,
                         ids=[f"{c.__name__[1:]}{''.join(e)}" for c, e, _f, _r in OUT_OF_RANGE])
def test_out_of_range_values_refused_before_the_work(saved_project, tmp_path, capsys, command, extra, flag, reason):
    before = saved_project.read_bytes()
    code, out, err = run(command(saved_project, tmp_path) + extra, capsys)
    assert_one_line_error(code, err, flag, reason)
    assert out == "" and saved_project.read_bytes() == before  # nothing done, nothing saved
    assert not (tmp_path / "map.pdf").exists()


def test_demo_accounts_range(tmp_path, capsys):
    code, _out, err = run(["demo", tmp_path / "d.gpkg", "--accounts", "0"], capsys)
    assert_one_line_error(code, err, "--accounts", "1 to 1,000,000")
    assert not (tmp_path / "d.gpkg").exists()


def test_unknown_scenario_lists_the_scenarios(saved_project, capsys):
    before = saved_project.read_bytes()
    code, _out, err = run(["balance", "--project", saved_project, "--weight", "work", "--scenario", "nope",
                           "--quiet"], capsys)
    assert_one_line_error(code, err, "no scenario 'nope'", "the project has: base (Base)")
    assert saved_project.read_bytes() == before


def test_balance_of_a_table_without_geometry(tmp_path, capsys):
    table = tmp_path / "units.csv"
    table.write_text("id,w\na,1\nb,2\n")
    code, _out, err = run(["balance", table, "--id", "id", "--weight", "w", "-k", "2", "--out",
                           tmp_path / "plan.csv"], capsys)
    assert_one_line_error(code, err, "units.csv", "no geometry")
    assert not (tmp_path / "plan.csv").exists()


@pytest.mark.parametrize("kind", ["binary", "folder", "table", "missing"])
def test_print_routes_that_are_not_route_lines(saved_project, tmp_path, capsys, kind):
    routes = {"binary": tmp_path / "r.bin", "folder": tmp_path / "dir", "table": tmp_path / "r.csv",
              "missing": tmp_path / "none.geojson"}[kind]
    if kind == "binary":
        routes.write_bytes(bytes(range(256)) * 64)
    elif kind == "folder":
        routes.mkdir()
    elif kind == "table":
        routes.write_text("a,b\n1,2\n")
    code, _out, err = run([*_print(saved_project, tmp_path), "--routes", routes], capsys)
    assert_one_line_error(code, err, "--routes", routes.name)
    assert not (tmp_path / "map.pdf").exists()


def _out_commands(p, out):
    return {
        "balance-project": ["balance", "--project", p, "--weight", "work", "--quiet", "--out", out],
        "route": ["route", "--project", p, "--rep", "r1", "--start", "2027-03-01", "--out", out],
        "print": ["print", "--project", p, "--out", out.with_suffix(".pdf")],
        "screenshot": ["screenshot", p, "--out", out.with_suffix(".png")],
        "demo": ["demo", out.with_suffix(".gpkg"), "--accounts", "10"],
    }


@pytest.mark.parametrize("command", ["balance-project", "route", "print", "screenshot", "demo"])
@pytest.mark.parametrize("where", ["missing", "read-only", "is-a-folder"])
def test_out_checked_before_the_work(saved_project, tmp_path, capsys, monkeypatch, command, where):
    folder = tmp_path / "out"
    if where == "missing":
        out = folder / "x.csv"
        expect = "does not exist"
    elif where == "read-only":
        folder.mkdir()
        out = folder / "x.csv"
        expect = "read-only"
        folder.chmod(0o555)
        if os.access(folder, os.W_OK):  # root ignores permission bits: make the check see a read-only folder
            real = os.access
            monkeypatch.setattr(os, "access", lambda p, m, **kw: False if str(p) == str(folder) else real(p, m, **kw))
    else:
        out = folder / "x.csv"
        argv = _out_commands(saved_project, out)[command]
        target = argv[argv.index("--out") + 1] if "--out" in argv else argv[1]
        target.mkdir(parents=True)  # the output name is an existing folder
        expect = "is a folder"
    before = saved_project.read_bytes()
    code, _out, err = run(_out_commands(saved_project, out)[command], capsys)
    if folder.exists():
        folder.chmod(0o755)
    assert_one_line_error(code, err, expect)
    assert saved_project.read_bytes() == before  # balance --project saved no scenario
    assert not folder.exists() or not [f for f in folder.rglob("*") if f.is_file()]  # nothing written


@pytest.mark.parametrize("command", ["info", "print", "screenshot", "route", "balance", "import-accounts"])
def test_project_path_that_is_a_folder(tmp_path, capsys, command):
    folder = tmp_path / "x.gpkg"
    folder.mkdir()
    table = tmp_path / "a.csv"
    table.write_text("id,name,lat,lon\na1,A,40.5,-99.5\n")
    argv = {"info": ["info", folder], "print": ["print", "--project", folder, "--out", tmp_path / "m.pdf"],
            "screenshot": ["screenshot", folder, "--out", tmp_path / "s.png"],
            "route": ["route", "--project", folder, "--rep", "r1", "--start", "2027-03-01"],
            "balance": ["balance", "--project", folder, "--weight", "work"],
            "import-accounts": ["import-accounts", folder, table]}[command]
    code, _out, err = run(argv, capsys)
    assert_one_line_error(code, err, str(folder))
    assert "folder" in err or "Is a directory" in err


def test_screenshot_suffix_picks_the_format(saved_project, tmp_path, capsys):
    jpg = tmp_path / "shot.jpg"
    assert run(["screenshot", saved_project, "--out", jpg, "--size", "400x300"], capsys)[0] == 0
    assert jpg.read_bytes()[:3] == b"\xff\xd8\xff"  # JPEG start-of-image marker, not PNG bytes
    png = tmp_path / "shot.png"
    assert run(["screenshot", saved_project, "--out", png, "--size", "400x300"], capsys)[0] == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, _out, err = run(["screenshot", saved_project, "--out", tmp_path / "shot.gif"], capsys)
    assert_one_line_error(code, err, ".png, .jpg or .jpeg")
    assert not (tmp_path / "shot.gif").exists()


@pytest.mark.parametrize(("argv", "expected"), [
    (["info", "{p}"], 141), (["info", "{p}", "--json"], 141),
    (["route", "--project", "{p}", "--rep", "r1", "--start", "2027-03-01", "--time-limit", "1", "--json"], 141),
    (["balance", "--help"], 0)],  # argparse itself ignores a failed write of the help text
    ids=["info", "info-json", "route-json", "help"])
def test_closed_stdout_ends_quietly(saved_project, argv, expected):
    """``territory-desktop ... | head -1``: the reader goes away; no BrokenPipeError traceback, exit 141."""
    cmd = [sys.executable, "-m", "territory_desktop", *[a.format(p=saved_project) for a in argv]]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # like head after its first line, before the command writes
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == expected, err
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_bad_arguments_are_one_line(capsys):
    code, _out, err = run(["balance", "--no-such-flag"], capsys)
    assert_one_line_error(code, err, "unrecognized arguments: --no-such-flag", "balance --help")
    assert len(err.strip().splitlines()) == 1  # no usage dump


def test_control_characters_in_names_cannot_drive_the_terminal(tmp_path, capsys):
    """A territory named with an escape sequence (clear screen, set title) is printed as visible escapes."""
    from hostile_data import hostile_project

    from territory_desktop.services.project import save_project

    p = hostile_project()
    p.territories.loc[p.territories["territory_id"] == "W", "name"] = "\x1b[2J\x1b]0;pwned\x07West\rX"
    path = tmp_path / "ctl.gpkg"
    save_project(p, path)
    code, out, _err = run(["info", path], capsys)
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out
    assert "\\x1b[2J" in out  # shown, not executed (the table cuts names at 18 characters)
    code, _out, err = run(["balance", "--project", path, "--weight", "w\x1b[2J", "--quiet"], capsys)
    assert_one_line_error(code, err, "no measure 'w\\x1b[2J'")  # error messages are escaped the same way
    assert "\x1b" not in err


def test_json_output_is_strict_json():
    """NaN/Infinity are not JSON: a non-finite number in a summary is written as null, never as a bare word."""
    import json

    from territory_desktop.cli._common import json_text

    text = json_text({"potential": float("inf"), "rows": [1.5, float("nan"), -float("inf")], "n": 3})
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} is not JSON")) == {
        "potential": None, "rows": [1.5, None, None], "n": 3}
