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

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .leads_match import AccountMatch
from .leads_text import Note, combinations, concat, joined, running_count

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
    """Per lead: territory and rep index (-1 none), explanation, the rules tried that did not apply and why
    ("; "-joined), the reason a lead has no rep; and the rotation state to carry into the next run."""

    territory: np.ndarray
    rep: np.ndarray
    explanation: np.ndarray
    not_applied: np.ndarray
    reason: np.ndarray
    rotation: dict


def assign_leads(data: LeadData, world: World, rules: LeadRules, rotation: dict | None = None) -> LeadOutcome:
    """Assign every lead (see the module doc), in date order (file order within a day).

    ``rotation`` is the state a previous run returned: {pool "R1|R2": {"counts": {rep: n}, "last": rep}}.
    """
    n = len(data.ids)
    notes: list[Note] = []
    territory, source = _territories(data, world, rules, notes)
    pools, pool_of, why = _pools(data, world, rules, territory, source, notes)
    state = {k: {"counts": dict(v.get("counts", {})), "last": v.get("last")} for k, v in (rotation or {}).items()}
    chooser = _Chooser(data, world, rules, state, pools)
    chooser.run(np.lexsort((np.arange(n), data.day.astype("datetime64[D]").astype(np.int64))), pool_of, territory)
    not_applied = joined(notes, n, "; ")

    def head(rows: np.ndarray) -> list[tuple[list[str], np.ndarray]]:
        return _territory_pieces(data, world, territory, source, rows)

    explanation = chooser.explanations(head, why)
    reason = chooser.reason.copy()
    lost = territory < 0
    reason[lost] = np.where(not_applied[lost] != "", "no territory: " + not_applied[lost].astype(str),
                            "no territory rule is enabled")
    failed = np.flatnonzero((territory >= 0) & (chooser.rep < 0))
    if len(failed):
        reason[failed] = concat([*head(failed), (["; "], np.zeros(len(failed), dtype=np.int64))]) + reason[failed]
    return LeadOutcome(territory, chooser.rep, explanation, not_applied, reason, chooser.state)


# ------------------------------------------------------------------------------------------ territories

#: ``source`` codes: which territory rule placed the lead (0: none)
SOURCE = {rule: k + 1 for k, rule in enumerate(TERRITORY_RULES)}
#: how the territory was found, by source code (and 4: location, nearest territory)
HOW = ["", " by account; matched account ", " by account rule", " by location",
       " by location (nearest territory; the lead lies outside all)"]


def _territories(data: LeadData, world: World, rules: LeadRules, notes: list[Note]):
    """Territory index per lead (-1 none) and the ``SOURCE`` code of the rule that placed it."""
    n = len(data.ids)
    territory = np.full(n, -1, dtype=np.int64)
    source = np.zeros(n, dtype=np.int64)
    for rule in (r for r in rules.order if r in TERRITORY_RULES and rules.active(r)):
        open_ = territory < 0
        note = Note(n)
        candidate = _territory_candidate(rule, data, world, rules, open_, note)
        hit = open_ & (candidate >= 0)
        territory[hit] = candidate[hit]
        source[hit] = SOURCE[rule]
        notes.append(note)
    return territory, source


def _territory_candidate(rule: str, data: LeadData, world: World, rules: LeadRules, open_: np.ndarray,
                         note: Note) -> np.ndarray:
    """The rule's territory per lead (-1: it does not apply); why not, for the open leads, in ``note``."""
    if rule == "account_match":
        acc = data.match.account
        owners = np.append(np.asarray(world.account_territory, dtype=np.int64), -1)
        terr = owners[np.where(acc >= 0, acc, len(owners) - 1)]
        miss = open_ & (terr < 0)
        note.put(miss, f"account match: no account with this domain or a name scoring "
                       f"{rules.fuzzy_threshold:g} or more")
        no_terr = np.flatnonzero(miss & (acc >= 0))
        if len(no_terr):
            accounts, inverse = np.unique(acc[no_terr], return_inverse=True)
            codes = [note.code(f"account match: account {world.account_ids[a]} has no territory")
                     for a in accounts.tolist()]
            note.codes[no_terr] = np.array(codes, dtype=np.int64)[inverse]
        return terr
    if rule == "account_rule":
        note.put(open_ & (data.rule_territory < 0), "account rule: no account-attribute rule matches")
        return data.rule_territory
    note.put(open_ & (data.location < 0), "location: no coordinates, or no territory has units")
    return data.location


