"""The demo's field-coverage model: which accounts a field rep visits, and how often.

A sales team of 40 field reps cannot drive to 20,000 accounts spread over the lower 48 states. As in a
real team, the field covers the accounts within a day trip of a rep's home and inside sales covers the
rest by phone and e-mail (visit frequency 0: never due in a visit plan, no route workload):

- every account's rep is the one of its county's territory in the initial (nearest-home) alignment;
- an account more than :data:`REMOTE_DRIVE_HOURS` one-way drive from that rep's home is remote;
- C accounts are remote; a rep's field book is filled in priority order (A accounts, then B; nearest
  first within a segment) while the book's route workload (``services.workload.home_route_workload``, the estimator
  ``size`` and the balancer use) stays within :data:`FIELD_LOAD` of the rep's capacity; the accounts
  that do not fit are remote too (a C account two hours away is not worth a day's drive).

Deterministic: no random draws, so the rest of the demo's tables follow from the seed as before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine.travel import GreatCircleProvider, haversine_km
from ..models import Project
from .ownership import account_reps
from .workload import home_route_workload

REMOTE_DRIVE_HOURS = 2.5  # one way from the rep's home (great-circle x 1.3 at the app's speed bands)
FIELD_LOAD = 0.82  # share of a rep's capacity that the field book's route workload may fill
#: visit frequency (weeks) of a field account by segment: -1 keeps the generator's draw (A: every 2 or 4
#: weeks), B every 4 weeks, 0 never (C accounts are served remotely)
FIELD_WEEKS = {"A": -1, "B": 4, "C": 0}
SEGMENT_RANK = {"A": 0, "B": 1, "C": 2}


def drive_hours_from_rep(project: Project) -> tuple[np.ndarray, np.ndarray]:
    """Per account: its rep (``account_reps``) and the one-way drive hours from that rep's home (inf
    without a rep, a home or a location)."""
    acc, reps = project.accounts, project.reps.set_index("rep_id")
    owner = account_reps(project).to_numpy()
    has = pd.Series(owner).isin(reps.index).to_numpy()
    hx = np.full(len(acc), np.nan)
    hy = np.full(len(acc), np.nan)
    hx[has] = reps.loc[owner[has]].geometry.x.to_numpy()
    hy[has] = reps.loc[owner[has]].geometry.y.to_numpy()
    drive = GreatCircleProvider()  # the same circuity and speed bands as the route workload's travel
    km = haversine_km(acc.geometry.x.to_numpy(), acc.geometry.y.to_numpy(), hx, hy) * drive.circuity
    hours = drive.hours(np.nan_to_num(km, nan=0.0))
    return owner, np.where(np.isfinite(km), hours, np.inf)


def _book_size(home: tuple[float, float], lon: np.ndarray, lat: np.ndarray, visits: np.ndarray,
               minutes: np.ndarray, budget_h: float) -> int:
    """The most accounts (a prefix of the arrays, in priority order) whose route workload a year is
    within ``budget_h``: a binary search, the workload growing with every account added."""
    lo, hi = 0, len(lon)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        w = home_route_workload(home, lon[:mid], lat[:mid], visits[:mid], minutes[:mid])
        if w.hours_per_year <= budget_h:
            lo = mid
        else:
            hi = mid - 1
    return lo


def apply_field_coverage(project: Project) -> np.ndarray:
    """Set ``visit_frequency_weeks`` of the accounts by the field-coverage model (module docstring):
    :data:`FIELD_WEEKS` for the accounts in a rep's field book, 0 for the remote ones. An account whose
    frequency is already 0 stays remote. Returns the field-book mask."""
    acc = project.accounts
    owner, hours = drive_hours_from_rep(project)
    seg = acc["segment"].astype(str).to_numpy()
    drawn = acc["visit_frequency_weeks"].fillna(0).to_numpy().astype(np.int64)
    weeks = np.array([FIELD_WEEKS.get(s, 0) for s in seg], dtype=np.int64)
    weeks = np.where(weeks < 0, drawn, weeks)  # -1: keep the generator's draw
    candidate = (weeks > 0) & (hours <= REMOTE_DRIVE_HOURS)
    rank = np.array([SEGMENT_RANK.get(s, 3) for s in seg])
    lon, lat = acc.geometry.x.to_numpy(), acc.geometry.y.to_numpy()
    minutes = acc["service_minutes"].fillna(0).to_numpy(float)
    field = np.zeros(len(acc), dtype=bool)
    for rep in project.reps.itertuples():
        idx = np.flatnonzero(candidate & (owner == rep.rep_id))
        idx = idx[np.lexsort((hours[idx], rank[idx]))]
        home = (float(rep.geometry.x), float(rep.geometry.y))
        n = _book_size(home, lon[idx], lat[idx], 1.0 / weeks[idx], minutes[idx],
                       FIELD_LOAD * float(rep.capacity_hours))
        field[idx[:n]] = True
    acc["visit_frequency_weeks"] = np.where(field, weeks, 0).astype(np.int64)
    return field
