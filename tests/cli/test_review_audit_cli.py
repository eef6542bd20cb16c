"""``review`` and ``audit`` on the command line: the flow, a refused step, the audit log filtered and
exported (formula-safe)."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest

from territory_desktop.cli import main
from territory_desktop.services.project import open_project, save_project


@pytest.fixture
def grid_file(grid_project, tmp_path, monkeypatch):
    monkeypatch.setenv("TERRITORY_DESKTOP_USER", "alice")
    path = tmp_path / "g.gpkg"
    save_project(grid_project, path)
    return path


def _json(capsys, *argv):
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_review_flow_on_the_command_line(grid_file, capsys, monkeypatch):
    out = _json(capsys, "review", "--project", str(grid_file), "--scenario", "base", "propose", "--json")
    assert out["status"] == "proposed" and out["history"][0]["user"] == "alice"
    assert main(["review", "--project", str(grid_file), "--scenario", "base", "publish"]) == 2
    assert "'publish' needs an approved scenario" in capsys.readouterr().err
    monkeypatch.setenv("TERRITORY_DESKTOP_USER", "bob")
    _json(capsys, "review", "--project", str(grid_file), "--scenario", "base", "approve", "--json")
    assert main(["review", "--project", str(grid_file), "--scenario", "base", "publish", "--from", "2026-13-01"]) == 2
    assert "'2026-13-01' is not a date" in capsys.readouterr().err
    out = _json(capsys, "review", "--project", str(grid_file), "--scenario", "base", "publish", "--from",
                "2026-07-01", "--json")
    assert out["plans_in_force"] == [{"from_date": "2026-07-01", "plan": "base@1"}]
    assert [h["user"] for h in out["history"]] == ["alice", "bob", "bob"]
    out = _json(capsys, "review", "--project", str(grid_file), "--scenario", "base", "restore", "--to", "copy",
                "--json")
    assert out["restored_into"] == "copy"
    p = open_project(grid_file)
    assert p.plans["copy"].as_dict() == p.plans["base"].as_dict() and p.plans["copy"].frozen is None
    assert main(["review", "--project", str(grid_file), "--scenario", "nope", "propose"]) == 2


def test_audit_lists_filters_and_exports_assignment_changes(grid_file, capsys, monkeypatch, tmp_path):
    p = open_project(grid_file)
    p.plan.assign_many({"u0": "E", "u1": "E"})
    p.mark_dirty("plans")
    save_project(p)
    monkeypatch.setenv("TERRITORY_DESKTOP_USER", "=HYPERLINK(\"x\")")  # a hostile name reaches the export
    p = open_project(grid_file)
    p.plan.assign_many({"u5": "W"})
    p.mark_dirty("plans")
    save_project(p)
    rows = _json(capsys, "audit", "--project", str(grid_file), "--json")["entries"]
    assert [(r["user"], r["entity_id"], r["old_territory_id"], r["territory_id"]) for r in rows] == [
        ("alice", "u0", "W", "E"), ("alice", "u1", "W", "E"), ("=HYPERLINK(\"x\")", "u5", "E", "W")]
    alice = _json(capsys, "audit", "--project", str(grid_file), "--user", "ALICE", "--json")["entries"]
    assert [r["entity_id"] for r in alice] == ["u0", "u1"]
    into_w = _json(capsys, "audit", "--project", str(grid_file), "--territory", "W", "--since", "2000-01-01",
                   "--json")["entries"]
    assert len(into_w) == 3  # u0, u1 left W; u5 came in
    assert _json(capsys, "audit", "--project", str(grid_file), "--until", "2000-01-01", "--json")["entries"] == []
    out = tmp_path / "audit.csv"
    assert main(["audit", "--project", str(grid_file), "--csv", str(out)]) == 0
    with open(out, newline="", encoding="utf-8-sig") as fh:
        users = [r["user"] for r in csv.DictReader(fh)]
    assert users[-1] == "'=HYPERLINK(\"x\")"  # escaped by storage.export
    with sqlite3.connect(grid_file) as con:
        assert con.execute("SELECT count(*) FROM audit_log WHERE action = 'assign unit'").fetchone()[0] == 3
    assert main(["audit", "--project", str(grid_file), "--since", "yesterday-ish"]) == 2
