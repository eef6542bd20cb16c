"""The project file's tables (SQLAlchemy Core, 2.x style), as GDAL and QGIS expect them in a GeoPackage.

Every table has an ``INTEGER PRIMARY KEY`` ``fid`` (GeoPackage Req 119; QGIS edits tables by it) and a
unique business key (``unit_id``, ``(scenario_id, unit_id)``, ...) by which saves insert, update and delete
rows, so fids stay stable and columns another tool added keep their values. Numbers are ``REAL`` (8-byte
doubles: GDAL reads ``FLOAT`` as 32-bit), dates are ``DATE`` (``YYYY-MM-DD``) and ``DATETIME``
(``YYYY-MM-DDTHH:MM:SS.sssZ``, UTC), JSON columns are declared with GDAL's JSON subtype.

Spatial tables (``units``, ``accounts``, ``reps``, ``territories``) are feature layers with a ``geom``
column of GeoPackage blobs and an R-tree index. Entity columns come from ``models.fields`` so the importers,
the model and the file agree; attributes a file brings beyond them are kept as JSON in ``attrs``.
``SCHEMA_VERSION`` is the version these tables describe; ``migrations.py`` upgrades older files.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    REAL,
    Boolean,
    Column,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import UserDefinedType

from ..models.fields import ACCOUNT_FIELDS, REP_FIELDS, UNIT_FIELDS, Field

SCHEMA_VERSION = 6


class _Declared(UserDefinedType):
    """A column declared with a GeoPackage type name; values pass through unchanged."""

    cache_ok = True

    def __init__(self, name: str) -> None:
        self.name = name

    def get_col_spec(self, **kw) -> str:
        return self.name


def GpkgGeometry(geometry_type: str) -> _Declared:
    """A GeoPackage geometry column; values are GeoPackage blobs (see ``gpkg.encode``)."""
    return _Declared(geometry_type)


DATE = _Declared("DATE")
DATETIME = _Declared("DATETIME")
_SQL_TYPES = {"text": Text, "real": REAL, "int": Integer, "bool": Boolean}


def _entity_columns(fields: tuple[Field, ...], unique: str) -> list[Column]:
    return [Column(f.name, _SQL_TYPES[f.kind](), nullable=f.name != unique, unique=f.name == unique)
            for f in fields]


metadata = MetaData()


def _fid() -> Column:
    return Column("fid", Integer, primary_key=True, autoincrement=True)


def _table(name: str, *columns, **kw) -> Table:
    return Table(name, metadata, _fid(), *columns, sqlite_autoincrement=True, **kw)


def _required(*names: str, unique: bool = False, index: bool = False) -> list[Column]:
    """NOT NULL text columns: business keys and the references rows cannot do without."""
    return [Column(n, Text, nullable=False, unique=unique or None, index=index or None) for n in names]


def _columns(**types) -> list[Column]:
    """Nullable columns in the order given, ``name=type``."""
    return [Column(name, kind) for name, kind in types.items()]


meta = _table("td_meta", *_required("key", unique=True), *_columns(value=Text))


def _entity_table(name: str, fields: tuple[Field, ...], unique: str, geometry_type: str) -> Table:
    """A feature layer of one entity: fid, the entity's fields, extra attributes as JSON, geometry."""
    return _table(name, *_entity_columns(fields, unique), Column("attrs", Text),
                  Column("geom", GpkgGeometry(geometry_type)))


units = _entity_table("units", UNIT_FIELDS, "unit_id", "MULTIPOLYGON")
accounts = _entity_table("accounts", ACCOUNT_FIELDS, "account_id", "POINT")
reps = _entity_table("reps", REP_FIELDS, "rep_id", "POINT")

TERRITORY_TOTALS = ("units", "accounts", "workload_hours", "potential")

territories = _table(
    "territories",
    *_required("scenario_id", "territory_id"),
    *_columns(name=Text, colour=Text, rep_id=Text, parent_id=Text, level=Text, kind=Text, rule=Text,
              units=Integer, accounts=Integer, workload_hours=REAL, potential=REAL),
    # a digest of the territory's units when its polygon was dissolved: a save re-dissolves only the
    # territories whose units changed since (also when the change was made in another program)
    *_columns(units_key=Text, geom=GpkgGeometry("MULTIPOLYGON")),
    UniqueConstraint("scenario_id", "territory_id"),
)

