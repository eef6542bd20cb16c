"""The columns of each entity, shared by storage (table schema), importers (column mapping) and views.

A field is (name, kind, default, aliases, doc, low, high, after). ``kind`` is one of "text", "real",
"int", "bool". Aliases are the header names the importers recognise (case, spaces and punctuation are
ignored when matching). ``low``/``high`` bound a number (inclusive) or, for text, its length in
characters; ``after`` names a field this one must be greater than (a closing time after its opening
time). Importers check every value against these ranges (see the README's table of valid ranges).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MINUTES_PER_DAY = 1440
#: the longest text any field keeps (a notes-sized cell); ids are shorter
MAX_TEXT = 10_000
MAX_ID = 200


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    default: object = None
    aliases: tuple[str, ...] = field(default=())
    doc: str = ""
    #: inclusive bounds: the value for numbers, the length in characters for text
    low: float | None = None
    high: float | None = None
    #: the name of a field of the same row this one must be greater than
    after: str | None = None
    #: a value is needed in every row (the column must be in the file, no cell blank)
    required: bool = False


def _text(name: str, default, aliases: tuple[str, ...], doc: str, high: int = MAX_TEXT) -> Field:
    return Field(name, "text", default, aliases, doc, 0, high)


def _minute(name: str, default: int, aliases: tuple[str, ...], doc: str, after: str | None = None) -> Field:
    return Field(name, "int", default, aliases, doc, 0, MINUTES_PER_DAY, after)


UNIT_FIELDS: tuple[Field, ...] = (
    _text("unit_id", None, ("id", "geoid", "fips", "zip", "zipcode", "code"), "unique unit id", MAX_ID),
    _text("name", "", ("unit_name", "label", "county", "name10"), "display name"),
    Field("area_km2", "real", 0.0, (), "area in square kilometres (computed)", 0, 5.1e8),
    Field("locked", "bool", False, (), "locked units are never moved by the balancer"),
)

ACCOUNT_FIELDS: tuple[Field, ...] = (
    _text("account_id", None, ("id", "account", "accountid", "account_number", "customer_id"), "unique id", MAX_ID),
    _text("name", "", ("account_name", "company", "customer", "customer_name"), "account name"),
    _text("segment", "", ("tier", "class", "account_segment"), "segment, e.g. A/B/C"),
    _text("industry", "", ("sector", "vertical"), "industry"),
    _text("size_class", "", ("company_size", "size", "employees_band"), "company size band"),
    Field("potential", "real", 0.0, ("sales_potential", "revenue_potential", "value"), "annual potential, currency",
          0, 1e15),
    Field("visit_frequency_weeks", "int", 4, ("frequency", "visit_frequency", "call_frequency"),
          "one visit every N weeks (0 = not visited)", 0, 520),
    Field("service_minutes", "real", 45.0, ("visit_minutes", "service_time", "duration"), "minutes per visit",
          0, MINUTES_PER_DAY),
    _minute("open_minute", 480, ("opens",), "opening time, minutes after midnight"),
    _minute("close_minute", 1020, ("closes",), "closing time, minutes after midnight", after="open_minute"),
    _text("zip", "", ("zipcode", "zip_code", "postal_code", "postcode"), "US ZIP code", 20),
    _text("unit_id", None, (), "the unit the account lies in (computed by placement)", MAX_ID),
)

REP_FIELDS: tuple[Field, ...] = (
    _text("rep_id", None, ("id", "rep", "employee_id", "salesperson_id"), "unique id", MAX_ID),
    _text("name", "", ("rep_name", "salesperson", "full_name"), "rep's name"),
    Field("capacity_hours", "real", 1600.0, ("capacity", "hours_per_year"), "workload capacity, hours per year",
          0, 8784),
    _text("skills", "", ("skill", "specialties"), "comma-separated skills"),
    _minute("work_start_minute", 480, ("start_minute",), "day start, minutes after midnight"),
    _minute("work_end_minute", 1020, ("end_minute",), "day end, minutes after midnight", after="work_start_minute"),
    _text("zip", "", ("zipcode", "zip_code", "postal_code", "home_zip"), "home ZIP code", 20),
)

#: valid coordinates of every point and polygon (EPSG:4326, degrees)
LATITUDE_RANGE = (-90.0, 90.0)
LONGITUDE_RANGE = (-180.0, 180.0)
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

_ACCOUNT_REF = ("account", "accountid", "account_number", "customer_id", "customer")
_REP_REF = ("rep", "employee_id", "salesperson_id", "owner_id", "owner")

#: history rows (kinds "month" = YYYY-MM and "date" = YYYY-MM-DD; ISO or other spellings are read).
#: Sales and visits have no id of their own: a sale is keyed by account, month and product, a visit by
#: account, rep and date (``services.history_import``).
SALE_FIELDS: tuple[Field, ...] = (
    Field("account_id", "text", None, _ACCOUNT_REF, "the account that bought", 0, MAX_ID, required=True),
    Field("period", "month", None, ("month", "date", "invoice_date", "sale_date", "order_date"),
          "month of the sale (YYYY-MM)", required=True),
    _text("product", "", ("product_line", "item", "sku", "category"), "product or product line"),
    Field("amount", "real", None, ("revenue", "sales", "value", "net_amount", "total"),
          "amount, currency (negative for credits)", -1e15, 1e15, required=True),
)
VISIT_FIELDS: tuple[Field, ...] = (
    Field("account_id", "text", None, _ACCOUNT_REF, "the account visited", 0, MAX_ID, required=True),
    Field("rep_id", "text", None, _REP_REF, "the rep who visited", 0, MAX_ID, required=True),
    Field("date", "date", None, ("visit_date", "day", "visited"), "date of the visit (YYYY-MM-DD)", required=True),
    Field("minutes", "real", 0.0, ("duration", "visit_minutes", "length"), "minutes spent", 0, MINUTES_PER_DAY),
    _text("outcome", "completed", ("result", "status"), "completed, rescheduled, no answer, ..."),
    _text("note", "", ("notes", "comment", "comments"), "free text"),
)
OPPORTUNITY_FIELDS: tuple[Field, ...] = (
    _text("opportunity_id", None, ("id", "opportunity", "opp_id", "deal_id"), "unique id", MAX_ID),
    Field("account_id", "text", None, _ACCOUNT_REF, "the account", 0, MAX_ID, required=True),
    Field("rep_id", "text", "", _REP_REF, "the rep who owns the deal", 0, MAX_ID),
    Field("created", "date", None, ("created_date", "opened", "open_date", "date"), "date opened (YYYY-MM-DD)",
          required=True),
    Field("closed", "date", None, ("close_date", "closed_date"), "date closed (blank while open)"),
    _text("stage", "", ("opportunity_stage", "status", "state"), "stage, e.g. Open, Closed Won, Closed Lost"),
    Field("amount", "real", 0.0, ("value", "deal_value", "deal_size"), "amount, currency", 0, 1e15),
    Field("won", "bool", None, ("is_won", "closed_won", "result"), "won (true), lost (false), blank while open"),
)

TERRITORY_LEVELS = ("territory", "district", "region")


def field_names(fields: tuple[Field, ...]) -> list[str]:
    return [f.name for f in fields]


def valid_range(f: Field) -> str:
    """The documented valid range of a field, as shown in error messages and the README."""
    if f.kind == "bool":
        return "true/false"
    if f.kind == "date":
        return "a date (YYYY-MM-DD)"
    if f.kind == "month":
        return "a month (YYYY-MM)"
    if f.kind == "text":
        return f"up to {int(f.high)} characters" if f.high is not None else "any text"
    unit = "a whole number" if f.kind == "int" else "a number"
    text = f"{unit} from {f.low:g} to {f.high:g}"
    return text + (f", greater than {f.after}" if f.after else "")
