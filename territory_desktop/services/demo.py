"""Build the bundled demo project from real geography shipped in pip packages.

- Units: the lower-48 US counties (Census cartographic boundaries 2016, 1:500k, from ``plotly-geo``).
- Accounts: generated at real ZIP centroids (``zipcodes``), ZIPs drawn uniformly so account density
  follows the real density of ZIP codes; segment, industry, potential, visit frequency from seeded draws.
- Reps: 40 at real city locations (the mean centroid of the city's standard ZIP codes).
- Field coverage: accounts within 2.5 h of their rep's home fill the rep's field book up to 82 % of its
  capacity (A, then B); C accounts, farther ones and what does not fit are served remotely (frequency 0).
- Territories: one per rep, each county to its nearest rep home (a realistic, unbalanced start for the
  balancer), rolled up to districts (Census divisions) and regions (Census regions) of the rep's state.
- History: 36 months of sales, 12 months of visits and 3 years of opportunities, ending October 2026.

Everything comes from ``numpy.random.default_rng(seed)``: the same seed gives the same tables.
"""

from __future__ import annotations

from importlib import resources

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..engine.colouring import neighbour_colours
from ..engine.crs import US_ALBERS
from ..models import CRS, Plan, Project, ProjectFileError
from ..models.progress import Progress, no_progress
from ..storage import reference
from ..storage.geocode import zip_table
from ..storage.vector import read_units
from .demo_coverage import apply_field_coverage
from .demo_history import enrich_history
from .importing import _place
from .ownership import account_reps

HISTORY_END = pd.Period("2026-10", freq="M")

INDUSTRIES = ["Healthcare", "Manufacturing", "Retail", "Education", "Hospitality", "Construction",
              "Logistics", "Professional Services"]
NAME_A = ["Summit", "Harbor", "Pioneer", "Cedar", "Liberty", "Granite", "Riverside", "Prairie", "Beacon",
          "Keystone", "Evergreen", "Frontier", "Lakeside", "Northstar", "Redwood", "Sterling"]
NAME_B = {"Healthcare": ["Clinic", "Medical Group", "Dental", "Health Partners"],
          "Manufacturing": ["Fabrication", "Industries", "Machining", "Plastics"],
          "Retail": ["Market", "Outfitters", "Supply", "Hardware"],
          "Education": ["Academy", "School District", "College", "Learning Center"],
          "Hospitality": ["Hotel", "Grill", "Inn", "Resorts"],
          "Construction": ["Builders", "Contracting", "Concrete", "Roofing"],
          "Logistics": ["Freight", "Logistics", "Distribution", "Transport"],
          "Professional Services": ["Advisors", "Law Group", "Accounting", "Consulting"]}
FIRST = ["Alex", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn", "Drew",
         "Maria", "James", "Priya", "Chen", "Fatima", "Luis", "Grace", "Omar", "Hannah", "Diego"]
LAST = ["Garcia", "Smith", "Nguyen", "Johnson", "Patel", "Brown", "Kim", "Davis", "Lopez", "Wilson",
        "Clark", "Young", "Hall", "Rivera", "Scott", "Adams", "Baker", "Reed", "Foster", "Hughes"]


def _demo_resource(name: str) -> pd.DataFrame:
    with resources.files("territory_desktop.resources.demo").joinpath(name).open("rb") as fh:
        return pd.read_csv(fh, dtype=str)


def load_counties() -> gpd.GeoDataFrame:
    """Lower-48 counties as units: unit_id = 5-digit FIPS, name 'County, ST', state and land area."""
    counties, states_file = reference.plotly_geo_file(reference.COUNTIES), reference.plotly_geo_file(reference.STATES)
    if counties is None or states_file is None:
        raise ProjectFileError("the demo needs the plotly-geo package (pip install plotly-geo)")
    read = read_units(counties, "GEOID", "NAME", source_crs="EPSG:4269")
    units = read.frame
    units = units[~units["STATEFP"].isin(reference.NOT_LOWER_48)].copy()
    states = gpd.read_file(states_file, engine="pyogrio", columns=["STATEFP", "STUSPS"])
    abbrev = dict(zip(states["STATEFP"], states["STUSPS"], strict=True))
    units["state"] = units["STATEFP"].map(abbrev)
    units["name"] = units["name"] + ", " + units["state"]
    units["land_km2"] = units["ALAND"].astype(float) / 1e6
    keep = ["unit_id", "name", "area_km2", "locked", "state", "land_km2", "geometry"]
    return units[keep].sort_values("unit_id").reset_index(drop=True)


