"""The bulk write path of a save (many inserted rows): packed R-tree, key-ordered fids, values as SQLite
stores them, checked with SQLite's own ``rtreecheck`` and against brute-force answers."""

from __future__ import annotations

import sqlite3

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import create_engine

from territory_desktop.models import CRS
from territory_desktop.services.project import open_project, save_project
from territory_desktop.storage import gpkg, rtree_bulk
from territory_desktop.storage.bulk import insert_blocks
from territory_desktop.storage.sqlite_rows import BULK_ROWS, key_order


def _in_box(minx, maxx, miny, maxy, box) -> np.ndarray:
    x0, x1, y0, y1 = box
    return (maxx >= x0) & (minx <= x1) & (maxy >= y0) & (miny <= y1)


@pytest.mark.parametrize("n", [0, 1, 50, 51, 52, 2601, 20_000])
def test_packed_rtree_is_valid_and_answers_like_brute_force(n):
    rng = np.random.default_rng(n)
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA page_size = 512")
        # small pages: 448-byte nodes of 18 cells, so a few thousand boxes need three or four levels
        conn.exec_driver_sql("CREATE VIRTUAL TABLE r USING rtree(id, minx, maxx, miny, maxy)")
        assert conn.exec_driver_sql("SELECT length(data) FROM r_node WHERE nodeno = 1").scalar() == 448
        x, y, w = rng.uniform(-120, -70, n), rng.uniform(25, 50, n), rng.uniform(0, 0.5, n)
        ids = rng.permutation(3 * n)[:n] + 1
        rtree_bulk.bulk_load(conn, "r", ids, x, x + w, y, y + w)
        assert conn.exec_driver_sql("SELECT rtreecheck('r')").scalar() == "ok"
        assert conn.exec_driver_sql("SELECT count(*) FROM r").scalar() == n
        for box in [(-100, -95, 30, 35), (-121, -69, 24, 51), (-80.2, -80.1, 40, 40.1)]:
            got = sorted(r[0] for r in conn.exec_driver_sql(
                "SELECT id FROM r WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?", box))
            assert got == sorted(ids[_in_box(x, x + w, y, y + w, box)].tolist())


def test_point_blobs_are_standard_geopackage_points():
    geoms = np.array([shapely.Point(-99.0, 0.0), None, shapely.Point(), shapely.Point(1, 2, 3),
                      shapely.box(0, 0, 1, 1), shapely.Point(2.5, -1.25)], dtype=object)
    blobs = gpkg.encode(geoms)
    header = b"GP\x00\x01" + (4326).to_bytes(4, "little")  # version 0, little-endian, no envelope, SRS 4326
    assert blobs[0] == header + shapely.to_wkb(geoms[0], byte_order=1)  # trailing zero bytes kept
    assert blobs[5] == header + shapely.to_wkb(geoms[5], byte_order=1)
    assert blobs[1] is None
    decoded = gpkg.decode(blobs)
    assert decoded[3].has_z and decoded[3].equals(geoms[3]) and decoded[4].equals(geoms[4])
    assert decoded[2].is_empty


def test_key_order_is_sqlite_binary_order():
    keys = np.array(["b", "A10", "a", "A9", "é", "Z", "A1"], dtype=object)
    con = sqlite3.connect(":memory:")
    expected = [r[0] for r in con.execute("SELECT value FROM json_each(?) ORDER BY value",
                                          (pd.Series(keys).to_json(orient="values"),))]
    assert keys[key_order(keys)].tolist() == expected


@pytest.fixture
def appended(grid_project, tmp_path):
    """A saved project, then 3x BULK_ROWS accounts appended (ids in shuffled order) and saved in place."""
    path = tmp_path / "p.gpkg"
    save_project(grid_project, path)
    p = open_project(path)
    n = 3 * BULK_ROWS
    rng = np.random.default_rng(7)
    order = rng.permutation(n)
    x, y = rng.uniform(-100, -97, n), rng.uniform(40, 43, n)
    x[:3] = [-99.0, -98.0, -97.5]  # WKB ending in zero bytes
    freq = np.where(np.arange(n) % 5 == 0, np.nan, 4.0)  # some missing: stored as the field's default
    new = gpd.GeoDataFrame({"account_id": [f"n{i:05d}" for i in order], "potential": np.arange(n, dtype=float),
                            "visit_frequency_weeks": freq, "service_minutes": 30.0, "unit_id": None},
                           geometry=gpd.points_from_xy(x, y), crs=CRS)
    new.loc[1, "potential"] = np.nan
    p.accounts = pd.concat([p.accounts, new], ignore_index=True)
    p.mark_dirty("accounts")
    save_project(p)
    return path, new, x, y


