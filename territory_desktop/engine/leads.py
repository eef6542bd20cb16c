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
    notes: list[np.ndarray] = []
    territory, source = _territories(data, world, rules, notes)
    pools, pool_of, why = _pools(data, world, rules, territory, source, notes)
    state = {k: {"counts": dict(v.get("counts", {})), "last": v.get("last")} for k, v in (rotation or {}).items()}
    chooser = _Chooser(data, world, rules, state, pools)
    chooser.run(np.lexsort((np.arange(n), data.day.astype("datetime64[D]").astype(np.int64))), pool_of, territory)
    not_applied = _joined(notes, n, "; ")
    head = _territory_text(data, world, territory, source)
    explanation = chooser.explanations(head, why)
    reason = chooser.reason.copy()
    lost = territory < 0
    reason[lost] = np.where(not_applied[lost] != "", "no territory: " + not_applied[lost].astype(str),
                            "no territory rule is enabled")
    failed = (territory >= 0) & (chooser.rep < 0)
    reason[failed] = head[failed] + "; " + reason[failed]
    return LeadOutcome(territory, chooser.rep, explanation, not_applied, reason, chooser.state)


def _joined(parts: list[np.ndarray], n: int, sep: str) -> np.ndarray:
    """Element-wise join of the non-empty strings of several object arrays.

    The parts hold few distinct texts (a rule's reason is mostly one sentence), so the rows are grouped by
    their combination of texts and each distinct combination is joined once."""
    if not parts:
        return np.full(n, "", dtype=object)
    first, inverse = _combinations(parts)
    texts = np.empty(len(first), dtype=object)
    for k, row in enumerate(first.tolist()):
        texts[k] = sep.join(str(part[row]) for part in parts if isinstance(part[row], str) and part[row])
    return texts[inverse]


def _combinations(parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct combinations of values across ``parts`` (arrays of one length): the first row of each
    and each row's combination number."""
    key = np.zeros(len(parts[0]), dtype=np.int64)
    for part in parts:
        codes, uniques = pd.factorize(part)
        key = pd.factorize(key * (len(uniques) + 1) + codes + 1)[0]  # stays below n: no overflow
    _combos, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return first, inverse


# ------------------------------------------------------------------------------------------ territories

def _territories(data: LeadData, world: World, rules: LeadRules, notes: list[np.ndarray]):
    n = len(data.ids)
    territory = np.full(n, -1, dtype=np.int64)
    source = np.full(n, "", dtype=object)
    for rule in (r for r in rules.order if r in TERRITORY_RULES and rules.active(r)):
        candidate, reasons = _territory_candidate(rule, data, world, rules)
        open_ = territory < 0
        hit = open_ & (candidate >= 0)
        territory[hit] = candidate[hit]
        source[hit] = rule
        note = np.full(n, "", dtype=object)
        miss = open_ & (candidate < 0)
        note[miss] = reasons[miss]
        notes.append(note)
    return territory, source


def _territory_candidate(rule: str, data: LeadData, world: World, rules: LeadRules):
    n = len(data.ids)
    if rule == "account_match":
        acc = data.match.account
        owners = np.append(np.asarray(world.account_territory, dtype=np.int64), -1)
        terr = owners[np.where(acc >= 0, acc, len(owners) - 1)]
        reasons = np.full(n, f"account match: no account with this domain or a name scoring "
                             f"{rules.fuzzy_threshold:g} or more", dtype=object)
        no_terr = np.flatnonzero((acc >= 0) & (terr < 0))
        reasons[no_terr] = [f"account match: account {world.account_ids[a]} has no territory" for a in acc[no_terr]]
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
    if len(matched):  # column-wise concatenation; each distinct score formatted once
        acc, by = data.match.account[matched], data.match.how[matched]
        values, inverse = np.unique(data.match.score[matched], return_inverse=True)
        scores = np.array([f" (score {v:.0f})" for v in values.tolist()], dtype=object)[inverse]
        ids = np.asarray(world.account_ids, dtype=object)[acc]
        names = np.asarray(world.account_names, dtype=object)[acc]
        how[matched] = (" by account; matched account " + ids.astype(str).astype(object) + " '"
                        + names.astype(str).astype(object) + "' by " + by.astype(str).astype(object)
                        + np.where(by == "fuzzy name", scores, ""))
    return head + how


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
           notes: list[np.ndarray]):
    """The candidate reps of each lead: (pool tuples, pool index per lead, why text per lead)."""
    pools = _PoolSet(world.territory_reps)
    pool_of = np.where(territory >= 0, territory, len(world.territory_reps)).astype(np.int64)
    why = np.full(len(data.ids), "", dtype=object)
    owner = source == "account_match"
    for rule in (r for r in rules.order if r in ("value_tier", "expertise") and rules.active(r)):
        note = np.full(len(data.ids), "", dtype=object)
        note[(territory >= 0) & owner] = f"{rule.replace('_', ' ')}: the lead goes to the account's owner"
        live = (territory >= 0) & ~owner
        if rule == "value_tier":
            _apply_tiers(data, world, rules, pools, pool_of, why, live, note)
        else:
            _apply_expertise(data, world, pools, pool_of, why, live, note)
        notes.append(note)
    return pools.members, pool_of, why