def build_demo(seed: int = 7, n_accounts: int = 20_000, progress: Progress = no_progress) -> Project:
    """The demo project (see the module docstring). Deterministic for a given seed."""
    rng = np.random.default_rng(seed)
    progress(0.0, "reading counties")
    project = Project(name="Demo: lower-48 counties")
    project.units = gpd.GeoDataFrame(load_counties(), crs=CRS)
    progress(0.2, "generating accounts")
    project.accounts = _accounts(rng, n_accounts)
    outside = _place(project)
    project.log("demo", f"seed {seed}; {n_accounts} accounts, {len(outside)} outside every county")
    progress(0.4, "placing reps")
    project.reps = _reps(rng)
    progress(0.5, "initial alignment")
    _alignment(project)
    field = apply_field_coverage(project)  # who the field visits, how often (services/demo_coverage.py)
    project.log("demo", f"{int(field.sum())} accounts in the reps' field books, {len(field) - int(field.sum())} "
                "served remotely (visit frequency 0)")
    progress(0.7, "generating history")
    project.sales = _sales(rng, project.accounts)
    owners = account_reps(project).to_numpy()
    project.visits = _visits(rng, project.accounts, owners)
    project.opportunities = _opportunities(rng, project.accounts, owners)
    enrich_history(project, rng)  # trends, a sudden drop, falling coverage, churn (services/demo_history.py)
    project.mark_dirty("units", "accounts", "reps", "territories", "scenarios", "plans", "sales", "visits",
                       "opportunities")
    progress(1.0, "done")
    return project


def _accounts(rng: np.random.Generator, n: int) -> gpd.GeoDataFrame:
    zips = zip_table()
    states = set(_demo_resource("census_divisions.csv")["state"]) - {"AK", "HI"}
    pool = zips[(zips["zip_code_type"] == "STANDARD") & zips["active"].astype(bool) & zips["state"].isin(states)]
    pool = pool.sort_index()
    pick = rng.integers(0, len(pool), n)
    chosen = pool.iloc[pick]
    segment = rng.choice(np.array(["A", "B", "C"]), n, p=[0.1, 0.3, 0.6])
    industry = rng.choice(np.array(INDUSTRIES), n)
    size = rng.choice(np.array(["Small", "Mid-market", "Enterprise"]), n, p=[0.6, 0.3, 0.1])
    base = np.select([segment == "A", segment == "B"], [120_000.0, 45_000.0], 15_000.0)
    potential = np.round(base * rng.lognormal(0.0, 0.5, n), -2)
    # Drawn frequencies (A every 4 weeks, a third every 2; B every 8; C twice a year or never); the
    # field-coverage model (services/demo_coverage.py) then decides who is visited and sets the rest to 0.
    freq = np.select([segment == "A", segment == "B"],
                     [rng.choice([2, 4, 4], n), np.full(n, 8)], rng.choice([0, 26], n))
    minutes = np.where(segment == "A", 60.0, np.where(segment == "B", 45.0, 30.0))
    opens = rng.choice([420, 480, 540], n)
    closes = rng.choice([960, 1020, 1080], n)
    name_a = rng.choice(np.array(NAME_A), n)
    name_b_idx = rng.integers(0, 4, n)
    names = [f"{a} {NAME_B[ind][k]} ({city})" for a, ind, k, city in
             zip(name_a, industry, name_b_idx, chosen["city"].to_numpy(), strict=True)]
    frame = pd.DataFrame({
        "account_id": [f"A{i:05d}" for i in range(1, n + 1)],
        "name": names, "segment": segment, "industry": industry, "size_class": size,
        "potential": potential, "visit_frequency_weeks": freq.astype(np.int64), "service_minutes": minutes,
        "open_minute": opens.astype(np.int64), "close_minute": closes.astype(np.int64),
        "zip": chosen.index.to_numpy(dtype=object), "unit_id": None,
    })
    geometry = gpd.GeoSeries.from_xy(chosen["lon"].to_numpy(), chosen["lat"].to_numpy(), crs=CRS)
    return gpd.GeoDataFrame(frame, geometry=geometry)


