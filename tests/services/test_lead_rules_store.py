"""Lead rules stored in the project (schema 6, table ``lead_rules``): stored, read back after a reopen,
used by ``assign-leads`` without ``--rules``, stored by ``--save-rules``; bad stored rules are named."""

from __future__ import annotations

import json
import sqlite3

import pytest

from territory_desktop.cli import main
from territory_desktop.models import InvalidInputError
from territory_desktop.services.lead_rules import project_rules, store_rules, stored_rules
from territory_desktop.services.project import open_project, save_project


@pytest.fixture
def saved(three_reps_project, tmp_path):
    p = three_reps_project
    path = tmp_path / "p.gpkg"
    save_project(p, path)
    return path


TEAM = {"order": ["location", "account_match"], "disabled": ["expertise"], "teams": {"E": ["r2", "r3"]},
        "round_robin": "order"}


def leads_csv(tmp_path):
    path = tmp_path / "leads.csv"  # all in E (lon > -98.5 on the grid): r2 and r3 take turns by order
    path.write_text("lead_id,lat,lon,date\nL1,40.5,-97.5,2026-01-01\nL2,40.5,-97.5,2026-01-02\n"
                    "L3,40.5,-97.5,2026-01-03\n", encoding="utf-8")
    return path


def test_stored_rules_survive_a_reopen_and_are_audited(saved):
    p = open_project(saved)
    assert stored_rules(p) is None and project_rules(p)[1] == "defaults"
    assert store_rules(p, TEAM, "the Leads dock", {"r1", "r2", "r3"}) is True
    assert store_rules(p, dict(TEAM), "again") is False  # the same rules: nothing to store
    save_project(p)
    again = open_project(saved)
    assert stored_rules(again) == TEAM
    ruleset, source = project_rules(again, {"r1", "r2", "r3"})
    assert source == "project" and ruleset.rules.order[:2] == ("location", "account_match")
    assert ruleset.rules.disabled == frozenset({"expertise"}) and ruleset.teams == {"E": ["r2", "r3"]}
    with sqlite3.connect(saved) as con:
        details = con.execute("SELECT details FROM audit_log WHERE action = 'store lead rules'").fetchall()
        described = con.execute("SELECT description FROM gpkg_contents WHERE table_name = 'lead_rules'").fetchone()
        subtype = con.execute("SELECT mime_type FROM gpkg_data_columns WHERE table_name = 'lead_rules' "
                              "AND column_name = 'rules'").fetchone()
    assert len(details) == 1 and "order location, account_match" in details[0][0] and "expertise" in details[0][0]
    assert described[0].startswith("Lead distribution rules") and subtype == ("application/json",)


def test_bad_rules_are_refused_and_bad_stored_rules_named(saved):
    p = open_project(saved)
    with pytest.raises(InvalidInputError, match="psychic"):
        store_rules(p, {"order": ["psychic"]}, "rules.json")
    assert len(p.lead_rules) == 0 and "lead_rules" not in p.dirty
    store_rules(p, {"teams": {"E": ["r3"]}})
    p.reps = p.reps[p.reps["rep_id"] != "r3"]  # r3 left since the rules were stored
    with pytest.raises(InvalidInputError, match=r"(?s)lead_rules.*teams\.E.*no rep 'r3'"):
        project_rules(p, set(p.reps["rep_id"]))
    p.lead_rules.loc[0, "rules"] = "{not json"
    with pytest.raises(InvalidInputError, match=r"(?s)table lead_rules.*not valid JSON"):
        stored_rules(p)


def test_cli_save_rules_then_a_run_without_rules_uses_them(saved, tmp_path, capsys):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(TEAM), encoding="utf-8")
    leads = leads_csv(tmp_path)
    assert main(["assign-leads", "--project", str(saved), str(leads), "--preview", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rules_from"] == "defaults" and set(out["by_rep"]) == {"r2"}  # E's own rep only
    assert main(["assign-leads", "--project", str(saved), str(leads), "--rules", str(rules), "--save-rules",
                 "--preview"]) == 0
    text = capsys.readouterr().out
    assert "rules of rules.json stored in the project" in text and "only the rules saved" in text
    p = open_project(saved)
    assert stored_rules(p) == TEAM and len(p.leads) == 0  # a preview: the rules kept, no lead
    assert main(["assign-leads", "--project", str(saved), str(leads), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rules_from"] == "project" and out["saved"] is True
    assert [a["rep_id"] for a in out["assignments"]] == ["r2", "r3", "r2"]  # the team, in turn by order


def test_cli_save_rules_needs_a_rules_file(saved, tmp_path, capsys):
    assert main(["assign-leads", "--project", str(saved), str(leads_csv(tmp_path)), "--save-rules"]) != 0
    assert "--save-rules needs --rules" in capsys.readouterr().err
    assert stored_rules(open_project(saved)) is None
