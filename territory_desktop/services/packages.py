"""Export field packages: one folder or zip per rep for phones, tablets and GIS field apps.

A package holds ``index.html`` (the offline field app, ``resources/fieldapp``) with its data in ``data.js``,
``accounts.csv``, ``schedule.ics``, ``routes.gpx``, ``territory.gpkg``, ``territory.pdf`` (when a PDF
writer is given: the print engine needs Qt, so the caller passes it) and ``manifest.json``: versions, rep,
scenario, plan, export time, the SHA-256 of every other file and an HMAC signature with the project's key.
Everything in it comes from the rep's slice (``package_data.rep_slice``): no other rep's data.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from ..models import CRS, InvalidInputError, Progress, Project, StopFlag, no_progress
from ..models.project import PLANNED_VISIT_COLUMNS
from ..storage import package_files as files
from ..storage.export import write_table
from . import package_data as pdata
from .about import app_version
from .routing import plan_rep_visits, planned_visit_rows

FIELD_APP = Path(__file__).resolve().parent.parent / "resources" / "fieldapp"
ACCOUNT_CSV_COLUMNS = ["account_id", "name", "segment", "industry", "size_class", "potential", "address", "zip",
                       "visit_frequency_weeks", "service_minutes", "lon", "lat"]
#: (rep project, path) -> None: writes the printable map of a rep's territory
PdfWriter = Callable[[Project, Path, list], None]


@dataclass
class PackageOptions:
    """How to export: schedule ``weeks`` from ``start`` (default next Monday), planner time per rep."""

    key: bytes
    start: date | None = None
    weeks: int = 1
    scenario_id: str | None = None
    time_limit: float = 0.5
    pdf: PdfWriter | None = None
    zip: bool = False


def next_monday(today: date | None = None) -> date:
    today = today or date.today()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def rep_schedule(project: Project, rep_id: str, opts: PackageOptions) -> tuple[pd.DataFrame, dict]:
    """The rep's planned visits (``PLANNED_VISIT_COLUMNS``) and how they were made: the plan kept in the
    project when it has rows for the rep, else a new plan of ``opts.weeks`` weeks."""
    saved = project.planned_visits
    saved = saved[saved["rep_id"].astype(str) == str(rep_id)] if len(saved) else saved
    if len(saved):
        dates = sorted(saved["date"].astype(str))
        return saved[PLANNED_VISIT_COLUMNS].copy(), {"source": "saved plan", "start": dates[0][:10],
                                                     "end": dates[-1][:10], "visits": len(saved)}
    start = opts.start or next_monday()
    rp = plan_rep_visits(project, rep_id, start, weeks=opts.weeks, time_limit=opts.time_limit)
    rows = planned_visit_rows(rp)
    return rows, {"source": "planned at export", "start": start.isoformat(), "weeks": opts.weeks,
                  "travel": rp.provider, "visits": len(rows)}


def export_rep_package(project: Project, rep_id: str, out: str | Path, opts: PackageOptions) -> Path:
    """Write ``rep_id``'s package to the folder ``out`` (or, with ``opts.zip``, the zip file ``out``)."""
    out = Path(out)
    part = pdata.rep_slice(project, rep_id, opts.scenario_id)
    planned, plan_info = rep_schedule(project, rep_id, opts)
    planned = planned[planned["account_id"].isin(set(part.accounts["account_id"]))]
    with tempfile.TemporaryDirectory(prefix=".package-", dir=out.parent) as tmp:
        folder = Path(tmp) / "package"
        folder.mkdir()
        manifest = _write_files(project, part, planned, plan_info, folder, opts)
        files.write_json(folder / "manifest.json", manifest)
        if opts.zip:
            return files.zip_folder(folder, out)
        if out.exists():
            shutil.rmtree(out)
        folder.rename(out)
    return out