def _reps(rng: np.random.Generator) -> gpd.GeoDataFrame:
    zips = zip_table()
    cities = _demo_resource("rep_cities.csv")
    rows, xs, ys = [], [], []
    for i, c in enumerate(cities.itertuples(), start=1):
        match = zips[(zips["city"].str.lower() == c.city.lower()) & (zips["state"] == c.state)
                     & (zips["zip_code_type"] == "STANDARD")]
        xs.append(float(match["lon"].mean()))
        ys.append(float(match["lat"].mean()))
        skills = sorted(rng.choice(np.array(INDUSTRIES), 2, replace=False).tolist())
        rows.append({"rep_id": f"R{i:02d}", "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                     "capacity_hours": 1600.0, "skills": ",".join(skills), "work_start_minute": 480,
                     "work_end_minute": 1020, "zip": match.index.min(), "city": f"{c.city}, {c.state}"})
    frame = pd.DataFrame(rows)
    frame["name"] = distinct_names(frame["name"].tolist())
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries.from_xy(xs, ys, crs=CRS))


def distinct_names(names: list[str]) -> list[str]:
    """``names`` ("First Last") with repeats renamed: the first holder keeps the name, a later one keeps its
    first name and takes the next last name of ``LAST`` that nobody has (no random draw, so the rest of the
    demo is unchanged)."""
    taken = set(names)
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        if name in seen:
            first, last = name.split(" ", 1)
            start = LAST.index(last) if last in LAST else 0
            options = [f"{first} {LAST[(start + k) % len(LAST)]}" for k in range(1, len(LAST))]
            name = next((o for o in options if o not in taken), f"{name} {len(out) + 1}")
            taken.add(name)
        seen.add(name)
        out.append(name)
    return out


def _alignment(project: Project) -> None:
    """Nearest-rep-home counties, colours that differ between neighbours, district/region roll-ups."""
    units = project.units.to_crs(US_ALBERS)
    homes = project.reps.to_crs(US_ALBERS)
    pts = shapely.point_on_surface(units.geometry.to_numpy())
    ux, uy = shapely.get_x(pts), shapely.get_y(pts)
    hx, hy = homes.geometry.x.to_numpy(), homes.geometry.y.to_numpy()
    nearest = np.argmin((ux[:, None] - hx[None]) ** 2 + (uy[:, None] - hy[None]) ** 2, axis=1)
    tids = np.array([f"T{i:02d}" for i in range(1, len(homes) + 1)], dtype=object)
    project.plans = {"base": Plan(dict(zip(project.units["unit_id"], tids[nearest], strict=True)))}

    tree = shapely.STRtree(units.geometry.to_numpy())
    a, b = tree.query(units.geometry.to_numpy(), predicate="intersects")
    touching = nearest[a] != nearest[b]
    colours = neighbour_colours(len(tids), np.column_stack([nearest[a][touching], nearest[b][touching]]),
                                np.column_stack([hx, hy]))

    divisions = _demo_resource("census_divisions.csv").set_index("state")
    rows = []
    for i, rep in enumerate(project.reps.itertuples()):
        state = rep.city.split(", ")[1]
        division = divisions.loc[state, "division"]
        rows.append({"scenario_id": "base", "territory_id": tids[i], "name": rep.city.split(", ")[0],
                     "colour": colours[i], "rep_id": rep.rep_id,
                     "parent_id": "D-" + division, "level": "territory", "kind": "geographic", "rule": None})
    for division, region in divisions.drop_duplicates("division")[["division", "region"]].itertuples(index=False):
        if any(r["parent_id"] == "D-" + division for r in rows):
            rows.append({"scenario_id": "base", "territory_id": "D-" + division, "name": division,
                         "colour": "#555555", "rep_id": None, "parent_id": "R-" + region, "level": "district",
                         "kind": "geographic", "rule": None})
    for region in sorted({r["parent_id"] for r in rows if r["level"] == "district"}):
        rows.append({"scenario_id": "base", "territory_id": region, "name": region[2:], "colour": "#222222",
                     "rep_id": None, "parent_id": None, "level": "region", "kind": "geographic", "rule": None})
    project.territories = pd.DataFrame(rows)


