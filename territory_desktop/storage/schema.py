"""The project file's tables (SQLAlchemy Core, 2.x style).

Spatial tables (``units``, ``accounts``, ``reps``, ``territories``) are GeoPackage feature layers with an
integer ``fid`` primary key and a ``geom`` column holding GeoPackage blobs, so GDAL and QGIS open them.
Entity columns come from ``models.fields`` so the importers, the model and the file agree; attributes a
file brings beyond them are kept as JSON in ``attrs``. ``SCHEMA_VERSION`` is the version these tables
describe; ``migrations.py`` upgrades older files.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import UserDefinedType

from ..models.fields import ACCOUNT_FIELDS, REP_FIELDS, UNIT_FIELDS, Field

SCHEMA_VERSION = 1


class GpkgGeometry(UserDefinedType):
    """A GeoPackage geometry column; values are GeoPackage blobs (see ``gpkg.encode``)."""

    cache_ok = True

    def __init__(self, geometry_type: str) -> None:
        self.geometry_type = geometry_type

    def get_col_spec(self, **kw) -> str:
        return self.geometry_type


_SQL_TYPES = {"text": Text, "real": Float, "int": Integer, "bool": Boolean}


def _entity_columns(fields: tuple[Field, ...], unique: str) -> list[Column]:
    return [Column(f.name, _SQL_TYPES[f.kind](), nullable=f.name != unique, unique=f.name == unique)
            for f in fields]


metadata = MetaData()

meta = Table("td_meta", metadata, Column("key", Text, primary_key=True), Column("value", Text))

def _entity_table(name: str, fields: tuple[Field, ...], unique: str, geometry_type: str) -> Table:
    """A feature layer of one entity: fid, the entity's fields, extra attributes as JSON, geometry."""
    return Table(
        name, metadata,
        Column("fid", Integer, primary_key=True),
        *_entity_columns(fields, unique),
        Column("attrs", Text),
        Column("geom", GpkgGeometry(geometry_type)),
        sqlite_autoincrement=True,
    )


units = _entity_table("units", UNIT_FIELDS, "unit_id", "MULTIPOLYGON")
accounts = _entity_table("accounts", ACCOUNT_FIELDS, "account_id", "POINT")
reps = _entity_table("reps", REP_FIELDS, "rep_id", "POINT")

TERRITORY_TOTALS = ("units", "accounts", "workload_hours", "potential")

territories = Table(
    "territories", metadata,
    Column("fid", Integer, primary_key=True),
    Column("scenario_id", Text, nullable=False),
    Column("territory_id", Text, nullable=False),
    Column("name", Text),
    Column("colour", Text),
    Column("rep_id", Text),
    Column("parent_id", Text),
    Column("level", Text),
    Column("kind", Text),
    Column("rule", Text),
    Column("units", Integer),
    Column("accounts", Integer),
    Column("workload_hours", Float),
    Column("potential", Float),
    Column("geom", GpkgGeometry("MULTIPOLYGON")),
    UniqueConstraint("scenario_id", "territory_id"),
    sqlite_autoincrement=True,
)

scenarios = Table(
    "scenarios", metadata,
    Column("scenario_id", Text, primary_key=True),
    Column("name", Text),
    Column("description", Text),
    Column("parent_id", Text),
    Column("created", Text),
    Column("active", Boolean),
)

assignments = Table(
    "assignments", metadata,
    Column("scenario_id", Text, nullable=False),
    Column("unit_id", Text, nullable=False),
    Column("territory_id", Text),
    PrimaryKeyConstraint("scenario_id", "unit_id"),
)

account_assignments = Table(
    "account_assignments", metadata,
    Column("scenario_id", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("territory_id", Text, nullable=False),
    PrimaryKeyConstraint("scenario_id", "account_id"),
)

sales = Table(
    "sales", metadata,
    Column("fid", Integer, primary_key=True),
    Column("account_id", Text, nullable=False, index=True),
    Column("period", Text, nullable=False),  # YYYY-MM
    Column("product", Text),
    Column("amount", Float),
)

visits = Table(
    "visits", metadata,
    Column("fid", Integer, primary_key=True),
    Column("account_id", Text, nullable=False, index=True),
    Column("rep_id", Text),
    Column("date", Text),  # ISO date
    Column("minutes", Float),
    Column("outcome", Text),
    Column("note", Text),
)

opportunities = Table(
    "opportunities", metadata,
    Column("opportunity_id", Text, primary_key=True),
    Column("account_id", Text, nullable=False, index=True),
    Column("rep_id", Text),
    Column("created", Text),
    Column("closed", Text),
    Column("stage", Text),
    Column("amount", Float),
    Column("won", Boolean),
)

notes = Table(
    "notes", metadata,
    Column("fid", Integer, primary_key=True),
    Column("entity_type", Text, nullable=False),  # account, rep, territory, unit
    Column("entity_id", Text, nullable=False),
    Column("created", Text),
    Column("author", Text),
    Column("text", Text),
)

audit_log = Table(
    "audit_log", metadata,
    Column("fid", Integer, primary_key=True),
    Column("ts", Text, nullable=False),
    Column("user", Text),
    Column("action", Text, nullable=False),
    Column("details", Text),
)

#: GeoPackage layers: table -> geometry type (None = attribute table), with a description for QGIS
LAYERS: dict[str, str | None] = {
    "units": "MULTIPOLYGON",
    "accounts": "POINT",
    "reps": "POINT",
    "territories": "MULTIPOLYGON",
    "scenarios": None,
    "assignments": None,
    "sales": None,
    "visits": None,
    "opportunities": None,
}
