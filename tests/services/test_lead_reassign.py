"""Reassigning saved leads by hand (issue #15): rep and territory, explanation, caps, refusals, audit, CLI."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

import pytest

from territory_desktop.cli import main
from territory_desktop.models import InvalidInputError
from territory_desktop.services.lead_rules import store_rules
from territory_desktop.services.leads import apply_leads, propose_leads, read_leads, reassign_leads
from territory_desktop.services.project import open_project, save_project

# grid_project: W = columns 0-1 (lon -100..-98), E = column 2 (lon -98..-97); 40.5,-99.5 lies in W
LEADS = "lead_id,lat,lon,status\nL1,40.5,-99.5,open\nL2,42.5,-97.5,open\nL3,40.5,-99.5,open\nL4,42.5,-97.5,closed\n"


@pytest.fixture
def project(three_reps_project, tmp_path):
    """Rita (r1) has W, Sam (r2) has E, Tao (r3) no territory; L1, L3 saved with Rita, L2, L4 with Sam."""
    p = three_reps_project
    p.user = "alice"
    path = tmp_path / "leads.csv"
    path.write_text(LEADS, encoding="utf-8")
    leads, _ = read_leads(path)
    apply_leads(p, propose_leads(p, leads), "leads.csv")
    assert p.leads["rep_id"].tolist() == ["r1", "r2", "r1", "r2"]  # the starting point the tests count from
    p.pending_audit.clear()
    p.dirty.discard("leads")
    return p


def row(project, lead_id):
    return project.leads.set_index("lead_id").loc[lead_id]


def test_rep_serving_no_territory_keeps_it_and_the_explanation_says_who(project):
    before = row(project, "L2")["explanation"]
    done = reassign_leads(project, ["L2"], "r3", reason="speaks German")
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    lead = row(project, "L2")
    assert lead["rep_id"] == "r3" and lead["territory_id"] == "E"  # Tao serves no territory: E is kept
    assert lead["explanation"] == (f"{before}; reassigned manually to Tao (r3) by alice on {today} "
                                   "(was Sam (r2)); reason: speaks German")
    assert lead["assigned"].startswith(today)
    assert done.changed == ["L2"] and done.previous_rep == {"L2": "r2"} and done.moved == {}
    assert done.cap is None and not done.over_cap
    assert row(project, "L1")["rep_id"] == "r1" and "leads" in project.dirty


def test_rep_who_does_not_serve_the_territory_takes_it_to_theirs(project):
    done = reassign_leads(project, ["L1", "L3"], "r2")
    assert project.leads["rep_id"].tolist() == ["r2", "r2", "r2", "r2"]
    assert project.leads["territory_id"].tolist() == ["E", "E", "E", "E"]
    assert done.moved == {"L1": ("W", "E"), "L3": ("W", "E")}
    assert "territory W -> E (Sam does not serve W)" in row(project, "L1")["explanation"]
    assert done.open_leads == 3  # L1, L2, L3 open; L4 is closed


def test_a_team_member_serves_the_team_territory(project):
    store_rules(project, {"teams": {"W": ["r1", "r3"]}}, rep_ids={"r1", "r2", "r3"})
    done = reassign_leads(project, ["L1", "L2"], "r3")
    # Tao serves W through the team: L1 stays in W; L2 (E) is moved to W, Tao's only territory
    assert row(project, "L1")["territory_id"] == "W" and row(project, "L2")["territory_id"] == "W"
    assert done.moved == {"L2": ("E", "W")}


def test_over_the_cap_is_made_and_said(project):
    store_rules(project, {"max_open": 5, "max_open_by_rep": {"r2": 1}}, rep_ids={"r1", "r2", "r3"})
    done = reassign_leads(project, ["L1"], "r2")
    assert row(project, "L1")["rep_id"] == "r2"  # a manual override overrides the cap
    assert done.open_leads == 2 and done.cap == 1 and done.over_cap  # L2 and L1 open (L4 closed)
    assert row(project, "L1")["explanation"].endswith("Sam now holds 2 open leads, over the cap of 1")
    under = reassign_leads(project, ["L2"], "r1")  # Rita: L3 and L2 open, cap 5
    assert under.open_leads == 2 and under.cap == 5 and "over the cap" not in row(project, "L2")["explanation"]


def test_the_capacity_rule_switched_off_means_no_cap(project):
    store_rules(project, {"max_open": 1, "disabled": ["capacity"]}, rep_ids={"r1", "r2", "r3"})
    assert reassign_leads(project, ["L1"], "r2").cap is None


def test_unknown_leads_and_rep_refused_at_once_and_nothing_changes(project):
    before = project.leads.copy()
    with pytest.raises(InvalidInputError) as err:
        reassign_leads(project, ["L1", "L9", "X7"], "zz")
    text = str(err.value)
    assert text.startswith("reassign-leads: 3 problems; nothing was changed")
    for part in ("no lead 'L9' in the project", "no lead 'X7' in the project", "no rep 'zz' in the project"):
        assert part in text
    assert "L1" not in text
    with pytest.raises(InvalidInputError, match="no lead ids given"):
        reassign_leads(project, [], "r2")
    assert project.leads.equals(before) and not project.pending_audit and "leads" not in project.dirty


def test_one_audit_entry_per_batch_and_leads_already_with_the_rep_left_alone(project, tmp_path):
    save_project(project, tmp_path / "p.gpkg")
    p = open_project(tmp_path / "p.gpkg")
    p.user = "alice"
    done = reassign_leads(p, ["L1", "L2", "L3"], "r2", reason="Rita left")
    assert done.changed == ["L1", "L3"] and done.unchanged == ["L2"]
    assert "1 lead(s) already with Sam were left as they are: L2" in done.notes
    assert p.pending_audit == [("reassign leads", "2 lead(s) to Sam (r2) by alice: L1 (from r1), L3 (from r1); "
                                                  "territory L1 W -> E, L3 W -> E; reason: Rita left")]
    assert "Rita left" not in row(p, "L2")["explanation"]
    save_project(p)
    with sqlite3.connect(tmp_path / "p.gpkg") as con:
        rows = con.execute("SELECT user, action, details FROM audit_log WHERE action = 'reassign leads'").fetchall()
    assert len(rows) == 1 and rows[0][0] == "alice" and rows[0][2].startswith("2 lead(s) to Sam (r2)")
    again = open_project(tmp_path / "p.gpkg")
    assert again.leads["rep_id"].tolist() == ["r2", "r2", "r2", "r2"]
    nothing = reassign_leads(again, ["L2"], "r2")
    assert nothing.changed == [] and not again.pending_audit and "leads" not in again.dirty


def test_an_unassigned_saved_lead_gets_the_rep_and_the_reps_territory(project):
    project.leads.loc[project.leads["lead_id"] == "L4", ["rep_id", "territory_id", "explanation"]] = \
        [None, None, "no rep: Sam absent on 2026-12-24"]
    reassign_leads(project, ["L4"], "r1")
    lead = row(project, "L4")
    assert lead["rep_id"] == "r1" and lead["territory_id"] == "W"
    assert lead["explanation"].startswith("no rep: Sam absent on 2026-12-24; reassigned manually to Rita (r1)")
    assert "(was nobody); territory - -> W" in lead["explanation"]


def test_cli_reassigns_saves_and_refuses(project, tmp_path, capsys):
    save_project(project, tmp_path / "p.gpkg")
    target = str(tmp_path / "p.gpkg")
    assert main(["reassign-leads", "--project", target, "--rep", "r3", "L1", "L4", "--reason", "key client",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["reassigned"] == ["L1", "L4"] and out["rep_id"] == "r3" and out["saved"] is True
    assert out["previous_rep"] == {"L1": "r1", "L4": "r2"} and out["territory_moved"] == {}
    saved = open_project(target)
    assert saved.leads["rep_id"].tolist() == ["r3", "r2", "r1", "r3"]
    assert saved.leads["explanation"].iloc[0].endswith("(was Rita (r1)); reason: key client")
    assert main(["reassign-leads", "--project", target, "--rep", "r2", "L3"]) == 0
    assert "1 lead reassigned to Sam (r2): L3 (from r1, territory W -> E)" in capsys.readouterr().out
    assert main(["reassign-leads", "--project", target, "--rep", "nobody", "L3", "L99"]) == 2
    err = capsys.readouterr().err
    assert "no lead 'L99' in the project" in err and "no rep 'nobody' in the project" in err
    assert open_project(target).leads["rep_id"].tolist() == ["r3", "r2", "r2", "r3"]
    with sqlite3.connect(target) as con:
        actions = [r[0] for r in con.execute("SELECT action FROM audit_log WHERE action = 'reassign leads'")]
    assert actions == ["reassign leads", "reassign leads"]


def test_stored_rules_naming_a_rep_who_left_do_not_stop_a_reassignment(project):
    store_rules(project, {"teams": {"W": ["r1", "r3"]}, "max_open": 1}, rep_ids={"r1", "r2", "r3"})
    project.reps = project.reps[project.reps["rep_id"] != "r3"]  # Tao left; the stored team still names him
    done = reassign_leads(project, ["L2"], "r1")
    assert row(project, "L2")["rep_id"] == "r1" and done.cap is None  # teams and caps not used
    assert any(n.startswith("the stored lead rules were not used") and "no rep 'r3'" in n for n in done.notes)


def test_a_large_batch_names_the_first_leads_in_its_audit_entry_and_counts_the_rest(project, monkeypatch):
    import territory_desktop.services.leads as leads_service

    monkeypatch.setattr(leads_service, "AUDIT_LISTED", 1)
    result = reassign_leads(project, ["L1", "L3"], "r2")
    assert result.audit.startswith("2 lead(s) to Sam (r2) by alice: L1 (from r1) and 1 more (see each lead's")
    assert "L3" not in result.audit
