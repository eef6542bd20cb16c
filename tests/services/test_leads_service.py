"""Leads on a real (small) project: file checks, account rules, held leads, saving and rotation across runs."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest

from territory_desktop.cli import main
from territory_desktop.models import CRS, InvalidInputError
from territory_desktop.services.lead_rules import parse_rules
from territory_desktop.services.leads import apply_leads, override_rep, propose_leads, read_leads
from territory_desktop.services.project import open_project, save_project


@pytest.fixture
def project(grid_project):
    p = grid_project
    p.reps = gpd.GeoDataFrame({"rep_id": ["r1", "r2", "r3"], "name": ["Rita", "Sam", "Tao"],
                               "capacity_hours": 1600.0, "skills": ["", "Medical, Dental", "dental"],
                               "work_start_minute": 480, "work_end_minute": 1020, "zip": ""},
                              geometry=gpd.points_from_xy([-99.5] * 3, [40.5] * 3), crs=CRS)
    p.territories["rep_id"] = ["r1", "r2"]
    return p


def write(tmp_path, text, name="leads.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_bad_row_named(tmp_path):
    path = write(tmp_path, "lead_id,value,date,lat,lon,status\nL1,abc,2026-13-01,40.5,-99.5,open\n"
                           "L1,5,,40.5,-99.5,maybe\n")
    with pytest.raises(InvalidInputError) as err:
        read_leads(path)
    text = str(err.value)
    assert "row 2, column 'date': '2026-13-01' is not a date" in text
    assert "row 2, column 'value': 'abc' is not a number" in text
    assert "row 3, column 'lead_id': duplicate id 'L1' (first on row 2)" in text
    assert "row 3, column 'status': status 'maybe' is not open or closed" in text


def test_location_company_and_account_rule(project, tmp_path):
    project.territories.loc[len(project.territories)] = ["base", "K", "Key", "#000000", "r3", None, "territory",
                                                         "account", json.dumps({"industry": ["mining"]})]
    path = write(tmp_path, "lead_id,company,industry,lat,lon\nL1,Zeta,,40.5,-99.5\nL2,Zeta,,42.5,-97.5\n"
                           "L3,Gamma Inc.,,40.5,-99.5\nL4,Zeta,mining,40.5,-99.5\nL5,Zeta,,10,-97.8\n")
    leads, _ = read_leads(path)
    table = propose_leads(project, leads).table.set_index("lead_id")
    assert table.loc["L1", "rep_id"] == "r1" and table.loc["L2", "rep_id"] == "r2"
    assert table.loc["L3", "territory_id"] == "E" and table.loc["L3", "account_id"] == "a3"  # a3 lies in u8 (east)
    assert table.loc["L4", "territory_id"] == "K" and table.loc["L4", "rep_id"] == "r3"
    assert table.loc["L5", "territory_id"] == "E" and "nearest territory" in table.loc["L5", "explanation"]


def test_held_open_leads_count_against_capacity_and_rotation_survives_saving(project, tmp_path):
    save_project(project, tmp_path / "p.gpkg")
    rules = parse_rules({"teams": {"E": ["r2", "r3"]}, "round_robin": "order", "max_open_by_rep": {"r3": 1}},
                        rep_ids={"r1", "r2", "r3"})
    first, _ = read_leads(write(tmp_path, "lead_id,lat,lon\nA1,42.5,-97.5\nA2,42.5,-97.5\nA3,42.5,-97.5\nA4,42.5,-97.5\n"))
    p = open_project(tmp_path / "p.gpkg")
    run = propose_leads(p, first, rules)
    assert run.table["rep_id"].tolist() == ["r2", "r3", "r2", "r2"]  # A4 was r3's turn, but r3 is full
    apply_leads(p, run, "first.csv")
    save_project(p)
    again = open_project(tmp_path / "p.gpkg")
    assert again.leads["lead_id"].tolist() == ["A1", "A2", "A3", "A4"]
    rules = parse_rules({"teams": {"E": ["r2", "r3"]}, "round_robin": "order"}, rep_ids={"r1", "r2", "r3"})
    second, _ = read_leads(write(tmp_path, "lead_id,lat,lon\nA3,42.5,-97.5\nB1,42.5,-97.5\nB2,42.5,-97.5\n",
                                 "second.csv"))
    run2 = propose_leads(again, second, rules)
    assert run2.skipped == ["A3"]
    assert run2.table["rep_id"].tolist() == ["r3", "r2"]  # the turn continues after r2 (last of run 1)


def test_rules_errors_name_the_key():
    with pytest.raises(InvalidInputError) as err:
        parse_rules({"order": ["location", "psychic"], "max_open": -1, "round_robin": "random",
                     "weights": {"nobody": 2}, "absences": {"r1": [["2026-12-05", "2026-12-01"]]}, "colour": 1},
                    rep_ids={"r1"})
    text = str(err.value)
    for part in ("column 'order': unknown rule(s) psychic", "column 'max_open'", "column 'round_robin'",
                 "column 'weights': no rep 'nobody'", "column 'absences.r1'", "column 'colour': unknown key"):
        assert part in text


def test_cli_preview_saves_nothing_and_run_saves(project, tmp_path, capsys):
    save_project(project, tmp_path / "p.gpkg")
    leads = write(tmp_path, "lead_id,lat,lon\nL1,40.5,-99.5\nL2,42.5,-97.5\n")
    assert main(["assign-leads", "--project", str(tmp_path / "p.gpkg"), str(leads), "--preview", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["assigned"] == 2 and out["saved"] is False
    assert len(open_project(tmp_path / "p.gpkg").leads) == 0
    assert main(["assign-leads", "--project", str(tmp_path / "p.gpkg"), str(leads)]) == 0
    assert "2 of 2 leads assigned" in capsys.readouterr().out
    saved = open_project(tmp_path / "p.gpkg")
    assert saved.leads["rep_id"].tolist() == ["r1", "r2"]
    import sqlite3

    with sqlite3.connect(tmp_path / "p.gpkg") as con:
        assert con.execute("SELECT action FROM audit_log ORDER BY fid DESC LIMIT 1").fetchone()[0] == "assign leads"


def test_manual_override_in_the_preview_is_kept(project, tmp_path):
    leads, _ = read_leads(write(tmp_path, "lead_id,lat,lon\nL1,40.5,-99.5\nL2,10,10\n"))
    project.territories["rep_id"] = ["r1", None]
    run = propose_leads(project, leads)
    assert run.table["rep_id"].tolist() == ["r1", None]  # L2 lies nearest E, which has no rep
    assert override_rep(project, run, ["L2"], "r3") == 1
    assert run.assigned == 2 and "manual override (the rules gave nobody)" in run.table.at[1, "explanation"]
    with pytest.raises(InvalidInputError, match="no rep 'zz'"):
        override_rep(project, run, ["L1"], "zz")
    apply_leads(project, run)
    assert project.leads["rep_id"].tolist() == ["r1", "r3"]


def test_the_kept_account_and_unit_indexes_follow_edits(project, tmp_path):
    """The account index and the units' polygon index are kept between runs; renaming an account or moving a
    unit to another territory is seen by the next run."""
    leads, _ = read_leads(write(tmp_path, "lead_id,company,lat,lon\nL1,Omega Corp,40.5,-99.5\n"))
    first = propose_leads(project, leads).table.iloc[0]
    assert first["account_id"] is None and first["territory_id"] == "W"
    assert propose_leads(project, leads).table.iloc[0]["account_id"] is None  # the kept index, unchanged
    project.accounts.loc[project.accounts["account_id"] == "a3", "name"] = "Omega Inc"
    project.plan.assign_many({"u0": "E"})  # the lead's unit (40.5, -99.5 lies in u0)
    again = propose_leads(project, leads).table.iloc[0]
    assert again["account_id"] == "a3" and again["matched_by"] == "name" and again["territory_id"] == "E"
