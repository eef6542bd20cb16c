"""The anytime loop: repair the balance, then improve the chosen objective until a deadline or a stall.

:func:`improve` drives the moves of :mod:`.anytime` on one plan and returns the best plan seen (a
balanced plan always beats an unbalanced one; among unbalanced plans the smaller violation wins).
With a time limit the search anneals (the temperature falls linearly to 0 at the deadline) and goes
back to the best plan after a long run without improvement; with ``until_stall`` it is greedy
(equal-energy moves are accepted, so it drifts along plateaus) and stops after ``stall`` steps
without a better plan. For the diameter with a time limit, phases of the bounded search of
:mod:`.bounded` (the decision version: a balanced plan with every diameter <= D, D lowered on each
success) start from the best plan once it is balanced and whenever the search idles (one phase
counts as one step).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ...models.progress import Progress, StopFlag, no_progress
from .anytime import (
    Pair,
    Plan,
    accept,
    apply_cut,
    best_objective_cut,
    local_search,
    random_pair,
    repair_cuts,
    repair_moves,
    side_mask,
    spanning_tree,
    touching,
)
from .bounded import BoundedSearch
from .diameter import diameter_descent
from .exact import MAX_UNION, exact_split
from .feasible import Halt, diameter_bound_proof, infeasibility_proof
from .objectives import CutEdges, Diameter, Objective, TotalDiameter, Travel, all_pairs, edge_length_matrix
from .problem import length_text, number
from .region import random_region, recombine_region
from .tabu import ViolationTabu

#: annealing temperature of repairs, in tolerances: lets excess travel through balanced territories
REPAIR_TEMPERATURE = 0.05

#: connected sets an exact split of a small balanced pair visits at most when searching until a stall
STALL_EXACT_SETS = 2_000

#: with a time limit: steps without a better plan before solver recombinations of three territories
REGION_IDLE = 200

#: with several measures off balance: repair steps without a better plan before a burst of the violation
#: tabu search (:mod:`.tabu`), and the transfers of one burst
TABU_IDLE = 30
TABU_ITERS = 1500
#: off balance: at the first repair step the presolve, after this many the solver on pieces try to prove
#: that no balanced contiguous plan exists (:func:`.feasible.infeasibility_proof`), the solver with at
#: most PROOF_SHARE of the time left
PROOF_IDLE = 2 * TABU_IDLE
PROOF_SHARE = 0.15
#: the share of diameter steps that are iterated-local-search kicks (:func:`_diameter_kick`)
DIAMETER_KICKS = 0.25

#: diameter with a time limit: bounded phases at one best value that meet no bound before trying to prove
#: that value optimal (:meth:`_Bounded.proves_optimal`)
OPTIMAL_AFTER = 3
#: ... with at most this share of the time left (the search has been stuck at that value meanwhile)
OPTIMAL_SHARE = 0.3
#: ... and with ``ImproveSettings.give_up``, this many such phases end the search ("stuck") so that the
#: caller can start again from a new plan (on the DTDP grids the bounded phases from one plan at
#: 254 all failed for 59 s, while other start plans lead to 246)
STUCK_AFTER = OPTIMAL_AFTER

#: diameter with a time limit: steps of the search without a better plan before a phase of the bounded
#: (decision-version) search of :mod:`.bounded` from the best plan; the first phase starts once balanced
BOUNDED_IDLE = 150

OBJECTIVE_WORDS = {Objective.COMPACT: "cut edges", Objective.DIAMETER: "largest diameter",
                   Objective.TRAVEL: "weighted travel", Objective.TOTAL_DIAMETER: "total diameter"}


@dataclass
class Improvement:
    """The best plan of an anytime search and how the search ended.

    ``stopped``: "time limit", "stalled" (no better plan in the last steps), "optimal" (the diameter
    with a time limit: no balanced contiguous plan has a smaller one, :mod:`.feasible`), "stuck" (the
    diameter with ``ImproveSettings.give_up``: bounded phases from the best plan keep failing, or a
    fresh start is not balanced by ``ImproveSettings.balance_by``) or
    "stopped" (the ``finish`` flag); ``max_deviation``: the largest |load / target - 1| over
    territories and measures."""

    labels: np.ndarray
    balanced: bool
    value: float
    max_deviation: float
    steps: int
    accepted: int
    stopped: str
    objective: Objective
    proof: str | None = None  # why no balanced contiguous plan exists, when that was shown (:mod:`.feasible`)
    starts: int = 1  # searches from different start plans (a stuck diameter search starts again)


@dataclass
class ImproveSettings:
    objective: Objective = Objective.COMPACT
    deadline: float = 0.0  # perf_counter seconds
    until_stall: bool = True
    stall: int = 300  # steps without a better plan before a stall stop
    stall_deadline: float = float("inf")  # with until_stall: a balanced search stops here at the latest
    max_steps: int | None = None  # with until_stall: a balanced search stops after this many steps (same seed, same plan)
    restart: int = 1000  # with a time limit: back to the best plan after this many steps without one
    kick: int = 0  # random balanced recombinations after a restart (0: twice the territories)
    exact_sets: int = 20_000  # connected sets an exact split of a small pair visits at most
    seed: int = 0
    unit_names: Sequence[str] = ()  # how messages (an infeasibility proof) name units; indices without
    give_up: bool = False  # the diameter with a time limit: end "stuck" after STUCK_AFTER failed phases at one value
    known: float | None = None  # the best value of an earlier search on the same problem (it is balanced)
    balance_by: float = float("inf")  # perf_counter: end "stuck" if no plan is balanced by then (a fresh start)
    length_unit: str | None = None  # of the edge lengths, for progress messages (BalanceProblem.length_unit)


class ObjectiveFactory:
    """Builds the objective for a plan, keeping the shortest paths it needs across restarts."""

    def __init__(self, kind: Objective, adjacency: sp.csr_matrix, xy: np.ndarray | None,
                 lengths: sp.spmatrix | None, home_units: np.ndarray | None, w: np.ndarray,
                 dist: np.ndarray | None = None) -> None:
        """``dist``: the all-pairs shortest paths when the caller already has them (the diameter start)."""
        self.kind = Objective(kind)
        self.adjacency, self.xy, self.w = adjacency, xy, w
        self.home_units = home_units
        self.lengths = None if self.kind == Objective.COMPACT else edge_length_matrix(adjacency, xy, lengths)
        self.dist = None
        if self.kind.on_diameters:
            self.dist = dist if dist is not None else all_pairs(self.lengths)

    def __call__(self, plan: Plan):
        if self.dist is not None:  # an objective on territory diameters
            kind = Diameter if self.kind == Objective.DIAMETER else TotalDiameter
            return kind(plan.lab, plan.k, self.dist)
        if self.kind == Objective.TRAVEL:
            if self.home_units is None:
                self.home_units = centre_units(plan, self.xy, self.w)
            return Travel(plan.lab, self.lengths, self.home_units, self.w)
        return CutEdges(plan.lab, plan.er, plan.ec)


def centre_units(plan: Plan, xy: np.ndarray | None, w: np.ndarray) -> np.ndarray:
    """(k,) per territory the member nearest its weighted centre (the first member without coordinates)."""
    out = np.zeros(plan.k, np.int64)
    for t in range(plan.k):
        mem = plan.members(t)
        if xy is None:
            out[t] = mem[0]
            continue
        ww = w[mem] + 1e-12
        c = (xy[mem] * ww[:, None]).sum(0) / ww.sum()
        out[t] = mem[int(np.argmin(((xy[mem] - c) ** 2).sum(1)))]
    return out


def _repair_step(plan: Plan, rng: np.random.Generator, limit: int) -> bool:
    """Merge a violating territory with a neighbour and split it where the violation is least (an exact
    split of a small pair, else the best cut of a random spanning tree followed by one-unit moves and
    swaps); undone when the pair ends more violated. The objective is rebuilt once balanced."""
    v = plan.spread(plan.loads)
    viol = plan.viol(plan.loads)
    weight = viol if rng.random() < 0.5 else v  # a violating territory, or one far from the mean
    a = int(rng.choice(plan.k, p=weight / weight.sum()))
    b = touching(plan, a, rng)
    if b is None:
        return False
    pair = Pair(plan, a, b)
    exact = exact_split(plan, pair, _NoObjective(), limit)
    if exact is not None:
        apply_cut(plan, pair, exact[1], exact[2])
        return True
    tree = spanning_tree(plan, pair, rng)
    if tree is None:
        return False
    old = v[a] + v[b]
    mine = pair.lab_nodes == a
    for v_cut, to_a, _ in repair_cuts(plan, tree, rng):
        side = side_mask(tree, v_cut)
        if np.array_equal(side, mine) or np.array_equal(side, ~mine):
            continue  # the current split: one-unit moves from it were tried before
        apply_cut(plan, pair, side, to_a)
        repair_moves(plan, a, b)
        now = plan.lab[pair.nodes] == a
        if np.array_equal(now, mine) or np.array_equal(now, ~mine):
            plan.relabel(pair.nodes, pair.lab_nodes)  # back where it started (or a and b swapped)
            continue
        if accept(float(plan.spread(plan.loads[[a, b]]).sum()) - old, REPAIR_TEMPERATURE, rng):
            return True
        plan.relabel(pair.nodes, pair.lab_nodes)
    return False


class _NoObjective:
    """Every balanced split is as good as any other (repairs only look at the balance)."""

    def split(self, ctx, side: np.ndarray, to_a: bool) -> tuple[float, object]:
        return 0.0, None


def _pick_pair(plan: Plan, obj, rng: np.random.Generator) -> tuple[int, int] | None:
    """A pair to recombine: half of the time (diameter) the largest territory and a neighbour."""
    if isinstance(obj, Diameter) and rng.random() < 0.5:
        a = int(np.argmax(obj.d + rng.random(plan.k) * 1e-9))
        b = touching(plan, a, rng)
        return None if b is None else (a, b)
    return random_pair(plan, rng)


def _minmax(obj) -> bool:
    """Whether ``obj`` is the largest diameter (its focused moves: :mod:`.diameter`, the kicks)."""
    return isinstance(obj, Diameter) and obj.minmax


def _diameter_kick(plan: Plan, obj: Diameter, rng: np.random.Generator) -> bool:
    """An iterated-local-search step for the diameter: recombine the largest territory with a
    neighbour on the best of a few random balanced cuts whatever its energy, then descend with
    ejection chains (:mod:`.diameter`); kept when (largest diameter, energy) is no worse, else undone."""
    a = int(np.argmax(obj.d))
    b = touching(plan, a, rng)
    if b is None:
        return False
    pair = Pair(plan, a, b)
    tree = spanning_tree(plan, pair, rng)
    best = None if tree is None else best_objective_cut(plan, pair, tree, obj, rng)
    if best is None:
        return False
    old, lab, state = (obj.value(), obj.energy), plan.lab.copy(), obj.save()
    _apply(plan, pair, obj, best)
    local_search(plan, obj, [a, b])
    diameter_descent(plan, obj, rng)
    if (obj.value(), obj.energy) <= old:
        return True
    plan.reset(lab)
    obj.restore(state)
    return False


def _improve_step(plan: Plan, obj, rng: np.random.Generator, temperature: float, exact: ExactBudget) -> bool:
    if _minmax(obj) and rng.random() < DIAMETER_KICKS:
        return _diameter_kick(plan, obj, rng)
    ab = _pick_pair(plan, obj, rng)
    if ab is None:
        return False
    pair = Pair(plan, *ab)
    best = exact.split(plan, pair, obj)
    if best is None:
        tree = spanning_tree(plan, pair, rng)
        best = None if tree is None else best_objective_cut(plan, pair, tree, obj, rng)
    if best is None or not accept(best[0] - obj.energy, temperature, rng):
        return False
    _apply(plan, pair, obj, best)
    local_search(plan, obj, list(ab))
    if _minmax(obj):
        diameter_descent(plan, obj, rng)
    return True


class ExactBudget:
    """Exact splits of small pairs, once per union of units, taking at most ``share`` of the time."""

    def __init__(self, limit: int, share: float = 0.25) -> None:
        self.limit, self.share = limit, share
        self.tried: set[int] = set()
        self.spent = 0.0
        self.t0 = time.perf_counter()

    def split(self, plan: Plan, pair: Pair, obj) -> tuple | None:
        if len(pair.nodes) > MAX_UNION:
            return None
        now = time.perf_counter()
        if self.spent > self.share * (now - self.t0):
            return None
        key = hash(pair.nodes.tobytes())
        if key in self.tried:
            return None
        self.tried.add(key)
        out = exact_split(plan, pair, obj, self.limit)
        self.spent += time.perf_counter() - now
        return out


#: the longest one solver recombination may take (the Stop button waits for it)
REGION_MAX_SECONDS = 5.0


class RegionBudget:
    """Solver recombinations of three territories (:mod:`.region`) for cut edges while the search is
    stuck: at most ``share`` of the time, at most ``seconds`` each (default 15 % of the search time,
    at least 3 s and at most REGION_MAX_SECONDS), regions of at most ``max_units`` units, each region tried once per plan."""

    def __init__(self, deadline: float, share: float = 0.4, seconds: float = 0.0, max_units: int = 160) -> None:
        self.t0 = time.perf_counter()
        self.deadline, self.share, self.max_units = deadline, share, max_units
        # at most REGION_MAX_SECONDS: a solve does not look at Stop, which must answer within seconds
        self.seconds = seconds or min(REGION_MAX_SECONDS, max(3.0, 0.15 * (deadline - self.t0)))
        self.spent = 0.0
        self.tried: set[int] = set()

    def step(self, plan: Plan, obj, rng: np.random.Generator) -> bool:
        now = time.perf_counter()
        if not isinstance(obj, CutEdges) or plan.violation() > 0 or now + 0.1 > self.deadline:
            return False
        if self.spent > self.share * (now - self.t0):
            return False
        region = sorted(random_region(plan, int(rng.integers(plan.k)), 3, rng))
        nodes = np.flatnonzero(np.isin(plan.lab, region))
        key = hash((plan.lab[nodes].tobytes(), nodes.tobytes()))
        if len(region) < 3 or len(nodes) > self.max_units or key in self.tried:
            return False
        self.tried.add(key)
        ok = recombine_region(plan, region, min(self.seconds, self.deadline - now), int(rng.integers(1 << 30)))
        self.spent += time.perf_counter() - now
        return ok


def _repair(plan: Plan, rng: np.random.Generator, settings: ImproveSettings, tabu: ViolationTabu | None,
            idle: int) -> bool:
    """One step towards balance: a recombination repair, or (several measures, every TABU_IDLE steps
    without a better plan) a burst of the violation tabu search, which moves excess through balanced
    territories where merge-and-split of pairs is stuck; the burst ends at its best plan, never worse."""
    if tabu is None or idle < TABU_IDLE or idle % TABU_IDLE:
        return _repair_step(plan, rng, settings.exact_sets)
    before = plan.lab.copy()
    tabu.run(TABU_ITERS, settings.deadline)
    return not np.array_equal(before, plan.lab)


def _apply(plan: Plan, pair: Pair, obj, split: tuple) -> None:
    energy, side, to_a, payload = split
    apply_cut(plan, pair, side, to_a)
    obj.apply_split(pair, side, to_a, payload, energy)


def _key(plan: Plan, obj) -> tuple[float, float, float]:
    return (plan.violation(), obj.value(), obj.energy)


def _stop_reason(settings: ImproveSettings, best_key: tuple, idle: int, now: float,
                 finish: StopFlag | None, steps: int = 0) -> str | None:
    if now >= settings.deadline:
        return "time limit"
    if best_key[0] > 0 and now >= settings.balance_by:
        return "stuck"  # a fresh start not balanced in its time: the caller goes back to the best plan
    done = idle > settings.stall or now >= settings.stall_deadline or \
        (settings.max_steps is not None and steps >= settings.max_steps)
    if settings.until_stall and best_key[0] <= 0 and done:
        return "stalled"
    if finish is not None and finish.is_set():
        return "stopped"
    return None


def _temperature(settings: ImproveSettings, obj, now: float, t0: float, kick: int) -> float:
    """0 when searching until a stall; infinite while kicking away from a restart; else falling linearly."""
    if settings.until_stall:
        return 0.0
    if kick > 0:
        return math.inf
    return obj.temperature() * max(0.0, 1 - (now - t0) / max(settings.deadline - t0, 1e-9))


def improve(plan: Plan, factory: ObjectiveFactory, settings: ImproveSettings, stop: StopFlag | None = None,
            progress: Progress = no_progress, finish: StopFlag | None = None) -> Improvement:
    """Run the anytime search on ``plan`` (changed in place) and return the best plan seen. ``stop``
    cancels (raises CancelledError); ``finish`` ends the search early with the best plan so far. With a
    time limit, a long run without a better plan restarts from the best plan after ``kick`` random
    balanced recombinations (an iterated local search)."""
    rng = np.random.default_rng(settings.seed)
    obj = factory(plan)
    t0 = last_report = time.perf_counter()
    best_key, best_lab, best_step = _key(plan, obj), plan.lab.copy(), 0
    steps = accepted = kick = 0
    # searching until a stall (a plain balance), one full exact split would outlast the whole search
    exact = ExactBudget(min(settings.exact_sets, STALL_EXACT_SETS) if settings.until_stall else settings.exact_sets)
    regions = None if settings.until_stall else RegionBudget(settings.deadline)
    tabu = ViolationTabu(plan, np.random.default_rng(settings.seed + 1)) if plan.W.shape[1] > 1 else None
    bounded = _Bounded(factory, settings) if factory.kind == Objective.DIAMETER and not settings.until_stall \
        else None
    proof, repairs = None, 0
    while (stopped := _stop_reason(settings, best_key, steps - best_step, now := time.perf_counter(), finish,
                                          steps)) is None:
        if stop is not None and steps % 8 == 0:
            stop.check()
        if regions is not None and steps - best_step >= REGION_IDLE and regions.step(plan, obj, rng):
            ok = True
            obj = factory(plan)
        elif bounded is not None and best_key[0] <= 0 and bounded.due(steps, best_step):
            plan.reset(best_lab)
            ok = bounded.run(plan, steps, finish, stop, _reporter(progress, factory.kind, t0, settings,
                                                                  _shown(best_key, settings)[1]))
            if not ok and (verdict := bounded.verdict(plan, best_key[1], _halt(stop, finish))) is not None:
                stopped = verdict
                break
            obj = factory(plan)
        elif plan.violation() > 0:
            repairs += 1
            proof = proof or _infeasibility(plan, settings, repairs, now, _halt(stop, finish))
            ok = _repair(plan, rng, settings, tabu, steps - best_step)
            if ok and plan.violation() <= 0:
                obj = factory(plan)
        else:
            ok = _improve_step(plan, obj, rng, _temperature(settings, obj, now, t0, kick), exact)
            kick = max(0, kick - 1)
        steps += 1
        accepted += ok
        key = _key(plan, obj)
        if key < best_key:
            best_key, best_lab, best_step = key, plan.lab.copy(), steps
        elif not settings.until_stall and steps - best_step > settings.restart:
            plan.reset(best_lab)
            obj, best_step, kick = factory(plan), steps, settings.kick or 2 * plan.k
        if now - last_report > 0.5:
            last_report = now
            progress(min((now - t0) / max(settings.deadline - t0, 1e-9), 1.0),
                     _progress_text(factory.kind, _shown(best_key, settings), settings.length_unit))
    plan.reset(best_lab)
    return Improvement(best_lab, best_key[0] <= 0, best_key[1], plan.max_deviation(), steps, accepted, stopped,
                       factory.kind, proof if best_key[0] > 0 else None)


def _infeasibility(plan: Plan, settings: ImproveSettings, repairs: int, now: float, halt: Halt) -> str | None:
    """At the first repair step the presolve alone (no solver, milliseconds), at the PROOF_IDLE-th the
    solver on pieces too (with PROOF_SHARE of the time left, ended by ``halt()`` between two pieces;
    not when searching until a stall): why no balanced contiguous plan exists, or None. The search goes
    on for the whole time either way (the least violated plan is returned)."""
    if repairs not in (1, PROOF_IDLE) or settings.known is not None:  # known: a balanced plan exists
        return None
    late = repairs == PROOF_IDLE and not settings.until_stall
    budget = PROOF_SHARE * max(settings.deadline - now, 0.0) if late else 0.0
    return infeasibility_proof(plan, time.perf_counter() + budget, name=_namer(settings.unit_names), halt=halt)


def _shown(key: tuple, settings: ImproveSettings) -> tuple:
    """The best key to report: with an earlier search's balanced ``known`` value, the better of the two."""
    if settings.known is None or (key[0] <= 0 and key[1] <= settings.known):
        return key
    return (0.0, settings.known, 0.0)