def _territory_pieces(data: LeadData, world: World, territory: np.ndarray, source: np.ndarray,
                      rows: np.ndarray) -> list[tuple[list[str], np.ndarray]]:
    """"T07 Denver by location" (or "... by account; matched account A123 'Acme' by domain") for ``rows``,
    as ``concat`` pieces."""
    label = [f"{t} {nm}".strip() for t, nm in zip(world.territory_ids, world.territory_names, strict=True)]
    terr, src = territory[rows], source[rows]
    how = src.copy()
    how[(src == SOURCE["location"]) & ~data.inside[rows]] = len(HOW) - 1
    heads = [t + h for t in [*label, ""] for h in HOW]  # (territory, how) pairs: few, joined up front
    pieces = [(heads, np.where(terr >= 0, terr, len(label)) * len(HOW) + how)]
    matched = np.flatnonzero(src == SOURCE["account_match"])
    if not len(matched):
        return pieces
    hit = rows[matched]
    acc_codes, accounts = pd.factorize(data.match.account[hit])
    by_codes, by = pd.factorize(data.match.how[hit])
    fuzzy = np.asarray([str(b) == "fuzzy name" for b in by], dtype=bool)[by_codes]
    scores, score_codes = np.unique(data.match.score[hit], return_inverse=True)
    # "<id> '<name>' by <how>[ (score 97)]": the id, the quoted name, the how with its score
    combo_first, combo = combinations([by_codes, np.where(fuzzy, score_codes, -1)])
    how_text = [str(by[by_codes[i]]) + (f" (score {scores[score_codes[i]]:.0f})" if fuzzy[i] else "")
                for i in combo_first.tolist()]
    ids = [str(world.account_ids[a]) for a in accounts.tolist()]
    names = [f" '{world.account_names[a]}' by " for a in accounts.tolist()]

    def spread(codes: np.ndarray, table: list[str]) -> tuple[list[str], np.ndarray]:
        out = np.full(len(rows), len(table), dtype=np.int64)  # the last entry: "" (not matched)
        out[matched] = codes
        return [*table, ""], out

    return [*pieces, spread(acc_codes, ids), spread(acc_codes, names), spread(combo, how_text)]


# ---------------------------------------------------------------------------------------------- rep pools

class _PoolSet:
    """Distinct candidate-rep tuples, numbered; the territories' teams first (pool t = territory t)."""

    def __init__(self, teams: list[tuple[int, ...]]):
        self.members: list[tuple[int, ...]] = []
        self.index: dict[tuple[int, ...], int] = {}
        for team in [*teams, ()]:
            self.members.append(tuple(team))
            self.index.setdefault(tuple(team), len(self.members) - 1)

    def id_of(self, members: tuple[int, ...]) -> int:
        if members not in self.index:
            self.members.append(members)
            self.index[members] = len(self.members) - 1
        return self.index[members]


def _pools(data: LeadData, world: World, rules: LeadRules, territory: np.ndarray, source: np.ndarray,
           notes: list[Note]):
    """The candidate reps of each lead: (pool tuples, pool index per lead, the why notes in rule order)."""
    n = len(data.ids)
    pools = _PoolSet(world.territory_reps)
    pool_of = np.where(territory >= 0, territory, len(world.territory_reps)).astype(np.int64)
    why: list[Note] = []
    owner = source == SOURCE["account_match"]
    for rule in (r for r in rules.order if r in ("value_tier", "expertise") and rules.active(r)):
        note, reason = Note(n), Note(n)
        note.put((territory >= 0) & owner, f"{rule.replace('_', ' ')}: the lead goes to the account's owner")
        live = (territory >= 0) & ~owner
        if rule == "value_tier":
            _apply_tiers(data, world, rules, pools, pool_of, reason, live, note)
        else:
            _apply_expertise(data, world, pools, pool_of, reason, live, note)
        notes.append(note)
        why.append(reason)
    return pools.members, pool_of, why


