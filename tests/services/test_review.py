"""The review flow: frozen scenarios refuse every edit path, snapshots restore exactly, publishing puts a
plan in force for KPIs, and a schema-3 file migrates to 4 (checked by GDAL's validator)."""

from __future__ import annotations

import json
import sqlite3

import pandas as pd
import pytest
from kpi_fixtures import tiny_project

from territory_desktop.models import InfeasibleError, Plan
from territory_desktop.services import editing, review
from territory_desktop.services.importing import import_units
from territory_desktop.services.kpi import kpi_table
from territory_desktop.services.project import open_project, save_project
from territory_desktop.storage import schema


@pytest.fixture
def saved(grid_project, tmp_path, monkeypatch):
    monkeypatch.setenv("TERRITORY_DESKTOP_USER", "alice")  # the configured user of this machine
    path = tmp_path / "p.gpkg"
    save_project(grid_project, path)
    return path


def _state(project):
    return project.plan.as_dict(), project.plan.account_overrides(), project.territories.copy()


EDITS = {
    "brush (Plan.assign_many)": lambda p, tmp: p.plan.assign_many({"u0": "E"}),
    "undo of an import (Plan.remove_units)": lambda p, tmp: p.plan.remove_units(["u0"]),
    "account override (Plan)": lambda p, tmp: p.plan.set_account_overrides({"a1": "E"}),
    "move accounts": lambda p, tmp: editing.move_accounts(p, ["a1"], "E"),
    "create territory": lambda p, tmp: editing.create_territory(p, "North"),
    "rename": lambda p, tmp: editing.rename_territory(p, "W", "Westerly"),
    "recolour": lambda p, tmp: editing.recolour_territory(p, "W", "#ff0000"),
    "auto colour": lambda p, tmp: editing.auto_colour_territories(p),
    "parent": lambda p, tmp: editing.set_parent(p, "W", "E"),
    "rep": lambda p, tmp: editing.assign_rep(p, "W", "r1"),
    "merge": lambda p, tmp: editing.merge_territories(p, "W", ["E"]),
    "delete": lambda p, tmp: editing.delete_territory(p, "E"),
    "import units (replace)": lambda p, tmp: import_units(p, _eight_units(p, tmp), "unit_id", mode="replace"),
}


def _eight_units(project, tmp):
    path = tmp / "units.geojson"
    project.units[project.units["unit_id"] != "u8"][["unit_id", "name", "geometry"]].to_file(path)
    return path


@pytest.mark.parametrize("action", ["propose", "approve", "publish"])
@pytest.mark.parametrize("edit", list(EDITS))
def test_a_frozen_scenario_refuses_every_edit(saved, tmp_path, action, edit):
    p = open_project(saved)
    for step in ("propose", "approve", "publish")[: ("propose", "approve", "publish").index(action) + 1]:
        review.transition(p, "base", step, from_date="2026-01-01")
    save_project(p)
    p = open_project(saved)  # the state is in the file: still frozen after reopening
    before = _state(p)
    units_before = p.units.copy()
    with pytest.raises(InfeasibleError, match=r"scenario 'base' is (proposed|approved|published) \(by alice"):
        EDITS[edit](p, tmp_path)
    after = _state(p)
    assert after[0] == before[0] and after[1] == before[1]
    pd.testing.assert_frame_equal(after[2], before[2])
    assert list(p.units["unit_id"]) == list(units_before["unit_id"])


def test_send_back_makes_it_editable_again(saved):
    p = open_project(saved)
    review.transition(p, "base", "propose")
    with pytest.raises(InfeasibleError):
        editing.rename_territory(p, "W", "Westerly")
    review.transition(p, "base", "send-back", note="needs work")
    editing.rename_territory(p, "W", "Westerly")
    p.plan.assign_many({"u0": "E"})
    assert p.plan.territory_of("u0") == "E"


