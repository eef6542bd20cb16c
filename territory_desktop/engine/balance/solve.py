"""Entry points: build k territories, rebalance a plan under a disruption cap, assign orphans.

All take a :class:`BalanceProblem` (arrays, metres) plus ``seed``, ``time_limit`` (seconds),
``progress(fraction, message)`` and a ``StopFlag``; they return a :class:`BalanceResult` whose
``labels`` give a territory index 0..k-1 per unit. Runs are reproducible: same problem and seed, same
plan (the time limit only matters when it is reached).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np

from ...models.errors import InfeasibleError
from ...models.progress import Progress, StopFlag, no_progress
from .anchored import anchored_start
from .anytime import Plan
from .graph import connected_without
from .grow import _distinct_nearest, bisect_partition, fill_orphans, grow, repair, spread_seeds
from .improve import Improvement, ImproveSettings, ObjectiveFactory, improve
from .objectives import MAX_DIAMETER_UNITS, Objective, all_pairs, edge_length_matrix
from .pcenter import compact_start
from .phases import balance
from .problem import BalanceProblem, check_feasible, length_text, number, pct, validate, within_tolerance
from .search import Search, SearchParams

#: without a time limit, a balanced plan's improvement stops when it stalls or after STALL_STEPS steps, so
#: that a plain run stays as fast as before #17 and the same seed gives the same plan on a busy machine
#: too (a wall-clock stop made the plan depend on the load); the share of the time the first plan took
#: (at least STALL_MIN_SECONDS) is only a safety net for steps far slower than usual
STALL_STEPS = 40
STALL_SHARE = 0.5
STALL_MIN_SECONDS = 0.5

#: the diameter with a time limit: a search that ends "stuck" (:data:`.improve.STUCK_AFTER`) starts again
#: from a new compact start while at least this many seconds are left; with less, the search goes on
#: from the best plan for the rest of the time
FRESH_START_SECONDS = 5.0
#: ... and a fresh start not balanced within this share of the time left (at least FRESH_BALANCE_SECONDS)
#: is given up for the best plan (on Corners726_G4 one stayed off balance for the last 42 s of 60)
FRESH_BALANCE_SHARE = 0.25
FRESH_BALANCE_SECONDS = 3.0


class BalanceMode(StrEnum):
    """What a balancing run does: build from scratch, rebalance a plan under a disruption cap, or only
    assign the units that have no territory."""

    BUILD = "build"
    REBALANCE = "rebalance"
    ORPHANS = "orphans"


@dataclass
class BalanceResult:
    """A plan and how it was made. ``labels``: (n,) territory index per unit. ``failure`` says why the
    plan misses the request (tolerance or maximum distance), None when ``within_tolerance``."""

    labels: np.ndarray
    seed: int
    within_tolerance: bool
    seconds: float
    moves: int
    homes: np.ndarray
    mode: BalanceMode = BalanceMode.BUILD
    failure: str | None = None
    objective: str = "compact"
    objective_value: float | None = None  # cut edges, largest diameter or weighted travel of the plan
    stopped: str | None = None  # how the anytime search ended: "time limit", "stalled", "optimal" (None: not run)
    steps: int = 0  # anytime recombination steps
    starts: int = 1  # anytime searches from different start plans (more when a diameter search got stuck)
    infeasible: str | None = None  # off balance and shown that no balanced contiguous plan exists: why


def adjacency_lists(p: BalanceProblem) -> list[list[int]]:
    a = p.adjacency
    ind, ptr = a.indices, a.indptr
    return [[int(v) for v in ind[ptr[i]:ptr[i + 1]] if v != i] for i in range(p.n)]


def combined_weight(p: BalanceProblem) -> np.ndarray:
    """(n,) one load per unit mixing all measures, each relative to its target and scaled by 1/tolerance."""
    t = np.where(p.targets > 0, p.targets, 1.0)
    inv = 1.0 / np.maximum(p.tolerance, 1e-3)
    return (p.weights / t * inv).sum(1) / inv.sum()


def _cost_weight(w: np.ndarray) -> np.ndarray:
    return w / max(float(w.mean()), 1e-300) + 0.2


def _centres(labels: np.ndarray, xy: np.ndarray, cw: np.ndarray, k: int) -> np.ndarray:
    sw = np.bincount(labels, weights=cw, minlength=k)
    out = np.zeros((k, 2))
    for d in range(2):
        out[:, d] = np.bincount(labels, weights=cw * xy[:, d], minlength=k) / np.maximum(sw, 1e-300)
    return out


def _match_homes(labels: np.ndarray, xy: np.ndarray, cw: np.ndarray, homes: np.ndarray, k: int,
                 home_units: np.ndarray) -> np.ndarray:
    """Relabel territories so that territory t is the one matched to home t: as many homes as possible
    inside their own territory (the unit ``home_units[t]``), then the shortest centre-to-home distances
    (optimal matching)."""
    from scipy.optimize import linear_sum_assignment

    c = _centres(labels, xy, cw, k)
    cost = np.hypot(c[:, None, 0] - homes[None, :, 0], c[:, None, 1] - homes[None, :, 1])
    outside = labels[home_units][None, :] != np.arange(k)[:, None]  # region r does not hold home t
    rows, cols = linear_sum_assignment(cost + outside * (cost.max() + 1.0) * k)
    mapping = np.empty(k, dtype=np.int64)
    mapping[rows] = cols
    return mapping[labels]


def _anchored(b: _Build) -> np.ndarray | None:
    """The location-allocation start with every home unit (and locked unit) fixed to its territory."""
    assert b.home_units is not None  # set whenever homes are
    p = b.p
    return anchored_start(p.weights, p.tolerance, b.w, p.adjacency, p.xy, np.where(b.pin, b.pin_to, -1),
                          b.home_units)


def _join_homes(labels: np.ndarray, adj: list[list[int]], home_units: np.ndarray,
                locked: np.ndarray) -> np.ndarray:
    """Each home unit outside its territory t joins t with the units on the shortest chain (breadth-first
    in the unit graph) from it to t, so t stays one piece; the chain passes no locked unit and no other
    home unit. Pieces this cuts off other territories are for :func:`~.grow.repair`."""
    labels = labels.copy()
    blocked = locked.copy()
    blocked[home_units] = True
    for t, h in enumerate(home_units.tolist()):
        if labels[h] == t:
            continue
        before = {h: -1}
        queue, end = deque([h]), -1
        while queue and end < 0:
            u = queue.popleft()
            for v in adj[u]:
                if v not in before and (labels[v] == t or not blocked[v]):
                    before[v] = u
                    if labels[v] == t:
                        end = v
                        break
                    queue.append(v)
        u = before[end] if end >= 0 else h  # no chain (walled in by locked units): the home unit alone
        while u >= 0:
            labels[u] = t
            u = before[u]
    return labels


def _fill_empty(labels: np.ndarray, p: BalanceProblem, adj: list[list[int]], w: np.ndarray) -> np.ndarray:
    """Give each empty territory one unit taken from the heaviest territory (keeping it connected)."""
    labels = labels.copy()
    for t in range(p.k):
        if (labels == t).any():
            continue
        load = np.bincount(labels, weights=w, minlength=p.k)
        for a in np.argsort(-load):
            mem = np.flatnonzero((labels == a) & ~p.locked)
            lab, size = labels.tolist(), len(np.flatnonzero(labels == a))
            ok = [u for u in mem if any(labels[v] != a for v in adj[u])
                  and connected_without(adj, lab, int(u), int(a), size)]
            if ok:
                labels[ok[0]] = t
                break
    return labels


def _too_far(p: BalanceProblem, s: Search, what: str) -> str | None:
    """Why the plan breaks the maximum distance (the farthest unit), or None."""
    far = [u for u in range(p.n) if s.distance_penalty(u, s.lab[u]) > 0]
    if not far or p.max_distance is None:
        return None
    u = max(far, key=lambda v: s.dist(v, s.lab[v]))
    return (f"{what}: unit {p.unit_names[u]} is {s.dist(u, s.lab[u]) / 1000:.1f} km from the home of "
            f"{p.territory_names[s.lab[u]]}, beyond the maximum of {p.max_distance / 1000:.1f} km "
            f"({len(far)} units are too far); raise --max-distance or the number of territories")


def _off_balance(p: BalanceProblem, s: Search, what: str, seconds: float) -> str:
    """The territory and measure furthest outside the tolerance, in words."""
    targets = p.targets
    worst = (0.0, 0, 0)
    for t in range(p.k):
        for j in range(p.m):
            dev = s.load[t][j] / targets[j] - 1 if targets[j] > 0 else 0.0
            if abs(dev) / max(p.tolerance[j], 1e-9) > worst[0]:
                worst = (abs(dev) / max(p.tolerance[j], 1e-9), t, j)
    _, t, j = worst
    dev = s.load[t][j] / targets[j] - 1
    return (f"{what}: {p.territory_names[t]} ends at {p.amount(j, s.load[t][j])}, {pct(dev, True)} "
            f"{'over' if dev > 0 else 'under'} the target {number(targets[j])} (tolerance +/-"
            f"{pct(p.tolerance[j])} on {p.measure_labels[j]}) after {seconds:.1f} s; widen the tolerance, "
            f"unlock units, raise the time limit or allow more moves")


def _finish(p: BalanceProblem, s: Search, t0: float, seed: int, mode: BalanceMode, strict: bool,
            what: str, imp: Improvement | None = None) -> BalanceResult:
    """The result of a search; its ``failure`` names the cause when it misses the request, and with
    ``strict`` that is raised as an InfeasibleError carrying the result."""
    seconds = time.perf_counter() - t0
    balanced = s.within()
    failure = _too_far(p, s, what) if balanced else _off_balance(p, s, what, seconds)
    res = BalanceResult(s.labels(), seed, failure is None, seconds, s.moves, s.homes.copy(), mode, failure)
    if imp is not None:
        res.objective, res.objective_value = str(imp.objective), imp.value
        res.stopped, res.steps, res.starts = imp.stopped, imp.steps, imp.starts
        if imp.proof and failure is not None:
            res.infeasible = imp.proof
            res.failure = failure = (f"{failure}. No plan with connected territories meets these bounds: "
                                     f"{imp.proof}")
    if strict and failure is not None:
        raise InfeasibleError[BalanceResult](failure, result=res)
    return res


@dataclass
class _Build:
    """The fixed parts of a from-scratch build: graph, loads, locks and (with homes) pinned home units."""

    p: BalanceProblem
    rng: np.random.Generator
    adj: list[list[int]]
    w: np.ndarray
    cw: np.ndarray
    forced: np.ndarray
    locked_sources: list[np.ndarray]
    pin: np.ndarray
    pin_to: np.ndarray
    home_units: np.ndarray | None = None
    dist: np.ndarray | None = None  # all-pairs shortest paths: the diameter objective's compact start
    centre_start: bool = True  # the first compact start grows from the graph's centre (seed 0), else at random

    @property
    def fixed(self) -> bool:
        return self.p.homes is not None


def _home_seeds(p: BalanceProblem) -> np.ndarray:
    """(k,) the unit of each home: ``p.home_units`` where given and not taken by an earlier home, else
    the nearest free unit (by unit centre)."""
    homes = np.asarray(p.homes, float)
    nearest = _distinct_nearest(p.xy, homes)
    if p.home_units is None:
        return nearest
    out = np.full(p.k, -1, dtype=np.int64)
    taken: set[int] = set()
    for t, home in enumerate(np.asarray(p.home_units, dtype=np.int64).tolist()):
        if home >= 0 and home not in taken:
            out[t] = home
            taken.add(home)
    for t in np.flatnonzero(out < 0).tolist():  # a home outside every unit, or in a unit another home has
        u = int(nearest[t])
        if u in taken:
            order = np.argsort(np.hypot(*(p.xy - homes[t]).T), kind="stable")
            u = next(int(v) for v in order if int(v) not in taken)
        out[t] = u
        taken.add(u)
    return out


def _locked_seeds(seeds: np.ndarray, locked_sources: list[np.ndarray], keep_locked: bool = True) -> np.ndarray:
    """A territory with locked units grows from them (from its first one, or with ``keep_locked`` from the
    seed already chosen when that is one of them)."""
    for t, src in enumerate(locked_sources):
        if len(src) and not (keep_locked and seeds[t] in set(src.tolist())):
            seeds[t] = src[0]
    return seeds


def _build_setup(p: BalanceProblem, seed: int) -> tuple[_Build, np.ndarray]:
    rng = np.random.default_rng(seed)
    w = combined_weight(p)
    cw = _cost_weight(w)
    forced = p.current if p.current is not None else np.full(p.n, -1)
    locked_sources = [np.flatnonzero(p.locked & (forced == t)) for t in range(p.k)]
    seeds = _home_seeds(p) if p.homes is not None else spread_seeds(p.xy, cw, p.k, rng)
    seeds = _locked_seeds(seeds, locked_sources)
    pin, pin_to = p.locked.copy(), forced.copy()
    if p.homes is not None:  # each home's own unit stays in its territory: every rep lives in their territory
        free = ~p.locked[seeds]
        pin[seeds[free]] = True
        pin_to[seeds[free]] = np.arange(p.k)[free]
    home_units = seeds.copy() if p.homes is not None else None
    return _Build(p, rng, adjacency_lists(p), w, cw, forced, locked_sources, pin, pin_to, home_units,
                  centre_start=seed == 0), seeds


def _pins(b: _Build, labels: np.ndarray, every_home: bool) -> tuple[np.ndarray, np.ndarray]:
    """Units the search may not move and their territories: the locked units, and each home unit that
    lies in its own territory (``every_home``: all of them)."""
    pin, pin_to = b.p.locked.copy(), b.forced.copy()
    if b.home_units is not None:
        for t, h in enumerate(b.home_units):
            if not b.p.locked[h] and (every_home or labels[h] == t):
                pin[h], pin_to[h] = True, t
    return pin, pin_to


def _attempt(b: _Build, attempt: int, seeds: np.ndarray, stop: StopFlag | None) -> Search:
    """One initial plan repaired, as a search: with homes first the location-allocation start around the
    homes (:mod:`.anchored`), else region growing from the seeds (with homes or locks) or a recursive
    bisection, numbered with homes to hold as many of them as it can. Home units the plan holds are
    pinned; :func:`_balanced` joins the others to their territories."""
    p = b.p
    grown = bool(p.locked.any()) or (b.fixed and attempt == 1)
    start = _anchored(b) if b.fixed and attempt == 1 else None
    if b.dist is not None:
        labels = _diameter_start(b, attempt)
    elif start is not None:
        labels = start
    elif grown:
        labels = grow(b.adj, b.w, seeds, p.xy, p.k, b.fixed, b.locked_sources, stop=stop)
    else:
        labels = bisect_partition(p.adjacency, b.w, p.xy, p.k, b.rng)
        if b.fixed and b.home_units is not None:  # home units are set whenever homes are
            labels = _match_homes(labels, p.xy, b.cw, np.asarray(p.homes, float), p.k, b.home_units)
    pin, pin_to = _pins(b, labels, every_home=grown)
    labels = repair(labels, b.adj, b.w, p.k, pin, pin_to)
    labels = _fill_empty(labels, p, b.adj, b.w)
    return _search_for(b, labels, pin)


def _diameter_start(b: _Build, attempt: int) -> np.ndarray:
    """The compact start of :mod:`.pcenter` (seed 0's first attempt from the graph's centre; other
    seeds', and later attempts, from a random first unit of the build's random stream, so that
    searches from several seeds at once do not all begin with the same plan)."""
    p = b.p
    first = None if attempt == 1 and b.centre_start else int(b.rng.integers(p.n))
    assert b.dist is not None
    return compact_start(b.adj, b.dist, p.weights, p.targets * (1 - p.tolerance), p.targets * (1 + p.tolerance),
                         b.w, p.k, first)


def _with_distances(b: _Build, objective: str) -> _Build:
    """For the diameter objective on a plan without homes or locks, the all-pairs shortest paths the
    compact start grows on; other objectives and anchored plans keep their starts unchanged, and a
    layer too large for the matrix keeps the usual start (the search refuses it later, as before)."""
    p = b.p
    if Objective(objective).on_diameters and not b.fixed and not p.locked.any() \
            and p.n <= MAX_DIAMETER_UNITS:
        b.dist = all_pairs(edge_length_matrix(p.adjacency, p.xy, p.edge_lengths))
    return b


def _search_for(b: _Build, labels: np.ndarray, pin: np.ndarray) -> Search:
    p = b.p
    homes = np.asarray(p.homes, float) if b.fixed else _centres(labels, p.xy, b.cw, p.k)
    return Search(labels, b.adj, SearchParams(p.weights, p.tolerance, p.xy, p.k, pin, homes, b.fixed, b.cw,
                                              p.max_distance))


def _balanced(b: _Build, s: Search, deadline: float, stop: StopFlag | None) -> tuple[Search, bool]:
    """Balance the plan of ``s`` (True when within the tolerance). With homes the anchors are hard: each
    home unit the plan left outside its territory then joins it (:func:`_join_homes`), every home unit is
    pinned, so no later step moves it, and the plan is balanced again."""
    moves = max(2000, b.p.n // 4)
    ok = balance(s, deadline, stop, max_moves=moves)
    if b.fixed and not ok:  # compactness moves reshape the plan around the pinned homes: balance unsticks
        s.polish(deadline, stop, passes=2)
        ok = balance(s, deadline, stop, max_moves=moves)
    if _homes_outside(b, s) == 0:
        return s, ok
    assert b.home_units is not None  # someone is outside only when there are homes
    labels = _join_homes(s.labels(), b.adj, b.home_units, b.p.locked)
    pin, pin_to = _pins(b, labels, every_home=True)
    labels = _fill_empty(repair(labels, b.adj, b.w, b.p.k, pin, pin_to), b.p, b.adj, b.w)
    joined = _search_for(b, labels, pin)
    joined_ok = balance(joined, deadline, stop, max_moves=moves)
    if joined_ok or not ok:
        return joined, joined_ok
    # every home inside costs the balance here: keep the balanced plan (the caller names the reps outside)
    return s, ok


def _anytime(b: _Build, s: Search, run: _Run, deadline: float, stop: StopFlag | None,
             progress: Progress) -> tuple[Search, Improvement | None]:
    """The anytime search (:mod:`.improve`) from the plan of ``s``; skipped with a maximum distance
    (recombination does not see it)."""
    p = b.p
    if p.max_distance is not None or time.perf_counter() >= deadline:
        return s, None
    labels = s.labels()
    pin, pin_to = _pins(b, labels, every_home=False)
    plan = Plan(p.weights, p.tolerance, p.k, p.adjacency, b.adj, labels, np.where(pin, pin_to, -1))
    factory = ObjectiveFactory(run.objective, p.adjacency, p.xy, p.edge_lengths, b.home_units, b.w, b.dist)
    now = time.perf_counter()
    settings = ImproveSettings(run.objective, deadline, until_stall=not run.use_time_limit,
                               stall=max(300, 6 * p.k), seed=run.seed + 1000 * run.fresh, exact_sets=20_000,
                               max_steps=STALL_STEPS,
                               stall_deadline=now + max(STALL_MIN_SECONDS, STALL_SHARE * (now - run.t0)),
                               unit_names=p.unit_names, give_up=run.give_up, known=run.known,
                               balance_by=run.balance_by, length_unit=p.length_unit)
    origin = run.search_t0 or now  # a fresh start's progress goes on from where the first search was

    def part(_fraction: float, message: str) -> None:
        progress(_search_share(origin, deadline), message)

    imp = improve(plan, factory, settings, stop, part, run.finish)
    if np.array_equal(imp.labels, labels):
        return s, imp  # nothing better found: no new Search (0.2 s on 29,000 ZIP cells)
    out = _search_for(b, imp.labels, pin)
    out.moves = s.moves + int((imp.labels != labels).sum())  # units whose territory the search changed
    return out, imp


@dataclass
class _Run:
    """How a from-scratch build searches after its first balanced plan."""

    objective: Objective = Objective.COMPACT
    use_time_limit: bool = False
    seed: int = 0
    finish: StopFlag | None = None
    t0: float = 0.0  # perf_counter at the start of the build
    give_up: bool = False  # end a stuck diameter search so that it can start again (ImproveSettings.give_up)
    known: float | None = None  # the best value of the searches before a fresh start
    balance_by: float = float("inf")  # a fresh start: perf_counter by which it must be balanced
    fresh: int = 0  # fresh starts so far (a new random stream for each)
    search_t0: float = 0.0  # perf_counter when the first anytime search began (0: this one)


def _search_share(origin: float, deadline: float) -> float:
    """The progress of a build in its anytime search (the last 15 %), by the time since ``origin``."""
    return 0.85 + 0.15 * min((time.perf_counter() - origin) / max(deadline - origin, 1e-9), 1.0)


def _anytime_with_fresh_starts(b: _Build, s: Search, run: _Run, deadline: float, stop: StopFlag | None,
                               progress: Progress, attempt: int) -> tuple[Search, Improvement | None]:
    """The anytime search, and with the diameter objective and a time limit, while it ends "stuck"
    (bounded phases from its best plan keep failing), again: from a new compact start (a random first
    unit; only where the build has the compact start's distances) while FRESH_START_SECONDS are left,
    else from the best plan for the rest of the time; a fresh start not balanced in its share of the
    time is followed by the best plan again. Each search knows the best value so far. The
    best plan (balance first, then value) is returned; its ``stopped`` says how the last search
    ended, ``steps`` counts every search's."""
    run = replace(run, give_up=run.use_time_limit and run.objective == Objective.DIAMETER,
                  search_t0=time.perf_counter())
    s, imp = _anytime(b, s, run, deadline, stop, progress)
    steps, starts, failed = (imp.steps if imp is not None else 0), 1, False
    while imp is not None and imp.stopped == "stuck":
        left = deadline - time.perf_counter()
        fresh = left > FRESH_START_SECONDS and not failed  # after a fresh start left off balance: the best plan
        start = s
        by = time.perf_counter() + max(FRESH_BALANCE_SECONDS, FRESH_BALANCE_SHARE * left) if fresh else float("inf")
        run = replace(run, give_up=left > FRESH_START_SECONDS, known=imp.value, fresh=run.fresh + 1, balance_by=by)
        if fresh:
            attempt, starts = attempt + 1, starts + 1
            best = length_text(imp.value, b.p.length_unit)
            progress(_search_share(run.search_t0, deadline), f"new start plan {starts} (best {best} so far)")
            start, _ = _balanced(b, _attempt(b, attempt, np.zeros(0, int), stop), deadline, stop)
        again_s, again = _anytime(b, start, run, deadline, stop, progress)
        if again is None:
            imp.stopped = "time limit"
            break
        steps += again.steps
        failed = fresh and not again.balanced
        if (not again.balanced, again.value) < (not imp.balanced, imp.value):
            s, imp = again_s, again
        imp.stopped = again.stopped
    if imp is not None:
        imp.steps, imp.starts = steps, starts
    return s, imp


def _homes_outside(b: _Build, s: Search) -> int:
    return 0 if b.home_units is None else sum(s.lab[h] != t for t, h in enumerate(b.home_units))


def balance_territories(p: BalanceProblem, seed: int = 0, time_limit: float = 30.0,
                        progress: Progress = no_progress, stop: StopFlag | None = None,
                        strict: bool = True, max_attempts: int = 50, objective: str = "compact",
                        use_time_limit: bool = False, finish: StopFlag | None = None) -> BalanceResult:
    """Build k contiguous, balanced, compact territories from scratch (locked units stay put; with
    ``p.homes`` each territory keeps the unit of its home).

    After the first plan an anytime search (:mod:`.improve`) recombines pairs of territories to lower
    ``objective`` ("compact": cut edges, "diameter", "travel", "total-diameter"; on ``p.edge_lengths``)
    within the whole tolerance band, and reaches the balance where single moves could not; with
    ``use_time_limit`` it runs for the whole ``time_limit``, else it stops when improvement stalls (``result.stopped``);
    setting ``finish`` ends it early with the best plan so far (``stop`` cancels the whole run).

    The local search gets at most max(2000, n/4) moves per attempt; a stuck attempt restarts from a
    new initial plan (same random stream, so runs stay reproducible) while 60% of the time is left.

    Raises InfeasibleError when the request is provably impossible (``result`` None), or (``strict``)
    when the tolerance was not reached in ``time_limit`` seconds; the error then carries the best plan
    as ``.result``. Without ``strict`` that plan is returned with its ``failure`` reason.
    """
    t0 = time.perf_counter()
    deadline = t0 + time_limit
    validate(p)
    check_feasible(p)
    progress(0.0, "preparing")
    b, seeds = _build_setup(p, seed)
    b = _with_distances(b, objective)
    share = 0.5 if use_time_limit else 0.6  # of the time for restarts before recombination repairs
    best: Search | None = None
    best_key = (np.inf, 0)
    attempt = 0
    while True:  # restart from a new initial plan when the local search gets stuck
        attempt += 1
        progress(min(0.05 + 0.1 * attempt, 0.6), f"attempt {attempt}: initial territories")
        if attempt > 1 and not b.fixed:
            seeds = _locked_seeds(spread_seeds(p.xy, b.cw, p.k, b.rng), b.locked_sources, keep_locked=False)
        s = _attempt(b, attempt, seeds, stop)
        progress(min(0.1 + 0.1 * attempt, 0.7), f"attempt {attempt}: balancing")
        s, ok = _balanced(b, s, t0 + time_limit * 0.8, stop)
        key = (s.penalty(), _homes_outside(b, s))
        if best is None or key < best_key:
            best, best_key = s, key
        # with homes, a balanced plan with a rep outside their territory is worth another attempt
        done = ok and best_key[1] == 0
        finished = finish is not None and finish.is_set()  # the planner's Finish: the best plan so far
        if done or finished or time.perf_counter() > t0 + time_limit * share or attempt >= max_attempts:
            break
    s = best
    progress(0.8, "improving compactness")
    s.polish(deadline, stop)
    if not s.within() and time.perf_counter() < deadline:
        balance(s, t0 + time_limit * (share + 0.1), stop)
    s, imp = _anytime_with_fresh_starts(b, s, _Run(Objective(objective), use_time_limit, seed, finish, t0), deadline,
                                        stop, progress, attempt)
    progress(1.0, "done")
    return _finish(p, s, t0, seed, BalanceMode.BUILD, strict, f"could not balance {p.k} territories", imp)


def rebalance_plan(p: BalanceProblem, max_moved: float = 0.1, moved_measure: int | None = None,
                   seed: int = 0, time_limit: float = 30.0, progress: Progress = no_progress,
                   stop: StopFlag | None = None, strict: bool = True) -> BalanceResult:
    """Rebalance ``p.current`` moving at most ``max_moved`` of the units (or of measure ``moved_measure``).

    Orphans are assigned first (not counted as moves); non-contiguous territories are repaired (counted).
    """
    t0 = time.perf_counter()
    validate(p)
    if p.current is None:
        raise InfeasibleError("rebalancing needs a current plan (--current COLUMN)")
    check_feasible(p)
    if not 0 <= max_moved <= 1:
        raise InfeasibleError(f"--max-moved must be a fraction between 0 and 1, got {max_moved}")
    adj = adjacency_lists(p)
    w = combined_weight(p)
    cw = _cost_weight(w)
    progress(0.0, "assigning orphans")
    start = fill_orphans(p.current, adj, w, p.k, prefer_touching=True)
    original = start.copy()
    labels = repair(start, adj, w, p.k, p.locked, start)
    labels = _fill_empty(labels, p, adj, w)
    dw = np.ones(p.n) if moved_measure is None else p.weights[:, moved_measure]
    budget = max_moved * float(dw.sum())
    homes = np.asarray(p.homes, float) if p.homes is not None else _centres(original, p.xy, cw, p.k)
    s = Search(labels, adj, SearchParams(p.weights, p.tolerance, p.xy, p.k, p.locked, homes, True, cw,
                                         p.max_distance, original=original, disruption_w=dw, budget=budget))
    progress(0.2, "rebalancing")
    balance(s, t0 + time_limit * 0.9, stop)
    s.polish(t0 + time_limit, stop, passes=2)
    progress(1.0, "done")
    what = (f"could not rebalance moving at most {max_moved:.0%} of "
            f"{'units' if moved_measure is None else p.measure_names[moved_measure]}")
    return _finish(p, s, t0, seed, BalanceMode.REBALANCE, strict, what)


def assign_orphans(p: BalanceProblem, progress: Progress = no_progress) -> BalanceResult:
    """Assign only the orphan units (-1 in ``p.current``) to the least-loaded adjacent territory."""
    t0 = time.perf_counter()
    validate(p)
    if p.current is None:
        raise InfeasibleError("assigning orphans needs a current plan")
    adj = adjacency_lists(p)
    w = combined_weight(p)
    if (p.current < 0).all():
        raise InfeasibleError("every unit is an orphan; build territories from scratch instead")
    labels = fill_orphans(p.current, adj, w, p.k, prefer_touching=True)
    progress(1.0, "done")
    return BalanceResult(labels, 0, within_tolerance(p, labels), time.perf_counter() - t0,
                         int((p.current < 0).sum()), _centres(labels, p.xy, _cost_weight(w), p.k),
                         BalanceMode.ORPHANS)


__all__ = [
    "BalanceMode",
    "BalanceResult",
    "adjacency_lists",
    "assign_orphans",
    "balance_territories",
    "combined_weight",
    "rebalance_plan",
]
