"""Account-level balancing for account-type territories: the accounts are the units, no contiguity.

Greedy start: accounts in decreasing combined weight go to the nearest home with room (or, without
homes, to the lightest territory); then moves and swaps between the heaviest and lightest territories
until every measure is within tolerance or nothing improves.
"""

from __future__ import annotations

import time

import numpy as np

from ...models.errors import InfeasibleError, InvalidInputError


def balance_accounts(weights: np.ndarray, k: int, tolerance: np.ndarray, names: list[str],
                     xy: np.ndarray | None = None, homes: np.ndarray | None = None,
                     time_limit: float = 10.0, strict: bool = True) -> np.ndarray:
    """(n,) territory per account so each measure's territory totals are within tolerance of the mean.

    weights: (n, m) non-negative. xy, homes: metres, used to keep accounts near their territory's home.
    """
    w = np.asarray(weights, float)
    w = w[:, None] if w.ndim == 1 else w
    n, m = w.shape
    tol = np.broadcast_to(np.asarray(tolerance, float), (m,))
    if n < k or k < 1:
        raise InvalidInputError("account balancing", [f"{n} accounts cannot fill {k} territories"])
    if (~np.isfinite(w) | (w < 0)).any():
        raise InvalidInputError("account balancing", ["measures must be non-negative numbers"])
    target = w.sum(0) / k
    tgt = np.where(target > 0, target, 1.0)
    for j in range(m):
        i = int(np.argmax(w[:, j]))
        if w[i, j] > target[j] * (1 + tol[j]):
            raise InfeasibleError(f"account {i} has {names[j]} {w[i, j]:.6g}, more than a territory's "
                                  f"target {target[j]:.6g} +{tol[j]:.1%}")
    rel = w / tgt  # (n, m) share of a territory's target
    comb = (rel / np.maximum(tol, 1e-3)).sum(1)
    load = np.zeros((k, m))
    labels = np.empty(n, dtype=np.int64)
    dist = None
    if xy is not None and homes is not None:
        dist = np.hypot(np.asarray(xy)[:, None, 0] - np.asarray(homes)[None, :, 0],
                        np.asarray(xy)[:, None, 1] - np.asarray(homes)[None, :, 1])
    for i in np.argsort(-comb, kind="stable"):
        if dist is not None:
            room = (load + rel[i] <= 1 + 0.5 * tol).all(1)
            t = int(np.argmin(np.where(room, dist[i], np.inf))) if room.any() else int(np.argmin(load.sum(1)))
        else:
            t = int(np.argmin((load / np.maximum(tol, 1e-3)).sum(1)))
        labels[i] = t
        load[t] += rel[i]
    deadline = time.perf_counter() + time_limit
    stuck: set[int] = set()
    while time.perf_counter() < deadline:
        dev = (load - 1) / np.maximum(tol, 1e-3)
        worst = np.abs(dev).max(1)
        order = [int(t) for t in np.argsort(-worst) if worst[t] > 0.9 and int(t) not in stuck]
        if not order:
            break
        v = order[0]
        if not _improve(labels, load, rel, v, dev, tol):
            stuck.add(v)
        else:
            stuck.clear()
    if strict and not (np.abs(load - 1) <= tol + 1e-9).all():
        worst_t, j = (int(i) for i in np.unravel_index(np.argmax(np.abs(load - 1) - tol), load.shape))
        raise InfeasibleError(f"account territory {worst_t} ends at {load[worst_t, j] - 1:+.1%} of the {names[j]} target "
                              f"(tolerance +/-{tol[j]:.1%}); widen the tolerance or use fewer territories")
    return labels


def _improve(labels: np.ndarray, load: np.ndarray, rel: np.ndarray, v: int, dev: np.ndarray,
             tol: np.ndarray) -> bool:
    """Best single move or swap between territory v and the partner that complements it most."""
    partners = np.argsort((dev * dev[v]).sum(1))  # most opposite deviation first
    for p in partners[:8]:
        p = int(p)
        if p == v:
            continue
        for a, b in ((v, p), (p, v)):
            idx = np.flatnonzero(labels == a)
            if len(idx) > 1:
                gain = _move_gain(load, rel[idx], a, b, tol)
                best = int(np.argmin(gain))
                if gain[best] < -1e-12:
                    i = idx[best]
                    labels[i] = b
                    load[a] -= rel[i]
                    load[b] += rel[i]
                    return True
        if _swap(labels, load, rel, v, p, tol):
            return True
    return False


def _move_gain(load: np.ndarray, rel: np.ndarray, a: int, b: int, tol: np.ndarray) -> np.ndarray:
    t = np.maximum(tol, 1e-3)
    before = (((load[a] - 1) / t) ** 2).sum() + (((load[b] - 1) / t) ** 2).sum()
    after = ((((load[a] - rel) - 1) / t) ** 2).sum(1) + ((((load[b] + rel) - 1) / t) ** 2).sum(1)
    return after - before


def _swap(labels: np.ndarray, load: np.ndarray, rel: np.ndarray, a: int, b: int, tol: np.ndarray) -> bool:
    """Best swap of one account of a with one of b (sampled to at most 300 x 300 pairs)."""
    ia, ib = np.flatnonzero(labels == a)[:300], np.flatnonzero(labels == b)[:300]
    if len(ia) == 0 or len(ib) == 0:
        return False
    t = np.maximum(tol, 1e-3)
    diff = rel[ia][:, None, :] - rel[ib][None, :, :]  # moves from a to b
    na = load[a] - diff
    nb = load[b] + diff
    after = (((na - 1) / t) ** 2).sum(-1) + (((nb - 1) / t) ** 2).sum(-1)
    before = (((load[a] - 1) / t) ** 2).sum() + (((load[b] - 1) / t) ** 2).sum()
    x, y = np.unravel_index(np.argmin(after), after.shape)
    if after[x, y] >= before - 1e-12:
        return False
    i, j = ia[x], ib[y]
    labels[i], labels[j] = b, a
    load[a] -= rel[i] - rel[j]
    load[b] += rel[i] - rel[j]
    return True
