"""Writers of a field package's files: iCalendar, GPX, GeoPackage, JSON, the embedded data.js, zip.

What goes into each file is decided by ``services.packages``; this module only writes formats. CSV goes
through :mod:`storage.export` (formula-safe) like every table the application writes.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import geopandas as gpd


@dataclass(frozen=True)
class CalendarEvent:
    """One planned visit: ``uid`` stable across re-exports, times local (floating, no time zone)."""

    uid: str
    start: datetime
    end: datetime
    summary: str
    location: str
    description: str
    lat: float
    lon: float


def write_ics(path: str | os.PathLike, events: list[CalendarEvent], name: str) -> Path:
    """An RFC 5545 calendar with one VEVENT per ``events`` item."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//Territory Desktop//Field package//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    stamp = datetime.now().replace(microsecond=0)
    for e in events:
        ev = Event()
        ev.add("uid", e.uid)
        ev.add("dtstamp", stamp)
        ev.add("dtstart", e.start)
        ev.add("dtend", e.end)
        ev.add("summary", e.summary)
        ev.add("location", e.location)
        ev.add("description", e.description)
        ev.add("geo", (e.lat, e.lon))
        cal.add_component(ev)
    path = Path(path)
    path.write_bytes(cal.to_ical())
    return path


def write_gpx(path: str | os.PathLike, routes: list[tuple[str, list[tuple[float, float, str]]]]) -> Path:
    """A GPX 1.1 file with one ``<rte>`` per (name, [(lon, lat, point name), ...])."""
    import gpxpy.gpx

    gpx = gpxpy.gpx.GPX()
    gpx.creator = "Territory Desktop"
    for name, points in routes:
        route = gpxpy.gpx.GPXRoute(name=name)
        for lon, lat, label in points:
            route.points.append(gpxpy.gpx.GPXRoutePoint(latitude=lat, longitude=lon, name=label))
        gpx.routes.append(route)
    path = Path(path)
    path.write_text(gpx.to_xml(version="1.1"), encoding="utf-8")
    return path


def write_layers(path: str | os.PathLike, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    """A GeoPackage with one layer per item (written by pyogrio; empty layers are still created), with a
    default QGIS style per layer (``layer_styles``, as QGIS and QField read it).

    The file is new and written once (a package is built in a temporary folder), so SQLite's per-commit
    syncs are switched off while writing: a third of the time otherwise."""
    import pyogrio

    path = Path(path)
    path.unlink(missing_ok=True)
    before = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    try:
        for name, frame in layers.items():
            frame.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": before})
    _write_styles(path)
    return path


def _write_styles(path: Path) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from . import styles

    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    try:
        with engine.begin() as conn:
            styles.write_package_styles(conn)
    finally:
        engine.dispose()


def write_json(path: str | os.PathLike, data) -> Path:
    path = Path(path)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False), encoding="utf-8")
    return path


def write_data_js(path: str | os.PathLike, variable: str, data) -> Path:
    """``window.VARIABLE = {...};`` so a page opened from file:// gets the data without fetch. ``<``, ``>``
    and ``&`` are written as \\u escapes, so no text in the data can close a script element."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    path = Path(path)
    path.write_text(f"window.{variable} = {text};\n", encoding="utf-8")
    return path


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_hashes(folder: str | os.PathLike, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` (relative POSIX paths), except the names in ``skip``."""
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): sha256_file(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and p.relative_to(folder).as_posix() not in skip}


def zip_folder(folder: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Zip the files of ``folder`` into ``out`` (written whole or not at all: temp + rename)."""
    folder, out = Path(folder), Path(out)
    tmp = out.with_name(f".{out.name}.writing")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in sorted(folder.rglob("*")):
                if p.is_file():
                    zf.write(p, p.relative_to(folder).as_posix())
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
