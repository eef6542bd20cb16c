"""Alerts on territory results, each with the numbers behind it. Pure functions on arrays.

- ``forecast_exit``: the last quarter's sales fall outside the 95 % interval of a forecast made before
  it (below: an issue; above: an emerging opportunity).
- ``falling_coverage``: visit coverage of the last quarter at least 10 points below the quarter before,
  and the drop is beyond noise (z <= -3 with Poisson visit counts).
- ``rising_lost_rate``: the share of closed deals lost in the last 6 months at least 15 points above the
  12 months before, and beyond noise (two-proportion z >= 2.5).
- ``thin_pipeline``: open pipeline x the trailing win rate covers less than half of a typical quarter's
  won amount (the mean of the last four quarters), for groups that won at least 8 deals in the year.
"""

from __future__ import annotations

import numpy as np

Z95 = 1.959964


def _alert(kind: str, group: str, severity: str, message: str, **numbers) -> dict:
    return {"kind": kind, "territory_id": group, "severity": severity, "message": message,
            **{k: (None if v is None else round(float(v), 4)) for k, v in numbers.items()}}


def forecast_exits(ids, actual: np.ndarray, mean: np.ndarray, lower95: np.ndarray, upper95: np.ndarray,
                   period: str) -> list[dict]:
    """Per group: actual sales of a period vs the forecast of it made before it (arrays (groups,))."""
    out = []
    for i in np.flatnonzero((actual < lower95) | (actual > upper95)):
        below = actual[i] < lower95[i]
        gap = (actual[i] - mean[i]) / mean[i] if mean[i] > 0 else 0.0
        out.append(_alert("forecast_exit", ids[i], "issue" if below else "opportunity",
                          f"{period} sales {actual[i]:,.0f} are {abs(gap):.0%} {'below' if below else 'above'} "
                          f"the forecast {mean[i]:,.0f} (95 % interval {lower95[i]:,.0f}-{upper95[i]:,.0f})",
                          actual=actual[i], forecast=mean[i], lower_95=lower95[i], upper_95=upper95[i],
                          gap=gap))
    return out


def falling_coverage(ids, done_prev, required_prev, done_last, required_last,
                     min_drop: float = 0.10, z_limit: float = -3.0) -> list[dict]:
    """Coverage (done / required visits) of the last quarter vs the one before, per group."""
    out = []
    for i in range(len(ids)):
        if required_prev[i] <= 0 or required_last[i] <= 0:
            continue
        c0, c1 = done_prev[i] / required_prev[i], done_last[i] / required_last[i]
        se = np.sqrt(done_prev[i] / required_prev[i] ** 2 + done_last[i] / required_last[i] ** 2)
        z = (c1 - c0) / se if se > 0 else 0.0
        if c0 - c1 >= min_drop and z <= z_limit:
            out.append(_alert("falling_coverage", ids[i], "issue",
                              f"visit coverage fell from {c0:.0%} to {c1:.0%} (last three months against the three before)",
                              coverage_before=c0, coverage_last=c1, z=z))
    return out


def rising_lost_rate(ids, lost_before, closed_before, lost_recent, closed_recent,
                     min_rise: float = 0.15, z_limit: float = 2.5, min_closed: int = 8) -> list[dict]:
    """Lost / closed deals of the recent window vs the window before, per group."""
    out = []
    for i in range(len(ids)):
        if closed_before[i] < min_closed or closed_recent[i] < min_closed:
            continue
        p0, p1 = lost_before[i] / closed_before[i], lost_recent[i] / closed_recent[i]
        pooled = (lost_before[i] + lost_recent[i]) / (closed_before[i] + closed_recent[i])
        se = np.sqrt(pooled * (1 - pooled) * (1 / closed_before[i] + 1 / closed_recent[i]))
        z = (p1 - p0) / se if se > 0 else 0.0
        if p1 - p0 >= min_rise and z >= z_limit:
            out.append(_alert("rising_lost_rate", ids[i], "issue",
                              f"lost-deal rate rose from {p0:.0%} to {p1:.0%} "
                              f"({int(lost_recent[i])} of {int(closed_recent[i])} deals closed lately)",
                              lost_rate_before=p0, lost_rate_recent=p1, z=z))
    return out


def thin_pipeline(ids, pipeline, win_rate, quarterly_won, deals_won_year, min_ratio: float = 0.5,
                  min_deals: int = 8) -> list[dict]:
    """Expected wins from the open pipeline vs a typical quarter's won amount, per group (groups that won
    fewer than ``min_deals`` deals in the year are too small to judge)."""
    out = []
    for i in range(len(ids)):
        if not quarterly_won[i] > 0 or np.isnan(win_rate[i]) or deals_won_year[i] < min_deals:
            continue
        ratio = pipeline[i] * win_rate[i] / quarterly_won[i]
        if ratio < min_ratio:
            out.append(_alert("thin_pipeline", ids[i], "issue",
                              f"open pipeline {pipeline[i]:,.0f} at a {win_rate[i]:.0%} win rate covers "
                              f"{ratio:.0%} of a typical quarter's wins ({quarterly_won[i]:,.0f})",
                              pipeline=pipeline[i], win_rate=win_rate[i], quarterly_won=quarterly_won[i],
                              ratio=ratio))
    return out