def _apply_tiers(data, world, rules, pools, pool_of, why: Note, live, note: Note) -> None:
    tiers = sorted(rules.tiers, key=lambda t: -t.min_value)
    if not tiers:
        note.put(live, "value tier: no tiers set")
        return
    rep_index = {r: i for i, r in enumerate(world.rep_ids)}
    chosen = np.full(len(live), -1)
    for k, tier in enumerate(tiers):
        chosen[live & (chosen < 0) & (data.value >= tier.min_value)] = k
    under = live & (chosen < 0)
    lowest = tiers[-1].min_value
    note.put(under, f"value tier: the value is under the lowest tier ({lowest:,.0f})")
    for k, tier in enumerate(tiers):
        rows = chosen == k
        pool_of[rows] = pools.id_of(tuple(rep_index[r] for r in tier.rep_ids if r in rep_index))
        why.put(rows, f"tier '{tier.name}' (value {tier.min_value:,.0f} or more)")


def _apply_expertise(data, world, pools, pool_of, why: Note, live, note: Note) -> None:
    """Keep the reps skilled in the lead's industry (else product); each distinct (pool, industry,
    product) is decided once."""
    idx = np.flatnonzero(live)
    industry, industries = pd.factorize(data.industry[idx], use_na_sentinel=False)
    product, products = pd.factorize(data.product[idx], use_na_sentinel=False)
    key = (pool_of[idx] * (len(industries) + 1) + industry) * (len(products) + 1) + product
    first, group = combinations([key])
    new_pool = np.empty(len(first), dtype=np.int64)
    why_code, note_code = np.zeros(len(first), dtype=np.int64), np.zeros(len(first), dtype=np.int64)
    for g, row in enumerate(first.tolist()):
        p = int(pool_of[idx[row]])
        topics = tuple(t for t in (industries[industry[row]], products[product[row]]) if t)
        kept, skill = _skilled(world, pools.members[p], topics)
        new_pool[g] = pools.id_of(kept) if kept else p
        if kept:
            why_code[g] = why.code(f"skill '{skill}'")
        else:
            named = " or ".join(f"'{t}'" for t in topics) or "(the lead has no industry or product)"
            note_code[g] = note.code(f"expertise: no candidate rep has skill {named}")
    pool_of[idx] = new_pool[group]
    why.codes[idx] = why_code[group]
    note.codes[idx] = note_code[group]


def _skilled(world: World, pool: tuple[int, ...], topics: tuple[str, ...]):
    for topic in topics:
        kept = tuple(r for r in pool if topic in world.rep_skills[r])
        if kept:
            return kept, topic
    return (), ""


# ----------------------------------------------------------------------------------- availability, turns

