"""What one rep's field package holds: the rep's slice of the project, the base copy, signing.

A package holds that rep's data only. :func:`rep_slice` picks the rep's territories (through
``services.metrics.account_owners``, the one definition of ownership), units, accounts, visits and open
opportunities of those accounts; every file of the package is written from this slice, never from the
whole project. The visits of other reps to these accounts are kept without their rep id.

Signing: a package's identity (:func:`package_identity`) and its manifest are signed with HMAC-SHA256 and
the project's own key (kept in the project file, never in the package), over :func:`canonical` JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from dataclasses import dataclass
from datetime import date, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..models import InvalidInputError, Plan, Project
from ..models.project import TerritoryShape
from .metrics import account_owners

PACKAGE_FORMAT = "territory-desktop-field-package"
REPORT_FORMAT = "territory-desktop-field-report"
FORMAT_VERSION = 1
#: account fields a rep may correct in the field (``location`` is the point, [lon, lat])
CORRECTABLE = ("location", "address", "contact_name", "contact_phone", "contact_email")
OPEN_STAGES_EXCLUDED = ("closed won", "closed lost")


@dataclass
class RepSlice:
    """One rep's part of a project (scenario ``scenario_id``)."""

    rep: pd.Series
    scenario_id: str
    territories: pd.DataFrame
    units: gpd.GeoDataFrame
    accounts: gpd.GeoDataFrame
    visits: pd.DataFrame
    opportunities: pd.DataFrame
    polygon: object = None  # the dissolved territory, see territory_polygon

    @property
    def rep_id(self) -> str:
        return str(self.rep["rep_id"])


def rep_slice(project: Project, rep_id: str, scenario_id: str | None = None) -> RepSlice:
    """The rep's territories, units, accounts (with ``address``), their visits and open opportunities."""
    sid = scenario_id or project.active_scenario
    reps = project.reps[project.reps["rep_id"].astype(str) == str(rep_id)]
    if not len(reps):
        known = ", ".join(sorted(map(str, project.reps["rep_id"]))[:10])
        raise InvalidInputError("--rep", [f"rep {rep_id!r} is not in the project (reps: {known} ...)"])
    terr = project.scenario_territories(sid)
    terr = terr[terr["rep_id"].astype(str) == str(rep_id)]
    ids = set(terr["territory_id"])
    owners = account_owners(project, sid)
    accounts = project.accounts[owners.isin(ids).to_numpy()].copy()
    unit_terr = project.units["unit_id"].map(project.plans[sid].as_dict())
    units = project.units[unit_terr.isin(ids).to_numpy()].copy()
    accounts["address"] = _addresses(accounts, project.units)
    mine = set(accounts["account_id"])
    visits = project.visits[project.visits["account_id"].isin(mine)].drop(columns=["rep_id", "fid"], errors="ignore")
    opps = project.opportunities[project.opportunities["account_id"].isin(mine)]
    open_opps = opps[~opps["stage"].astype(str).str.lower().isin(OPEN_STAGES_EXCLUDED)]
    return RepSlice(reps.iloc[0], sid, terr.reset_index(drop=True), units, accounts,
                    visits.reset_index(drop=True), open_opps.drop(columns=["rep_id"]).reset_index(drop=True))


def _addresses(accounts: pd.DataFrame, units: pd.DataFrame) -> list[str]:
    """The account's own ``address`` column where it has one, else its ZIP and the name of its unit."""
    names = dict(zip(units["unit_id"], units["name"].astype(str), strict=True))
    own = accounts["address"] if "address" in accounts.columns else pd.Series([None] * len(accounts))
    out = []
    for given, zip_code, unit in zip(own, accounts["zip"], accounts["unit_id"], strict=True):
        if isinstance(given, str) and given.strip():
            out.append(given.strip())
        else:
            out.append(" ".join(p for p in (str(zip_code or ""), names.get(unit, "")) if p).strip())
    return out


def rep_project(project: Project, part: RepSlice) -> Project:
    """A project holding only the rep's slice (for the print engine: its legend and totals then name no
    other rep)."""
    sid = part.scenario_id
    unit_ids = set(part.units["unit_id"])
    plan = project.plans[sid]
    units_plan = {u: t for u, t in plan.as_dict().items() if u in unit_ids}
    overrides = {a: t for a, t in plan.account_overrides().items() if a in set(part.accounts["account_id"])}
    terr = part.territories.assign(parent_id=None)
    shapes = {(sid, t): _shape(project, sid, t, part) for t in terr["territory_id"]}
    name = ", ".join(map(str, terr["name"])) or str(part.rep.get("name", part.rep_id))
    scen = project.scenarios[project.scenarios["scenario_id"] == sid].assign(parent_id=None)
    return Project(name=name, units=part.units, accounts=part.accounts.drop(columns=["address"]),
                   reps=project.reps[project.reps["rep_id"].astype(str) == part.rep_id].copy(),
                   territories=terr, scenarios=scen, plans={sid: Plan(units_plan, overrides)},
                   active_scenario=sid, territory_shapes=shapes)


def _shape(project: Project, sid: str, territory_id: str, part: RepSlice) -> TerritoryShape:
    known = project.territory_shapes.get((sid, territory_id))
    if known is not None and known.geometry is not None:
        return TerritoryShape(None, known.geometry)
    return TerritoryShape(None, territory_polygon(part))


def territory_polygon(part: RepSlice):
    """The union of the rep's units (a shapely geometry; an empty polygon without units), made once."""
    if part.polygon is None:
        geoms = part.units.geometry.to_numpy()
        part.polygon = shapely.union_all(geoms[~shapely.is_missing(geoms)]) if len(geoms) else shapely.Polygon()
    return part.polygon


