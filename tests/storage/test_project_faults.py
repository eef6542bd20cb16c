"""Hostile project files, faults during a save, and two processes on one project: clear errors, nothing lost."""

from __future__ import annotations

import errno
import json
import os
import sqlite3

import pytest

from territory_desktop.models import ProjectFileError
from territory_desktop.services.project import open_project, save_project
from territory_desktop.storage import gpkg, lock, project_file


def connect(path) -> sqlite3.Connection:
    """A plain SQLite connection with the GeoPackage functions, as any GIS program has."""
    con = sqlite3.connect(path)
    gpkg.register_functions(con)
    return con


def test_attrs_that_are_not_a_json_object_are_reported_not_fatal(path):
    with connect(path) as con:
        con.execute("UPDATE units SET attrs = '[1, 2]' WHERE unit_id = 'u1'")
        con.execute("UPDATE units SET attrs = '{broken' WHERE unit_id = 'u2'")
    p = open_project(path)
    assert len(p.units) == 9
    assert any("attrs of 2 row(s) is not a JSON object" in n and "u1, u2" in n for n in p.open_notes)


def test_an_invalid_geometry_blob_names_its_row(path):
    with connect(path) as con:
        fid = con.execute("SELECT fid FROM units WHERE unit_id = 'u3'").fetchone()[0]
        con.execute("UPDATE units SET geom = X'4750000100000000DEADBEEF' WHERE unit_id = 'u3'")
    with pytest.raises(ProjectFileError, match=f"units: the geometry of fid {fid} \\(unit_id 'u3'\\)"):
        open_project(path)


def test_a_folder_named_like_a_project_is_refused(tmp_path):
    (tmp_path / "x.gpkg").mkdir()
    with pytest.raises(ProjectFileError, match="is a folder"):
        open_project(tmp_path / "x.gpkg")


def test_disk_full_during_save_as_leaves_the_target_and_no_temp_file(grid_project, path, tmp_path, monkeypatch):
    target = tmp_path / "copy.gpkg"
    target.write_bytes(path.read_bytes())
    before = target.read_bytes()

    def full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(project_file.os, "fsync", full)
    with pytest.raises(ProjectFileError, match="the disk is full; nothing was saved"):
        save_project(open_project(path), target)
    assert target.read_bytes() == before
    assert not [f for f in tmp_path.iterdir() if ".saving" in f.name]


def test_a_file_deleted_during_the_save_is_not_reported_saved(path, monkeypatch):
    p = open_project(path)
    p.plan.assign(["u0"], "E")
    p.mark_dirty("plans")
    real = project_file.apply

    def delete_then_apply(conn, changes):
        if path.exists():
            os.unlink(path)
        return real(conn, changes)

    monkeypatch.setattr(project_file, "apply", delete_then_apply)
    with pytest.raises(ProjectFileError, match="deleted or replaced while saving"):
        save_project(p)
    assert "plans" in p.dirty  # still unsaved, so the window keeps offering to save


def test_a_save_on_top_of_another_processes_save_is_refused(path):
    mine, theirs = open_project(path), open_project(path)
    theirs.plan.assign(["u0"], "E")
    theirs.mark_dirty("plans")
    save_project(theirs)
    mine.plan.assign(["u1"], "E")
    mine.mark_dirty("plans")
    with pytest.raises(ProjectFileError, match="changed by another window or process since this project was opened"):
        save_project(mine)
    assert open_project(path).plan.territory_of("u0") == "E"  # theirs landed, nothing of mine overwrote it
    assert open_project(path).plan.territory_of("u1") == "W"


def test_a_live_lock_makes_writers_wait_a_stale_one_is_taken_over(path):
    lock.lock_path(path).write_text(json.dumps({"pid": 1, "host": os.uname().nodename, "program": "gui",
                                                "since": "2026-12-01 09:00"}))
    p = open_project(path)
    p.mark_dirty("plans")
    with pytest.raises(lock.ProjectBusyError, match=r"open in another window or process \(gui, process 1 .* since "
                                                    r"2026-12-01 09:00"):
        save_project(p)
    with pytest.raises(lock.ProjectBusyError):
        open_project(path, for_writing=True)
    lock.lock_path(path).write_text(json.dumps({"pid": 2 ** 22 + 12345, "host": os.uname().nodename}))
    save_project(p)  # the holder is gone: the stale lock is taken over and released after the save
    assert not lock.lock_path(path).exists()


def test_a_file_another_program_is_writing_reads_as_busy_not_damaged(path, monkeypatch):
    monkeypatch.setattr(project_file, "BUSY_TIMEOUT_MS", 50)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(lock.ProjectBusyError, match="is busy: another program is writing to it"):
            open_project(path)
    finally:
        con.execute("ROLLBACK")
        con.close()


def test_save_as_keeps_what_other_programs_added(path, tmp_path):
    with connect(path) as con:
        con.execute("ALTER TABLE reps ADD COLUMN crm_owner TEXT")
        con.execute("UPDATE reps SET crm_owner = 'ana'")
        con.execute("CREATE TABLE qgis_notes (fid INTEGER PRIMARY KEY, text TEXT)")
        con.execute("INSERT INTO qgis_notes (text) VALUES ('kept')")
    p = open_project(path)
    p.plan.assign(["u0"], "E")
    p.mark_dirty("plans")
    copy = tmp_path / "copy.gpkg"
    save_project(p, copy)
    with sqlite3.connect(copy) as con:
        assert con.execute("SELECT crm_owner FROM reps").fetchall() == [("ana",)]
        assert con.execute("SELECT text FROM qgis_notes").fetchall() == [("kept",)]
    assert open_project(copy).plan.territory_of("u0") == "E"
