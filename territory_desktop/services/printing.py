"""What goes on printed pages (Qt-free): page sizes, scale-bar arithmetic, territory order, totals and KPIs
per territory, account table rows and their pagination. The Qt page layout lives in ``ui/print``.

Lengths on paper are millimetres; ground lengths are metres unless a name says miles or km.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd
import pyproj

from ..models import InvalidInputError, Project
from .metrics import account_workload, territory_totals
from .ownership import account_owners

MM_PER_INCH = 25.4
METRES_PER_MILE = 1609.344
#: paper sizes, portrait (width, height) in mm
PAGE_SIZES_MM: dict[str, tuple[float, float]] = {
    "letter": (215.9, 279.4), "legal": (215.9, 355.6), "tabloid": (279.4, 431.8),
    "a4": (210.0, 297.0), "a3": (297.0, 420.0),
}


@dataclass(frozen=True)
class PageSpec:
    """A sheet as printed: ``name`` (letter, a4, custom, ...), oriented width and height in mm."""

    name: str
    width_mm: float
    height_mm: float

    @property
    def landscape(self) -> bool:
        return self.width_mm > self.height_mm


def page_spec(name: str, landscape: bool = False) -> PageSpec:
    """Parse a page name: a known size (letter, legal, tabloid, a4, a3) or a custom ``WxH`` with an optional
    unit suffix ``mm`` (default) or ``in``, e.g. ``600x900mm`` or ``24x36in``. ``landscape`` puts the long
    side across. Raises InvalidInputError for an unknown name or a size outside 50..2000 mm."""
    key = name.strip().lower()
    if key in PAGE_SIZES_MM:
        w, h = PAGE_SIZES_MM[key]
    else:
        m = re.fullmatch(r"(?:custom:)?(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)(mm|in)?", key)
        if not m:
            known = ", ".join(PAGE_SIZES_MM)
            raise InvalidInputError("--page", [(f"'{name}' is not a page size ({known}) or WxH[mm|in], "
                                               "e.g. 600x900mm or 24x36in")])
        factor = MM_PER_INCH if m.group(3) == "in" else 1.0
        w, h = float(m.group(1)) * factor, float(m.group(2)) * factor
        if not (50 <= w <= 2000 and 50 <= h <= 2000):
            raise InvalidInputError("--page", [f"custom page {w:.0f}x{h:.0f} mm is outside 50..2000 mm"])
        key = "custom"
    short, long_ = min(w, h), max(w, h)
    return PageSpec(key, long_, short) if landscape else PageSpec(key, short, long_)


# ---------------------------------------------------------------- scale


def parallel_scale_factor(crs: str, lon: float, lat: float) -> float:
    """Scale factor k of projection ``crs`` along the parallel at (lon, lat): projected metres per ground
    metre east-west. Conic projections such as EPSG:5070 are only true (k = 1) on their standard parallels."""
    factors = _proj(crs).get_factors(lon, lat)
    return float(factors.parallel_scale)


@lru_cache(maxsize=8)
def _proj(crs: str) -> pyproj.Proj:
    return pyproj.Proj(pyproj.CRS(crs))


@lru_cache(maxsize=16)
def transformer(source: str, target: str) -> pyproj.Transformer:
    """A cached lon/lat-ordered transformer from ``source`` to ``target`` CRS."""
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


@dataclass(frozen=True)
class ScaleBar:
    """A scale bar: ``length`` ground ``units`` ("mi" or "km") drawn ``length_mm`` long in ``segments``."""

    length: float
    units: str
    segments: int
    length_mm: float

    def label(self, value: float | None = None) -> str:
        v = self.length if value is None else value
        return f"{v:g} {self.units}"


def nice_length(limit: float) -> float:
    """The largest 1, 2, 2.5 or 5 x 10^n not above ``limit`` (> 0)."""
    if limit <= 0 or not math.isfinite(limit):
        raise ValueError(f"scale bar limit must be positive, got {limit}")
    exp = math.floor(math.log10(limit))
    for step in (5.0, 2.5, 2.0, 1.0):
        v = step * 10.0 ** exp
        if v <= limit * (1 + 1e-9):
            return v
    return 10.0 ** exp


def scale_bar(mm_per_projected_metre: float, scale_factor: float, max_mm: float, units: str = "mi") -> ScaleBar:
    """The longest round scale bar that fits in ``max_mm``.

    ``mm_per_projected_metre`` is the map's paper scale in drawing units (mm of paper per metre of the
    projected CRS); ``scale_factor`` is the projection's point scale k at the map centre (projected metres
    per ground metre), so one ground metre is ``mm_per_projected_metre * k`` mm of paper.
    """
    if units not in ("mi", "km"):
        raise InvalidInputError("--units", [f"'{units}' is not mi or km"])
    unit_m = METRES_PER_MILE if units == "mi" else 1000.0
    mm_per_unit = mm_per_projected_metre * scale_factor * unit_m
    length = nice_length(max_mm / mm_per_unit)
    lead = round(length / 10 ** math.floor(math.log10(length)), 6)
    segments = {1.0: 4, 2.0: 4, 2.5: 5, 5.0: 5}.get(lead, 4)
    return ScaleBar(length, units, segments, length * mm_per_unit)


def scale_text(mm_per_projected_metre: float, scale_factor: float) -> str:
    """The representative fraction "1 : 12,500,000" at the map centre (rounded to 3 significant digits)."""
    denominator = 1000.0 / (mm_per_projected_metre * scale_factor)
    rounded = float(f"{denominator:.3g}")
    return f"1 : {rounded:,.0f}"


# ---------------------------------------------------------------- territories


@dataclass
class TerritorySummary:
    """One territory's line in the legend and its KPI block. Money in project currency, hours per year."""

    number: int
    territory_id: str
    name: str
    rep_name: str
    colour: str | None
    units: int
    accounts: int
    workload_hours: float
    potential: float
    deviation_pct: float
    capacity_hours: float | None
    group: str = ""
    kpis: list[tuple[str, str]] = field(default_factory=list)


