"""The in-memory project: geographic units, accounts, reps, territories, scenarios and history.

Geometry is kept in EPSG:4326 (longitude/latitude), the CRS of the project file. Engines that need
metres reproject through ``services`` adapters.

Tables (pandas / GeoPandas, one row per record):

- ``units``: GeoDataFrame, ``unit_id`` unique, MultiPolygon geometry, fields of ``UNIT_FIELDS`` plus any
  extra numeric attribute columns.
- ``accounts``: GeoDataFrame, Point geometry, fields of ``ACCOUNT_FIELDS`` (``unit_id`` from placement).
- ``reps``: GeoDataFrame, Point geometry at the rep's home, fields of ``REP_FIELDS``.
- ``territories``: DataFrame with ``scenario_id, territory_id, name, colour, rep_id, parent_id, level,
  kind, rule``; ``level`` is territory/district/region (roll-up via ``parent_id``); ``kind`` is
  "geographic" or "account" (defined by an attribute ``rule``).
- ``scenarios``: DataFrame ``scenario_id, name, description, parent_id, created``.
- ``plans``: scenario_id -> :class:`Plan`.
- ``sales``, ``visits``, ``opportunities``: history tables (may be empty). ``sales``, ``visits`` and
  ``planned_visits`` rows have no business id: a frame read from a file carries a ``fid`` column (the
  row's id in the file; NaN for rows added since), by which saves update and delete rows.
- ``leads``, ``lead_rotation``: imported leads with their territory, rep and explanation; round-robin state.
- ``quotas``: quota sets stored by ``quotas --save`` (``QUOTA_COLUMNS``), read by the report and the KPI dock.
- ``lead_rules``: the planner's lead rules (``LEAD_RULE_COLUMNS``, schema 6), used when no rules file is given.
- ``planned_visits``: saved visit plans, one row per planned stop (see ``PLANNED_VISIT_COLUMNS``).
- ``scenario_reviews``, ``snapshots``, ``comments``, ``project_users``: the review flow, published snapshots, comment
  threads and the people of the project (``models.review``); ``plans_in_force`` the dated plan history.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from .fields import ACCOUNT_FIELDS, REP_FIELDS, UNIT_FIELDS, Field
from .plan import Plan
from .review import COMMENT_COLUMNS, REVIEW_COLUMNS, SNAPSHOT_COLUMNS, USER_COLUMNS

CRS = "EPSG:4326"

TERRITORY_COLUMNS = ["scenario_id", "territory_id", "name", "colour", "rep_id", "parent_id", "level", "kind", "rule"]
SCENARIO_COLUMNS = ["scenario_id", "name", "description", "parent_id", "created"]
SALES_COLUMNS = ["account_id", "period", "product", "amount"]
VISIT_COLUMNS = ["account_id", "rep_id", "date", "minutes", "outcome", "note"]
#: a saved visit plan: one row per planned stop (``date`` ISO, minutes after midnight, ``status`` planned/done)
PLANNED_VISIT_COLUMNS = ["rep_id", "account_id", "date", "sequence", "arrive_minute", "depart_minute", "status"]
#: leads and their assignment (``services.leads``); ``status`` open/closed; lon/lat in EPSG:4326
LEAD_COLUMNS = ["lead_id", "company", "domain", "value", "industry", "product", "source", "date", "zip", "lon",
                "lat", "status", "territory_id", "rep_id", "account_id", "matched_by", "explanation",
                "not_applied", "assigned"]
#: round-robin state of lead distribution: one row per pool of reps ("R1|R2"), ``state`` JSON
LEAD_ROTATION_COLUMNS = ["pool", "state"]
#: stored quotas (``services.quotas.save_quotas``, schema 5): one row per territory of a quota set, a set being
#: (scenario_id, period); ``period`` "2027-01..2027-12" spans the months period_start..period_end (DATE, first
#: and last day); ``ramp_months``/``in_role_from``/``ramped_quota``/``monthly`` (JSON {month: quota}) only for
#: a new rep's ramp; ``created_at`` ISO UTC
QUOTA_COLUMNS = ["scenario_id", "period", "territory_id", "rep_id", "period_start", "period_end", "quota", "share",
                 "method", "ramp_months", "in_role_from", "ramped_quota", "monthly", "created_at"]
#: stored lead rules (``services.lead_rules.store_rules``, schema 6): one row per named rule set (the one in use
#: is "default"); ``rules`` is the rules file's JSON object, ``updated_at`` ISO UTC, ``updated_by`` the user
LEAD_RULE_COLUMNS = ["name", "rules", "updated_at", "updated_by"]
OPPORTUNITY_COLUMNS = ["opportunity_id", "account_id", "rep_id", "created", "closed", "stage", "amount", "won"]


def empty_frame(fields: tuple[Field, ...], geometry: bool = True) -> pd.DataFrame:
    df = pd.DataFrame({f.name: pd.Series(dtype=_dtype(f.kind)) for f in fields})
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries([], crs=CRS)) if geometry else df


def _dtype(kind: str) -> str:
    return {"text": "object", "real": "float64", "int": "int64", "bool": "bool"}[kind]


@dataclass(frozen=True)
class TerritoryShape:
    """A territory's dissolved polygon and totals as last computed (the file's territories layer).

    ``units_key`` digests the units the polygon was dissolved from (``plan.units_digest``): while it
    matches, the polygon is still right and a save does not dissolve it again.
    """

    units_key: str | None
    geometry: object = None  # shapely MultiPolygon, or None for a territory without units
    units: int | None = None
    accounts: int | None = None
    workload_hours: float | None = None
    potential: float | None = None


@dataclass
class Project:
    """Everything a planner edits, as one object. See the module docstring for the tables."""

    name: str = "Untitled"
    #: the file the project was opened from or last saved to (None for a new, unsaved project)
    path: str | None = None
    units: gpd.GeoDataFrame = field(default_factory=lambda: empty_frame(UNIT_FIELDS))
    accounts: gpd.GeoDataFrame = field(default_factory=lambda: empty_frame(ACCOUNT_FIELDS))
    reps: gpd.GeoDataFrame = field(default_factory=lambda: empty_frame(REP_FIELDS))
    territories: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TERRITORY_COLUMNS))
    scenarios: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        [{"scenario_id": "base", "name": "Base", "description": "", "parent_id": None, "created": ""}],
        columns=SCENARIO_COLUMNS))
    plans: dict[str, Plan] = field(default_factory=lambda: {"base": Plan()})
    active_scenario: str = "base"
    sales: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SALES_COLUMNS))
    visits: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=VISIT_COLUMNS))
    opportunities: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=OPPORTUNITY_COLUMNS))
    #: the visit plans kept in the project (routes the planner made and edited), dirty flag "planned_visits"
    planned_visits: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PLANNED_VISIT_COLUMNS))
    #: leads assigned to territories and reps, and the round-robin state (dirty flag "leads" for both)
    leads: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LEAD_COLUMNS))
    lead_rotation: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LEAD_ROTATION_COLUMNS))
    #: quota sets per (scenario, period) (dirty flag "quotas")
    quotas: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=QUOTA_COLUMNS))
    #: the planner's lead rules (dirty flag "lead_rules")
    lead_rules: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LEAD_RULE_COLUMNS))
    #: plans in force over time, [(from ISO date, scenario id or Plan)], for attributing history (services.kpi);
    #: empty: today's plan (the active scenario) owned every sale
    plans_in_force: list = field(default_factory=list)
    #: review flow (one row per state change, ``fid`` column as for sales), published snapshots, comments,
    #: people (dirty flags of the same names; "plans_in_force" for the list above)
    scenario_reviews: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REVIEW_COLUMNS))
    snapshots: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SNAPSHOT_COLUMNS))
    comments: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COMMENT_COLUMNS))
    project_users: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=USER_COLUMNS))
    #: who is working on the project (audit log, comments, reviews); empty: the operating-system user
    user: str = ""
    #: names of tables changed since the last save ("units", "accounts", ..., "plans")
    dirty: set[str] = field(default_factory=set)
    #: audit entries (action, details) written to the audit log by the next save
    pending_audit: list[tuple[str, str]] = field(default_factory=list)
    #: (scenario_id, territory_id) -> dissolved polygon and totals, as in the file's territories layer
    territory_shapes: dict[tuple[str, str], TerritoryShape] = field(default_factory=dict)
    #: what opening the project found and repaired (edits made in other programs), for the user to read
    open_notes: list[str] = field(default_factory=list)
    #: True while the history tables (sales, visits, opportunities) of a project opened with
    #: ``open_project(..., history=False)`` are not read yet (``services.project.ensure_history``)
    history_pending: bool = False
    #: what the last save did differently from what was asked (a Save As that took the history from a
    #: newer revision, or saved without it), for the user to read
    save_notes: list[str] = field(default_factory=list)
    #: storage's record of the rows as last read or written (by table) and the file revision: a save
    #: writes the difference. Owned by storage; other layers never read or change it.
    baseline: dict = field(default_factory=dict, repr=False)

    @property
    def plan(self) -> Plan:
        """The plan of the active scenario."""
        return self.plans[self.active_scenario]

    def scenario_territories(self, scenario_id: str | None = None, level: str = "territory") -> pd.DataFrame:
        sid = scenario_id or self.active_scenario
        t = self.territories
        # numpy masks: a fifth of the time of pandas' Series comparisons (called several times per refresh)
        return t[(t["scenario_id"].to_numpy() == sid) & (t["level"].to_numpy() == level)]

    def mark_dirty(self, *tables: str) -> None:
        self.dirty.update(tables)

    def log(self, action: str, details: str = "") -> None:
        """Record an audit entry; it reaches the file's audit_log with the next save."""
        self.pending_audit.append((action, details))

