"""Lead distribution: each lead to a territory and a rep by an ordered list of rules the planner enables.

Pure: arrays and plain objects in, arrays out (no files, no project). ``services.leads`` builds the
inputs from a project and a leads file.

Rules, in the planner's order (``LeadRules.order``; a disabled rule is not tried):

- territory rules, first match wins: ``account_match`` (the lead's company is an account: the account's
  territory, and its rep owns the lead), ``account_rule`` (an account-attribute territory rule matches the
  lead's fields), ``location`` (the territory the lead lies in; the nearest one when outside all);
- rep rules, applied in order to the territory's reps (its team): ``value_tier`` (leads worth at least a
  tier's threshold go to that tier's reps instead), ``expertise`` (keep the reps with a skill equal to the
  lead's industry or product, when any), ``availability`` (skip reps absent on the lead's date),
  ``capacity`` (skip reps at their cap of open leads, or of leads in the lead's period);
- round robin among the reps left: ``order`` (next in turn), ``count`` (fewest leads so far) or
  ``weighted`` (leads in proportion to ``weights``), with a rotation state per pool of reps carried in and
  out so a later run continues the turn.

Every assigned lead has an explanation; every rule tried that did not apply is listed with why; a lead
nobody can take has its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .leads_match import AccountMatch

TERRITORY_RULES = ("account_match", "account_rule", "location")
REP_RULES = ("value_tier", "expertise", "availability", "capacity")
RULES = TERRITORY_RULES + REP_RULES
ROUND_ROBIN = ("order", "count", "weighted")


@dataclass(frozen=True)
class Tier:
    """Leads worth ``min_value`` or more go to ``rep_ids`` (the highest tier a lead reaches wins)."""

    name: str
    min_value: float
    rep_ids: tuple[str, ...]


@dataclass
class LeadRules:
    order: tuple[str, ...] = RULES
    disabled: frozenset[str] = frozenset()
    fuzzy_threshold: float = 90.0
    tiers: tuple[Tier, ...] = ()
    #: open leads a rep may hold (None: no cap); ``max_open_by_rep`` overrides per rep
    max_open: int | None = None
    max_open_by_rep: dict[str, int] = field(default_factory=dict)
    #: leads per rep per period ("day", "week" or "month"; None: no cap)
    period: str = "month"
    max_per_period: int | None = None
    #: rep id -> [(first day, last day)] ISO dates the rep is on holiday or absent
    absences: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    round_robin: str = "count"
    weights: dict[str, float] = field(default_factory=dict)

    def active(self, rule: str) -> bool:
        return rule in self.order and rule not in self.disabled


@dataclass
class LeadData:
    """The leads, n rows. ``location``/``rule_territory``: territory index or -1; ``day``: datetime64[D]."""

    ids: np.ndarray
    value: np.ndarray
    industry: np.ndarray
    product: np.ndarray
    day: np.ndarray
    location: np.ndarray
    inside: np.ndarray
    rule_territory: np.ndarray
    match: AccountMatch


@dataclass
class World:
    """Territories (with their rep teams as rep indices), accounts with their territory, reps with skills,
    and the leads reps already hold (open per rep; per (rep index, period key))."""

    territory_ids: np.ndarray
    territory_names: np.ndarray
    territory_reps: list[tuple[int, ...]]
    account_ids: np.ndarray
    account_names: np.ndarray
    account_territory: np.ndarray
    rep_ids: np.ndarray
    rep_names: np.ndarray
    rep_skills: list[frozenset[str]]
    open_leads: np.ndarray
    period_leads: dict[tuple[int, str], int] = field(default_factory=dict)


@dataclass
class LeadOutcome:
    """Per lead: territory and rep index (-1 none), explanation, rules not applied, reason if unassigned."""

    territory: np.ndarray
    rep: np.ndarray
    explanation: np.ndarray
    not_applied: list[list[str]]
    reason: np.ndarray
    rotation: dict


def assign_leads(data: LeadData, world: World, rules: LeadRules, rotation: dict | None = None) -> LeadOutcome:
    """Assign every lead (see the module doc). ``rotation`` is the state a previous run returned."""
    n = len(data.ids)
    notes: list[list[str]] = [[] for _ in range(n)]
    territory, source = _territories(data, world, rules, notes)
    pools, pool_of, why = _pools(data, world, rules, territory, source, notes)
    state = {k: {"counts": dict(v.get("counts", {})), "last": v.get("last")} for k, v in (rotation or {}).items()}
    chooser = _Chooser(data, world, rules, state)
    rep = np.full(n, -1, dtype=np.int64)
    explanation = np.full(n, "", dtype=object)
    reason = np.full(n, "", dtype=object)
    head = _territory_text(data, world, territory, source)
    for i in np.lexsort((np.arange(n), data.day.astype("datetime64[D]").astype(np.int64))):
        if territory[i] < 0:
            reason[i] = "no territory: " + "; ".join(notes[i]) if notes[i] else "no territory rule is enabled"
            continue
        chosen, text = chooser.choose(i, pools[pool_of[i]])
        if chosen < 0:
            reason[i] = f"{head[i]}; {text}"
            continue
        rep[i] = chosen
        extra = f": {why[i]}" if why[i] else ""
        explanation[i] = f"{head[i]}; rep {world.rep_names[chosen]}{extra}{text}"
    return LeadOutcome(territory, rep, explanation, notes, reason, chooser.state)


# ------------------------------------------------------------------------------------------ territories

def _territories(data: LeadData, world: World, rules: LeadRules, notes: list[list[str]]):
    n = len(data.ids)
    territory = np.full(n, -1, dtype=np.int64)
    source = np.full(n, "", dtype=object)
    for rule in (r for r in rules.order if r in TERRITORY_RULES and rules.active(r)):
        candidate, reasons = _territory_candidate(rule, data, world, rules)
        open_ = territory < 0
        hit = open_ & (candidate >= 0)
        territory[hit] = candidate[hit]
        source[hit] = rule
        for i in np.flatnonzero(open_ & (candidate < 0)):
            notes[i].append(reasons[i])
    return territory, source


def _territory_candidate(rule: str, data: LeadData, world: World, rules: LeadRules):
    n = len(data.ids)
    if rule == "account_match":
        acc = data.match.account
        terr = np.where(acc >= 0, world.account_territory[np.maximum(acc, 0)] if len(acc) and
                        len(world.account_territory) else -1, -1)
        no_terr = [f"account match: account {world.account_ids[a]} has no territory" for a in acc[acc >= 0]]
        reasons = np.full(n, f"account match: no account with this domain or a name scoring "
                             f"{rules.fuzzy_threshold:g} or more", dtype=object)
        reasons[acc >= 0] = no_terr
        return terr, reasons
    if rule == "account_rule":
        return data.rule_territory, np.full(n, "account rule: no account-attribute rule matches", dtype=object)
    reasons = np.full(n, "location: no coordinates, or no territory has units", dtype=object)
    return data.location, reasons


def _territory_text(data: LeadData, world: World, territory: np.ndarray, source: np.ndarray) -> np.ndarray:
    label = np.array([f"{t} {nm}".strip() for t, nm in zip(world.territory_ids, world.territory_names,
                                                           strict=True)] + [""], dtype=object)
    head = label[territory].copy()
    how = np.full(len(territory), "", dtype=object)
    how[source == "location"] = " by location"
    how[(source == "location") & ~data.inside] = " by location (nearest territory; the lead lies outside all)"
    how[source == "account_rule"] = " by account rule"
    matched = np.flatnonzero(source == "account_match")
    acc = data.match.account[matched]
    how[matched] = [f" by account; matched account {world.account_ids[a]} '{world.account_names[a]}' by {h}"
                    + (f" (score {s:.0f})" if h == "fuzzy name" else "")
                    for a, h, s in zip(acc, data.match.how[matched], data.match.score[matched], strict=True)]
    return head + how


# ---------------------------------------------------------------------------------------------- rep pools

def _pools(data: LeadData, world: World, rules: LeadRules, territory: np.ndarray, source: np.ndarray,
           notes: list[list[str]]):
    """The candidate reps of each lead as (pools: list of rep-index tuples, pool index per lead, why text)."""
    n = len(data.ids)
    team = [tuple(r) for r in world.territory_reps] + [()]
    pool = [team[t] for t in territory]
    why = np.full(n, "", dtype=object)
    owner = source == "account_match"
    rep_index = {r: i for i, r in enumerate(world.rep_ids)}
    for rule in (r for r in rules.order if r in ("value_tier", "expertise") and rules.active(r)):
        if rule == "value_tier":
            _apply_tiers(data, rules, rep_index, pool, why, owner, notes, territory)
        else:
            _apply_expertise(data, world, pool, why, owner, notes, territory)
    keys = pd.Series([",".join(map(str, p)) for p in pool])
    codes, uniques = pd.factorize(keys)
    pools = [tuple(int(x) for x in u.split(",")) if u else () for u in uniques]
    return pools, codes, why


def _apply_tiers(data, rules, rep_index, pool, why, owner, notes, territory) -> None:
    tiers = sorted(rules.tiers, key=lambda t: -t.min_value)
    lowest = min((t.min_value for t in tiers), default=None)
    for i in np.flatnonzero(territory >= 0):
        if owner[i]:
            notes[i].append("value tier: the lead goes to the account's owner")
            continue
        tier = next((t for t in tiers if data.value[i] >= t.min_value), None)
        if tier is None:
            notes[i].append("value tier: no tiers set" if lowest is None else
                            f"value tier: value {data.value[i]:,.0f} is under the lowest tier ({lowest:,.0f})")
            continue
        pool[i] = tuple(rep_index[r] for r in tier.rep_ids if r in rep_index)
        why[i] = _join(why[i], f"tier '{tier.name}' (value {data.value[i]:,.0f} >= {tier.min_value:,.0f})")


def _apply_expertise(data, world, pool, why, owner, notes, territory) -> None:
    cache: dict = {}
    for i in np.flatnonzero(territory >= 0):
        if owner[i]:
            notes[i].append("expertise: the lead goes to the account's owner")
            continue
        topics = tuple(t for t in (data.industry[i], data.product[i]) if t)
        key = (pool[i], topics)
        if key not in cache:
            cache[key] = _skilled(world, pool[i], topics)
        kept, skill = cache[key]
        if not kept:
            named = " or ".join(f"'{t}'" for t in topics) or "(the lead has no industry or product)"
            notes[i].append(f"expertise: no candidate rep has skill {named}")
            continue
        pool[i] = kept
        why[i] = _join(why[i], f"skill '{skill}'")


def _skilled(world: World, pool: tuple[int, ...], topics: tuple[str, ...]):
    for topic in topics:
        kept = tuple(r for r in pool if topic in world.rep_skills[r])
        if kept:
            return kept, topic
    return (), ""


def _join(a: str, b: str) -> str:
    return f"{a}, {b}" if a else b


# ----------------------------------------------------------------------------------- availability, turns

class _Chooser:
    """Availability, capacity and round robin for one lead at a time, counting as it assigns."""

    def __init__(self, data: LeadData, world: World, rules: LeadRules, state: dict):
        self.data, self.world, self.rules, self.state = data, world, rules, state
        self.open = np.asarray(world.open_leads, dtype=np.int64).copy()
        self.period_count = dict(world.period_leads)
        index = {r: i for i, r in enumerate(world.rep_ids)}
        self.cap = np.full(len(world.rep_ids), rules.max_open if rules.max_open is not None else -1, dtype=np.int64)
        for rep_id, cap in rules.max_open_by_rep.items():
            if rep_id in index:
                self.cap[index[rep_id]] = cap
        self.absent = _absent_days(rules.absences, index)
        self.periods = period_keys(data.day, rules.period)
        self.weights = np.array([float(rules.weights.get(r, 1.0)) for r in world.rep_ids])

    def choose(self, i: int, pool: tuple[int, ...]) -> tuple[int, str]:
        """(rep index or -1, the text that explains the choice or the refusal)."""
        if not pool:
            return -1, "no rep: the territory has no rep and no tier or team covers the lead"
        left = list(pool)
        if self.rules.active("availability"):
            day = self.data.day[i]
            away = [r for r in left if (r, day) in self.absent]
            left = [r for r in left if (r, day) not in self.absent]
            if not left:
                return -1, f"no rep: {self._names(away)} absent on {np.datetime_as_string(day)}"
        if self.rules.active("capacity"):
            full = [r for r in left if self._full(r, i)]
            left = [r for r in left if r not in full]
            if not left:
                loads = "; ".join(f"{self.world.rep_names[r]} {self._load(r, i)}" for r in full)
                return -1, f"no rep: capacity reached ({loads})"
        rep, turn = self._turn(pool, left)
        self.open[rep] += 1
        key = (rep, self.periods[i])
        self.period_count[key] = self.period_count.get(key, 0) + 1
        capped = self.cap[rep] >= 0 or self.rules.max_per_period is not None
        load = f", {self._load(rep, i)}" if self.rules.active("capacity") and capped else ""
        return rep, f"{turn}{load}"

    def _names(self, reps: list[int]) -> str:
        return ", ".join(str(self.world.rep_names[r]) for r in reps)

    def _full(self, r: int, i: int) -> bool:
        if 0 <= self.cap[r] <= self.open[r]:
            return True
        limit = self.rules.max_per_period
        return limit is not None and self.period_count.get((r, self.periods[i]), 0) >= limit

    def _load(self, r: int, i: int) -> str:
        parts = [f"{self.open[r]} of {self.cap[r]} open leads" if self.cap[r] >= 0 else f"{self.open[r]} open leads"]
        if self.rules.max_per_period is not None:
            parts.append(f"{self.period_count.get((r, self.periods[i]), 0)} of {self.rules.max_per_period} "
                         f"in {self.periods[i]}")
        return ", ".join(parts)

    def _turn(self, pool: tuple[int, ...], left: list[int]) -> tuple[int, str]:
        if len(pool) == 1 and left == [pool[0]]:
            return pool[0], ""
        ids = [str(self.world.rep_ids[r]) for r in pool]
        st = self.state.setdefault("|".join(ids), {"counts": {}, "last": None})
        counts = st["counts"]
        last = ids.index(st["last"]) if st["last"] in ids else -1
        position = {r: (pool.index(r) - last - 1) % len(pool) for r in left}
        mode = self.rules.round_robin
        if mode == "order":
            rep = min(left, key=position.__getitem__)
        else:
            w = self.weights if mode == "weighted" else np.ones(len(self.weights))
            total = sum(counts.get(str(self.world.rep_ids[r]), 0) for r in left) + 1
            weight = sum(w[r] for r in left)
            rep = max(left, key=lambda r: (w[r] * total / weight - counts.get(str(self.world.rep_ids[r]), 0),
                                           -position[r]))
        rid = str(self.world.rep_ids[rep])
        counts[rid] = counts.get(rid, 0) + 1
        st["last"] = rid
        return rep, f", round robin ({mode}) among {len(left)}"


def _absent_days(absences: dict[str, list[tuple[str, str]]], index: dict) -> set:
    days = set()
    for rep_id, spans in absences.items():
        if rep_id not in index:
            continue
        for start, end in spans:
            for d in np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + np.timedelta64(1, "D")):
                days.add((index[rep_id], d))
    return days


def period_keys(days: np.ndarray, period: str) -> np.ndarray:
    """Period label of each day: '2026-12' (month), '2026-W49' (ISO week) or '2026-12-01' (day)."""
    s = pd.Series(pd.to_datetime(days))
    if period == "day":
        out = s.dt.strftime("%Y-%m-%d")
    elif period == "week":
        iso = s.dt.isocalendar()
        out = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    else:
        out = s.dt.strftime("%Y-%m")
    return out.fillna("").to_numpy(dtype=object)