def fmt_money(v: float) -> str:
    """$1.23M, $45.6K, $980."""
    a = abs(v)
    if a >= 1e9:
        return f"${v / 1e9:.2f}B"
    if a >= 1e6:
        return f"${v / 1e6:.2f}M"
    if a >= 1e4:
        return f"${v / 1e3:.1f}K"
    return f"${v:,.0f}"


def fmt_hours(v: float) -> str:
    return f"{v:,.0f} h"


def _ancestors(terr_all: pd.DataFrame) -> dict[str, str]:
    """territory_id -> "Region / District" label from parent_id links (empty when there is no hierarchy)."""
    names = dict(zip(terr_all["territory_id"].astype(str), terr_all["name"].astype(str), strict=True))
    parents = dict(zip(terr_all["territory_id"].astype(str), terr_all["parent_id"], strict=True))
    out = {}
    for tid in names:
        chain, p, seen = [], parents.get(tid), set()
        while isinstance(p, str) and p in names and p not in seen:
            seen.add(p)
            chain.append(names[p])
            p = parents.get(p)
        out[tid] = " / ".join(reversed(chain))
    return out


def territory_summaries(project: Project, scenario_id: str | None = None) -> list[TerritorySummary]:
    """Territories of the scenario in print order (by region / district, then name), numbered from 1,
    with rep names, totals from :func:`territory_totals` and KPI lines for the map book."""
    sid = scenario_id or project.active_scenario
    totals = territory_totals(project, sid)
    terr = project.scenario_territories(sid).set_index("territory_id")
    groups = _ancestors(project.territories[project.territories["scenario_id"] == sid])
    reps = project.reps.set_index("rep_id") if len(project.reps) else pd.DataFrame(columns=["name"])
    mean_hours = float(totals.loc[totals["kind"] != "account", "workload_hours"].mean()) if len(totals) else 0.0
    rows = []
    for t in totals.itertuples():
        tid = str(t.territory_id)
        rep_id = t.rep_id if isinstance(t.rep_id, str) else None
        rep_name = str(reps.loc[rep_id, "name"]) if rep_id is not None and rep_id in reps.index else "(vacant)"
        cap = float(reps.loc[rep_id, "capacity_hours"]) if rep_id is not None and rep_id in reps.index \
            and "capacity_hours" in reps.columns and pd.notna(reps.loc[rep_id, "capacity_hours"]) else None
        colour = terr.loc[tid, "colour"] if tid in terr.index else None
        rows.append(TerritorySummary(0, tid, str(t.name), rep_name, colour if isinstance(colour, str) else None,
                                     int(t.units), int(t.accounts), float(t.workload_hours), float(t.potential),
                                     float(t.workload_deviation_pct), cap, groups.get(tid, "")))
    rows.sort(key=lambda s: (s.group, s.name.lower(), s.territory_id))
    for i, s in enumerate(rows, start=1):
        s.number = i
        s.kpis = _kpis(s, mean_hours)
    return rows


