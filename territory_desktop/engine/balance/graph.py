"""Plain graph checks on a labelled unit graph shared by the search, the repairs and the chains.

``adj`` is a list of neighbour lists (unit -> units), ``lab`` a sequence of territory indices per unit
(a list or an int array; -1 = no territory). Each check is a breadth-first search inside one territory
that skips unit ``u``, so it answers "what happens to territory t without u" without changing ``lab``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np

#: territory index per unit: a list or an (n,) int array
Labels = Sequence[int] | np.ndarray

#: numerical slack for "did the penalty go down" comparisons in the search
EPS = 1e-12


def _neighbours_in(adj: list[list[int]], lab: Labels, u: int, t: int) -> list[int]:
    return [v for v in adj[u] if lab[v] == t]


def _linked(adj: list[list[int]], lab: Labels, u: int, t: int, ns: list[int]) -> bool:
    """True if every unit of ``ns`` (u's neighbours in t) is reached from ``ns[0]`` inside t without u."""
    want = set(ns[1:])
    seen = {u, ns[0]}
    queue = deque([ns[0]])
    while queue:
        x = queue.popleft()
        for y in adj[x]:
            if y not in seen and lab[y] == t:
                if y in want:
                    want.discard(y)
                    if not want:
                        return True
                seen.add(y)
                queue.append(y)
    return False


def connected_without(adj: list[list[int]], lab: Labels, u: int, a: int, size_a: int) -> bool:
    """True if territory a (``size_a`` units, u among them) stays connected and non-empty once u leaves."""
    if size_a <= 1:
        return False
    ns = _neighbours_in(adj, lab, u, a)
    if len(ns) <= 1:
        return bool(ns)
    return _linked(adj, lab, u, a, ns)


def joins_pieces(adj: list[list[int]], lab: Labels, u: int, t: int) -> bool:
    """True if u's neighbours in territory t are not connected to each other within t without u, i.e.
    giving u to t joins pieces of t."""
    ns = _neighbours_in(adj, lab, u, t)
    return len(ns) >= 2 and not _linked(adj, lab, u, t, ns)


def pieces_without(adj: list[list[int]], lab: Labels, u: int, a: int) -> list[list[int]]:
    """The connected pieces of territory a next to u once u leaves it (each a list of units)."""
    seen = {u}
    pieces: list[list[int]] = []
    for s0 in _neighbours_in(adj, lab, u, a):
        if s0 in seen:
            continue
        seen.add(s0)
        piece = [s0]
        queue = deque([s0])
        while queue:
            x = queue.popleft()
            for y in adj[x]:
                if y not in seen and lab[y] == a:
                    seen.add(y)
                    piece.append(y)
                    queue.append(y)
        pieces.append(piece)
    return pieces


def cut_off(adj: list[list[int]], lab: Labels, u: int, a: int, limit: int) -> list[int] | None:
    """The units of territory a that u's leaving cuts off (every piece next to u but the largest),
    or None when they are more than ``limit`` or nothing of a would remain. Moving them with u keeps
    a connected where u alone cannot leave (an articulation unit on a nearly tree-shaped graph)."""
    pieces = pieces_without(adj, lab, u, a)
    if not pieces:
        return None
    pieces.sort(key=len)
    out = [v for piece in pieces[:-1] for v in piece]
    return out if len(out) <= limit else None


def graph_layout(adjacency, lengths=None) -> np.ndarray:
    """(n, 2) positions for a graph without coordinates: the Laplacian's two smallest non-trivial
    eigenvectors (a spectral layout), scaled so that the mean edge is as long as the mean of
    ``lengths`` (1 without them). Good enough to seed and bisect; never shown."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import laplacian
    from scipy.sparse.linalg import eigsh

    a = sp.csr_matrix(adjacency, dtype=float)
    a.data[:] = 1.0
    n = a.shape[0]
    if n < 4:
        return np.column_stack([np.arange(n, dtype=float), np.zeros(n)])
    lap = laplacian(a, normed=False)
    if n <= 1500:
        _, vecs = np.linalg.eigh(lap.toarray())
    else:
        _, vecs = eigsh(lap.tocsc(), k=3, sigma=-1e-3, which="LM")
    xy = vecs[:, 1:3].copy()
    tri = sp.triu(a, k=1).tocoo()
    mean_edge = float(np.hypot(*(xy[tri.row] - xy[tri.col]).T).mean()) or 1.0
    want = 1.0 if lengths is None else float(np.abs(sp.csr_matrix(lengths).data).mean() or 1.0)
    return xy * (want / mean_edge)