scenarios = _table(
    "scenarios",
    *_required("scenario_id", unique=True),
    *_columns(name=Text, description=Text, parent_id=Text, created=DATETIME, active=Boolean),
)

assignments = _table(
    "assignments",
    *_required("scenario_id", "unit_id"),
    *_columns(territory_id=Text),
    UniqueConstraint("scenario_id", "unit_id"),
)

account_assignments = _table(
    "account_assignments",
    *_required("scenario_id", "account_id", "territory_id"),
    UniqueConstraint("scenario_id", "account_id"),
)

sales = _table(
    "sales",
    *_required("account_id", index=True),
    *_required("period"),  # YYYY-MM
    *_columns(product=Text, amount=REAL),
)

visits = _table(
    "visits",
    *_required("account_id", index=True),
    *_columns(rep_id=Text, date=DATE, minutes=REAL, outcome=Text, note=Text),
)

opportunities = _table(
    "opportunities",
    *_required("opportunity_id", unique=True),
    *_required("account_id", index=True),
    *_columns(rep_id=Text, created=DATE, closed=DATE, stage=Text, amount=REAL, won=Boolean),
)

planned_visits = _table(
    "planned_visits",
    *_required("rep_id", "account_id"),
    *_columns(date=DATE, sequence=Integer, arrive_minute=Integer, depart_minute=Integer, status=Text),
)

leads = _table(
    "leads",
    Column("lead_id", Text, nullable=False, unique=True),
    Column("company", Text),
    Column("domain", Text),
    Column("value", REAL),
    Column("industry", Text),
    Column("product", Text),
    Column("source", Text),
    Column("date", DATE),
    Column("zip", Text),
    Column("lon", REAL),
    Column("lat", REAL),
    Column("status", Text),  # open / closed
    Column("territory_id", Text),
    Column("rep_id", Text),
    Column("account_id", Text),
    Column("matched_by", Text),
    Column("explanation", Text),
    Column("not_applied", Text),
    Column("assigned", DATETIME),
)

lead_rotation = _table(
    "lead_rotation",
    Column("pool", Text, nullable=False, unique=True),  # rep ids of the pool joined by "|"
    Column("state", Text),  # JSON {"counts": {rep_id: n}, "last": rep_id}
)

quotas = _table(
    "quotas",  # schema 5: quota sets (``quotas --save``), one row per territory of a (scenario, period) set
    *_required("scenario_id", "period", "territory_id"),
    *_columns(rep_id=Text, period_start=DATE, period_end=DATE, quota=REAL, share=REAL, method=Text,
              ramp_months=Integer, in_role_from=Text, ramped_quota=REAL, monthly=Text, created_at=DATETIME),
    UniqueConstraint("scenario_id", "period", "territory_id"),
)

lead_rules = _table(
    "lead_rules",  # schema 6: the planner's lead rules (the Leads dock, ``assign-leads --save-rules``)
    *_required("name", unique=True),  # the rule set in use is "default"
    *_columns(rules=Text, updated_at=DATETIME, updated_by=Text),  # rules: the rules file's JSON object
)

notes = _table(
    "notes",
    *_required("entity_type", "entity_id"),  # entity_type: account, rep, territory, unit
    *_columns(created=DATETIME, author=Text, text=Text),
)

audit_log = _table(
    "audit_log",
    Column("ts", DATETIME, nullable=False),
    *_columns(user=Text),
    *_required("action"),
    *_columns(details=Text),
    # schema 4: one row per assignment change (entity_type unit/account), written by every save
    *_columns(scenario_id=Text, entity_type=Text, entity_id=Text, old_territory_id=Text, territory_id=Text),
)
#: the audit-log columns schema 4 added (``migrations._to_v4`` adds them to older files)
AUDIT_CHANGE_COLUMNS = ("scenario_id", "entity_type", "entity_id", "old_territory_id", "territory_id")

scenario_reviews = _table(
    "scenario_reviews",  # the review flow: one row per state change of a scenario, oldest first
    *_required("scenario_id", "status", index=True),
    *_columns(user=Text, ts=DATETIME, note=Text, from_date=DATE, snapshot_id=Text),
)