def test_a_bulk_append_writes_every_row_with_fids_in_key_order(appended):
    path, new, x, y = appended
    con = sqlite3.connect(path)
    rows = con.execute("SELECT fid, account_id, potential, typeof(potential), visit_frequency_weeks, "
                       "typeof(visit_frequency_weeks) FROM accounts WHERE account_id LIKE 'n%' ORDER BY fid").fetchall()
    assert [r[1] for r in rows] == sorted(new["account_id"])  # fids follow the key: the index grew by appends
    assert [r[0] for r in rows] == list(range(rows[0][0], rows[0][0] + len(new)))
    by_id = {r[1]: r for r in rows}
    for i in (0, 1, 2, 5, len(new) - 1):
        r = by_id[new["account_id"].iat[i]]
        expected = new["potential"].iat[i]
        assert (r[2], r[3]) == ((None, "null") if np.isnan(expected) else (expected, "real"))
        frequency = new["visit_frequency_weeks"].iat[i]
        assert (r[4], r[5]) == ((None, "null") if np.isnan(frequency) else (4, "integer"))  # never 4.0
    assert con.execute("SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = 'accounts'").fetchone()[0] \
        == con.execute("SELECT count(*) FROM accounts").fetchone()[0] == 4 + len(new)
    assert con.execute("SELECT count(*) FROM accounts WHERE account_id LIKE 'n%' AND industry IS NULL "
                       "AND attrs IS NULL").fetchone()[0] == len(new)  # all-NULL columns left out of the INSERT
    reopened = open_project(path).accounts.set_index("account_id")
    assert np.array_equal(reopened.loc[new["account_id"]].geometry.x.to_numpy(), x)
    assert np.array_equal(reopened.loc[new["account_id"]].geometry.y.to_numpy(), y)


def test_a_bulk_append_leaves_a_valid_rtree_of_every_point(appended):
    path, new, _x, _y = appended
    con = sqlite3.connect(path)
    gpkg.register_functions(con)
    assert con.execute("SELECT rtreecheck('rtree_accounts_geom')").fetchone()[0] == "ok"
    assert con.execute("SELECT count(*) FROM rtree_accounts_geom").fetchone()[0] == 4 + len(new)
    box = (-99.0, -98.2, 41.0, 42.5)
    got = {r[0] for r in con.execute(
        "SELECT a.account_id FROM accounts a JOIN rtree_accounts_geom r ON r.id = a.fid "
        "WHERE r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ?", box)}
    everything = con.execute("SELECT account_id, ST_MinX(geom), ST_MinY(geom) FROM accounts").fetchall()
    expected = {a for a, px, py in everything if box[0] <= px <= box[1] and box[2] <= py <= box[3]}
    assert got == expected and len(expected) > 100
    # the row triggers are back: a later single insert is indexed by them
    con.execute("INSERT INTO accounts (account_id, geom) VALUES ('late', ?)", (gpkg.encode([shapely.Point(-98.5, 41.5)])[0],))
    assert con.execute("SELECT count(*) FROM rtree_accounts_geom r JOIN accounts a ON a.fid = r.id "
                       "WHERE a.account_id = 'late'").fetchone()[0] == 1


