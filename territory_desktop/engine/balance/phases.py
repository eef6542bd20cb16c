"""The balancing phase of a local search: single moves, diffusion, then ejection chains and chain
transfers (:mod:`.chains`) until every territory is within the search's internal tolerance."""

from __future__ import annotations

import time

from ...models.progress import StopFlag
from .chains import chain, eject
from .search import Search


def _single_moves(s: Search, viol: list[int]) -> bool:
    """Best single moves around the worst violators; when none helps, diffusion moves around the
    territories furthest from the mean (even out neighbours so the violators get room)."""
    improved = False
    for t in viol[:8]:
        if s.best_single(t):
            improved = True
    if not improved:
        for t in s.by_deviation()[:20]:
            if s.best_single(t, diffuse=True):
                improved = True
    return improved


def balance(s: Search, deadline: float, stop: StopFlag | None = None, max_moves: int | None = None) -> bool:
    """Reduce the balance violation of ``s`` to 0 by single moves and chain transfers; True when within
    the internal tolerance. Gives up after ``max_moves`` moves (deterministic) or at ``deadline``
    (perf_counter seconds)."""
    failed_chain: set[int] = set()
    limit = None if max_moves is None else s.work + max_moves
    while True:
        if limit is not None and s.work > limit:
            return not s.violating()
        if stop is not None:
            stop.check()
        viol = s.violating()
        if not viol:
            return True
        if time.perf_counter() > deadline:
            return False
        if _single_moves(s, viol):
            failed_chain.clear()
            continue
        todo = [t for t in viol if t not in failed_chain]
        if not todo:
            return False
        t = todo[0]
        if not (eject(s, t, deadline) or chain(s, t, deadline)):
            failed_chain.add(t)