def _write_files(project: Project, part: pdata.RepSlice, planned: pd.DataFrame, plan_info: dict,
                 folder: Path, opts: PackageOptions) -> dict:
    exported = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    base = pdata.base_copy(part.accounts)
    identity = pdata.package_identity(uuid.uuid4().hex, part, exported, pdata.sha256_of(base))
    names = dict(zip(part.accounts["account_id"].astype(str), part.accounts["name"].astype(str), strict=True))
    where = pdata.location_of(part.accounts)
    _write_accounts_csv(part, folder / "accounts.csv")
    files.write_ics(folder / "schedule.ics", _events(part, planned, names), f"Visits {part.rep_id}")
    routes = _routes(part, planned, names, where)
    files.write_gpx(folder / "routes.gpx", routes)
    files.write_layers(folder / "territory.gpkg", _layers(part, planned, where))
    if opts.pdf is not None:
        lines = [shapely.LineString([(x, y) for x, y, _ in pts]) for _, pts in routes if len(pts) > 1]
        opts.pdf(pdata.rep_project(project, part), folder / "territory.pdf", lines)
    signature = pdata.sign(opts.key, identity)
    _write_app(part, planned, names, base, identity, signature, plan_info, folder)
    scen = project.scenarios[project.scenarios["scenario_id"] == part.scenario_id]
    manifest = {**identity, "app_version": app_version(), "project": project.name,
                "rep": {"rep_id": part.rep_id, "name": str(part.rep.get("name", ""))},
                "scenario": {"scenario_id": part.scenario_id,
                             "name": str(scen["name"].iloc[0]) if len(scen) else part.scenario_id},
                "territories": [{"territory_id": str(t), "name": str(n)}
                                for t, n in zip(part.territories["territory_id"], part.territories["name"],
                                                strict=True)],
                "plan": plan_info, "package_signature": signature,
                "files": files.file_hashes(folder, skip=("manifest.json",))}
    manifest["signature"] = pdata.sign(opts.key, manifest)
    return manifest


def _write_accounts_csv(part: pdata.RepSlice, path: Path) -> None:
    a = part.accounts
    xy = shapely.get_coordinates(a.geometry.to_numpy()) if len(a) else None
    table = pd.DataFrame(a.drop(columns="geometry"))
    table["lon"] = xy[:, 0] if xy is not None else []
    table["lat"] = xy[:, 1] if xy is not None else []
    write_table(table[[c for c in ACCOUNT_CSV_COLUMNS if c in table.columns]], path)


def _events(part: pdata.RepSlice, planned: pd.DataFrame, names: dict) -> list[files.CalendarEvent]:
    address = dict(zip(part.accounts["account_id"].astype(str), part.accounts["address"], strict=True))
    where = pdata.location_of(part.accounts)
    events = []
    for r in planned.itertuples(index=False):
        day = datetime.fromisoformat(str(r.date)[:10])
        aid = str(r.account_id)
        lon, lat = where.get(aid, (0.0, 0.0))
        events.append(files.CalendarEvent(
            uid=f"visit-{part.rep_id}-{aid}-{str(r.date)[:10]}@territory-desktop",
            start=day + timedelta(minutes=int(r.arrive_minute)), end=day + timedelta(minutes=int(r.depart_minute)),
            summary=f"Visit {names.get(aid, aid)}", location=address.get(aid, ""),
            description=f"Account {aid}, stop {int(r.sequence)} of the day", lat=lat, lon=lon))
    return events


def _routes(part: pdata.RepSlice, planned: pd.DataFrame, names: dict, where: dict) -> list:
    home = pdata.rep_home(part)
    out = []
    for day, rows in planned.sort_values(["date", "sequence"]).groupby("date", sort=True):
        pts = [(*where[str(a)], f"{k}. {names.get(str(a), a)}")
               for k, a in enumerate(rows["account_id"], 1) if str(a) in where]
        if home:
            pts = [(home[0], home[1], "Home"), *pts, (home[0], home[1], "Home")]
        out.append((f"Route {str(day)[:10]}", pts))
    return out


def _layers(part: pdata.RepSlice, planned: pd.DataFrame, where: dict) -> dict[str, gpd.GeoDataFrame]:
    units = part.units[["unit_id", "name", "geometry"]].copy()
    accounts = part.accounts.drop(columns=["unit_id"], errors="ignore")
    plan = planned.copy()
    plan["account_id"] = plan["account_id"].astype(str)
    pts = [shapely.Point(where[a]) if a in where else None for a in plan["account_id"]]
    visits = gpd.GeoDataFrame(plan, geometry=gpd.GeoSeries(pts, crs=CRS, index=plan.index))
    terr = gpd.GeoDataFrame({"territory_id": part.territories["territory_id"].astype(str).tolist()[:1] or [""],
                             "name": [", ".join(map(str, part.territories["name"]))]},
                            geometry=gpd.GeoSeries([pdata.territory_polygon(part)], crs=CRS))
    return {"territory": terr, "units": units, "accounts": gpd.GeoDataFrame(accounts, crs=CRS),
            "planned_visits": visits}