def _apply_tiers(data, world, rules, pools, pool_of, why, live, note) -> None:
    tiers = sorted(rules.tiers, key=lambda t: -t.min_value)
    if not tiers:
        note[live] = "value tier: no tiers set"
        return
    rep_index = {r: i for i, r in enumerate(world.rep_ids)}
    chosen = np.full(len(live), -1)
    for k, tier in enumerate(tiers):
        chosen[live & (chosen < 0) & (data.value >= tier.min_value)] = k
    under = live & (chosen < 0)
    lowest = tiers[-1].min_value
    note[under] = f"value tier: the value is under the lowest tier ({lowest:,.0f})"
    for k, tier in enumerate(tiers):
        rows = chosen == k
        pool_of[rows] = pools.id_of(tuple(rep_index[r] for r in tier.rep_ids if r in rep_index))
        text = np.full(int(rows.sum()), f"tier '{tier.name}' (value {tier.min_value:,.0f} or more)", dtype=object)
        why[rows] = _joined([why[rows], text], len(text), ", ")


def _apply_expertise(data, world, pools, pool_of, why, live, note) -> None:
    idx = np.flatnonzero(live)
    skill_text = np.full(len(why), "", dtype=object)
    frame = pd.DataFrame({"p": pool_of[idx], "i": data.industry[idx], "r": data.product[idx]})
    for (p, industry, product), pos in frame.groupby(["p", "i", "r"], sort=False).indices.items():
        rows = idx[pos]
        topics = tuple(t for t in (industry, product) if t)
        kept, skill = _skilled(world, pools.members[p], topics)
        if not kept:
            named = " or ".join(f"'{t}'" for t in topics) or "(the lead has no industry or product)"
            note[rows] = f"expertise: no candidate rep has skill {named}"
            continue
        pool_of[rows] = pools.id_of(kept)
        skill_text[rows] = f"skill '{skill}'"
    why[:] = _joined([why, skill_text], len(why), ", ")  # one join, not one per group


def _skilled(world: World, pool: tuple[int, ...], topics: tuple[str, ...]):
    for topic in topics:
        kept = tuple(r for r in pool if topic in world.rep_skills[r])
        if kept:
            return kept, topic
    return (), ""


# ----------------------------------------------------------------------------------- availability, turns