def test_the_flow_keeps_its_order_and_who_and_when(saved):
    p = open_project(saved)
    with pytest.raises(InfeasibleError, match="'approve' needs a proposed scenario"):
        review.transition(p, "base", "approve")
    p.user = "alice"
    review.transition(p, "base", "propose")
    p.user = "bob"
    review.transition(p, "base", "approve")
    with pytest.raises(InfeasibleError, match="'propose' needs a draft"):
        review.transition(p, "base", "propose")
    review.transition(p, "base", "publish", from_date="2026-03-01")
    save_project(p)
    with sqlite3.connect(saved) as con:
        rows = con.execute("SELECT status, user, from_date, snapshot_id, ts FROM scenario_reviews ORDER BY fid"
                           ).fetchall()
        in_force = con.execute("SELECT from_date, plan_ref FROM plans_in_force").fetchall()
    assert [r[:4] for r in rows] == [("proposed", "alice", None, None), ("approved", "bob", None, None),
                                     ("published", "bob", "2026-03-01", "base@1")]
    assert all(r[4].endswith("Z") and len(r[4]) == 24 for r in rows)  # GeoPackage DATETIME, UTC
    assert in_force == [("2026-03-01", "base@1")]
    q = open_project(saved)
    assert review.status(q, "base") == "published" and q.plans_in_force == [("2026-03-01", "base@1")]
    day = rows[-1][4][:10]
    assert review.describe(q, "base") == f"published by bob on {day}, in force from 2026-03-01"


SCENARIO_ROWS = {
    "assignments": "SELECT unit_id, territory_id FROM assignments WHERE scenario_id = ?",
    "account_assignments": "SELECT account_id, territory_id FROM account_assignments WHERE scenario_id = ?",
    "territories": "SELECT territory_id, name, colour, rep_id, parent_id, level, kind, rule, units, accounts, "
                   "workload_hours, potential, units_key, hex(geom) FROM territories WHERE scenario_id = ?",
}


def _rows(path, sid):
    with sqlite3.connect(path) as con:
        return {t: sorted(con.execute(sql, (sid,)).fetchall(), key=repr) for t, sql in SCENARIO_ROWS.items()}


def test_a_restored_snapshot_equals_the_original_row_for_row(saved):
    p = open_project(saved)
    editing.move_accounts(p, ["a2"], "E")
    editing.create_territory(p, "North", colour="#112233", territory_id="N")
    p.plan.assign_many({"u3": "N"})
    save_project(p)
    original = _rows(saved, "base")
    assert len(original["assignments"]) == 9 and original["account_assignments"] == [("a2", "E")]
    for step in ("propose", "approve", "publish"):
        review.transition(p, "base", step, from_date="2026-01-01")
    review.transition(p, "base", "send-back")
    editing.rename_territory(p, "W", "Changed")  # the draft moves on
    editing.delete_territory(p, "N")
    editing.move_accounts(p, ["a2", "a3"], "W")
    p.plan.assign_many({"u0": "E", "u1": "E"})
    save_project(p)
    assert _rows(saved, "base") != original
    review.restore(p, "base", target="base", overwrite=True)
    save_project(p)
    assert _rows(saved, "base") == original
    review.restore(p, "base")  # a new draft scenario by default
    save_project(p)
    assert _rows(saved, "base-restored") == original
    assert review.status(open_project(saved), "base-restored") == "draft"


def test_restore_refuses_to_overwrite_without_asking_or_a_frozen_scenario(saved):
    p = open_project(saved)
    for step in ("propose", "approve", "publish"):
        review.transition(p, "base", step)
    review.restore(p, "base")
    with pytest.raises(InfeasibleError, match="exists: pass overwrite"):
        review.restore(p, "base")
    with pytest.raises(InfeasibleError, match="is published"):
        review.restore(p, "base", target="base", overwrite=True)


def _q3_sales(project):
    t = kpi_table(project, "2026-Q3").set_index("group_id")
    return {tid: float(t.loc[tid, "sales"]) if tid in t.index else 0.0 for tid in ("T1", "T2")}