def _sales(rng: np.random.Generator, accounts: gpd.GeoDataFrame) -> pd.DataFrame:
    """Monthly sales of the customers (70% of accounts) over 36 months: trend x season x noise."""
    n = len(accounts)
    customer = rng.random(n) < 0.7
    share = rng.uniform(0.15, 0.6, n)
    growth = rng.normal(0.03, 0.08, n)  # per year
    periods = pd.period_range(end=HISTORY_END, periods=36, freq="M")
    months = np.arange(36)
    season = 1 + 0.15 * np.sin(2 * np.pi * (periods.month.to_numpy() - 3) / 12)
    idx = np.flatnonzero(customer)
    base = accounts["potential"].to_numpy()[idx] * share[idx] / 12
    amount = (base[:, None] * (1 + growth[idx, None]) ** (months[None] / 12) * season[None]
              * rng.lognormal(0, 0.25, (len(idx), 36)))
    product = rng.choice(np.array(["Core", "Plus", "Services"]), len(idx), p=[0.6, 0.3, 0.1])
    return pd.DataFrame({
        "account_id": np.repeat(accounts["account_id"].to_numpy()[idx], 36),
        "period": np.tile(periods.astype(str).to_numpy(), len(idx)),
        "product": np.repeat(product, 36),
        "amount": np.round(amount.ravel(), 2),
    })


def _visits(rng: np.random.Generator, accounts: gpd.GeoDataFrame, owners: np.ndarray) -> pd.DataFrame:
    """About 85% of the visits the frequencies asked for over the last 52 weeks, by the owning rep."""
    freq = accounts["visit_frequency_weeks"].to_numpy()
    per_year = np.where(freq > 0, 52 // np.maximum(freq, 1), 0)
    done = rng.binomial(per_year, 0.85)
    idx = np.repeat(np.arange(len(accounts)), done)
    start = (HISTORY_END.end_time.normalize() - pd.Timedelta(days=364)).to_datetime64()
    days = rng.integers(0, 365, len(idx))
    dates = pd.DatetimeIndex(start + days.astype("timedelta64[D]"))
    weekday_fix = np.where(dates.day_of_week >= 5, -(dates.day_of_week - 4), 0)  # weekends move to Friday
    dates = dates + pd.to_timedelta(weekday_fix, unit="D")
    outcome = rng.choice(np.array(["completed", "completed", "completed", "rescheduled", "no answer"]), len(idx))
    frame = pd.DataFrame({
        "account_id": accounts["account_id"].to_numpy()[idx], "rep_id": owners[idx],
        "date": dates.strftime("%Y-%m-%d"), "minutes": accounts["service_minutes"].to_numpy()[idx],
        "outcome": outcome, "note": None,
    })
    return frame.sort_values(["date", "account_id"], kind="stable").reset_index(drop=True)


def _opportunities(rng: np.random.Generator, accounts: gpd.GeoDataFrame, owners: np.ndarray) -> pd.DataFrame:
    n = len(accounts)
    count = rng.poisson(0.5, n)
    idx = np.repeat(np.arange(n), count)
    m = len(idx)
    start = (HISTORY_END.end_time.normalize() - pd.Timedelta(days=3 * 365)).to_datetime64()
    created = pd.DatetimeIndex(start + rng.integers(0, 3 * 365, m).astype("timedelta64[D]"))
    length = rng.integers(20, 180, m)
    closed_at = created + pd.to_timedelta(length, unit="D")
    is_closed = closed_at <= HISTORY_END.end_time
    won = is_closed & (rng.random(m) < 0.35)
    open_stage = rng.choice(np.array(["Prospecting", "Qualification", "Proposal", "Negotiation"]), m)
    stage = np.where(~is_closed, open_stage, np.where(won, "Closed Won", "Closed Lost"))
    amount = np.round(accounts["potential"].to_numpy()[idx] * rng.uniform(0.05, 0.4, m), -1)
    return pd.DataFrame({
        "opportunity_id": [f"O{i:06d}" for i in range(1, m + 1)],
        "account_id": accounts["account_id"].to_numpy()[idx], "rep_id": owners[idx],
        "created": created.strftime("%Y-%m-%d"),
        "closed": np.where(is_closed, closed_at.strftime("%Y-%m-%d"), None),
        "stage": stage, "amount": amount, "won": np.where(is_closed, won, None),
    })