class _Chooser:
    """Availability, capacity and round robin, one lead at a time in date order, counting as it assigns.

    The loop keeps plain Python ints and lists (numpy scalars cost more than the work); texts are built
    for all leads afterwards (``explanations``)."""

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
        labels = period_keys(data.day, rules.period)
        codes, uniques = pd.factorize(pd.Series(labels, dtype=object))
        self.period, self.period_labels = codes.tolist(), list(uniques)
        self.width = width = len(self.period_labels) + 1
        slot = {k: j for j, k in enumerate(self.period_labels)}
        self.period_count = {r * width + slot[k]: c for (r, k), c in world.period_leads.items() if k in slot}
        self.day = data.day.astype("datetime64[D]").astype(np.int64).tolist()
        self.absent = {r * 1_000_000 + d for r, d in _absent_days(rules.absences, index)}
        self.weights = [float(rules.weights.get(r, 1.0)) for r in world.rep_ids]
        self.even = [1.0] * reps
        self.rid = list(world.rep_ids)
        self.rep = np.full(n, -1, dtype=np.int64)
        self.reason = np.full(n, "", dtype=object)
        self.turns = np.zeros(n, dtype=np.int64)
        self.open_at = np.zeros(n, dtype=np.int64)
        self.period_at = np.zeros(n, dtype=np.int64)
        self.pool_state: dict[int, tuple] = {}

    def run(self, order: np.ndarray, pool_of: np.ndarray, territory: np.ndarray) -> None:
        """Assign in ``order``. Leads whose only candidate can never be blocked (no absence, and every lead
        it could take still fits its caps) are assigned at once; the loop takes the others, in order. The
        held counts in the texts are then counted from the final assignment, in order (same numbers)."""
        self.open0, self.period_count0 = list(self.open), dict(self.period_count)
        fast = self._never_blocked(pool_of, territory)
        self._loop(order[~fast[order]], pool_of, territory)
        single = np.array([p[0] if len(p) == 1 else -1 for p in self.pools], dtype=np.int64)
        self.rep[fast] = single[pool_of[fast]]
        self._held_counts(order)

    def _never_blocked(self, pool_of: np.ndarray, territory: np.ndarray) -> np.ndarray:
        """Leads with a territory whose pool is one rep that no absence or cap can stop, whatever the order."""
        has = territory >= 0
        reps = len(self.cap)
        safe = np.ones(reps, dtype=bool)
        if self.rules.active("availability"):
            safe[sorted({k // 1_000_000 for k in self.absent})] = False
        if self.rules.active("capacity"):
            per_pool = np.bincount(pool_of[has] * self.width + np.array(self.period)[has],
                                   minlength=len(self.pools) * self.width).reshape(len(self.pools), self.width)
            most = np.zeros((reps, self.width), dtype=np.int64)  # leads each rep could get, per period
            for p, members in enumerate(self.pools):
                for r in members:
                    most[r] += per_pool[p]
            cap = np.array(self.cap, dtype=np.int64)
            safe &= (cap < 0) | (np.array(self.open0) + most.sum(axis=1) <= cap)
            limit = self.rules.max_per_period if self.rules.max_per_period is not None else -1
            if limit >= 0:
                held = np.zeros(reps * self.width, dtype=np.int64)
                for slot, c in self.period_count0.items():
                    held[slot] = c
                safe &= (held.reshape(reps, self.width) + most <= limit).all(axis=1)
        fast_pool = np.array([len(p) == 1 and bool(safe[p[0]]) for p in self.pools], dtype=bool)
        return has & fast_pool[pool_of]

    def _held_counts(self, order: np.ndarray) -> None:
        """``open_at``/``period_at``: the rep's open leads and leads in the period once each lead is taken."""
        n = len(self.rep)
        position = np.empty(n, dtype=np.int64)
        position[order] = np.arange(len(order))
        done = np.flatnonzero(self.rep >= 0)
        rep, period = self.rep[done], np.array(self.period, dtype=np.int64)[done]
        held = np.zeros(len(self.cap) * self.width, dtype=np.int64)  # leads held before this run
        for slot, c in self.period_count0.items():
            held[slot] = c
        for key, start, target in ((rep, np.array(self.open0, dtype=np.int64), "open_at"),
                                   (rep * self.width + period, held, "period_at")):
            seq = np.lexsort((position[done], key))
            k = key[seq]
            first = np.r_[True, k[1:] != k[:-1]]
            run_start = np.maximum.accumulate(np.where(first, np.arange(len(k)), 0))
            rank = np.empty(len(k), dtype=np.int64)
            rank[seq] = np.arange(len(k)) - run_start + 1
            out = np.zeros(n, dtype=np.int64)
            out[done] = start[key] + rank
            setattr(self, target, out)

    def _loop(self, order: np.ndarray, pool_of: np.ndarray, territory: np.ndarray) -> None:
        avail = self.rules.active("availability") and bool(self.absent)
        capacity = self.rules.active("capacity")
        limit = self.rules.max_per_period if self.rules.max_per_period is not None else -1
        n = len(pool_of)
        rep, turns = [-1] * n, [-1] * n
        pool_list, has_terr = pool_of.tolist(), (territory >= 0).tolist()
        pools, cap, open_, count, width = self.pools, self.cap, self.open, self.period_count, self.width
        absent, day, period = self.absent, self.day, self.period
        away = {k // 1_000_000 for k in absent}

        def blocked(r: int, i: int) -> bool:
            return ((avail and r in away and r * 1_000_000 + day[i] in absent)
                    or (capacity and (0 <= cap[r] <= open_[r] or 0 <= limit <= count.get(r * width + period[i], 0))))

        for i in order.tolist():
            if not has_terr[i]:
                continue
            pool = pools[pool_list[i]]
            if len(pool) == 1 and not blocked(pool[0], i):
                r = pool[0]
            else:
                left = [r for r in pool if not blocked(r, i)]
                if not left:
                    self.reason[i] = self._refusal(i, pool, avail, capacity)
                    continue
                r = left[0] if len(pool) == 1 else self._turn(pool_list[i], left)
                turns[i] = len(left) if len(pool) > 1 else 0
            open_[r] += 1
            key = r * width + period[i]
            count[key] = count.get(key, 0) + 1
            rep[i] = r
        self.rep, self.turns = np.array(rep, dtype=np.int64), np.maximum(np.array(turns), 0)

    def _refusal(self, i: int, pool: tuple[int, ...], avail: bool, capacity: bool) -> str:
        if not pool:
            return "no rep: the territory has no rep and no tier or team covers the lead"
        names = self.world.rep_names
        away = [r for r in pool if avail and r * 1_000_000 + self.day[i] in self.absent]
        if len(away) == len(pool):
            day = np.datetime64(self.day[i], "D")
            return f"no rep: {', '.join(str(names[r]) for r in away)} absent on {day}"
        full = "; ".join(f"{names[r]} {self._load(r, self.open[r], self._in_period(r, i), i)}"
                         for r in pool if r not in away)
        return f"no rep: capacity reached ({full})"

    def _in_period(self, r: int, i: int) -> int:
        return self.period_count.get(r * self.width + self.period[i], 0)

    def _load(self, r: int, open_now: int, period_now: int, i: int) -> str:
        cap = self.cap[r]
        parts = [f"{open_now} of {cap} open leads" if cap >= 0 else f"{open_now} open leads"]
        if self.rules.max_per_period is not None:
            parts.append(f"{period_now} of {self.rules.max_per_period} in {self.period_labels[self.period[i]]}")
        return ", ".join(parts)

    def _loads(self, r: np.ndarray, done: np.ndarray) -> list[tuple[list[str], np.ndarray]]:
        """", 12 of 20 open leads, 3 of 40 in 2026-12" for every assigned lead, as (lookup table, index per
        lead) pieces of the numbers' and the reps' texts (``_concat`` joins them; no per-lead formatting)."""
        held, in_period = self.open_at[done], self.period_at[done]
        numbers = [str(k) for k in range(int(max(held.max(initial=0), in_period.max(initial=0))) + 1)]
        caps = [f" of {c} open leads" if c >= 0 else " open leads" for c in self.cap]
        zero = np.zeros(len(done), dtype=np.int64)
        pieces = [([", "], zero), (numbers, held), (caps, r)]
        if self.rules.max_per_period is not None:
            labels = [f" of {self.rules.max_per_period} in {k}" for k in self.period_labels]
            pieces += [([", "], zero), (numbers, in_period), (labels, np.array(self.period)[done])]
        return pieces

    def _turn(self, p: int, left: list[int]) -> int:
        if p not in self.pool_state:
            pool = self.pools[p]
            ids = [str(self.world.rep_ids[r]) for r in pool]
            st = self.state.setdefault("|".join(ids), {"counts": {}, "last": None})
            slot: dict[int, int] = {}
            id_slot: dict[str, int] = {}
            for k, (r, i) in enumerate(zip(pool, ids, strict=True)):  # the first place of each, as list.index
                slot.setdefault(r, k)
                id_slot.setdefault(i, k)
            self.pool_state[p] = (pool, st, slot, id_slot)
        pool, st, slot, id_slot = self.pool_state[p]
        counts = st["counts"]
        last = id_slot.get(st["last"], -1)
        size = len(pool)
        if self.rules.round_robin == "order":
            rep = min(left, key=lambda r: (slot[r] - last - 1) % size)
        else:
            w = self.weights if self.rules.round_robin == "weighted" else self.even
            rid = self.rid
            held = [counts.get(rid[r], 0) for r in left]
            total = sum(held) + 1
            weight = sum(w[r] for r in left)
            rep, best = -1, (0.0, 0)
            for r, c in zip(left, held, strict=True):  # the first of the largest, as max()
                key = (w[r] * total / weight - c, -((slot[r] - last - 1) % size))
                if rep < 0 or key > best:
                    rep, best = r, key
        chosen = str(self.world.rep_ids[rep])
        counts[chosen] = counts.get(chosen, 0) + 1
        st["last"] = chosen
        return rep

    def explanations(self, head: np.ndarray, why: np.ndarray) -> np.ndarray:
        out = np.full(len(head), "", dtype=object)
        done = np.flatnonzero(self.rep >= 0)
        if not len(done):
            return out
        r = self.rep[done]
        reasons, turns = why[done], self.turns[done]
        names, mode = self.world.rep_names, self.rules.round_robin
        first, inverse = _combinations([r, reasons, turns])  # few distinct: format each once
        texts = np.array([f"; rep {names[r[i]]}" + (f": {reasons[i]}" if reasons[i] else "")
                          + (f", round robin ({mode}) among {turns[i]}" if turns[i] else "")
                          for i in first.tolist()], dtype=object)
        pieces = [(head[done].tolist(), np.arange(len(done))), (texts.tolist(), inverse)]
        if self.rules.active("capacity") and (self.rules.max_open is not None or self.rules.max_open_by_rep
                                              or self.rules.max_per_period is not None):
            pieces += self._loads(r, done)
        out[done] = _concat(pieces)
        return out


def _concat(pieces: list[tuple[list[str], np.ndarray]]) -> np.ndarray:
    """Element-wise concatenation of ``table[index]`` of each (table, index) piece, as an object array.

    Joined by Arrow in one pass (each piece a ``take`` from its small table): cheaper than one numpy
    object addition per piece, each of which makes a Python string per row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = [pa.array(table, type=pa.string()).take(pa.array(np.asarray(index, dtype=np.int64)))
               for table, index in pieces]
    return pc.binary_join_element_wise(*columns, "").to_numpy(zero_copy_only=False).astype(object)


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