class _Chooser:
    """Availability, capacity and round robin, in date order, counting as it assigns.

    A lead whose one candidate rep shares no pool with another rep (or can never be blocked) does not
    interact with other reps' leads: those are decided per rep at once (``_alone``). The others go through
    one loop in order, kept to plain Python ints and lists (numpy scalars cost more than the work); texts
    are built for all leads afterwards (``explanations``)."""

    def __init__(self, data: LeadData, world: World, rules: LeadRules, state: dict, pools: list[tuple[int, ...]]):
        self.world, self.rules, self.state, self.pools = world, rules, state, pools
        n, reps = len(data.ids), len(world.rep_ids)
        index = {r: i for i, r in enumerate(world.rep_ids)}
        cap = np.full(reps, rules.max_open if rules.max_open is not None else -1, dtype=np.int64)
        for rep_id, value in rules.max_open_by_rep.items():
            if rep_id in index:
                cap[index[rep_id]] = value
        self.cap = cap.tolist()
        self.open = np.asarray(world.open_leads, dtype=np.int64).tolist()
        self.period_code, self.period_labels = period_codes(data.day, rules.period)
        self.period = self.period_code.tolist()
        self.width = width = len(self.period_labels) + 1
        slot = {k: j for j, k in enumerate(self.period_labels)}
        self.period_count = {r * width + slot[k]: c for (r, k), c in world.period_leads.items() if k in slot}
        self.day_number = data.day.astype("datetime64[D]").astype(np.int64)
        self.day = self.day_number.tolist()
        self.absent = {r * 1_000_000 + d for r, d in _absent_days(rules.absences, index)}
        self.weights = [float(rules.weights.get(r, 1.0)) for r in world.rep_ids]
        self.even = [1.0] * reps
        self.rid = list(world.rep_ids)
        self.rep = np.full(n, -1, dtype=np.int64)
        self.reason = np.full(n, "", dtype=object)
        self.turns = np.zeros(n, dtype=np.int64)
        self.open_at = np.zeros(n, dtype=np.int64)
        self.period_at = np.zeros(n, dtype=np.int64)
        self.pool_turns: dict[int, list] = {}
        self.turn_state: dict[str, list] = {}

    def run(self, order: np.ndarray, pool_of: np.ndarray, territory: np.ndarray) -> None:
        """Assign in ``order``: the leads of lone reps per rep at once, the others in one loop (the two never
        share a rep that a cap or an absence can stop, so neither changes the other's outcome). The held
        counts in the texts are then counted from the final assignment, in order (same numbers)."""
        self.open0, self.period_count0 = list(self.open), dict(self.period_count)
        has = territory >= 0
        size = np.array([len(p) for p in self.pools], dtype=np.int64)[pool_of]
        single = np.array([p[0] if len(p) == 1 else -1 for p in self.pools], dtype=np.int64)[pool_of]
        shared = np.zeros(len(self.cap) + 1, dtype=bool)  # the last: no rep
        for p in np.unique(pool_of[has]).tolist():
            if len(self.pools[p]) > 1:
                shared[list(self.pools[p])] = True
        lone = ~shared
        lone[:-1] |= self._never_blocked(pool_of, territory)
        alone = has & (size == 1) & lone[single]
        nobody = np.flatnonzero(has & (size == 0))
        self.reason[nobody] = "no rep: the territory has no rep and no tier or team covers the lead"
        self._alone(order[alone[order]], single)
        self._loop(order[(has & (size > 0) & ~alone)[order]], pool_of)
        self._held_counts(order)

    def _never_blocked(self, pool_of: np.ndarray, territory: np.ndarray) -> np.ndarray:
        """Per rep: no absence or cap can stop it, whatever the order (it could take every lead of every
        pool it is in and stay within its caps)."""
        has = territory >= 0
        reps = len(self.cap)
        safe = np.ones(reps, dtype=bool)
        if self.rules.active("availability"):
            safe[sorted({k // 1_000_000 for k in self.absent})] = False
        if self.rules.active("capacity"):
            per_pool = np.bincount(pool_of[has] * self.width + self.period_code[has],
                                   minlength=len(self.pools) * self.width).reshape(len(self.pools), self.width)
            most = np.zeros((reps, self.width), dtype=np.int64)  # leads each rep could get, per period
            for p, members in enumerate(self.pools):
                for r in members:
                    most[r] += per_pool[p]
            cap = np.array(self.cap, dtype=np.int64)
            safe &= (cap < 0) | (np.array(self.open0) + most.sum(axis=1) <= cap)
            limit = self.rules.max_per_period if self.rules.max_per_period is not None else -1
            if limit >= 0:
                safe &= (self._held0().reshape(reps, self.width) + most <= limit).all(axis=1)
        return safe

    def _held0(self) -> np.ndarray:
        """Leads held before this run per (rep, period) slot, as a flat array."""
        held = np.zeros(len(self.cap) * self.width, dtype=np.int64)
        for slot, c in self.period_count0.items():
            held[slot] = c
        return held

    def _alone(self, rows: np.ndarray, single: np.ndarray) -> None:
        """``rows`` (in order), each with one rep no other lead of the loop can take: per rep, a lead is taken
        unless the rep is absent that day, until the rep's period cap (in the lead's period) or open cap is
        reached; a cap once reached stays reached, so the counts are running counts."""
        rep, period = single[rows], self.period_code[rows]
        away = np.zeros(len(rows), dtype=bool)
        if self.rules.active("availability") and self.absent:
            away = np.isin(rep * 1_000_000 + self.day_number[rows], np.fromiter(self.absent, dtype=np.int64))
        take = ~away
        if self.rules.active("capacity"):
            slot = rep * self.width + period
            limit = self.rules.max_per_period if self.rules.max_per_period is not None else -1
            if limit >= 0:
                take &= running_count(slot, take) <= limit - self._held0()[slot]
            cap, open0 = np.array(self.cap, dtype=np.int64)[rep], np.array(self.open0, dtype=np.int64)[rep]
            take &= (cap < 0) | (running_count(rep, take) <= cap - open0)
        self.rep[rows[take]] = rep[take]
        refused = np.flatnonzero(~take)
        if not len(refused):
            return
        open_now = (np.array(self.open0, dtype=np.int64)[rep] + running_count(rep, take))[refused]
        in_period = (self._held0()[rep * self.width + period] + running_count(rep * self.width + period, take))
        names = self.world.rep_names
        for k, i, r, o, q in zip(refused.tolist(), rows[refused].tolist(), rep[refused].tolist(),
                                 open_now.tolist(), in_period[refused].tolist(), strict=True):
            self.reason[i] = (f"no rep: {names[r]} absent on {np.datetime64(self.day[i], 'D')}" if away[k]
                              else f"no rep: capacity reached ({names[r]} {self._load(r, o, q, i)})")

    def _held_counts(self, order: np.ndarray) -> None:
        """``open_at``/``period_at``: the rep's open leads and leads in the period once each lead is taken."""
        done = order[self.rep[order] >= 0]
        rep = self.rep[done]
        for key, start, target in ((rep, np.array(self.open0, dtype=np.int64), "open_at"),
                                   (rep * self.width + self.period_code[done], self._held0(), "period_at")):
            out = np.zeros(len(self.rep), dtype=np.int64)
            out[done] = start[key] + running_count(key, np.ones(len(key), dtype=bool))
            setattr(self, target, out)

    def _loop(self, order: np.ndarray, pool_of: np.ndarray) -> None:
        """The leads of reps that share a pool, one at a time in ``order``; a rule that is off checks nothing
        (no one away, caps of -1)."""
        avail = self.rules.active("availability") and bool(self.absent)
        capacity = self.rules.active("capacity")
        limit = self.rules.max_per_period if capacity and self.rules.max_per_period is not None else -1
        rows = order.tolist()
        rep, turns = [-1] * len(rows), [0] * len(rows)
        pool_list = pool_of[order].tolist()
        pools, open_, width, absent, day, period = self.pools, self.open, self.width, self.absent, self.day, self.period
        cap = self.cap if capacity else [-1] * len(self.cap)
        self.count = count = self._held0().tolist()  # leads per (rep, period) slot, as they are taken
        away = {k // 1_000_000 for k in absent} if avail else set()
        for k, i in enumerate(rows):
            pool = pools[pool_list[k]]
            d, slot = day[i], period[i]
            left = [r for r in pool if not ((r in away and r * 1_000_000 + d in absent) or 0 <= cap[r] <= open_[r]
                                            or 0 <= limit <= count[r * width + slot])]
            if not left:
                self.reason[i] = self._refusal(i, pool, avail, capacity)
                continue
            if len(pool) == 1:
                r = left[0]
            else:
                r = self._turn(pool_list[k], left)
                turns[k] = len(left)
            open_[r] += 1
            count[r * width + slot] += 1
            rep[k] = r
        self.rep[order] = rep
        self.turns[order] = turns
        self._save_turns()

    def _refusal(self, i: int, pool: tuple[int, ...], avail: bool, capacity: bool) -> str:
        names = self.world.rep_names
        away = [r for r in pool if avail and r * 1_000_000 + self.day[i] in self.absent]
        if len(away) == len(pool):
            day = np.datetime64(self.day[i], "D")
            return f"no rep: {', '.join(str(names[r]) for r in away)} absent on {day}"
        full = "; ".join(f"{names[r]} {self._load(r, self.open[r], self._in_period(r, i), i)}"
                         for r in pool if r not in away)
        return f"no rep: capacity reached ({full})"

    def _in_period(self, r: int, i: int) -> int:
        return self.count[r * self.width + self.period[i]]

    def _load(self, r: int, open_now: int, period_now: int, i: int) -> str:
        cap = self.cap[r]
        parts = [f"{open_now} of {cap} open leads" if cap >= 0 else f"{open_now} open leads"]
        if self.rules.max_per_period is not None:
            parts.append(f"{period_now} of {self.rules.max_per_period} in {self.period_labels[self.period[i]]}")
        return ", ".join(parts)

    def _loads(self, r: np.ndarray, done: np.ndarray) -> list[tuple[list[str], np.ndarray]]:
        """"12 of 20 open leads, 3 of 40 in 2026-12" for every assigned lead, as (lookup table, index per
        lead) pieces of the numbers' and the reps' texts (``concat`` joins them; no per-lead formatting)."""
        held, in_period = self.open_at[done], self.period_at[done]
        numbers = [str(k) for k in range(int(max(held.max(initial=0), in_period.max(initial=0))) + 1)]
        caps = [f" of {c} open leads" if c >= 0 else " open leads" for c in self.cap]
        if self.rules.max_per_period is None:
            return [(numbers, held), (caps, r)]
        labels = [f" of {self.rules.max_per_period} in {k}" for k in self.period_labels]
        return [(numbers, held), ([c + ", " for c in caps], r), (numbers, in_period), (labels, self.period_code[done])]

    def _turn(self, p: int, left: list[int]) -> int:
        """The round-robin pick among ``left`` (the pool's reps not blocked), counted in the pool's turns."""
        turns = self.pool_turns.get(p)
        if turns is None:
            turns = self.pool_turns[p] = self._pool_turns(p)
        counts, last, slot, size = turns[0], turns[1], turns[2], turns[3]
        if self.rules.round_robin == "order":
            rep = min(left, key=lambda r: (slot[r] - last - 1) % size)
        else:
            w = self.weights if self.rules.round_robin == "weighted" else self.even
            total, weight = 1, 0.0
            for r in left:
                total += counts[r]
                weight += w[r]
            rep, best, tie = -1, 0.0, 0
            for r in left:  # the first of the largest (share owed, then the next in turn), as max()
                owed, turn = w[r] * total / weight - counts[r], -((slot[r] - last - 1) % size)
                if rep < 0 or owed > best or (owed == best and turn > tie):
                    rep, best, tie = r, owed, turn
        held = counts[rep]
        counts[rep] = held + 1
        if not held:
            turns[5].append(rep)
        turns[1] = slot[rep]
        turns[7] = True
        return rep

    def _pool_turns(self, p: int) -> list:
        """Pool ``p``'s rotation state as the loop keeps it: [count per rep, place of the last rep, first
        place of each rep, pool size, the state dict it came from, reps first counted in this run, the rep ids
        by place, whether it picked in this run]. Pools
        with the same rep ids share one (the state is kept per "R1|R2" key)."""
        pool = self.pools[p]
        ids = [str(self.world.rep_ids[r]) for r in pool]
        name = "|".join(ids)
        if name not in self.turn_state:
            st = self.state.setdefault(name, {"counts": {}, "last": None})
            slot: dict[int, int] = {}
            id_slot: dict[str, int] = {}
            for k, (r, i) in enumerate(zip(pool, ids, strict=True)):  # the first place of each, as list.index
                slot.setdefault(r, k)
                id_slot.setdefault(i, k)
            counts = {r: st["counts"].get(ids[k], 0) for r, k in slot.items()}
            self.turn_state[name] = [counts, id_slot.get(st["last"], -1), slot, len(pool), st, [], ids, False]
        return self.turn_state[name]

    def _save_turns(self) -> None:
        """Write the loop's rotation counts and last reps back into ``state`` (keys in the order a dict
        counting one pick at a time would have)."""
        for counts, last, slot, _size, st, added, ids, picked in self.turn_state.values():
            kept = st["counts"]
            for r, k in slot.items():
                if ids[k] in kept:
                    kept[ids[k]] = counts[r]
            for r in added:
                kept[ids[slot[r]]] = counts[r]
            if picked:
                st["last"] = ids[last]

    def explanations(self, head: Callable[[np.ndarray], list[tuple[list[str], np.ndarray]]],
                     why: list[Note]) -> np.ndarray:
        """The explanation of every assigned lead: ``head(rows)`` (the territory part), the rep with why it
        was kept and the round robin, then the held counts; each distinct rep part is formatted once."""
        out = np.full(len(self.rep), "", dtype=object)
        done = np.flatnonzero(self.rep >= 0)
        if not len(done):
            return out
        r, turns = self.rep[done], self.turns[done]
        names, mode = self.world.rep_names, self.rules.round_robin
        first, inverse = combinations([r, turns, *(note.codes[done] for note in why)])
        loads = self.rules.active("capacity") and (self.rules.max_open is not None or self.rules.max_open_by_rep
                                                   or self.rules.max_per_period is not None)
        texts = []
        for i in first.tolist():
            reasons = ", ".join(t for note in why if (t := note.text(done[i])))
            texts.append(f"; rep {names[r[i]]}" + (f": {reasons}" if reasons else "")
                         + (f", round robin ({mode}) among {turns[i]}" if turns[i] else "") + (", " if loads else ""))
        pieces = [*head(done), (texts, inverse)]
        if loads:
            pieces += self._loads(r, done)
        out[done] = concat(pieces)
        return out


def _absent_days(absences: dict[str, list[tuple[str, str]]], index: dict) -> set:
    """{(rep index, day number since 1970)} of every day a rep is away."""
    days = set()
    for rep_id, spans in absences.items():
        if rep_id not in index:
            continue
        for start, end in spans:
            first, last = np.datetime64(start, "D"), np.datetime64(end, "D")
            for d in np.arange(first, last + np.timedelta64(1, "D")).astype(np.int64).tolist():
                days.add((index[rep_id], d))
    return days


def period_keys(days: np.ndarray, period: str) -> np.ndarray:
    """Period label of each day: '2026-12' (month), '2026-W49' (ISO week) or '2026-12-01' (day)."""
    days = np.asarray(days, dtype="datetime64[D]")
    if period in ("day", "month"):
        out = pd.Series(days.astype("datetime64[M]" if period == "month" else "datetime64[D]").astype(str))
        return out.where(~np.isnat(days), "").to_numpy(dtype=object)
    iso = pd.Series(pd.to_datetime(days)).dt.isocalendar()
    out = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    return out.fillna("").to_numpy(dtype=object)


def period_codes(days: np.ndarray, period: str) -> tuple[np.ndarray, list[str]]:
    """Per day, a code into the list of period labels (``period_keys``); each distinct day labelled once."""
    numbers = np.asarray(days, dtype="datetime64[D]").astype(np.int64)
    day_codes, distinct = pd.factorize(numbers)
    codes, labels = pd.factorize(pd.Series(period_keys(distinct.astype("datetime64[D]"), period), dtype=object))
    return codes[day_codes], list(labels)
