"""Focused moves for the min-max diameter objective: shrink the territories that set the largest diameter.

The largest diameter is set by one territory, and only moving an *end* of its diameter (a unit at
the farthest distance from another member) can shrink it. :func:`diameter_descent` takes the
territories from the largest diameter down, moves an end to a neighbouring territory, and when the
move leaves a territory outside the bounds on any measure follows it with up to two compensating
moves (an ejection chain: the receiver passes a unit on, or a neighbour gives the donor one; the
excess may pass to the next territory, which then compensates in turn). A chain is kept when the plan is balanced again and better on (largest diameter, soft-maximum energy); else
every move of it is undone. Diameters are judged incrementally by :class:`.objectives.Diameter`.
"""

from __future__ import annotations

import numpy as np

from .anytime import Plan
from .graph import connected_without
from .objectives import Diameter

#: territories tried per round, from the largest diameter down
TERRITORIES_TRIED = 10

#: compensating moves after the first move of a chain
MAX_REPAIRS = 2

#: a key must drop by more than this (relative) to count as better
EPS = 1e-9


def _key(obj: Diameter) -> tuple[float, float]:
    return float(obj.d.max()), obj.energy


def _better(new: tuple[float, float], old: tuple[float, float]) -> bool:
    if new[0] < old[0] * (1 - EPS):
        return True
    return new[0] <= old[0] * (1 + EPS) and new[1] < old[1] * (1 - EPS)


def _key_of(obj: Diameter, new: dict[int, float]) -> tuple[float, float]:
    d = obj.d.copy()
    for t, v in new.items():
        d[t] = v
    return float(d.max()), obj._soft(d)


def _may_leave(plan: Plan, u: int, a: int) -> bool:
    return plan.pin[u] < 0 and connected_without(plan.adj, plan.labl, u, a, int(plan.size[a]))


def _do(plan: Plan, obj: Diameter, u: int, a: int, c: int, new: dict[int, float]) -> None:
    plan.move(u, a, c)
    obj.apply_move(plan, u, a, c, new, obj._soft(_merged(obj.d, new)))


def _merged(d: np.ndarray, new: dict[int, float]) -> np.ndarray:
    d = d.copy()
    for t, v in new.items():
        d[t] = v
    return d


def _move_values(plan: Plan, obj: Diameter, u: int, a: int, c: int) -> dict[int, float]:
    return {a: obj.without(plan, u, a), c: max(float(obj.d[c]), float(obj.M[u, c]))}


def _repair_candidates(plan: Plan, t: int) -> list[tuple[int, int, int]]:
    """Moves (unit, from, to) that may bring territory t back within the bounds: out of t where t is
    over a bound, into t where it is under one."""
    over = (plan.loads[t] > plan.hi).any()
    under = (plan.loads[t] < plan.lo).any()
    labl, out = plan.labl, []
    if over:
        for w in plan.boundary(t):
            for e in {labl[v] for v in plan.adj[w]} - {t}:
                out.append((w, t, e))
    if under:
        seen: set[int] = set()
        for w in plan.boundary(t):
            for v in plan.adj[w]:
                if labl[v] != t and v not in seen:
                    seen.add(v)
                    out.append((v, labl[v], t))
    return out


def _best_repair(plan: Plan, obj: Diameter, t: int, limit: tuple[float, float]) -> tuple | None:
    """The compensating move that lowers t's violation, does not raise the violation of t and the
    other territory together, and gives the best key whose largest diameter is within ``limit``. Screened on all candidates at once (loads, the receiver's
    new diameter), then judged one by one."""
    cands = _repair_candidates(plan, t)
    if not cands:
        return None
    w, f, e = (np.array(x, np.int64) for x in zip(*cands, strict=True))
    out_of_t = f == t
    new_f, new_e = plan.loads[f] - plan.W[w], plan.loads[e] + plan.W[w]
    other = np.where(out_of_t, e, f)
    t_new = np.where(out_of_t[:, None], new_f, new_e)
    o_new = np.where(out_of_t[:, None], new_e, new_f)
    v_t = float(plan.viol(plan.loads[t]))
    ok = (plan.viol(t_new) < v_t - 1e-12) & (plan.pin[w] < 0)
    # the violation may pass on to the other territory (an ejection chain) but not grow
    ok &= plan.viol(t_new) + plan.viol(o_new) <= v_t + plan.viol(plan.loads[other]) + 1e-12
    ok &= np.maximum(obj.d[e], obj.M[w, e]) <= limit[0] * (1 + EPS)
    best = None
    for i in np.flatnonzero(ok).tolist():
        wi, fi, ei = int(w[i]), int(f[i]), int(e[i])
        new = _move_values(plan, obj, wi, fi, ei)
        key = _key_of(obj, new)
        if key[0] > limit[0] * (1 + EPS) or (best is not None and not _better(key, best[0])):
            continue
        if connected_without(plan.adj, plan.labl, wi, fi, int(plan.size[fi])):
            best = (key, wi, fi, ei, new)
    return best


def _chain(plan: Plan, obj: Diameter, u: int, a: int, c: int, old: tuple[float, float]) -> bool:
    """Move u from a to c, then compensate; True when kept (balanced and better than ``old``)."""
    state, moves = obj.save(), [(u, a, c)]
    _do(plan, obj, u, a, c, _move_values(plan, obj, u, a, c))
    for _ in range(MAX_REPAIRS):
        bad = [t for t in {a, c} | {m[2] for m in moves} if plan.viol(plan.loads[t]) > 0]
        if not bad:
            break
        rep = _best_repair(plan, obj, bad[0], old)
        if rep is None:
            break
        _, w, f, e, new = rep
        _do(plan, obj, w, f, e, new)
        moves.append((w, f, e))
    if plan.violation() <= 0 and _better(_key(obj), old):
        return True
    for w, f, e in reversed(moves):
        plan.move(w, e, f)
    obj.restore(state)
    return False


def _shrink(plan: Plan, obj: Diameter, t: int, rng: np.random.Generator) -> bool:
    """One kept chain starting with an end of territory t's diameter, or False."""
    old = _key(obj)
    ends = obj.ends(plan, t)
    labl = plan.labl
    for u in rng.permutation(ends).tolist():
        targets = sorted({labl[v] for v in plan.adj[u]} - {t})
        if not targets or not _may_leave(plan, u, t):
            continue
        scored = sorted((_key_of(obj, _move_values(plan, obj, u, t, c)), c) for c in targets)
        for key, c in scored:
            if _better(key, old) and _chain(plan, obj, u, t, c, old):
                return True
    return False


def diameter_descent(plan: Plan, obj: Diameter, rng: np.random.Generator, rounds: int = 200) -> int:
    """Kept chains (at most ``rounds``) until no territory among the largest few can shrink; the plan
    must be balanced and stays balanced. Returns the number of chains kept."""
    kept = 0
    for _ in range(rounds):
        order = np.argsort(-obj.d, kind="stable")[:TERRITORIES_TRIED].tolist()
        if not any(_shrink(plan, obj, int(t), rng) for t in order):
            break
        kept += 1
    return kept

