"""services.editing on the shared 3x3 grid project (West = columns 0-1, East = column 2)."""

from __future__ import annotations

import pytest

from territory_desktop.models import InfeasibleError
from territory_desktop.services import editing
from territory_desktop.services.metrics import territory_totals


def test_create_rename_recolour(grid_project):
    tid = editing.create_territory(grid_project, "North", colour="#112233", rep_id="r1")
    row = grid_project.territories.set_index("territory_id").loc[tid]
    assert (row["name"], row["colour"], row["rep_id"], row["level"], row["kind"]) == \
        ("North", "#112233", "r1", "territory", "geographic")
    assert editing.rename_territory(grid_project, tid, "  Far North ") == "North"
    assert grid_project.territories.set_index("territory_id").loc[tid, "name"] == "Far North"
    assert editing.recolour_territory(grid_project, tid, "#abcdef") == "#112233"
    assert "territories" in grid_project.dirty


@pytest.mark.parametrize("call, message", [
    (lambda p: editing.rename_territory(p, "nope", "x"), "no territory 'nope'"),
    (lambda p: editing.rename_territory(p, "W", "  "), "non-empty name"),
    (lambda p: editing.recolour_territory(p, "W", "red"), "'red' of territory 'W'"),
    (lambda p: editing.create_territory(p, "A", kind="account"), "needs a rule"),
    (lambda p: editing.create_territory(p, "A", level="country"), "level 'country'"),
    (lambda p: editing.merge_territories(p, "W", ["W"]), "nothing to merge"),
    (lambda p: editing.set_units_locked(p, ["u0", "zz"], True), "unknown unit(s): zz"),
    (lambda p: editing.move_accounts(p, ["a1"], "nope"), "no territory 'nope'"),
])
def test_refusals_name_the_culprit_and_change_nothing(grid_project, call, message):
    before_terr = grid_project.territories.copy()
    before_plan = grid_project.plan.as_dict()
    with pytest.raises(InfeasibleError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(grid_project)
    assert grid_project.territories.equals(before_terr)
    assert grid_project.plan.as_dict() == before_plan


def test_merge_moves_units_overrides_and_children(grid_project):
    district = editing.create_territory(grid_project, "District", level="district")
    editing.set_parent(grid_project, "E", district)
    grid_project.plan.set_account_overrides({"a1": "E"})
    moved = editing.merge_territories(grid_project, "W", ["E"])
    assert moved == 3  # column 2 of the 3x3 grid
    assert set(grid_project.plan.as_dict().values()) == {"W"}
    assert grid_project.plan.account_overrides() == {"a1": "W"}
    assert "E" not in set(grid_project.territories["territory_id"])
    totals = territory_totals(grid_project).set_index("territory_id")
    assert totals.loc["W", "units"] == 9 and totals.loc["W", "accounts"] == 4


def test_delete_orphans_units(grid_project):
    assert editing.delete_territory(grid_project, "E") == 3
    plan = grid_project.plan.as_dict()
    assert sorted(u for u, t in plan.items() if t is None) == ["u2", "u5", "u8"]
    assert list(grid_project.territories["territory_id"]) == ["W"]


def test_lock_and_unlock(grid_project):
    previous = editing.set_units_locked(grid_project, ["u0", "u4"], True)
    assert previous == {"u0": False, "u4": False}
    locked = grid_project.units.set_index("unit_id")["locked"]
    assert locked["u0"] and locked["u4"] and not locked["u1"]
    editing.set_units_locked(grid_project, ["u0"], False)
    assert not grid_project.units.set_index("unit_id")["locked"]["u0"]


def test_account_territory_owns_matching_accounts_wherever_they_lie(grid_project):
    tid = editing.create_territory(grid_project, "Key accounts", kind="account",
                                   rule={"account_ids": ["a1", "a3"]})
    totals = territory_totals(grid_project).set_index("territory_id")
    assert totals.loc[tid, "accounts"] == 2
    # a1 (u0, West) and a3 (u8, East) moved out of their geographic territories
    assert totals.loc["W", "accounts"] == 1 and totals.loc["E", "accounts"] == 1
    assert totals["accounts"].sum() == 4


def test_move_accounts_override(grid_project):
    previous = editing.move_accounts(grid_project, ["a2"], "E")
    assert previous == {"a2": None}
    totals = territory_totals(grid_project).set_index("territory_id")
    assert totals.loc["E", "accounts"] == 3
    editing.move_accounts(grid_project, ["a2"], None)
    assert grid_project.plan.account_overrides() == {}


def test_assign_rep(grid_project):
    assert editing.assign_rep(grid_project, "W", "r1") is None
    assert grid_project.territories.set_index("territory_id").loc["W", "rep_id"] == "r1"
    assert editing.assign_rep(grid_project, "W", None) == "r1"
    with pytest.raises(InfeasibleError, match="no rep 'zz'"):
        editing.assign_rep(grid_project, "W", "zz")
