"""Moves for a stuck local search: ejection chains and chain transfers along territory paths.

Functions take the :class:`~.search.Search` state ``s`` and change it in place through its public
methods; each either lowers the total balance violation or undoes everything it did.
"""

from __future__ import annotations

import itertools
import time
from collections import deque

from .graph import EPS
from .search import Search


def _eject_moves(s: Search, cur: int, used: set[int]) -> list[tuple[float, int, int, int]]:
    """Boundary moves around ``cur`` by the violation they leave in both territories, best first."""
    moves = []
    for u, a, b in s.boundary_moves(cur):
        if u in used or s.locked[u]:
            continue
        wu = s.W[u]
        pa, sa = s.viol(a, [s.load[a][j] - wu[j] for j in range(s.m)])
        pb, sb = s.viol(b, [s.load[b][j] + wu[j] for j in range(s.m)])
        moves.append((pa + pb + 1e-3 * (sa + sb), u, a, b))
    moves.sort()
    return moves


def _eject_step(s: Search, touched: list[int], used: set[int], skip: int, log: list[tuple[int, int]]) -> bool:
    """The most violated touched territory makes its best movable move (after skipping ``skip``);
    False when it is within tolerance or cannot move."""
    cur = max(touched, key=lambda q: s.viol(q, s.load[q])[0])
    if s.viol(cur, s.load[cur])[0] <= 0:
        return False
    for _, u, a, b in _eject_moves(s, cur, used)[:40]:
        group = s.movable_set(u, b, limit=max(2, s.size[a] // 3))
        if group is None:
            continue
        if skip:
            skip -= 1
            continue
        for v in group:
            log.append((v, a))
            s.move(v, b)
            used.add(v)
        touched.extend(q for q in (a, b) if q not in touched)
        return True
    return False


def eject(s: Search, t: int, deadline: float, depth: int = 30, tries: int = 4) -> bool:
    """Ejection chain: the most violated territory the chain has touched makes its best move (even one
    that pushes a neighbour out of tolerance), the neighbour then passes its excess on, and so on; no
    unit moves twice. Kept as soon as the total violation drops below its
    starting value, undone otherwise. Tries ``tries`` different first moves."""
    p0 = s.penalty_territories()
    for first in range(tries):
        log: list[tuple[int, int]] = []
        touched, used = [t], set[int]()
        for step in range(depth):
            if not _eject_step(s, touched, used, first if step == 0 else 0, log):
                break
            if s.penalty_territories() < p0 - EPS:
                return True
            if time.perf_counter() > deadline:
                break
        s.undo(log)
    return False


def _tgraph(s: Search) -> list[set[int]]:
    nb: list[set[int]] = [set() for _ in range(s.k)]
    lab = s.lab
    for u in range(s.n):
        a = lab[u]
        for v in s.adj[u]:
            if lab[v] != a:
                nb[a].add(lab[v])
    return nb


def chain(s: Search, t: int, deadline: float) -> bool:
    """Push t's worst excess (or deficit) along a territory path to the nearest one with room."""
    j_worst, dev_worst = 0, 0.0
    for j in range(s.m):
        if s.targets[j] > 0:
            d = s.load[t][j] / s.targets[j] - 1
            if abs(d) - s.itol[j] > abs(dev_worst) - s.itol[j_worst] or dev_worst == 0:
                j_worst, dev_worst = j, d
    j, sign = j_worst, (1 if dev_worst > 0 else -1)
    tgt, itol = s.targets[j], s.itol[j]
    nb = _tgraph(s)
    parent = {t: -1}
    queue = deque([t])
    ends = []
    excess = abs(s.load[t][j] - tgt)
    while queue:
        a = queue.popleft()
        room = (tgt - s.load[a][j]) if sign > 0 else (s.load[a][j] - tgt)
        if a != t and room > min(0.3 * excess, tgt * itol):
            ends.append((a, room))
            if len(ends) >= 5:
                break
        for b in nb[a]:
            if b not in parent:
                parent[b] = a
                queue.append(b)
    p0 = s.penalty_territories()
    for end, room in ends:
        path = [end]
        while parent[path[-1]] != -1:
            path.append(parent[path[-1]])
        path.reverse()  # t ... end
        need = min(excess, room)
        log: list[tuple[int, int]] = []
        steps = list(itertools.pairwise(path))
        if sign < 0:
            steps = [(q, r) for r, q in reversed(steps)]  # material flows from the end towards t
        amount = need
        for a, b in steps:
            amount = _transfer(s, a, b, j, amount, log)
            if amount <= 0 or time.perf_counter() > deadline:
                break
        if amount > 0 and s.penalty_territories() < p0 - EPS:
            return True
        s.undo(log)
    return False


def _transfer(s: Search, a: int, b: int, j: int, need: float, log: list) -> float:
    """Move boundary units of a into b until about ``need`` of measure j has moved; returns the amount."""
    moved = 0.0
    tgt = s.targets[j]
    while moved < need * 0.9:
        rem = need - moved
        cands = []
        for u in s.members[a]:
            if s.locked[u] or s.W[u][j] <= 0:
                continue
            if any(s.lab[v] == b for v in s.adj[u]):
                wj = s.W[u][j]
                over = max(0.0, wj - rem) / tgt
                if over > 0.25:
                    continue
                dc = s.cw[u] * (s.dist(u, b) - s.dist(u, a)) / s.radius
                cands.append((10.0 * over + 0.01 * dc, u))
        cands.sort()
        done = False
        for _, u in cands[:30]:
            group = s.movable_set(u, b, limit=max(2, s.size[a] // 5))
            if group is None:
                continue
            gw = sum(s.W[v][j] for v in group)
            if len(group) > 1 and (gw - rem) / tgt > 0.25:
                continue
            for v in group:
                log.append((v, a))
                s.move(v, b)
            moved += gw
            done = True
            break
        if not done:
            break
    return moved