def test_accounts_moved_in_a_bulk_save_have_their_new_boxes(grid_project, tmp_path):
    """A bulk append that also moves accounts (and takes one's point away): the R-tree triggers are
    suspended for the updates too, and the rebuilt R-tree holds the new boxes, not the old ones."""
    path = tmp_path / "p.gpkg"
    save_project(grid_project, path)
    p = open_project(path)
    p.accounts.loc[0, "geometry"] = shapely.Point(-97.25, 42.75)  # a1 moves
    p.accounts.loc[1, "geometry"] = None  # a2 loses its point
    n = BULK_ROWS
    new = gpd.GeoDataFrame({"account_id": [f"n{i:05d}" for i in range(n)], "unit_id": None},
                           geometry=gpd.points_from_xy(np.full(n, -98.25), np.linspace(40.1, 42.9, n)), crs=CRS)
    p.accounts = pd.concat([p.accounts, new], ignore_index=True)
    p.mark_dirty("accounts")
    save_project(p)
    con = sqlite3.connect(path)
    gpkg.register_functions(con)
    assert con.execute("SELECT rtreecheck('rtree_accounts_geom')").fetchone()[0] == "ok"
    boxes = dict(con.execute("SELECT a.account_id, r.minx || ' ' || r.miny FROM accounts a "
                             "JOIN rtree_accounts_geom r ON r.id = a.fid").fetchall())
    assert len(boxes) == 3 + n and "a2" not in boxes  # every row with a point, and only those
    assert boxes["a1"] == "-97.25 42.75" and boxes["a3"] == "-97.5 42.5"
    triggers = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert {"rtree_accounts_geom_update1", "rtree_accounts_geom_update2", "td_outside_edit_accounts_update"} <= triggers
    assert con.execute("SELECT value FROM td_meta WHERE key = 'outside_edits'").fetchone()[0] == "0"
    assert open_project(path).accounts.set_index("account_id").loc["a1"].geometry.equals(shapely.Point(-97.25, 42.75))


