"""The batch mechanism (services.batch) and route --all (services.route_batch): a process pool and a real
local Dask cluster give the serial plans, failures stay per task, a killed worker's task runs again and a
run killed mid-way resumes where it stopped."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from functools import partial
from pathlib import Path

import pytest
from batch_fixtures import REPS, always_die, die_once, slow, small_project, square

from territory_desktop.models import CancelledError, StopFlag
from territory_desktop.services.batch import eta_text, run_batch
from territory_desktop.services.project import open_project, save_project
from territory_desktop.services.route_batch import RouteBatchOptions, plan_all_routes
from territory_desktop.storage.lock import lock_path

START = date(2027, 3, 1)  # a Monday
ROOT = Path(__file__).resolve().parents[2]


def _tasks(values, *extra):
    return [(str(x), partial(tuple, (x, *extra))) for x in values]


def _run(fn, values, *extra, **kw):
    seen = []
    out = run_batch(fn, _tasks(values, *extra), len(values), seen.append, **kw)
    assert [o.key for o in out] == [o.key for o in seen]  # every outcome reported as it came
    return {o.key: o for o in out}


@pytest.mark.parametrize("workers", [1, 2])
def test_failed_tasks_are_reported_with_their_reason_and_the_others_go_on(workers) -> None:
    out = _run(square, range(15), workers=workers)
    assert set(out) == {str(x) for x in range(15)}
    assert {k: o.value for k, o in out.items() if o.error is None} == {str(x): x * x for x in range(15)
                                                                       if x not in (7, 13)}
    assert out["13"].error == "row 13: unlucky"
    assert out["7"].error == "ZeroDivisionError: division by zero"


def test_preparing_a_task_may_fail_too() -> None:
    def bad():
        from territory_desktop.models import InvalidInputError
        raise InvalidInputError("route", ["rep 'x' has no home location"])

    seen = []
    out = run_batch(square, [("x", bad), ("3", partial(tuple, (3,)))], 2, seen.append, workers=2)
    assert {o.key: (o.value, o.error) for o in out} == {"x": (None, "rep 'x' has no home location"),
                                                        "3": (9, None)}


def test_a_task_whose_worker_process_is_killed_runs_again(tmp_path) -> None:
    out = _run(die_once, range(6), str(tmp_path / "died"), workers=2)
    assert (tmp_path / "died").exists()  # the process of task 2 was killed once
    assert {k: (o.value, o.error) for k, o in out.items()} == {str(x): (10 * x, None) for x in range(6)}
    assert out["2"].attempts == 2


def test_a_task_that_always_kills_its_worker_fails_alone() -> None:
    out = _run(always_die, range(4), workers=2, retries=2)
    assert "died 3 times" in out["1"].error
    assert {k: o.value for k, o in out.items() if k != "1"} == {"0": 0, "2": 2, "3": 3}


@pytest.mark.parametrize("workers", [1, 2])
def test_cancel_stops_the_batch(workers) -> None:
    stop = StopFlag()
    seen = []

    def on_result(outcome):
        seen.append(outcome.key)
        stop.set()

    with pytest.raises(CancelledError):
        run_batch(slow, _tasks(range(20)), 20, on_result, workers=workers, stop=stop)
    assert 1 <= len(seen) <= 2 * workers  # at most the tasks already sent finish; the other 16+ never run
    assert workers > 1 or seen == ["0"]


def test_eta_is_the_mean_time_per_task_times_the_tasks_left() -> None:
    assert eta_text(4, 10, 20.0) == "4 of 10 done, ETA 30 s"  # 5 s each, 6 left
    assert eta_text(1, 40, 10.0) == "1 of 40 done, ETA 6 min 30 s"
    assert eta_text(10, 10, 3.0) == "10 of 10 done"


# --- route --all on a small saved project --------------------------------------------------------------

@pytest.fixture(scope="module")
def project_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("batch") / "small.gpkg"
    save_project(small_project(), path)
    return path


def _copy(src: Path, tmp_path: Path, name: str) -> Path:
    dst = tmp_path / name
    shutil.copy(src, dst)
    return dst


def _stored(path: Path, with_fid: bool = False) -> list[tuple]:
    """The planned_visits table read with sqlite3 (not the project's reader)."""
    cols = "rep_id, account_id, date, sequence, arrive_minute, depart_minute" + (", fid" if with_fid else "")
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT {cols} FROM planned_visits ORDER BY rep_id, date, sequence").fetchall()


def _plan_file(path: Path, **kw) -> dict:
    project = open_project(path, for_writing=True)
    return plan_all_routes(project, RouteBatchOptions(START, weeks=1, time_limit=2.0, **kw))


def _check_plan(result: dict, rows: list[tuple]) -> None:
    """Independent numbers: every account of r1..r3 is due once in a 1-week plan (weekly or every 2 weeks,
    never visited), 7 accounts each; r4 has no home."""
    by_rep = {e["rep_id"]: e for e in result["reps"]}
    assert list(by_rep) == REPS
    assert by_rep["r4"]["error"] == "rep 'r4' has no home location"
    for rep in REPS[:3]:
        assert by_rep[rep]["required_visits"] == by_rep[rep]["planned_visits"] == 7
        k = REPS.index(rep)
        assert sorted(r[1] for r in rows if r[0] == rep) == [f"a{i:03d}" for i in range(7 * k, 7 * k + 7)]
    assert result["planned_reps"] == 3 and result["failed_reps"] == 1


def test_pool_and_dask_cluster_give_the_serial_plans(project_file, tmp_path) -> None:
    distributed = pytest.importorskip("distributed")
    serial = _copy(project_file, tmp_path, "serial.gpkg")
    _check_plan(_plan_file(serial, workers=1), _stored(serial))
    pool = _copy(project_file, tmp_path, "pool.gpkg")
    _check_plan(_plan_file(pool, workers=2), _stored(pool))
    assert _stored(pool) == _stored(serial)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        on_dask = _copy(project_file, tmp_path, "dask.gpkg")
        result = _plan_file(on_dask, cluster=cluster.scheduler_address)
        assert result["cluster"] == cluster.scheduler_address
        _check_plan(result, _stored(on_dask))
        assert _stored(on_dask) == _stored(serial)

        out = _run(die_once, range(4), str(tmp_path / "died"), cluster=cluster.scheduler_address)
        assert (tmp_path / "died").exists()  # a Dask worker was killed; the scheduler ran its task again
        assert {k: (o.value, o.error) for k, o in out.items()} == {str(x): (10 * x, None) for x in range(4)}


def test_a_second_run_skips_reps_already_planned_unless_restart(project_file, tmp_path) -> None:
    path = _copy(project_file, tmp_path, "again.gpkg")
    _plan_file(path, workers=1)
    before = _stored(path, with_fid=True)
    again = _plan_file(path, workers=1)
    assert [e.get("resumed") for e in again["reps"]] == [True, True, True, None]
    assert [e["planned_visits"] for e in again["reps"][:3]] == [7, 7, 7]
    assert [e["required_visits"] for e in again["reps"][:3]] == [7, 7, 7]
    assert _stored(path, with_fid=True) == before  # nothing rewritten
    restarted = _plan_file(path, workers=1, restart=True)
    assert restarted["planned_reps"] == 3
    assert _stored(path) == [r[:-1] for r in before]
    assert _stored(path, with_fid=True) != before  # rows written again


def _cli(path: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "territory_desktop", "route", "--project", str(path), "--all", "--start",
            START.isoformat(), "--weeks", "1", "--time-limit", "2", *extra]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}


