"""The columns of each entity, shared by storage (table schema), importers (column mapping) and views.

A field is (name, kind, default, aliases). ``kind`` is one of "text", "real", "int", "bool". Aliases are
the header names the importers recognise (case, spaces and punctuation are ignored when matching).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    default: object = None
    aliases: tuple[str, ...] = field(default=())
    doc: str = ""


UNIT_FIELDS: tuple[Field, ...] = (
    Field("unit_id", "text", None, ("id", "geoid", "fips", "zip", "zipcode", "code"), "unique unit id"),
    Field("name", "text", "", ("unit_name", "label", "county", "name10"), "display name"),
    Field("area_km2", "real", 0.0, (), "area in square kilometres (computed)"),
    Field("locked", "bool", False, (), "locked units are never moved by the balancer"),
)

ACCOUNT_FIELDS: tuple[Field, ...] = (
    Field("account_id", "text", None, ("id", "account", "accountid", "account_number", "customer_id"), "unique id"),
    Field("name", "text", "", ("account_name", "company", "customer", "customer_name"), "account name"),
    Field("segment", "text", "", ("tier", "class", "account_segment"), "segment, e.g. A/B/C"),
    Field("industry", "text", "", ("sector", "vertical"), "industry"),
    Field("size_class", "text", "", ("company_size", "size", "employees_band"), "company size band"),
    Field("potential", "real", 0.0, ("sales_potential", "revenue_potential", "value"), "annual potential, currency"),
    Field("visit_frequency_weeks", "int", 4, ("frequency", "visit_frequency", "call_frequency"),
          "one visit every N weeks (0 = not visited)"),
    Field("service_minutes", "real", 45.0, ("visit_minutes", "service_time", "duration"), "minutes per visit"),
    Field("open_minute", "int", 480, ("opens",), "opening time, minutes after midnight"),
    Field("close_minute", "int", 1020, ("closes",), "closing time, minutes after midnight"),
    Field("zip", "text", "", ("zipcode", "zip_code", "postal_code", "postcode"), "US ZIP code"),
    Field("unit_id", "text", None, (), "the unit the account lies in (computed by placement)"),
)

REP_FIELDS: tuple[Field, ...] = (
    Field("rep_id", "text", None, ("id", "rep", "employee_id", "salesperson_id"), "unique id"),
    Field("name", "text", "", ("rep_name", "salesperson", "full_name"), "rep's name"),
    Field("capacity_hours", "real", 1600.0, ("capacity", "hours_per_year"), "workload capacity, hours per year"),
    Field("skills", "text", "", ("skill", "specialties"), "comma-separated skills"),
    Field("work_start_minute", "int", 480, ("start_minute",), "day start, minutes after midnight"),
    Field("work_end_minute", "int", 1020, ("end_minute",), "day end, minutes after midnight"),
    Field("zip", "text", "", ("zipcode", "zip_code", "postal_code", "home_zip"), "home ZIP code"),
)

LEAD_FIELDS: tuple[Field, ...] = (
    Field("lead_id", "text", None, ("id", "lead", "leadid", "lead_number"), "unique lead id"),
    Field("company", "text", "", ("company_name", "account_name", "organisation", "organization"), "company"),
    Field("domain", "text", "", ("website", "web", "url", "email", "e_mail"), "web domain or e-mail"),
    Field("value", "real", 0.0, ("amount", "deal_value", "estimated_value", "potential"), "expected value"),
    Field("industry", "text", "", ("sector", "vertical"), "industry"),
    Field("product", "text", "", ("product_line", "interest"), "product of interest"),
    Field("source", "text", "", ("lead_source", "channel"), "where the lead came from"),
    Field("date", "text", "", ("created", "lead_date", "created_date"), "date the lead came in (ISO)"),
    Field("zip", "text", "", ("zipcode", "zip_code", "postal_code", "postcode"), "US ZIP code"),
    Field("status", "text", "open", ("lead_status", "state"), "open or closed"),
)

TERRITORY_LEVELS = ("territory", "district", "region")


def field_names(fields: tuple[Field, ...]) -> list[str]:
    return [f.name for f in fields]
