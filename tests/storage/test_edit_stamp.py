"""Opening a file nobody edited does not place every account again; an edit made outside always is caught."""

from __future__ import annotations

import sqlite3

import pytest
import shapely

from territory_desktop.services import reconcile
from territory_desktop.services.project import open_project, save_project
from territory_desktop.storage import gpkg


@pytest.fixture
def placements(monkeypatch):
    """How many times opening placed the accounts (point in polygon over every account)."""
    calls = []
    real = reconcile.units_of_accounts
    monkeypatch.setattr(reconcile, "units_of_accounts", lambda project: calls.append(1) or real(project))
    return calls


def _move_outside(path, account_id: str, x: float, y: float) -> None:
    """Move an account point with the sqlite3 module, as any other program would (no app code runs)."""
    with sqlite3.connect(path) as con:
        gpkg.register_functions(con)  # the R-tree triggers of the layer need them, as in GDAL
        con.execute("UPDATE accounts SET geom = ? WHERE account_id = ?",
                    (gpkg.encode([shapely.Point(x, y)])[0], account_id))


def _unit_of(project, account_id: str):
    return project.accounts.set_index("account_id").loc[account_id, "unit_id"]


def test_an_untouched_file_is_not_placed_again(path, placements):
    p = open_project(path)
    assert placements == [] and not any("placed again" in n for n in p.open_notes)
    p.plan.assign(["u0"], "E")
    p.mark_dirty("plans")
    save_project(p)
    open_project(path)
    assert placements == []


def test_a_point_moved_outside_is_caught(path, placements):
    _move_outside(path, "a1", -98.5, 40.5)  # from u0 into u1
    p = open_project(path)
    assert placements == [1]
    assert _unit_of(p, "a1") == "u1" and any("a1 (u0 -> u1)" in n for n in p.open_notes)
    save_project(p)  # the placement found is saved: the next open has nothing to do
    assert _unit_of(open_project(path), "a1") == "u1" and placements == [1]


def test_an_edit_made_while_the_project_is_open_is_caught_after_the_window_saves(path, placements):
    p = open_project(path)
    _move_outside(path, "a3", -98.5, 40.5)  # from u8 into u1, while the window has the project open
    p.plan.assign(["u0"], "E")
    p.mark_dirty("plans")
    save_project(p)  # writes plans only: the moved point stays as the other program left it
    again = open_project(path)
    assert placements == [1] and _unit_of(again, "a3") == "u1"


def test_moving_an_account_in_the_app_is_not_an_outside_edit(path, placements):
    p = open_project(path)
    p.accounts.geometry = [shapely.Point(-98.5, 40.5), *p.accounts.geometry.iloc[1:]]
    p.accounts["unit_id"] = ["u1", *p.accounts["unit_id"].iloc[1:]]
    p.mark_dirty("accounts")
    save_project(p)
    again = open_project(path)
    assert placements == [] and _unit_of(again, "a1") == "u1"


@pytest.mark.parametrize("edit", [
    "DELETE FROM units WHERE unit_id = 'u0'",
    "UPDATE units SET unit_id = 'u0b' WHERE unit_id = 'u0'",
])
def test_units_edited_outside_place_the_accounts_again(path, placements, edit):
    with sqlite3.connect(path) as con:
        gpkg.register_functions(con)
        con.execute(edit)
    p = open_project(path)
    assert placements == [1]
    assert _unit_of(p, "a1") == (None if edit.startswith("DELETE") else "u0b")


def test_a_file_without_the_stamp_is_placed_again(path, placements):
    with sqlite3.connect(path) as con:  # as a file written before the stamp was kept
        con.execute("DELETE FROM td_meta WHERE key IN ('outside_edits', 'placed_at_edit')")
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                   "AND name LIKE 'td_outside_edit_%'").fetchall():
            con.execute(f'DROP TRIGGER "{name}"')
    p = open_project(path)
    assert placements == [1]
    save_project(p)  # the save brings the stamp and its triggers back
    open_project(path)
    assert placements == [1]
    _move_outside(path, "a1", -98.5, 40.5)
    assert _unit_of(open_project(path), "a1") == "u1" and placements == [1, 1]


def test_a_garbled_stamp_places_the_accounts_again(path, placements):
    with sqlite3.connect(path) as con:
        con.execute("UPDATE td_meta SET value = NULL WHERE key IN ('outside_edits', 'placed_at_edit')")
    open_project(path)
    assert placements == [1]