def test_kpis_attribute_sales_to_the_plan_published_for_their_date():
    """Q3 2026 sales: a1 (unit U1) 100 in July and 50 in August, a3 20 in August, a4 15 in September (U3,
    always T2). U1 is in T1 under "base" and in T2 under "new"."""
    p = tiny_project()
    p.plans_in_force = []
    p.active_scenario = "base"
    for step in ("propose", "approve", "publish"):
        review.transition(p, "base", step, from_date="2024-01-01")
    assert _q3_sales(p) == {"T1": 150.0, "T2": 35.0}  # base in force all along: a1's sales in T1
    for step in ("propose", "approve", "publish"):
        review.transition(p, "new", step, from_date="2026-08-01")
    assert p.plans_in_force == [("2024-01-01", "base@1"), ("2026-08-01", "new@1")]
    assert _q3_sales(p) == {"T1": 100.0, "T2": 85.0}  # July under base (T1), August on under new (T2)
    review.transition(p, "new", "send-back")
    p.plans["new"].assign_many({"U1": "T1"})  # the draft changes; the published snapshot does not
    assert _q3_sales(p) == {"T1": 100.0, "T2": 85.0}


def test_a_republication_on_the_same_date_replaces_the_plan_in_force():
    p = tiny_project()
    p.plans_in_force = []
    for step in ("propose", "approve", "publish"):
        review.transition(p, "base", step, from_date="2026-08-01")
    review.transition(p, "base", "send-back")
    for step in ("propose", "approve", "publish"):
        review.transition(p, "base", step, from_date="2026-08-01")
    assert p.plans_in_force == [("2026-08-01", "base@2")]


def _drop_tables(path, tables, version: int) -> None:
    """Drop ``tables`` and their GeoPackage registration, and mark the file as schema ``version``."""
    with sqlite3.connect(path) as con:
        for table in tables:
            con.execute(f'DROP TABLE "{table}"')
            for meta in ("gpkg_contents", "gpkg_ogr_contents", "gpkg_data_columns"):
                con.execute(f"DELETE FROM {meta} WHERE table_name = ?", (table,))
        con.execute("UPDATE td_meta SET value = ? WHERE key = 'schema_version'", (str(version),))


def _downgrade_to_schema_5(path):
    _drop_tables(path, ["lead_rules"], 5)


def _downgrade_to_schema_4(path):
    _downgrade_to_schema_5(path)
    _drop_tables(path, ["quotas"], 4)


def _downgrade_to_schema_3(path):
    _downgrade_to_schema_4(path)
    _drop_tables(path, ["scenario_reviews", "snapshots", "plans_in_force", "comments", "project_users"], 4)
    with sqlite3.connect(path) as con:
        for column in schema.AUDIT_CHANGE_COLUMNS:
            con.execute(f'ALTER TABLE audit_log DROP COLUMN "{column}"')
        con.execute("INSERT INTO audit_log (ts, user, action, details) VALUES "
                    "('2026-01-02T03:04:05.000Z', 'carol', 'import units', '9 units')")
        con.execute("UPDATE td_meta SET value = '3' WHERE key = 'schema_version'")


def test_a_schema_3_file_migrates_to_4_and_passes_gdal(saved):
    from tests.storage.test_gis_interop import _have_gdal, validate

    _downgrade_to_schema_3(saved)
    p = open_project(saved)
    with sqlite3.connect(saved) as con:
        version = con.execute("SELECT value FROM td_meta WHERE key = 'schema_version'").fetchone()[0]
        tables = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
        audit = con.execute("SELECT user, action, entity_id FROM audit_log").fetchall()
    assert version == str(schema.SCHEMA_VERSION) == "6"
    assert {"scenario_reviews", "snapshots", "plans_in_force", "comments", "project_users", "quotas",
            "lead_rules"} <= tables
    assert audit == [("carol", "import units", None)]
    p.plan.assign_many({"u0": "E"})
    for step in ("propose", "approve", "publish"):
        review.transition(p, "base", step, from_date="2026-02-01")
    save_project(p)
    if _have_gdal():
        assert validate(saved) == ""


def test_plans_in_force_with_an_in_memory_plan_are_not_written(saved):
    p = open_project(saved)
    p.plans_in_force = [("2026-01-01", "base"), ("2026-02-01", Plan({"u0": "E"}))]
    p.mark_dirty("plans_in_force")
    save_project(p)
    assert open_project(saved).plans_in_force == [("2026-01-01", "base")]


def test_forgetting_a_deleted_scenario_needs_a_draft_and_clears_its_state(saved):
    p = open_project(saved)
    review.transition(p, "base", "propose")
    with pytest.raises(InfeasibleError, match="is proposed"):
        review.forget_scenario(p, "base")
    review.transition(p, "base", "send-back")
    review.forget_scenario(p, "base")
    save_project(p)
    with sqlite3.connect(saved) as con:
        assert con.execute("SELECT count(*) FROM scenario_reviews").fetchone()[0] == 0


