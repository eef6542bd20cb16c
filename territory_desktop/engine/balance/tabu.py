"""A violation-minimising tabu search on one-unit transfers, for plans the recombination repairs leave
off balance on several measures at once.

On sparse, nearly tree-shaped graphs with three measures (the grid instances of the delivery territory
design benchmark) merge-and-split repairs stall: a territory sits in a pocket where every split with a
neighbour leaves it as violated as before. Excess then has to travel through territories that are
already balanced, which a search that only accepts improvements never does. This search does: each
iteration it makes the best transfer of a boundary unit to a neighbouring territory (the donor stays
connected and non-empty) even when that worsens the plan, and forbids the moved unit from moving
again for a random tenure, so that it does not undo itself. A tabu move is allowed when it gives a
plan less violated than any seen (aspiration).

The energy is :meth:`~.anytime.Plan.spread`: the excess beyond the bounds over every territory and
measure, in tolerances, plus 1 % of the squared deviations from the mean, so that among equally
violated plans the one with more slack wins. The best plan by violation is kept; after ``restart``
iterations without a better one the search goes back to it and draws new tenures. Every decision
depends on the plan and the random stream only (same seed, same plan); the deadline is a safety net.

Called by the anytime repair (:mod:`.improve`) in bursts when a plan misses the bounds on several
measures and merge-and-split has stalled. ``focus`` restricts each step to transfers out of or into a
violated territory, so excess travels on as a chain instead of the search drifting among balanced
territories. On the grid instances it brings 3 of the 35 plans the engine left off balance within
the bounds (0.2-2.6 s each); the others stay off, yet with contiguity relaxed (``keep_connected=False``)
all 33 left off balance in one full run reach the bounds in at most 345 transfers (0.15 s): on these
nearly tree-shaped graphs contiguity is what makes the balance hard. ``benchmarks/dtdp_feasibility.py``
measures the search alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from .anytime import Plan, cut_transfers
from .graph import connected_without, cut_off

#: connectivity checks per iteration before the iteration gives up (best candidates first)
MAX_CHECKS = 40

#: the most units a branch moved with its articulation unit may hold
MAX_BRANCH = 12


def best_transfer(score: np.ndarray, checks: int,
                  option: Callable[[int], tuple[float, list[int]] | None]) -> tuple[list[int], int] | None:
    """(units, candidate) of the best option among the ``checks`` best-scored candidates: ``option(i)``
    gives candidate i's change of the energy and the units it moves (alone, or an articulation unit
    with its branch), or None when it is not allowed. ``score``: the single-unit changes (inf: not
    allowed), checked in order until one is above the best option so far (no later single move can
    beat it; a later branch might, a chance given up to keep the connectivity checks few)."""
    best: tuple[float, list[int], int] | None = None
    for i in np.argsort(score, kind="stable")[:checks].tolist():
        if not np.isfinite(score[i]) or (best is not None and score[i] > best[0] + 1e-12):
            break
        opt = option(i)
        if opt is not None and (best is None or opt[0] < best[0]):
            best = (opt[0], opt[1], i)
    return None if best is None else (best[1], best[2])


class ViolationTabu:
    """Tabu search state on ``plan`` (changed in place); ``run`` lowers ``plan.violation()``."""

    def __init__(self, plan: Plan, rng: np.random.Generator, tenure: tuple[int, int] = (5, 20),
                 restart: int = 1500, centre: float = 0.01, keep_connected: bool = True,
                 focus: bool = True) -> None:
        self.plan, self.rng, self.centre, self.focus = plan, rng, centre, focus
        self.keep_connected = keep_connected  # False: any unit may leave (measures how much contiguity costs)
        self.tenure, self.restart = tenure, restart
        self.tabu = np.zeros(len(plan.lab), np.int64)  # iteration until which a unit may not move
        self.movable = plan.pin < 0
        self.it = 0

    def energy(self, loads: np.ndarray) -> np.ndarray:
        """Per row of loads: the violation plus ``centre`` x the squared deviations from the mean (in
        tolerances), so that among equally violated plans the one with more slack wins."""
        p = self.plan
        dev = (loads - p.targets) / p.scale
        return p.viol(loads) + self.centre * (dev * dev).sum(-1)

    def _candidates(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct (unit, from, to) transfers along the cut edges, pinned units left out."""
        return cut_transfers(self.plan, self.movable)

    def _deltas(self, u: np.ndarray, a: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per transfer: the change of the energy and of the violation."""
        p = self.plan
        w = p.W[u]
        la, lc = p.loads[a], p.loads[c]
        na, nc = la - w, lc + w
        d_spread = self.energy(na) + self.energy(nc) - self.energy(la) - self.energy(lc)
        d_viol = p.viol(na) + p.viol(nc) - p.viol(la) - p.viol(lc)
        return d_spread, d_viol

    def _branch(self, u: int, a: int) -> list[int] | None:
        """u and the pieces of a that leaving cuts off (all but the largest, at most MAX_BRANCH units),
        or None: moving them together keeps a connected on a nearly tree-shaped graph where u alone
        cannot leave."""
        small = cut_off(self.plan.adj, self.plan.labl, u, a, MAX_BRANCH)
        if small is None or not self.movable[small].all():
            return None
        return [u, *small]

    def _option(self, u: int, a: int, c: int, d_spread: float) -> tuple[float, list[int]] | None:
        """The transfer of u from a to c (alone when a stays connected, else with its branch) and its
        change of the energy."""
        p = self.plan
        if (p.size[a] > 1 and not self.keep_connected) or connected_without(p.adj, p.labl, u, a, int(p.size[a])):
            return d_spread, [u]
        if p.size[a] <= 1:
            return None
        units = self._branch(u, a)
        if units is None or len(units) >= p.size[a]:
            return None
        w = p.W[units].sum(0)
        la, lc = p.loads[a], p.loads[c]
        d = float(self.energy(la - w) + self.energy(lc + w) - self.energy(la) - self.energy(lc))
        return d, units

    def step(self, best_viol: float, viol: float) -> bool:
        """One transfer: the best allowed one (tabu unless it beats ``best_viol``) among the
        ``MAX_CHECKS`` best single-unit candidates, each with its branch where it cannot leave alone;
        False when none is allowed."""
        p = self.plan
        u, a, c = self._candidates()
        if len(u) == 0:
            return False
        d_spread, d_viol = self._deltas(u, a, c)
        allowed = (self.tabu[u] <= self.it) | (viol + d_viol < best_viol - 1e-9)
        if self.focus:  # only transfers out of or into a violated territory: excess travels as a chain
            bad = p.viol(p.loads) > 1e-12
            near = allowed & (bad[a] | bad[c])
            if near.any():
                allowed = near
        score = np.where(allowed, d_spread + self.rng.random(len(u)) * 1e-7, np.inf)
        best = best_transfer(score, MAX_CHECKS, lambda i: self._option(int(u[i]), int(a[i]), int(c[i]),
                                                                       float(d_spread[i])))
        if best is None:
            return False
        units, i = best
        lo, hi = self.tenure
        for x in units:
            p.move(x, int(a[i]), int(c[i]))
            self.tabu[x] = self.it + int(self.rng.integers(lo, hi + 1))
        return True

    def _key(self) -> tuple[float, float]:
        """(violation, energy): among equally violated plans the more centred one is better, so that a
        restart does not throw away the slack the search made."""
        p = self.plan
        return p.violation(), float(self.energy(p.loads).sum())

    def run(self, max_iters: int, deadline: float) -> bool:
        """At most ``max_iters`` transfers (or until ``deadline``, perf_counter seconds); the plan ends
        at the best plan seen (least violated, then least energy). True when it is within the bounds."""
        p = self.plan
        best_key, best_lab, best_it = self._key(), p.lab.copy(), self.it
        key = best_key
        end = self.it + max_iters
        while best_key[0] > 0 and self.it < end:
            if self.it % 64 == 0 and time.perf_counter() > deadline:
                break
            self.it += 1
            if not self.step(best_key[0], key[0]):
                self.tabu[:] = 0  # everything blocked: forget the tabu list
            key = self._key()
            if key[0] < best_key[0] - 1e-12 or (key[0] <= best_key[0] + 1e-12 and key[1] < best_key[1] - 1e-9):
                best_key, best_lab, best_it = key, p.lab.copy(), self.it
            elif self.it - best_it > self.restart:
                p.reset(best_lab)
                key, best_it = best_key, self.it
                self.tabu[:] = 0
        p.reset(best_lab)
        return best_key[0] <= 0
