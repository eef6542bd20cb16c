"""The decision version of the min-max diameter: is there a balanced, contiguous plan whose every
territory diameter is at most D? Answered by a tabu search, then D is lowered and asked again.

Fix a bound D. Two units farther apart than D (shortest path, on the edge lengths) may not share a
territory: they *conflict*. ``C[u, t]`` counts the members of territory t that conflict with unit u,
so moving u from a to c changes the number of conflicting pairs by ``C[u, c] - C[u, a]`` (O(1)), and
the counts follow a move in O(n). Each iteration makes the best transfer of a boundary unit to a
neighbouring territory (the donor stays connected and non-empty), or of an articulation unit with the
few units its leaving cuts off (on the nearly tree-shaped grids of the DTDP benchmark most ends of a
diameter hold such a branch, and without these moves the search met no bound at all there), on

    energy = balance violation (in tolerances, plus 1 % of the squared deviations from the mean)
             + beta x conflicting pairs

even when that is worse, and forbids the moved unit from moving again for a random tenure (a tabu
move is allowed when it reaches a plan with less energy than any seen at this bound). ``beta`` adapts
(strategic oscillation): it grows while the plan keeps conflicts and shrinks while it keeps a balance
violation; and each pair still in conflict every BETA_EVERY iterations weighs PAIR_BUMP more (the
breakout method), so a conflict that will not go ends up costing more than the new ones that moving
one of its ends creates elsewhere (without the weights the search stalls with one or two pairs left). A plan with neither is balanced with every diameter <= D: it is recorded, and D drops to
its largest diameter less ``step`` (which grows after a success and halves after a failure, i.e. a
bound not met within ``patience`` iterations, after which the search goes back to the best plan).

The start is a balanced plan (the best of the anytime search), so the result is never worse than it.
Every decision depends on the plan and the random stream (same seed, same plan) except the deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .anytime import Plan, cut_transfers
from .graph import connected_without, cut_off
from .pcenter import largest_diameter
from .tabu import best_transfer

#: transfers checked for connectivity per iteration (best candidates first)
MAX_CHECKS = 30

#: the most units an articulation unit may take along when it moves (the pieces its leaving cuts off)
MAX_BRANCH = 12

#: the first bound is the start's largest diameter less this share; the step adapts within the limits
FIRST_STEP = 0.02
MIN_STEP = 0.002
MAX_STEP = 0.05

#: iterations at one bound without a better plan at it before the bound is given up: PATIENCE_PER_UNIT
#: per unit within [MIN_PATIENCE, PATIENCE] (all DTDP instances have 486 units or more: PATIENCE; a
#: 9-unit plan needs no 2000 tries per bound, and its phases would take seconds on a slow machine)
PATIENCE = 2000
MIN_PATIENCE = 200
PATIENCE_PER_UNIT = 20

#: consecutive bounds given up after which :meth:`BoundedSearch.run` returns (with ``max_fails``)
MAX_FAILS = 2

#: beta changes by this factor every BETA_EVERY iterations (within BETA_RANGE)
BETA_FACTOR = 1.15
BETA_EVERY = 50
BETA_RANGE = (0.02, 50.0)

#: every BETA_EVERY iterations with conflicts, each conflicting pair's weight grows by this (breakout)
PAIR_BUMP = 1.0


def patience_for(n: int) -> int:
    """Iterations without a better plan before a bound is given up, on a plan of ``n`` units."""
    return min(PATIENCE, max(MIN_PATIENCE, PATIENCE_PER_UNIT * n))


@dataclass
class BoundedResult:
    labels: np.ndarray  # the best balanced plan (the start when nothing better was found)
    value: float  # its largest diameter
    bounds_met: int  # bounds D for which a plan was found
    iterations: int


class BoundedSearch:
    """Tabu search state on ``plan`` (changed in place) for the bound ``D`` on ``dist``."""

    def __init__(self, plan: Plan, dist: np.ndarray, rng: np.random.Generator,
                 tenure: tuple[int, int] = (5, 20), centre: float = 0.01) -> None:
        self.plan, self.dist, self.rng = plan, dist, rng
        self.tenure, self.centre = tenure, centre
        self.tabu = np.zeros(len(plan.lab), np.int64)
        self.movable = plan.pin < 0
        self.it = 0
        self.beta = 1.0
        self.bound = np.inf
        self.B = np.zeros((0, 0), np.float32)
        self.C = np.zeros((len(plan.lab), plan.k), np.float32)
        self.conf = 0.0
        self.trace: list[tuple] = []  # (iteration, bound, "met" or "given up", conflicts, violation, beta)

    def set_bound(self, bound: float) -> None:
        """Conflicts are the pairs farther apart than ``bound``; counts rebuilt from the plan."""
        p = self.plan
        self.bound = bound
        self.B = (self.dist > bound).astype(np.float32)  # pair weights: 1 per conflict, grown by _bump
        self.conflict = self.dist > bound
        onehot = np.zeros((len(p.lab), p.k), np.float32)
        onehot[np.arange(len(p.lab)), p.lab] = 1.0
        self.C = self.B @ onehot
        own = self.C[np.arange(len(p.lab)), p.lab]
        self.conf_t = np.bincount(p.lab, weights=own, minlength=p.k) / 2  # conflicting pairs per territory
        self.conf = float(self.conf_t.sum())
        self.refresh()
        self.tabu[:] = 0

    def refresh(self) -> None:
        """Per-territory balance energies and violations from the plan's loads."""
        self.e_t = self.balance_energy(self.plan.loads)
        self.v_t = self.plan.viol(self.plan.loads)

    def balance_energy(self, loads: np.ndarray) -> np.ndarray:
        p = self.plan
        dev = (loads - p.targets) / p.scale
        return p.viol(loads) + self.centre * (dev * dev).sum(-1)

    def energy(self) -> float:
        return float(self.e_t.sum()) + self.beta * self.conf

    def feasible(self) -> bool:
        return self.conf < 0.5 and float(self.v_t.sum()) <= 0  # a conflict weighs at least 1

    def move(self, u: int, a: int, c: int) -> None:
        out, into = float(self.C[u, a]), float(self.C[u, c])
        self.conf_t[a] -= out
        self.conf_t[c] += into
        self.conf += into - out
        p = self.plan
        p.move(u, a, c)
        col = self.B[u]  # symmetric: the row is the column, contiguous
        self.C[:, a] -= col
        self.C[:, c] += col
        rows = p.loads[[a, c]]
        self.e_t[[a, c]] = self.balance_energy(rows)
        self.v_t[[a, c]] = p.viol(rows)

    def _candidates(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return cut_transfers(self.plan, self.movable)

    def step(self, best_energy: float) -> bool:
        """One transfer: the best allowed one among the MAX_CHECKS best single-unit candidates, each
        with the units its leaving cuts off where the donor would not stay connected (at most
        MAX_BRANCH: on nearly tree-shaped graphs most boundary units hold a branch); False when none
        is allowed."""
        p = self.plan
        u, a, c = self._candidates()
        if len(u) == 0:
            return False
        w = p.W[u]
        d_bal = self.balance_energy(p.loads[a] - w) + self.balance_energy(p.loads[c] + w) - self.e_t[a] - self.e_t[c]
        d_conf = self.C[u, c] - self.C[u, a]
        delta = d_bal + self.beta * d_conf
        now = self.energy()
        allowed = (self.tabu[u] <= self.it) | (now + delta < best_energy - 1e-9)
        # only transfers touching a territory with a conflict or off balance: the repair travels as a chain
        bad = (self.v_t > 1e-12) | (self.conf_t >= 0.5)
        near = allowed & (bad[a] | bad[c])
        if near.any():
            allowed = near
        score = np.where(allowed, delta + self.rng.random(len(u)) * 1e-7, np.inf)

        def option(i: int) -> tuple[float, list[int]] | None:
            ui, ai = int(u[i]), int(a[i])
            if connected_without(p.adj, p.labl, ui, ai, int(p.size[ai])):
                return float(delta[i]), [ui]
            return self._branch_option(ui, ai, int(c[i]), now, best_energy)

        best = best_transfer(score, MAX_CHECKS, option)
        if best is None:
            return False
        units, i = best
        lo, hi = self.tenure
        for x in units:
            self.move(x, int(a[i]), int(c[i]))
            self.tabu[x] = self.it + int(self.rng.integers(lo, hi + 1))
        return True

    def _branch_option(self, u: int, a: int, c: int, now: float, best_energy: float) -> tuple[float, list[int]] | None:
        """u with the units of a its leaving cuts off, moved together to c, and the change of the energy;
        None when they are too many, pinned, all of a, or tabu without reaching a new best energy."""
        p = self.plan
        small = cut_off(p.adj, p.labl, u, a, MAX_BRANCH)
        if small is None or len(small) + 1 >= p.size[a] or not self.movable[small].all():
            return None
        units = np.array([u, *small])
        w = p.W[units].sum(0)
        d_bal = float(self.balance_energy(p.loads[a] - w) + self.balance_energy(p.loads[c] + w)
                      - self.e_t[a] - self.e_t[c])
        # pairs lost in a: each unit's conflicts there less those inside the group; gained in c: all of them
        d_conf = float(self.C[units, c].sum() - self.C[units, a].sum() + self.B[np.ix_(units, units)].sum())
        delta = d_bal + self.beta * d_conf
        if self.tabu[units].max() > self.it and now + delta >= best_energy - 1e-9:
            return None
        return delta, units.tolist()

    def _bump(self) -> None:
        """Weigh every pair conflicting now by PAIR_BUMP more, so that a conflict that will not go costs
        more than new ones elsewhere (the breakout method)."""
        p = self.plan
        for t in np.flatnonzero(self.conf_t >= 0.5).tolist():
            mem = p.members(t)
            sub = self.conflict[np.ix_(mem, mem)]
            if not sub.any():
                continue
            i, j = np.nonzero(sub)
            self.B[mem[i], mem[j]] += PAIR_BUMP  # both orders: i, j runs over ordered pairs
            self.C[mem, t] += PAIR_BUMP * sub.sum(1)
            self.conf_t[t] += PAIR_BUMP * sub.sum() / 2
        self.conf = float(self.conf_t.sum())

    def _adapt(self) -> None:
        if self.conf >= 0.5 and PAIR_BUMP > 0:
            self._bump()
        if self.conf >= 0.5:
            self.beta = min(self.beta * BETA_FACTOR, BETA_RANGE[1])
        elif self.plan.violation() > 0:
            self.beta = max(self.beta / BETA_FACTOR, BETA_RANGE[0])

    def run(self, deadline: float, patience: int | None = None, should_stop: Callable[[], bool] | None = None,
            on_better: Callable[[np.ndarray, float], None] | None = None,
            max_fails: int | None = None) -> BoundedResult:
        """Lower the bound until ``deadline`` (perf_counter seconds), ``should_stop()`` or ``max_fails``
        bounds given up in a row (a bound is given up after ``patience`` iterations without a better
        plan at it, by default :func:`patience_for` the plan's size); the plan must start balanced and
        ends at the best plan found."""
        p = self.plan
        if patience is None:
            patience = patience_for(len(p.lab))
        k = p.k
        best_lab = p.lab.copy()
        best_val = largest_diameter(best_lab, self.dist, k)
        step, met, fails = FIRST_STEP, 0, 0
        self.set_bound(best_val * (1 - step))
        best_e, since = self.energy(), 0
        while True:
            if self.it % 32 == 0 and (time.perf_counter() >= deadline or (should_stop is not None and should_stop())):
                break
            self.it += 1
            since += 1
            if not self.step(best_e):
                self.tabu[:] = 0
            if self.it % BETA_EVERY == 0:
                self._adapt()
                best_e = min(best_e, self.energy())  # beta changed: energies compare from here on
            if self.feasible():
                best_lab = p.lab.copy()
                best_val = largest_diameter(best_lab, self.dist, k)
                met += 1
                fails = 0
                self.trace.append((self.it, self.bound, "met", 0.0, 0.0, self.beta))
                if on_better is not None:
                    on_better(best_lab, best_val)
                step = min(step * 1.5, MAX_STEP)
                self.set_bound(best_val * (1 - step))
                best_e, since = self.energy(), 0
                continue
            e = self.energy()
            if e < best_e - 1e-9:
                best_e, since = e, 0
            elif since > patience:  # this bound is out of reach from here: a smaller step from the best plan
                self.trace.append((self.it, self.bound, "given up", self.conf, float(self.v_t.sum()), self.beta))
                fails += 1
                if max_fails is not None and fails >= max_fails:
                    break
                step = max(step / 2, MIN_STEP)
                p.reset(best_lab)
                self.set_bound(best_val * (1 - step))  # also refreshes the per-territory values
                best_e, since = self.energy(), 0
        p.reset(best_lab)
        return BoundedResult(best_lab, best_val, met, self.it)