# ------------------------------------------------------------------------------------------ base copy

def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def base_copy(accounts: gpd.GeoDataFrame) -> dict[str, dict]:
    """The correctable fields of each account as exported: {account_id: {field: value}}; ``location`` is
    [lon, lat] rounded to 7 decimals (1 cm), text fields are strings ("" when missing)."""
    out = {}
    geoms = accounts.geometry.to_numpy()
    for k, row in enumerate(accounts.itertuples(index=False)):
        g = geoms[k]
        loc = None if g is None or g.is_empty else [round(float(g.x), 7), round(float(g.y), 7)]
        record: dict[str, object] = {"location": loc}
        for f in CORRECTABLE[1:]:
            record[f] = _text(getattr(row, f, None))
        out[str(row.account_id)] = record
    return out


def canonical(data) -> bytes:
    """The bytes that are hashed and signed: JSON, sorted keys, no spaces, ASCII."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


def sha256_of(data) -> str:
    return hashlib.sha256(canonical(data)).hexdigest()


def sign(key: bytes, data) -> str:
    return hmac.new(key, canonical(data), hashlib.sha256).hexdigest()


def signature_ok(key: bytes, data, signature) -> bool:
    return isinstance(signature, str) and hmac.compare_digest(sign(key, data), signature)


def package_identity(package_id: str, part: RepSlice, exported: str, base_sha: str) -> dict:
    """What a report must carry back, signed: which package, rep, scenario and base copy it came from."""
    return {"format": PACKAGE_FORMAT, "format_version": FORMAT_VERSION, "package_id": package_id,
            "rep_id": part.rep_id, "scenario_id": part.scenario_id,
            "exported": exported, "base_sha256": base_sha, "accounts": len(part.accounts)}


# ------------------------------------------------------------------------------------------ field app data

def _minutes(value) -> str:
    m = round(float(value))
    return f"{m // 60:02d}:{m % 60:02d}"


def _due(freq: int, last: str | None, today: date) -> str:
    if freq <= 0:
        return ""
    if not last:
        return today.isoformat()
    return (date.fromisoformat(last[:10]) + timedelta(weeks=freq)).isoformat()


def _history(part: RepSlice, keep: int = 5) -> tuple[dict, dict]:
    visits: dict[str, list] = {}
    v = part.visits.sort_values("date", ascending=False)
    for row in v.itertuples(index=False):
        items = visits.setdefault(str(row.account_id), [])
        if len(items) < keep:
            items.append({"date": _text(row.date)[:10], "outcome": _text(row.outcome), "note": _text(row.note)})
    opps: dict[str, list] = {}
    for row in part.opportunities.itertuples(index=False):
        opps.setdefault(str(row.account_id), []).append(
            {"id": _text(row.opportunity_id), "stage": _text(row.stage), "created": _text(row.created)[:10],
             "amount": None if pd.isna(row.amount) else float(row.amount)})
    return visits, opps


def app_accounts(part: RepSlice, base: dict, today: date) -> list[dict]:
    """One record per account for the field app (details, last visits, open opportunities, due date)."""
    visits, opps = _history(part)
    out = []
    for row in part.accounts.itertuples(index=False):
        aid = str(row.account_id)
        seen = visits.get(aid, [])
        rec = {"id": aid, "name": _text(row.name), "segment": _text(row.segment), "industry": _text(row.industry),
               "size": _text(row.size_class), "potential": float(row.potential) if not pd.isna(row.potential) else 0,
               "every_weeks": int(row.visit_frequency_weeks), "minutes": float(row.service_minutes),
               "hours": f"{_minutes(row.open_minute)}-{_minutes(row.close_minute)}",
               "due": _due(int(row.visit_frequency_weeks), seen[0]["date"] if seen else None, today),
               "visits": seen, "opportunities": opps.get(aid, []), "notes": _text(getattr(row, "notes", None))}
        rec.update(base[aid])
        out.append(rec)
    return out


def app_schedule(planned: pd.DataFrame, names: dict[str, str]) -> list[dict]:
    rows = planned.sort_values(["date", "sequence"])
    return [{"date": str(r.date)[:10], "seq": int(r.sequence), "account_id": str(r.account_id),
             "name": names.get(str(r.account_id), ""), "arrive": _minutes(r.arrive_minute),
             "depart": _minutes(r.depart_minute)} for r in rows.itertuples(index=False)]


def geojson(geom, digits: int = 5) -> dict | None:
    """A GeoJSON geometry of ``geom`` with coordinates rounded to ``digits`` (about 1 m at 5)."""
    if geom is None or geom.is_empty:
        return None
    return json.loads(shapely.to_geojson(shapely.set_precision(geom, 10.0 ** -digits)))


def unit_outlines(part: RepSlice, tolerance: float = 0.002) -> list[dict]:
    geoms = shapely.simplify(part.units.geometry.to_numpy(), tolerance, preserve_topology=True)
    return [{"id": str(u), "name": _text(n), "geometry": geojson(g)}
            for u, n, g in zip(part.units["unit_id"], part.units["name"], geoms, strict=True)]


def rep_home(part: RepSlice) -> list[float] | None:
    g = part.rep.geometry
    return None if g is None or g.is_empty else [round(float(g.x), 6), round(float(g.y), 6)]


def location_of(accounts: gpd.GeoDataFrame) -> dict[str, tuple[float, float]]:
    xy = shapely.get_coordinates(accounts.geometry.to_numpy()) if len(accounts) else np.zeros((0, 2))
    return {str(a): (float(x), float(y)) for a, (x, y) in zip(accounts["account_id"], xy, strict=True)}