@pytest.mark.parametrize("n", [1, 1999, 2000, 2001, 50_000 + 7])
def test_streamed_insert_writes_every_row_once_in_order(n):
    con = sqlite3.connect(":memory:")
    engine = create_engine("sqlite://", creator=lambda: con)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)")
        blocks = []
        insert_blocks(conn, "t", ["a", "b"], n, lambda s, e: blocks.append((s, e)) or
                      {"a": list(range(s, e)), "b": [str(i) for i in range(s, e)], "unused": [None] * (e - s)})
        assert conn.exec_driver_sql("SELECT count(*), sum(a), min(b = CAST(a AS TEXT)) FROM t").one() == (
            n, n * (n - 1) // 2, 1)
        assert blocks[0][0] == 0 and blocks[-1][1] == n and len(blocks) == -(-n // 50_000)


def test_streamed_insert_raises_what_fails_on_either_side():
    con = sqlite3.connect(":memory:")
    engine = create_engine("sqlite://", creator=lambda: con)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (a INTEGER PRIMARY KEY)")
        with pytest.raises(sqlite3.IntegrityError):  # SQLite refuses a statement: the worker is stopped
            insert_blocks(conn, "t", ["a"], 200_000, lambda s, e: {"a": [min(i, 70_000) for i in range(s, e)]})

        def broken(s, e):
            if s:
                raise ValueError("block 2 cannot be converted")
            return {"a": list(range(1_000_000, 1_000_000 + e))}
        with pytest.raises(ValueError, match="block 2"):
            insert_blocks(conn, "t", ["a"], 200_000, broken)


def test_arrow_point_blobs_are_the_same_bytes_as_encode():
    geoms = np.array([shapely.Point(-99.0, 0.0), None, shapely.Point(), shapely.Point(1, 2, 3),
                      shapely.box(0, 0, 1, 1), shapely.Point(2.5, -1.25)], dtype=object)
    assert gpkg.encode_arrow(geoms).to_pylist() == gpkg.encode(geoms)
    points = shapely.points(np.random.default_rng(3).uniform(-100, 100, (500, 2)))
    assert gpkg.encode_arrow(points).to_pylist() == gpkg.encode(points)


def _bulk_rows(p, n: int, names) -> None:
    rng = np.random.default_rng(11)
    new = gpd.GeoDataFrame({"account_id": [f"b{i:05d}" for i in rng.permutation(n)], "name": names,
                            "potential": 1.0, "crm_tier": np.where(np.arange(n) % 3 == 0, None, "gold")},
                           geometry=gpd.points_from_xy(rng.uniform(-100, -97, n), rng.uniform(40, 43, n)), crs=CRS)
    p.accounts = pd.concat([p.accounts, new], ignore_index=True)
    p.mark_dirty("accounts")


@pytest.mark.parametrize("odd", [False, True])
def test_bulk_insert_keeps_extra_columns_and_odd_values_either_path(grid_project, tmp_path, odd, monkeypatch):
    """The Arrow path (text names) and the sqlite3 path it falls back to (a name that is a number) store
    the same values; extra columns go into attrs on both; no scratch file is left behind; the rows the
    Arrow path copied before it met the odd value are rolled back (no duplicate, no missing row)."""
    import tempfile
    from pathlib import Path

    from territory_desktop.storage import bulk, sqlite_rows

    tables: list[str] = []
    real = sqlite_rows.insert_arrow
    monkeypatch.setattr(sqlite_rows, "insert_arrow", lambda conn, table, *args: (tables.append(table),
                                                                                real(conn, table, *args)))
    monkeypatch.setattr(bulk, "ARROW_BATCH", 500)  # several batches: the odd value is in the last one
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 700)  # three scratch files: two are copied before the odd value

    before = set(Path(tempfile.gettempdir()).glob("td-bulk-*"))
    path = tmp_path / "p.gpkg"
    save_project(grid_project, path)
    p = open_project(path)
    n = BULK_ROWS + 10
    names = [f"Name {i}" for i in range(n)]
    if odd:
        names[n - 5] = 12345  # not text: Arrow refuses the column, sqlite3 binds it (stored as '12345')
    _bulk_rows(p, n, names)
    save_project(p)
    con = sqlite3.connect(path)
    rows = dict(con.execute("SELECT account_id, name FROM accounts WHERE account_id LIKE 'b%'").fetchall())
    assert len(rows) == n
    ids = p.accounts["account_id"].iloc[-n:].tolist()
    assert rows[ids[n - 5]] == ("12345" if odd else f"Name {n - 5}") and rows[ids[6]] == "Name 6"
    tiers = dict(con.execute("SELECT account_id, json_extract(attrs, '$.crm_tier') FROM accounts "
                             "WHERE account_id LIKE 'b%'").fetchall())
    assert tiers[ids[0]] is None and tiers[ids[1]] == "gold"
    reopened = open_project(path).accounts.set_index("account_id")
    assert reopened.loc[ids[1], "crm_tier"] == "gold"
    assert set(Path(tempfile.gettempdir()).glob("td-bulk-*")) == before
    assert tables == ["accounts"]  # tried first; on the odd value it wrote nothing and sqlite3 did it all


def test_scratch_folders_of_dead_processes_are_removed(tmp_path):
    """A save killed while it wrote leaves its scratch folder; the next bulk insert removes it, never a
    live process's."""
    import os
    import subprocess
    import sys

    from territory_desktop.storage import bulk

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    stale, live = tmp_path / f"td-bulk-{dead}-abc", tmp_path / f"td-bulk-{os.getpid()}-def"
    other = tmp_path / "td-bulkish"
    for folder in (stale, live, other):
        folder.mkdir()
        (folder / "rows.sqlite").write_bytes(b"x")
    bulk.remove_stale_scratch(str(tmp_path))
    assert not stale.exists() and live.exists() and other.exists()


def test_diff_of_an_append_finds_new_updated_and_removed_rows_wherever_they_are():
    """The new rows of an import come last (taken as a slice, not copied); new rows elsewhere, updates,
    removals and the empty-column check give the same answer as row-by-row reasoning."""
    from territory_desktop.storage.rows import TableSpec, diff, record_frame
    from territory_desktop.storage.sqlite_rows import _all_missing

    spec = TableSpec("t", ("k",), {"k": "text", "v": "real", "s": "text"})
    base = record_frame({"k": np.array(["a", "b", "c"], dtype=object), "v": np.array([1.0, 2.0, np.nan]),
                         "s": np.array([None, "x", None], dtype=object)})
    tail = record_frame({"k": np.array(["a", "b", "c", "d", "e"], dtype=object),
                         "v": np.array([1.0, 5.0, np.nan, 4.0, 6.0]),
                         "s": np.array([None, "x", None, None, None], dtype=object)})
    changes = diff(spec, base, tail)
    assert changes.inserts["k"].tolist() == ["d", "e"] and changes.updates["k"].tolist() == ["b"]
    assert not len(changes.deletes)
    mixed = tail.iloc[[3, 0, 4, 1]].reset_index(drop=True)  # "c" removed, new rows first and last
    changes = diff(spec, base, mixed)
    assert changes.inserts["k"].tolist() == ["d", "e"] and changes.updates["k"].tolist() == ["b"]
    assert changes.deletes["k"].tolist() == ["c"]
    assert _all_missing(changes.inserts["s"].to_numpy()) and not _all_missing(tail["v"].to_numpy())
    assert not _all_missing(np.array([None, "y", None], dtype=object))
    assert _all_missing(np.array([], dtype=object)) and _all_missing(np.array([np.nan, np.nan]))
