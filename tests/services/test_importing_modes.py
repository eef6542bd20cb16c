"""Import modes: upsert keeps what the file does not mention, append refuses existing ids, replace counts
what it removes and what refers to it; an import is all or nothing and can be captured and restored."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from territory_desktop.models import CRS, InvalidInputError
from territory_desktop.services.importing import (
    apply_import,
    capture_state,
    import_accounts,
    import_reps,
    import_units,
    prepare_import,
    read_accounts_file,
    read_reps_file,
    read_units_file,
    restore_state,
)

HEADER = "id,name,lat,lon,potential\n"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def history(grid_project):
    """grid_project with an account override and history rows pointing at a1 and a4."""
    p = grid_project
    p.plan.set_account_overrides({"a4": "W", "a2": "E"})
    p.sales = pd.DataFrame({"account_id": ["a1", "a1", "a4", "a2"], "period": "2026-01", "product": "x",
                            "amount": 1.0})
    p.visits = pd.DataFrame({"account_id": ["a4"], "rep_id": ["r1"], "date": ["2026-01-02"], "minutes": [30],
                             "outcome": [""], "note": [""]})
    return p


def test_upsert_appends_new_ids_and_updates_matching_ones_keeping_other_fields(tmp_path, history):
    # a2 moves from u4 (-98.5, 41.5) to u0 (-99.5, 40.5); n1, n2 are new; a1, a3, a4 are not in the file
    path = write(tmp_path, "a.csv", "id,lat,lon,potential\na2,40.5,-99.5,77\nn1,42.5,-99.5,5\nn2,40.2,-97.2,\n")
    report = import_accounts(history, path)
    accounts = history.accounts.set_index("account_id")
    assert list(accounts.index) == ["a1", "a2", "a3", "a4", "n1", "n2"]  # 4 + 2 new, in place
    assert report.counts.added == 2 and report.counts.updated == 1 and report.counts.removed == 0
    assert accounts.loc["a2", "potential"] == 77.0
    assert accounts.loc["a2", "name"] == "Beta"  # no name column in the file: kept
    assert accounts.loc["a2", "visit_frequency_weeks"] == 2  # kept, not reset to the default 4
    assert accounts.loc["a2", "unit_id"] == "u0"  # re-placed
    assert accounts.loc["n1", "unit_id"] == "u6" and accounts.loc["n2", "unit_id"] == "u2"
    assert accounts.loc["n2", "potential"] == 0.0 and accounts.loc["n2", "visit_frequency_weeks"] == 4
    assert accounts.loc["a1", "potential"] == 100.0 and accounts.loc["a1", "unit_id"] == "u0"
    assert history.plan.account_overrides() == {"a4": "W", "a2": "E"}  # overrides survive


def test_append_refuses_existing_ids_by_name_and_changes_nothing(tmp_path, history):
    before = history.accounts.copy()
    path = write(tmp_path, "a.csv", HEADER + "a1,A,40.5,-99.5,1\nz9,Z,40.5,-99.5,1\na3,C,40.5,-99.5,1\n")
    with pytest.raises(InvalidInputError, match=r"2 ids exist in the project already .*: a1, a3"):
        import_accounts(history, path, mode="append")
    pd.testing.assert_frame_equal(history.accounts, before)
    import_accounts(history, write(tmp_path, "b.csv", HEADER + "z9,Z,40.5,-99.5,1\n"), mode="append")
    assert history.accounts["account_id"].tolist() == ["a1", "a2", "a3", "a4", "z9"]


def test_replace_counts_removed_accounts_and_what_refers_to_them(tmp_path, history):
    path = write(tmp_path, "a.csv", HEADER + "a2,B,41.5,-98.5,1\nn1,N,40.5,-99.5,1\n")
    read = read_accounts_file(path)
    prepared = prepare_import(history, "accounts", read, "a.csv", "replace")
    counts = prepared.counts
    assert (counts.added, counts.updated, counts.removed) == (1, 1, 3)  # a1, a3, a4 removed
    assert counts.references["account overrides of removed accounts (dropped)"] == 1  # a4 (a2 stays)
    assert counts.references["sales rows of removed accounts (kept)"] == 3  # a1, a1, a4
    assert counts.references["visit rows of removed accounts (kept)"] == 1
    assert len(history.accounts) == 4  # preparing changes nothing
    apply_import(history, prepared)
    assert history.accounts["account_id"].tolist() == ["a2", "n1"]
    assert history.plan.account_overrides() == {"a2": "E"}
    assert len(history.sales) == 4  # history is kept


def test_a_project_opened_without_its_history_reads_it_for_a_replace_only(tmp_path, history):
    """import-accounts opens the project without its history: an upsert and its save never read it, a
    replace reads it to count the rows of removed accounts."""
    from territory_desktop.services.project import open_project, save_project

    save_project(history, tmp_path / "p.gpkg")
    p = open_project(tmp_path / "p.gpkg", history=False)
    import_accounts(p, write(tmp_path, "u.csv", HEADER + "n1,N,40.5,-99.5,1\n"))
    save_project(p)
    assert p.history_pending and len(open_project(tmp_path / "p.gpkg").sales) == 4
    prepared = prepare_import(p, "accounts", read_accounts_file(write(tmp_path, "a.csv", HEADER + "a2,B,41.5,-98.5,1\n")),
                              "a.csv", "replace")
    assert prepared.counts.references["sales rows of removed accounts (kept)"] == 3  # a1, a1, a4
    assert not p.history_pending


def test_reps_upsert_and_replace_counts_territories(tmp_path, history):
    history.territories.loc[0, "rep_id"] = "r1"
    import_reps(history, write(tmp_path, "r.csv", "rep_id,name,lat,lon\nr2,Sam,41,-99\n"))
    assert history.reps["rep_id"].tolist() == ["r1", "r2"]
    prepared = prepare_import(history, "reps", read_reps_file(write(tmp_path, "s.csv", "rep_id,lat,lon\nr2,41,-99\n")),
                              "s.csv", "replace")
    assert prepared.counts.removed == 1
    assert prepared.counts.references["territories of removed reps (kept; their rep is gone)"] == 1
    assert prepared.counts.references["visit rows of removed reps (kept)"] == 1


def test_units_upsert_keeps_units_not_in_the_file_and_their_locks(tmp_path, history, make_grid):
    history.units.loc[4, "locked"] = True
    moved = make_grid(1, 1, x0=-99, y0=41).assign(name="Renamed")  # u0 now covers the centre square
    moved.loc[0, "unit_id"] = "u4"
    extra = gpd.GeoDataFrame({"unit_id": ["u9"], "name": ["New"]}, geometry=[shapely.box(-96, 40, -95, 41)], crs=CRS)
    path = tmp_path / "u.geojson"
    pd.concat([moved[["unit_id", "name", "geometry"]], extra]).to_file(path, engine="pyogrio")
    report = import_units(history, path, "unit_id", "name")
    assert report.counts.added == 1 and report.counts.updated == 1 and report.counts.removed == 0
    units = history.units.set_index("unit_id")
    assert len(units) == 10 and units.loc["u4", "name"] == "Renamed" and bool(units.loc["u4", "locked"])
    assert units.loc["u0", "name"] == "Unit 0"
    assert history.plan.territory_of("u9") is None  # a new unit is an orphan


def test_units_replace_counts_accounts_and_assignments_of_removed_units(tmp_path, history, make_grid):
    path = tmp_path / "u.geojson"
    make_grid(1, 1).to_file(path, engine="pyogrio")  # only u0 stays
    prepared = prepare_import(history, "units", read_units_file(path, "unit_id", "name"), "u.geojson", "replace")
    assert prepared.counts.removed == 8
    # accounts a2 (u4), a3 (u8), a4 (u2) lie in removed units; every removed unit had a territory
    assert prepared.counts.references["accounts in removed units (placed again)"] == 3
    assert prepared.counts.references["unit assignments of removed units in scenarios (dropped)"] == 8


def test_a_failed_import_leaves_the_project_unchanged(tmp_path, history):
    before = capture_state(history)
    bad = write(tmp_path, "a.csv", HEADER + "a1,A,40.5,-99.5,1\na2,B,400,-99.5,1\n")
    with pytest.raises(InvalidInputError):
        import_accounts(history, bad)
    assert history.accounts is before.tables["accounts"]


def test_capture_and_restore_undo_an_import(tmp_path, history, make_grid):
    before = capture_state(history)
    accounts = history.accounts.copy()
    path = tmp_path / "u.geojson"
    make_grid(2, 2).to_file(path, engine="pyogrio")
    import_units(history, path, "unit_id", "name", mode="replace")
    assert len(history.units) == 4 and set(history.plan.as_dict()) == {"u0", "u1", "u2", "u3"}
    restore_state(history, before)
    assert len(history.units) == 9
    assert history.plan.as_dict() == {f"u{k}": ("E" if k % 3 == 2 else "W") for k in range(9)}
    assert history.plan.account_overrides() == {"a4": "W", "a2": "E"}
    pd.testing.assert_frame_equal(history.accounts, accounts)


def test_unknown_mode_is_refused(tmp_path, history):
    with pytest.raises(InvalidInputError, match="unknown mode 'merge'"):
        import_accounts(history, write(tmp_path, "a.csv", HEADER + "a1,A,40.5,-99.5,1\n"), mode="merge")