def test_new_units_join_a_frozen_scenario_as_orphans(saved, tmp_path):
    import shapely

    p = open_project(saved)
    review.transition(p, "base", "propose")
    path = tmp_path / "more.geojson"
    extra = p.units[["unit_id", "name", "geometry"]].iloc[:1].copy()
    extra["unit_id"], extra["name"] = "u9", "Unit 9"
    extra["geometry"] = [shapely.box(-97.0, 40.0, -96.0, 41.0)]
    extra.to_file(path)
    before = p.plan.as_dict()
    import_units(p, path, "unit_id", mode="upsert")
    assert "u9" in set(p.units["unit_id"]) and p.plan.as_dict() == before


def test_deleting_a_scenario_drops_its_review_state(saved):
    from territory_desktop.services import scenarios
    p = open_project(saved)
    sid = scenarios.create_scenario(p, "Draft B")
    review.transition(p, sid, "propose")
    with pytest.raises(Exception, match="is proposed"):
        scenarios.delete_scenario(p, sid)  # frozen: refused, its state kept
    review.transition(p, sid, "send-back")
    scenarios.delete_scenario(p, sid)
    save_project(p)
    with sqlite3.connect(saved) as con:
        left = con.execute("SELECT count(*) FROM scenario_reviews WHERE scenario_id = ?", (sid,)).fetchone()[0]
    assert left == 0
    assert review.frozen_reason(open_project(saved), sid) is None


def test_a_schema_4_file_migrates_to_5_stores_quotas_and_passes_gdal(saved):
    from territory_desktop.services.quotas import plan_quotas, save_quotas, stored_quotas
    from tests.storage.test_gis_interop import _have_gdal, validate

    _downgrade_to_schema_4(saved)
    p = open_project(saved)
    assert len(p.quotas) == 0
    assert save_quotas(p, plan_quotas(p, 1000.0, "even", start="2026-01")) == len(p.scenario_territories())
    save_project(p)
    with sqlite3.connect(saved) as con:
        version = con.execute("SELECT value FROM td_meta WHERE key = 'schema_version'").fetchone()[0]
        described = con.execute("SELECT data_type, description FROM gpkg_contents WHERE table_name = 'quotas'"
                                ).fetchone()
    assert version == "6" and described[0] == "attributes" and "Quotas per territory" in described[1]
    again = open_project(saved)
    share = 1000.0 / len(again.scenario_territories()) / 4
    assert stored_quotas(again, "2026-Q2").tolist() == pytest.approx([share] * len(again.scenario_territories()))
    if _have_gdal():
        assert validate(saved) == ""


def test_a_schema_5_file_migrates_to_6_stores_lead_rules_and_passes_gdal(saved):
    from territory_desktop.services.lead_rules import store_rules, stored_rules
    from tests.storage.test_gis_interop import _have_gdal, validate

    _downgrade_to_schema_5(saved)
    with sqlite3.connect(saved) as con:
        assert con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'lead_rules'").fetchone()[0] == 0
    p = open_project(saved)
    assert len(p.lead_rules) == 0 and stored_rules(p) is None
    rules = {"order": ["location"], "disabled": ["capacity"], "round_robin": "weighted", "weights": {"r1": 2}}
    assert store_rules(p, rules, "rules.json", {"r1"})
    save_project(p)
    with sqlite3.connect(saved) as con:
        version = con.execute("SELECT value FROM td_meta WHERE key = 'schema_version'").fetchone()[0]
        described = con.execute("SELECT data_type, description FROM gpkg_contents WHERE table_name = 'lead_rules'"
                                ).fetchone()
        stored = con.execute("SELECT name, rules FROM lead_rules").fetchall()
    assert version == "6" and described[0] == "attributes" and "Lead distribution rules" in described[1]
    assert [(n, json.loads(r)) for n, r in stored] == [("default", rules)]
    assert stored_rules(open_project(saved)) == rules
    if _have_gdal():
        assert validate(saved) == ""