def _write_app(part, planned, names, base, identity, signature, plan_info, folder: Path) -> None:
    today = date.fromisoformat(plan_info["start"]) if plan_info.get("start") else date.today()
    data = {"package": identity, "package_signature": signature, "plan": plan_info,
            "rep": {"rep_id": part.rep_id, "name": str(part.rep.get("name", ""))},
            "territory": {"names": [str(n) for n in part.territories["name"]],
                          "geometry": pdata.geojson(shapely.simplify(pdata.territory_polygon(part), 0.001))},
            "units": pdata.unit_outlines(part), "home": pdata.rep_home(part),
            "accounts": pdata.app_accounts(part, base, today), "schedule": pdata.app_schedule(planned, names),
            "base": base, "correctable": list(pdata.CORRECTABLE)}
    files.write_data_js(folder / "data.js", "FIELD_DATA", data)
    if FIELD_APP.is_dir():
        shutil.copytree(FIELD_APP, folder, dirs_exist_ok=True)


def export_all_packages(project: Project, out_dir: str | Path, opts: PackageOptions,
                        progress: Progress = no_progress, stop: StopFlag | None = None,
                        jobs: int = 1, pdf_factory: Callable[[], PdfWriter] | None = None) -> list[Path]:
    """One package per rep that owns a territory in the scenario, as ``out_dir/REP_ID`` (or ``.zip``).

    ``jobs`` > 1 exports in that many processes, each opening ``project.path`` (the saved project: unsaved
    changes are not seen there); ``pdf_factory`` (a module-level function, called once per process) then
    makes each process's PDF writer, since a Qt writer cannot be sent to another process.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InvalidInputError("--out", [f"{out_dir}: is a file; --all writes one package per rep into a folder"])
    out_dir.mkdir(parents=True, exist_ok=True)
    terr = project.scenario_territories(opts.scenario_id)
    owning = set(terr["rep_id"].dropna().astype(str))
    reps = [r for r in project.reps["rep_id"].astype(str) if r in owning]
    targets = [(rep_id, out_dir / (f"{_safe(rep_id)}.zip" if opts.zip else _safe(rep_id))) for rep_id in reps]
    if jobs > 1 and project.path and len(targets) > 1:
        return _export_in_processes(project.path, targets, opts, jobs, pdf_factory, progress, stop)
    if pdf_factory is not None and opts.pdf is None:
        opts = replace(opts, pdf=pdf_factory())
    written = []
    for k, (rep_id, target) in enumerate(targets):
        if stop is not None:
            stop.check()
        progress(k / max(len(targets), 1), f"package {k + 1} of {len(targets)}: rep {rep_id}")
        written.append(export_rep_package(project, rep_id, target, opts))
    progress(1.0, f"{len(written)} packages")
    return written


_WORKER: dict = {}


def _worker_export(path: str, opts: PackageOptions, pdf_factory, rep_id: str, target: Path) -> Path:
    """One package in a batch worker: the project (and the PDF writer) opened once per process."""
    from .project import open_project

    if _WORKER.get("path") != path:
        _WORKER.update(path=path, project=open_project(path),
                       opts=replace(opts, pdf=pdf_factory()) if pdf_factory is not None else opts)
    return export_rep_package(_WORKER["project"], rep_id, target, _WORKER["opts"])


def _export_in_processes(path: str, targets: list, opts: PackageOptions, jobs: int, pdf_factory,
                         progress: Progress, stop: StopFlag | None) -> list[Path]:
    """The packages in ``jobs`` processes (:func:`.batch.run_batch`); a rep that fails does not stop the
    others, and the error lists every failed rep once all are done."""
    from functools import partial

    from .batch import run_batch

    done: dict[str, Path] = {}
    failed: list[str] = []

    def keep(outcome) -> None:
        if outcome.error is None:
            done[outcome.key] = outcome.value
        else:
            failed.append(f"rep {outcome.key}: {outcome.error}")

    common = (path, replace(opts, pdf=None), pdf_factory)
    run_batch(_worker_export, [(rep, partial(tuple, (*common, rep, target))) for rep, target in targets],
              len(targets), keep, workers=jobs, progress=progress, stop=stop, noun="packages")
    if failed:
        raise InvalidInputError("export-package --all", failed,
                                outcome=f"the {len(done)} other packages were written")
    return [done[rep] for rep, _ in targets]


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name)) or "rep"