def _halt(*flags: StopFlag | None) -> Halt:
    """Whether any of ``flags`` (Stop, Finish) is set: a proof gives up between two solves."""
    return lambda: any(f is not None and f.is_set() for f in flags)


def _namer(names: Sequence[str]) -> Callable[[int], str]:
    return (lambda u: str(names[u])) if len(names) else str


def _reporter(progress: Progress, kind: Objective, t0: float, settings: ImproveSettings,
              current: float) -> Callable[[float], None]:
    """Progress for a bounded phase: the better of ``current`` and the phase's best so far."""
    def report(value: float) -> None:
        frac = min((time.perf_counter() - t0) / max(settings.deadline - t0, 1e-9), 1.0)
        progress(frac, _progress_text(kind, (0.0, min(value, current), 0.0), settings.length_unit))
    return report


class _Bounded:
    """Phases of the bounded search (:mod:`.bounded`) inside a diameter search with a time limit: the
    first once a plan is balanced, then each time the search goes BOUNDED_IDLE steps without a better
    plan since the last phase; a phase starts from the best plan and ends after two bounds given up."""

    def __init__(self, factory: ObjectiveFactory, settings: ImproveSettings) -> None:
        assert factory.dist is not None
        self.dist, self.settings = factory.dist, settings
        self.rng = np.random.default_rng(settings.seed + 2)
        self.last: int | None = None
        self.phases = 0
        self.stalls: dict[float, int] = {}  # per best value: phases that met no bound from it

    def verdict(self, plan: Plan, value: float, halt: Halt) -> str | None:
        """After a phase that met no bound from the best plan (largest diameter ``value``): "optimal"
        when :meth:`proves_optimal` says so, "stuck" after STUCK_AFTER such phases at ``value`` with
        ``give_up``, else None (search on)."""
        self.stalls[value] = self.stalls.get(value, 0) + 1
        if self.stalls[value] == OPTIMAL_AFTER and self.proves_optimal(plan, value, halt):
            return "optimal"
        return "stuck" if self.settings.give_up and self.stalls[value] >= STUCK_AFTER else None

    def proves_optimal(self, plan: Plan, value: float, halt: Halt) -> bool:
        """Whether no balanced contiguous plan has every diameter below ``value``
        (:func:`.feasible.diameter_bound_proof` at the next smaller distance, with at most OPTIMAL_SHARE
        of the time left and REGION_MAX_SECONDS, given up between two pieces once ``halt()``). Tried
        once per value, after OPTIMAL_AFTER failed phases at it, so that a search still improving does
        not pay for it, and only below an earlier search's ``known`` value (that search, stuck at
        ``known``, tried it there)."""
        if self.settings.known is not None and value >= self.settings.known:
            return False
        smaller = self.dist[self.dist < value - 1e-9]
        if not len(smaller):
            return True  # value 0: nothing is smaller
        now = time.perf_counter()
        # at most REGION_MAX_SECONDS: a long run should not sink minutes into a proof that may not come
        seconds = min(OPTIMAL_SHARE * max(self.settings.deadline - now, 0.0), REGION_MAX_SECONDS)
        return diameter_bound_proof(plan, self.dist, float(smaller.max()), now + seconds, halt=halt) is not None

    def due(self, steps: int, best_step: int) -> bool:
        return self.last is None or steps - max(best_step, self.last) >= BOUNDED_IDLE

    def run(self, plan: Plan, steps: int, finish: StopFlag | None, stop: StopFlag | None,
            report: Callable[[float], None]) -> bool:
        """One phase on ``plan`` (balanced, changed in place to the phase's best); True when better.
        ``finish`` or ``stop`` end it at once (the caller then stops or raises); ``report(value)`` gets
        the phase's best largest diameter about every half second."""
        self.last = steps
        self.phases += 1
        search = BoundedSearch(plan, self.dist, self.rng)
        flags = [f for f in (finish, stop) if f is not None]
        best, last = [float(self.dist.max())], [time.perf_counter()]

        def should_stop() -> bool:
            now = time.perf_counter()
            if now - last[0] > 0.5:
                last[0] = now
                report(best[0])
            return any(f.is_set() for f in flags)

        def better(_labels: np.ndarray, value: float) -> None:
            best[0] = value

        return search.run(self.settings.deadline, should_stop=should_stop, on_better=better,
                          max_fails=2).bounds_met > 0


def objective_value_text(kind: Objective, value: float, unit: str | None) -> str:
    """An objective's value for a message: a diameter on lengths in ``unit`` (:func:`.problem.length_text`),
    else the number (cut edges; weighted travel, a load-weighted sum with no unit of its own)."""
    return length_text(value, unit) if kind.on_diameters else number(value)


def _progress_text(kind: Objective, key: tuple[float, float, float], unit: str | None = None) -> str:
    if key[0] > 0:
        return f"balancing: violation {key[0]:.3g} tolerances"
    return f"best {OBJECTIVE_WORDS[kind]} so far: {objective_value_text(kind, key[1], unit)}"
