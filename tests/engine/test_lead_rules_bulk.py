"""The lone-rep path of the lead rules (a rep sharing no pool is decided per rep at once, not lead by lead)
against a plain lead-by-lead reference written here: same reps, same held counts, same refusal texts."""

from __future__ import annotations

import numpy as np

from territory_desktop.engine.leads import LeadData, LeadRules, World, assign_leads
from territory_desktop.engine.leads_match import AccountMatch


def _world(teams, open_leads, period_leads=None) -> World:
    names = ["Ana", "Ben", "Cy"]
    return World(territory_ids=np.array(["T1", "T2"], dtype=object),
                 territory_names=np.array(["West", "East"], dtype=object), territory_reps=teams,
                 account_ids=np.array([], dtype=object), account_names=np.array([], dtype=object),
                 account_territory=np.array([], dtype=np.int64), rep_ids=np.array(["R1", "R2", "R3"], dtype=object),
                 rep_names=np.array(names, dtype=object), rep_skills=[frozenset()] * 3,
                 open_leads=np.array(open_leads), period_leads=dict(period_leads or {}))


def _leads(days: np.ndarray, location: np.ndarray) -> LeadData:
    n = len(days)
    return LeadData(ids=np.array([f"L{i}" for i in range(n)], dtype=object), value=np.zeros(n),
                    industry=np.full(n, "", dtype=object), product=np.full(n, "", dtype=object), day=days,
                    location=location, inside=np.ones(n, dtype=bool), rule_territory=np.full(n, -1),
                    match=AccountMatch(np.full(n, -1), np.full(n, "", dtype=object), np.zeros(n)))


def _reference(days, open0, held, cap, limit, away):
    """One rep, lead by lead in date order (file order within a day): (taken?, open, in month) per lead."""
    order = np.lexsort((np.arange(len(days)), days.astype(np.int64)))
    taken, counts = np.zeros(len(days), dtype=bool), [None] * len(days)
    open_, month = open0, dict(held)
    for i in order.tolist():
        key = str(days[i].astype("datetime64[M]"))
        now = month.get(key, 0)
        if str(days[i]) not in away and open_ < cap and now < limit:
            taken[i], open_, month[key] = True, open_ + 1, now + 1
            counts[i] = (open_, month[key])
        else:
            counts[i] = (open_, now)
    return taken, counts


def test_a_lone_rep_with_caps_and_an_absence_matches_lead_by_lead():
    rng = np.random.default_rng(4)
    n = 400
    days = np.datetime64("2026-11-01") + rng.integers(0, 75, n).astype("timedelta64[D]")
    location = rng.integers(0, 2, n)
    away = {str(np.datetime64("2026-11-10") + np.timedelta64(k, "D")) for k in range(5)}
    rules = LeadRules(max_open=150, max_per_period=60, absences={"R1": [("2026-11-10", "2026-11-14")]})
    # R1 alone in T1; R2 and R3 share T2 (the loop), so both paths run in one call
    world = _world([(0,), (1, 2)], open_leads=(7, 0, 0), period_leads={(0, "2026-12"): 20})
    out = assign_leads(_leads(days, location), world, rules)
    mine = location == 0
    taken, counts = _reference(days[mine], 7, {"2026-12": 20}, 150, 60, away)
    assert 0 < taken.sum() < mine.sum()  # the caps and the absence both stop some leads
    assert (out.rep[mine] == np.where(taken, 0, -1)).all()
    for k, i in enumerate(np.flatnonzero(mine).tolist()):
        open_, month = counts[k]
        label = str(days[i].astype("datetime64[M]"))
        if taken[k]:
            assert out.explanation[i].endswith(f"rep Ana, {open_} of 150 open leads, {month} of 60 in {label}")
        elif str(days[i]) in away:
            assert out.reason[i] == f"T1 West by location; no rep: Ana absent on {days[i]}"
        else:
            assert out.reason[i] == (f"T1 West by location; no rep: capacity reached (Ana {open_} of 150 open "
                                     f"leads, {month} of 60 in {label})")
    assert (out.rep[~mine] >= 1).sum() > 0
