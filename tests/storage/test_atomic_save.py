"""Killing the process in the middle of a save leaves the last saved state intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from territory_desktop.services.project import open_project, save_project

# The child opens the project, moves every unit to territory E, and saves; a patched row writer tells
# the parent when the save is half done (the assignment rows written, the rest not yet) and then hangs.
CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from territory_desktop.services.project import open_project, save_project
    from territory_desktop.storage import project_file

    path, mode, marker = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    real = project_file.apply

    def slow(conn, changes):
        fids = real(conn, changes)
        if changes.spec.name == "assignments":
            marker.write_text("half-way")
            time.sleep(60)
        return fids

    project_file.apply = slow
    p = open_project(path)
    p.plan.assign([f"u{k}" for k in range(9)], "E")
    p.name = "changed"
    p.mark_dirty("plans", "accounts")
    save_project(p, path)
""")


@pytest.mark.parametrize("mode", ["in-place", "new-file"])
def test_kill_during_save_keeps_last_saved_state(grid_project, tmp_path, mode):
    path = tmp_path / "p.gpkg"
    save_project(grid_project, path)
    before = open_project(path).plan.as_dict()
    marker = tmp_path / "marker"
    script = CHILD
    if mode == "new-file":
        # "save as" over the existing file from a project that came from elsewhere: temp file + rename
        other = tmp_path / "other.gpkg"
        save_project(open_project(path), other)
        script = CHILD.replace("p = open_project(path)", "p = open_project(sys.argv[4])")
        args = [str(path), mode, str(marker), str(other)]
    else:
        args = [str(path), mode, str(marker)]
    child = subprocess.Popen([sys.executable, "-c", script, *args], env={**os.environ})
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, "the child ended before reaching the middle of the save"
            assert time.monotonic() < deadline, "the child never reached the middle of the save"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    leftovers = [f.name for f in tmp_path.iterdir() if ".saving" in f.name]
    assert mode == "in-place" or leftovers, "the kill should have left the unfinished temp file behind"
    after = open_project(path)
    assert after.plan.as_dict() == before
    assert after.name == "grid"
    assert len(after.accounts) == 4
    assert not [f.name for f in tmp_path.iterdir() if ".saving" in f.name], "opening removes stale temp files"
