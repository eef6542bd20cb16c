"""``scenario``, ``compare`` and ``realign`` commands on a saved hand-made project (numbers by hand: see
tests/services/test_compare.py for the fixture)."""

from __future__ import annotations

import json

import pytest
from test_compare import lopsided, two_plans  # noqa: F401  (fixtures)

from territory_desktop.cli import main
from territory_desktop.services.project import open_project, save_project


@pytest.fixture
def saved(two_plans, tmp_path):  # noqa: F811
    path = tmp_path / "p.gpkg"
    save_project(two_plans, path)
    return path


def test_scenario_commands_save_to_the_file(saved, capsys):
    assert main(["scenario", "create", "--project", str(saved), "--name", "Try", "--reason", "test", "--json"]) == 0
    sid = json.loads(capsys.readouterr().out)["scenario_id"]
    assert main(["scenario", "rename", "--project", str(saved), "--scenario", "Try", "--name", "Tried"]) == 0
    assert main(["scenario", "duplicate", "--project", str(saved), "--scenario", sid]) == 0
    p = open_project(saved)
    assert {p.scenarios.set_index("scenario_id").loc[sid, "name"]} == {"Tried"}
    assert len(p.plans) == 4 and p.plans[sid].as_dict() == p.plans["base"].as_dict()
    capsys.readouterr()
    assert main(["scenario", "delete", "--project", str(saved), "--scenario", "base"]) == 2
    assert "switch to another one" in capsys.readouterr().err
    assert main(["scenario", "activate", "--project", str(saved), "--scenario", sid]) == 0
    assert open_project(saved).active_scenario == sid
    assert main(["scenario", "activate", "--project", str(saved), "--scenario", "base"]) == 0
    assert main(["scenario", "delete", "--project", str(saved), "--scenario", sid]) == 0
    capsys.readouterr()
    assert main(["scenario", "list", "--project", str(saved), "--json"]) == 0
    listed = [r["scenario_id"] for r in json.loads(capsys.readouterr().out)]
    assert sid not in listed and len(listed) == 3
    assert sid not in open_project(saved).plans


def test_compare_json_and_files(saved, tmp_path, capsys):
    xlsx = tmp_path / "c.xlsx"
    assert main(["compare", "--project", str(saved), "--a", "base", "--b", "Moved", "--json", "--no-route",
                 "--xlsx", str(xlsx)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["units_moved"] == 2 and doc["accounts_changing_rep"] == 3
    assert doc["revenue_changing_rep"] == pytest.approx(1500)
    rows = {r["territory_id"]: r for r in doc["territories"]}
    assert (rows["W"]["units_before"], rows["W"]["units_after"], rows["W"]["gained"], rows["W"]["lost"]) == (6, 4, 0, 2)
    assert (rows["E"]["units_before"], rows["E"]["units_after"], rows["E"]["gained"], rows["E"]["lost"]) == (3, 5, 2, 0)
    assert xlsx.exists() and doc["written"] == [str(xlsx)]
    assert main(["compare", "--project", str(saved), "--a", "base", "--b", "nope"]) == 2
    assert "no scenario 'nope'" in capsys.readouterr().err


def test_realign_json_saves_alternatives_within_the_cap(lopsided, tmp_path, capsys):  # noqa: F811
    path = tmp_path / "l.gpkg"
    save_project(lopsided, path)
    assert main(["realign", "--project", str(path), "--goal", "balance", "--measure", "accounts", "--tolerance",
                 "0.05", "--max-accounts-moved", "8", "--alternatives", "2", "--time-limit", "2", "--protect",
                 "a01x,a07x", "--json", "--quiet"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["alternatives"]) == 2 and doc["protected"] == ["a01x", "a07x"]
    p = open_project(path)
    for alt in doc["alternatives"]:
        assert alt["scenario_id"] in p.plans
        assert alt["accounts_changing_rep"] <= (8 if alt["cap"] == "8 accounts" else 4)
        assert p.plans[alt["scenario_id"]].territory_of("u1") == "R" and p.plans[alt["scenario_id"]].territory_of("u7") == "R"


def test_hostile_scenario_names_are_text(saved, tmp_path, capsys):
    from openpyxl import load_workbook

    name = "=HYPERLINK(\"http://x\")\x1b[2J<b>"
    assert main(["scenario", "create", "--project", str(saved), "--name", name, "--json"]) == 0
    sid = json.loads(capsys.readouterr().out)["scenario_id"]
    assert main(["scenario", "list", "--project", str(saved)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b" in out  # shown as an escape, never sent to the terminal
    xlsx = tmp_path / "h.xlsx"
    assert main(["compare", "--project", str(saved), "--a", "base", "--b", sid, "--no-route", "--xlsx", str(xlsx)]) == 0
    cells = [c for row in load_workbook(xlsx)["Summary"].iter_rows(values_only=True) for c in row if isinstance(c, str)]
    after = next(c for c in cells if "HYPERLINK" in c)
    assert after.startswith("'=")
