"""Rep assignment: match reps to territories by home distance, skills against account mix, and capacity.

An optimal one-to-one assignment (``scipy.optimize.linear_sum_assignment``) minimising, per match,

    distance_km / median_km  +  skill_weight x (1 - skill match)  +  capacity_weight x overload

where *skill match* is the share of the territory's workload in categories the rep lists as skills
(reps or territories without skill data score 0 everywhere, so skills then do not matter) and
*overload* = max(0, workload / capacity - 1). Each match gets a one-line reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from ...models.errors import InvalidInputError


@dataclass
class RepMatch:
    rep: str
    territory: str
    distance_km: float
    skill_match: float
    load_over_capacity: float
    cost: float
    reason: str


def assign_reps(rep_ids: list[str], rep_xy: np.ndarray, rep_capacity: np.ndarray, rep_skills: list[set[str]],
                territory_ids: list[str], centres: np.ndarray, workload: np.ndarray,
                mix: list[dict[str, float]] | None = None, skill_weight: float = 1.0,
                capacity_weight: float = 2.0) -> list[RepMatch]:
    """Best one-to-one rep -> territory matches (min(reps, territories) of them), with reasons.

    rep_xy, centres: metres (projected). rep_capacity, workload: the same unit (e.g. hours per year).
    mix[t]: category -> share of territory t's workload (shares sum to 1).
    """
    r, k = len(rep_ids), len(territory_ids)
    rep_xy, centres = np.asarray(rep_xy, float).reshape(r, 2), np.asarray(centres, float).reshape(k, 2)
    cap = np.asarray(rep_capacity, float)
    if r == 0 or k == 0:
        raise InvalidInputError("rep assignment", ["there are no reps or no territories to match"])
    bad = [rep_ids[i] for i in range(r) if not np.isfinite(cap[i]) or cap[i] <= 0]
    if bad:
        raise InvalidInputError("rep assignment", [f"rep {b}: capacity must be a positive number" for b in bad])
    dist = np.hypot(rep_xy[:, None, 0] - centres[None, :, 0], rep_xy[:, None, 1] - centres[None, :, 1]) / 1000
    scale = max(float(np.median(dist)), 1e-9)
    mix = mix or [{} for _ in range(k)]
    skills = [{s.strip().lower() for s in sk if s.strip()} for sk in rep_skills]
    match = np.array([[sum(v for c, v in mix[t].items() if c.strip().lower() in skills[i]) for t in range(k)]
                      for i in range(r)])
    over = np.maximum(0.0, np.asarray(workload, float)[None, :] / cap[:, None] - 1.0)
    cost = dist / scale + skill_weight * (1 - match) + capacity_weight * over
    rows, cols = linear_sum_assignment(cost)
    out = []
    for i, t in zip(rows, cols, strict=True):
        rank = int((dist[:, t] < dist[i, t]).sum()) + 1
        top = max(mix[t].items(), key=lambda kv: kv[1])[0] if mix[t] else ""
        parts = [f"home {dist[i, t]:.0f} km from the territory centre ({_ordinal(rank)} closest rep)"]
        if top:
            parts.append(f"skills cover {match[i, t]:.0%} of the workload (largest: {top})")
        parts.append(f"workload {float(workload[t]):.0f} of capacity {cap[i]:.0f}"
                     + (" - over capacity" if over[i, t] > 0 else ""))
        out.append(RepMatch(rep_ids[i], territory_ids[t], float(dist[i, t]), float(match[i, t]),
                            float(workload[t] / cap[i]), float(cost[i, t]), "; ".join(parts)))
    return out


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
