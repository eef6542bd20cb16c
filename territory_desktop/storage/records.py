"""The project's tables as record frames (see ``rows``): one builder per table, the same for reading and
saving, so rows read from a file compare equal to themselves and a save finds exactly what changed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd

from ..models import CRS, Project
from ..models.fields import ACCOUNT_FIELDS, REP_FIELDS, UNIT_FIELDS, Field
from ..models.project import (
    LEAD_COLUMNS,
    LEAD_ROTATION_COLUMNS,
    LEAD_RULE_COLUMNS,
    OPPORTUNITY_COLUMNS,
    PLANNED_VISIT_COLUMNS,
    QUOTA_COLUMNS,
    SALES_COLUMNS,
    SCENARIO_COLUMNS,
    TERRITORY_COLUMNS,
    VISIT_COLUMNS,
)
from ..models.review import COMMENT_COLUMNS, REVIEW_COLUMNS, SNAPSHOT_COLUMNS, USER_COLUMNS
from . import schema
from .rows import GEOMETRY, TableSpec, normalise, record_frame

ENTITY_FIELDS: dict[str, tuple[Field, ...]] = {"units": UNIT_FIELDS, "accounts": ACCOUNT_FIELDS, "reps": REP_FIELDS}
ENTITY_KEYS = {"units": "unit_id", "accounts": "account_id", "reps": "rep_id"}
#: history tables without a business id: rows are keyed by their fid, kept in a ``fid`` column of the frame
HISTORY_COLUMNS = {"sales": SALES_COLUMNS, "visits": VISIT_COLUMNS, "planned_visits": PLANNED_VISIT_COLUMNS}
#: tables of the review flow and comments (schema 4), by Project attribute = table name
REVIEW_TABLES = {"scenario_reviews": REVIEW_COLUMNS, "snapshots": SNAPSHOT_COLUMNS, "comments": COMMENT_COLUMNS,
                 "project_users": USER_COLUMNS}
TERRITORY_LAYER_COLUMNS = (*schema.TERRITORY_TOTALS, "units_key")


def _kinds_of(table) -> dict[str, str]:
    """Column kinds of a schema table, from its declared SQL types."""
    kinds = {}
    for column in table.columns:
        spec = str(column.type).upper()
        if column.name == "geom":
            kinds[column.name] = GEOMETRY
        elif spec in ("REAL", "FLOAT", "DOUBLE"):
            kinds[column.name] = "real"
        elif spec == "INTEGER":
            kinds[column.name] = "int"
        elif spec == "BOOLEAN":
            kinds[column.name] = "bool"
        elif spec in ("DATE", "DATETIME"):
            kinds[column.name] = spec.lower()
        else:
            kinds[column.name] = "text"
    kinds.pop("fid", None)
    kinds.pop("attrs", None)
    return kinds


def _spec(name: str, key: tuple[str, ...], extras: bool = False) -> TableSpec:
    kinds = _kinds_of(schema.metadata.tables[name])
    if key == ("fid",):
        kinds = {"fid": "int", **kinds}
    return TableSpec(name, key, kinds, extras)


SPECS: dict[str, TableSpec] = {
    **{name: _spec(name, (ENTITY_KEYS[name],), extras=True) for name in ENTITY_FIELDS},
    "territories": _spec("territories", ("scenario_id", "territory_id")),
    "scenarios": _spec("scenarios", ("scenario_id",)),
    "assignments": _spec("assignments", ("scenario_id", "unit_id")),
    "account_assignments": _spec("account_assignments", ("scenario_id", "account_id")),
    "opportunities": _spec("opportunities", ("opportunity_id",)),
    **{name: _spec(name, ("fid",)) for name in HISTORY_COLUMNS},
    "leads": _spec("leads", ("lead_id",)),
    "lead_rotation": _spec("lead_rotation", ("pool",)),
    "scenario_reviews": _spec("scenario_reviews", ("fid",)),
    "snapshots": _spec("snapshots", ("snapshot_id",)),
    "plans_in_force": _spec("plans_in_force", ("from_date",)),
    "comments": _spec("comments", ("comment_id",)),
    "project_users": _spec("project_users", ("user_id",)),
    "quotas": _spec("quotas", ("scenario_id", "period", "territory_id")),
    "lead_rules": _spec("lead_rules", ("name",)),
}

#: which tables each dirty flag of the model (``Project.mark_dirty``) may have changed
DIRTY_TABLES: dict[str, tuple[str, ...]] = {
    "units": ("units",), "accounts": ("accounts",), "reps": ("reps",),
    "territories": ("territories",), "layer": ("territories",),
    "scenarios": ("scenarios", "territories"),
    "plans": ("assignments", "account_assignments", "scenarios"),
    "sales": ("sales",), "visits": ("visits",), "opportunities": ("opportunities",),
    "planned_visits": ("planned_visits",),
    "leads": ("leads", "lead_rotation"),
    "quotas": ("quotas",),
    "lead_rules": ("lead_rules",),
    **{name: (name,) for name in (*REVIEW_TABLES, "plans_in_force")},
}


def _normalised(frame: pd.DataFrame, spec: TableSpec, columns: list[str]) -> dict[str, np.ndarray]:
    out = {}
    for c in columns:
        values = frame[c].to_numpy() if c in frame.columns else np.full(len(frame), None, dtype=object)
        out[c] = normalise(values, spec.kinds.get(c, "text"))
    return out


def _entity(project: Project, *, name: str) -> pd.DataFrame:
    frame: gpd.GeoDataFrame = getattr(project, name)
    spec = SPECS[name]
    fields = [f.name for f in ENTITY_FIELDS[name]]
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    extras = [c for c in frame.columns if c not in fields and c != geometry]
    data = _normalised(frame, spec, fields + extras)
    if geometry is not None and frame.crs is not None and len(frame) and frame.crs != CRS:
        frame = frame.to_crs(CRS)
    geoms = frame.geometry.to_numpy() if geometry is not None else np.full(len(frame), None, dtype=object)
    # every normalised column is a new array (``normalise`` copies); the geometry array may be the frame's
    data["geom"] = as_multipolygons(geoms) if name == "units" else np.array(geoms, dtype=object, copy=True)
    return record_frame(data, copy=False)


def _territories(project: Project) -> pd.DataFrame:
    spec = SPECS["territories"]
    terr = project.territories
    data = _normalised(terr, spec, TERRITORY_COLUMNS)
    keys = list(zip(terr["scenario_id"], terr["territory_id"], strict=True))
    shapes = [project.territory_shapes.get(k) for k in keys]
    for column in TERRITORY_LAYER_COLUMNS:
        data[column] = normalise([getattr(s, column) if s else None for s in shapes], spec.kinds[column])
    data["geom"] = as_multipolygons(np.array([s.geometry if s else None for s in shapes], dtype=object))
    return record_frame(data)


def _scenarios(project: Project) -> pd.DataFrame:
    frame = project.scenarios.copy()
    frame["active"] = frame["scenario_id"] == project.active_scenario
    frame["created"] = iso_datetimes(frame["created"])
    return record_frame(_normalised(frame, SPECS["scenarios"], [*SCENARIO_COLUMNS, "active"]))


def _assignments(project: Project) -> pd.DataFrame:
    sids: list[str] = []
    units: list[str] = []
    terrs: list[str | None] = []
    for sid, plan in project.plans.items():
        mapping = plan.as_dict()
        sids.extend([sid] * len(mapping))
        units.extend(mapping.keys())
        terrs.extend(mapping.values())
    return record_frame({"scenario_id": np.array(sids, dtype=object), "unit_id": np.array(units, dtype=object),
                         "territory_id": normalise(terrs, "text")})


def _account_assignments(project: Project) -> pd.DataFrame:
    rows = [(sid, a, t) for sid, plan in project.plans.items() for a, t in plan.account_overrides().items()]
    columns = ["scenario_id", "account_id", "territory_id"]
    return record_frame({c: np.array([r[i] for r in rows], dtype=object) for i, c in enumerate(columns)})


def _plans_in_force(project: Project) -> pd.DataFrame:
    """The dated plan history; entries whose plan is an in-memory Plan object (not a scenario or snapshot
    id) are not saved."""
    rows = [(str(d), ref) for d, ref in project.plans_in_force if isinstance(ref, str)]
    dates = iso_dates([d for d, _r in rows])
    return record_frame({"from_date": normalise(dates, "text"),
                         "plan_ref": np.array([r for _d, r in rows], dtype=object)})


def _table_frame(name: str, columns: list[str]) -> Callable[[Project], pd.DataFrame]:
    def build(project: Project) -> pd.DataFrame:
        frame = getattr(project, name)
        spec = SPECS[name]
        cols = (["fid"] if spec.key == ("fid",) else []) + columns
        data = _normalised(frame, spec, cols)
        for c in cols:
            if spec.kinds.get(c) in ("date", "datetime"):
                data[c] = normalise(iso_dates(data[c]) if spec.kinds[c] == "date" else iso_datetimes(data[c]),
                                    "text")
        return record_frame(data)
    return build


BUILDERS: dict[str, Callable[[Project], pd.DataFrame]] = {
    **{name: functools.partial(_entity, name=name) for name in ENTITY_FIELDS},
    "territories": _territories,
    "scenarios": _scenarios,
    "assignments": _assignments,
    "account_assignments": _account_assignments,
    "opportunities": _table_frame("opportunities", OPPORTUNITY_COLUMNS),
    **{name: _table_frame(name, columns) for name, columns in HISTORY_COLUMNS.items()},
    "leads": _table_frame("leads", LEAD_COLUMNS),
    "lead_rotation": _table_frame("lead_rotation", LEAD_ROTATION_COLUMNS),
    "quotas": _table_frame("quotas", QUOTA_COLUMNS),
    "lead_rules": _table_frame("lead_rules", LEAD_RULE_COLUMNS),
    **{name: _table_frame(name, columns) for name, columns in REVIEW_TABLES.items()},
    "plans_in_force": _plans_in_force,
}


def records(project: Project, table: str) -> pd.DataFrame:
    """The record frame of ``table`` as the project holds it now."""
    return BUILDERS[table](project)


def as_multipolygons(geoms: np.ndarray) -> np.ndarray:
    """Polygons wrapped as one-part MultiPolygons (the layers' declared type); others unchanged."""
    import shapely

    out = np.asarray(geoms, dtype=object).copy()
    if not len(out):
        return out
    polys = shapely.get_type_id(out) == 3
    out[polys] = [shapely.MultiPolygon([g]) for g in out[polys]]
    return out


def iso_dates(values) -> np.ndarray:
    """Dates as ``YYYY-MM-DD`` text (None where missing or unreadable)."""
    parsed = pd.to_datetime(pd.Series(values, dtype=object), errors="coerce", utc=True, format="mixed")
    out = parsed.dt.strftime("%Y-%m-%d").astype(object)
    return out.where(parsed.notna(), None).to_numpy(dtype=object)


def iso_datetimes(values) -> np.ndarray:
    """Times as GeoPackage DATETIME text, ``YYYY-MM-DDTHH:MM:SS.sssZ`` in UTC (None where missing)."""
    parsed = pd.to_datetime(pd.Series(values, dtype=object), errors="coerce", utc=True, format="mixed")
    out = parsed.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3].astype(object) + "Z"
    return out.where(parsed.notna(), None).to_numpy(dtype=object)