def _kpis(s: TerritorySummary, mean_hours: float) -> list[tuple[str, str]]:
    out = [("Rep", s.rep_name), ("Accounts", f"{s.accounts:,}"), ("Units", f"{s.units:,}"),
           ("Potential", fmt_money(s.potential)), ("Workload", f"{fmt_hours(s.workload_hours)} / yr"),
           ("vs. mean workload", f"{s.deviation_pct:+.1f}% (mean {fmt_hours(mean_hours)})")]
    if s.capacity_hours:
        out.append(("Rep utilisation", (f"{100.0 * s.workload_hours / s.capacity_hours:.0f}% of "
                                       f"{fmt_hours(s.capacity_hours)}")))
    if s.group:
        out.append(("District", s.group))
    return out


# ---------------------------------------------------------------- accounts table

#: (field, header, alignment "l"/"r", relative width) of the accounts table
ACCOUNT_COLUMNS: list[tuple[str, str, str, float]] = [
    ("account_id", "ID", "l", 0.9), ("name", "Account", "l", 2.3), ("segment", "Seg", "l", 0.55),
    ("industry", "Industry", "l", 1.3), ("potential", "Potential", "r", 1.15),
    ("visit", "Every", "r", 0.75), ("hours", "Hours/yr", "r", 1.05),
]


def account_rows(project: Project, territory_id: str, scenario_id: str | None = None) -> list[tuple[str, ...]]:
    """Rows of the accounts table of one territory (cells as text, columns of ``ACCOUNT_COLUMNS``), the
    largest potential first."""
    return accounts_by_territory(project, scenario_id).get(territory_id, [])


def accounts_by_territory(project: Project, scenario_id: str | None = None,
                          limit: int = 0) -> dict[str, list[tuple[str, ...]]]:
    """Account table rows of every territory (territory_id -> rows, largest potential first, ties by id);
    ``limit`` > 0 keeps only that many rows per territory."""
    a = project.accounts
    if not len(a):
        return {}
    owners = account_owners(project, scenario_id).to_numpy()
    hours = account_workload(project).to_numpy()
    ids = a["account_id"].astype(str).to_numpy()
    potential = a["potential"].fillna(0.0).to_numpy(float)
    freq = a["visit_frequency_weeks"].fillna(0).to_numpy(float).astype(int)
    names, segs, inds = (a[c].map(_text).to_numpy() for c in ("name", "segment", "industry"))
    order = np.lexsort((ids, -potential))
    out: dict[str, list[tuple[str, ...]]] = {}
    for i in order:
        t = owners[i]
        if not isinstance(t, str):
            continue
        rows = out.setdefault(t, [])
        if limit and len(rows) >= limit:
            continue
        f = freq[i]
        rows.append((ids[i], names[i], segs[i], inds[i], fmt_money(potential[i]),
                     f"{f} wk" if f > 0 else "none", f"{hours[i]:,.1f}"))
    return out


def _text(v: object) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def paginate(rows: list, first: int, rest: int) -> list[list]:
    """Split ``rows`` into pages: ``first`` rows on the first page, ``rest`` on each later one (at least one
    page, possibly empty)."""
    if first < 0 or rest < 1:
        raise ValueError("page capacities must be first >= 0 and rest >= 1")
    pages = [rows[:first]]
    for start in range(first, len(rows), rest):
        pages.append(rows[start:start + rest])
    return pages


_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]+')


def safe_file_name(name: str, suffix: str = ".pdf", fallback: str = "territories") -> str:
    """A file name every system accepts, from a project name: ``"Demo: lower-48 counties"`` ->
    ``"Demo - lower-48 counties.pdf"`` (no colon, slash, quote or control character; no dot or space
    at the ends; Windows device names avoided)."""
    stem = _UNSAFE.sub(" - ", name or "").strip(" .-")
    stem = re.sub(r"\s+", " ", re.sub(r"( - )+", " - ", stem)).strip()
    if not stem or stem.upper() in {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)),
                                    *(f"LPT{i}" for i in range(10))}:
        stem = fallback
    return f"{stem[:120]}{suffix}"


def footer_text(project: Project, source: str | None = None, when: date | None = None) -> str:
    """"Printed 2026-11-26 · Source: demo.gpkg, scenario Base" (``source`` overrides the file name)."""
    when = when or date.today()
    scen = project.scenarios
    sname = scen.loc[scen["scenario_id"] == project.active_scenario, "name"]
    scenario = str(sname.iloc[0]) if len(sname) else project.active_scenario
    src = source or (project.path.replace("\\", "/").rsplit("/", 1)[-1] if project.path else project.name)
    return f"Printed {when.isoformat()} · Source: {src}, scenario {scenario}"