def test_a_run_killed_mid_way_resumes_where_it_stopped(project_file, tmp_path) -> None:
    whole = _copy(project_file, tmp_path, "whole.gpkg")
    _check_plan(_plan_file(whole, workers=1), _stored(whole))  # the uninterrupted run

    path = _copy(project_file, tmp_path, "killed.gpkg")
    proc = subprocess.Popen(_cli(path, "--workers", "1"), env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while not _stored(path) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    held = lock_path(path).exists()  # the run holds the project's lock while it plans
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert held
    saved = _stored(path, with_fid=True)
    saved_reps = {r[0] for r in saved}
    assert saved_reps and len(saved_reps) < 3, "the run should be killed after its first rep was saved"

    rerun = subprocess.run(_cli(path, "--workers", "2", "--json"), env=_env(), capture_output=True, text=True,
                           timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    result = json.loads(rerun.stdout)
    resumed = {e["rep_id"] for e in result["reps"] if e.get("resumed")}
    assert resumed == saved_reps  # completed reps are not planned again ...
    assert [r for r in _stored(path, with_fid=True) if r[0] in saved_reps] == saved  # ... nor rewritten
    assert _stored(path) == _stored(whole)  # and the result is the uninterrupted one


def test_route_flags_of_the_batch_are_checked(project_file, capsys) -> None:
    from territory_desktop.cli import main

    for extra, message in ((["--rep", "r1", "--start", "2027-03-01", "--workers", "2"], "--workers goes with --all"),
                           (["--all", "--start", "2027-03-01", "--out", "x.csv"], "--out is for one rep"),
                           (["--all", "--rep", "r1", "--start", "2027-03-01"], "not allowed with argument")):
        assert main(["route", "--project", str(project_file), *extra]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