snapshots = _table(
    "snapshots",  # a published scenario as it was: its territories and assignments (JSON), restorable
    *_required("snapshot_id", unique=True),
    *_columns(scenario_id=Text, created=DATETIME, user=Text, note=Text, territories=Text, assignments=Text,
              account_assignments=Text),
)

plans_in_force = _table(
    "plans_in_force",  # which plan owned the accounts from a date on (history attribution of KPIs)
    Column("from_date", DATE, nullable=False, unique=True),
    *_required("plan_ref"),  # a snapshot id (a publication) or a scenario id
)

comments = _table(
    "comments",
    *_required("comment_id", unique=True),
    *_required("entity_type", "entity_id"),  # entity_type: territory, account, scenario
    *_columns(scenario_id=Text, author=Text, created=DATETIME, text=Text, mentions=Text, resolved=Boolean,
              resolved_by=Text, resolved_at=DATETIME, source=Text),
)

project_users = _table(
    "project_users",  # people who comment and can be @mentioned (reps are mentionable too)
    *_required("user_id", unique=True),
    *_columns(name=Text, email=Text, role=Text),
)


@dataclass(frozen=True)
class Layer:
    """How a table appears to GIS programs: geometry type (None = attribute table), description, JSON."""

    geometry_type: str | None
    description: str
    json_columns: tuple[str, ...] = ()


#: every table of the project, registered in gpkg_contents so GDAL and QGIS list and open all of them
LAYERS: dict[str, Layer] = {
    "units": Layer("MULTIPOLYGON", "Geographic units (ZIP codes, counties, custom areas) territories are built of",
                   ("attrs",)),
    "accounts": Layer("POINT", "Customer accounts at their locations; unit_id is the unit they lie in", ("attrs",)),
    "reps": Layer("POINT", "Sales reps at their home locations", ("attrs",)),
    "territories": Layer("MULTIPOLYGON", "Territories, districts and regions of every scenario, dissolved from "
                         "their units, with totals (filter on scenario_id and level)", ("rule",)),
    "scenarios": Layer(None, "Scenarios: alternative alignments of units to territories"),
    "assignments": Layer(None, "Which territory each unit belongs to, per scenario (edit territory_id here)"),
    "account_assignments": Layer(None, "Accounts moved to another territory than their unit's, per scenario"),
    "sales": Layer(None, "Sales history: amount per account, month and product"),
    "visits": Layer(None, "Visits made: account, rep, date, minutes and outcome"),
    "opportunities": Layer(None, "Opportunities: open, won and lost deals with amounts and dates"),
    "planned_visits": Layer(None, "Visit plans: one row per planned stop of a rep's route"),
    "notes": Layer(None, "Notes on accounts, reps, territories and units"),
    "audit_log": Layer(None, "Who changed what and when"),
    "td_meta": Layer(None, "Territory Desktop project settings (schema version, name, active scenario)"),
    "leads": Layer(None, "Leads with the territory and rep they were assigned to, and why (lon/lat EPSG:4326)"),
    "lead_rotation": Layer(None, "Round-robin state of lead distribution per pool of reps", ("state",)),
    "scenario_reviews": Layer(None, "Review flow of scenarios: draft, proposed, approved, published, by whom and when"),
    "snapshots": Layer(None, "Published scenarios as they were (territories and assignments), restorable",
                       ("territories", "assignments", "account_assignments")),
    "plans_in_force": Layer(None, "Plan in force from each date: a published snapshot or a scenario"),
    "comments": Layer(None, "Comment threads on territories, accounts and scenarios", ("mentions",)),
    "project_users": Layer(None, "People of the project who comment and can be mentioned"),
    "quotas": Layer(None, "Quotas per territory and rep for a scenario and period (quotas --save), with new "
                    "reps' ramps", ("monthly",)),
    "lead_rules": Layer(None, "Lead distribution rules: order, switched-off rules, tiers, teams, caps, absences, "
                        "round robin (JSON, as in a rules file)", ("rules",)),
}


def create_all(conn) -> None:
    """Create (or complete) every table, its GeoPackage registration, R-tree index and triggers."""
    from . import gpkg

    gpkg.create_system_tables(conn)
    metadata.create_all(conn)
    for name, layer in LAYERS.items():
        gpkg.register_layer(conn, name, layer.geometry_type, layer.description, layer.json_columns)
