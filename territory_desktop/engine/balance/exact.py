"""Exact recombination of two small territories: every connected split of their union, with pruning.

The connected unit sets S holding the union's heaviest unit (so that branches reach the bound early) are enumerated once each (an extension
set search: a branch adds one unit of its extension set, and the units tried before it are excluded
from that branch); a branch stops as soon as S exceeds the upper bound on some measure (measures are
non-negative). Each S within the bounds whose complement is within them and connected is a candidate
split; the one of lowest objective energy wins. This reaches balance where random spanning trees
almost never propose the one feasible split (Maine's counties, k = 2, have exactly one).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from .anytime import Pair, Plan

#: union size up to which the exact split is tried, and the most sets it visits
MAX_UNION = 40
MAX_SETS = 20_000


class _Split:
    def __init__(self, plan: Plan, pair: Pair, obj, limit: int) -> None:
        self.plan, self.pair, self.obj, self.limit = plan, pair, obj, limit
        s = len(pair.nodes)
        self.s = s
        self.nb: list[list[int]] = [[] for _ in range(s)]
        for r, c in zip(pair.sr.tolist(), pair.sc.tolist(), strict=True):
            self.nb[r].append(c)
            self.nb[c].append(r)
        self.w = plan.W[pair.nodes].tolist()
        self.total = plan.W[pair.nodes].sum(0)
        self.hi = plan.hi.tolist()
        # S and its complement both within [lo, hi]: S's load within this window
        self.low = np.maximum(plan.lo, self.total - plan.hi).tolist()
        self.high = np.minimum(plan.hi, self.total - plan.lo).tolist()
        pin = plan.pin[pair.nodes]
        self.pin_a, self.pin_b = pin == pair.a, pin == pair.b
        self.visited = 0
        self.best: tuple | None = None

    def rest_connected(self, inside: list[bool]) -> bool:
        start = inside.index(False)
        seen = {start}
        queue = deque([start])
        while queue:
            x = queue.popleft()
            for y in self.nb[x]:
                if not inside[y] and y not in seen:
                    seen.add(y)
                    queue.append(y)
        return len(seen) == self.s - sum(inside)

    def consider(self, members: list[int], load: list[float]) -> None:
        for x, lo, hi in zip(load, self.low, self.high, strict=True):
            if x < lo or x > hi:
                return
        inside = [False] * self.s
        for x in members:
            inside[x] = True
        if not self.rest_connected(inside):
            return
        side = np.array(inside)
        for to_a in (True, False):
            mine, other = (self.pin_b, self.pin_a) if to_a else (self.pin_a, self.pin_b)
            if mine[side].any() or other[~side].any():
                continue
            energy, payload = self.obj.split(self.pair, side, to_a)
            if self.best is None or energy < self.best[0]:
                self.best = (energy, side, to_a, payload)

    def run(self) -> None:
        root = int(np.argmax((self.plan.W[self.pair.nodes] / np.maximum(self.total, 1e-300)).sum(1)))
        m = len(self.hi)
        # a branch's S can only grow into the units not excluded from it: prune when that cannot reach low
        reach = [float(x) for x in self.total]
        stack = [([root], list(self.w[root]), sorted(self.nb[root]), {root}, [0.0] * m)]
        while stack and self.visited < self.limit:
            members, load, ext, banned, lost = stack.pop()
            self.visited += 1
            self.consider(members, load)
            for i, w in enumerate(ext):
                if i:
                    lost = [x + y for x, y in zip(lost, self.w[ext[i - 1]], strict=True)]
                if any(r - x < lo for r, x, lo in zip(reach, lost, self.low, strict=True)):
                    break
                new_load = [x + y for x, y in zip(load, self.w[w], strict=True)]
                if any(x > h for x, h in zip(new_load, self.high, strict=True)):
                    continue
                excl = banned | set(ext[:i + 1])
                grow = [y for y in self.nb[w] if y not in excl and y not in ext]
                stack.append(([*members, w], new_load, ext[i + 1:] + sorted(set(grow)), excl | set(grow), lost))


def exact_split(plan: Plan, pair: Pair, obj, limit: int = MAX_SETS) -> tuple | None:
    """The best balanced split of a small pair (energy, side mask, subtree-side goes to a, payload),
    or None when the union is too large or has none within the bounds (among the first ``limit`` sets)."""
    if len(pair.nodes) > MAX_UNION:
        return None
    job = _Split(plan, pair, obj, limit)
    job.run()
    return job.best
