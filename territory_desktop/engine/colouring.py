"""Territory colours: a large qualitative palette and a neighbour-aware greedy colouring.

The palette holds 34 colours picked from Tableau 20, ColorBrewer Set3/Dark2/Paired and D3's category20,
keeping a colour only if it differs from every colour kept before by at least 16 in CIE L*a*b* (CIE76
ΔE) and is light enough (L* >= 45) for dark labels with a white halo; greys are left out (orphan units
are grey).

:func:`neighbour_colours` is a greedy graph colouring (largest degree first, Welsh-Powell): a territory
never takes a colour of a territory it touches; among the allowed colours it takes an unused one while
there is one, so up to 34 territories all differ, and past that the allowed colour whose other users
lie farthest away (so a repeated colour never names two territories of one region).
"""

from __future__ import annotations

import numpy as np

PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#a0cbe8", "#ffbe7d", "#8cd17d", "#b6992d", "#d37295", "#fabfd2", "#d7b5a6",
           "#ffffb3", "#b3de69", "#ccebc5", "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e",
           "#e6ab02", "#a6761d", "#cab2d6", "#b15928", "#17becf", "#bcbd22", "#e377c2", "#2ca02c",
           "#d62728", "#9467bd"]


def neighbour_colours(n: int, pairs: np.ndarray, centres: np.ndarray | None = None,
                      palette: list[str] | None = None) -> list[str]:
    """A colour from ``palette`` for each of ``n`` territories so that no two territories of a pair in
    ``pairs`` ((E, 2) int array of territory indices) share one. ``centres`` ((n, 2) coordinates) spread
    repeated colours apart; without it a repeated colour is the least used allowed one."""
    palette = list(palette or PALETTE)
    k = len(palette)
    neighbours: list[set[int]] = [set() for _ in range(n)]
    for a, b in np.asarray(pairs, dtype=int).reshape(-1, 2):
        if a != b:
            neighbours[a].add(int(b))
            neighbours[b].add(int(a))
    order = sorted(range(n), key=lambda i: (-len(neighbours[i]), i))
    colour = np.full(n, -1, dtype=int)
    users: list[list[int]] = [[] for _ in range(k)]
    for i in order:
        taken = {colour[j] for j in neighbours[i] if colour[j] >= 0}
        allowed = [c for c in range(k) if c not in taken] or list(range(k))
        unused = [c for c in allowed if not users[c]]
        if unused:
            choice = unused[0]
        elif centres is not None:
            far = [min(float(np.hypot(*(centres[i] - centres[u]))) for u in users[c]) for c in allowed]
            choice = allowed[int(np.argmax(far))]
        else:
            choice = min(allowed, key=lambda c: len(users[c]))
        colour[i] = choice
        users[choice].append(i)
    return [palette[c] for c in colour]


def least_used_colour(used: list[str], palette: list[str] | None = None) -> str:
    """The first palette colour used least often in ``used`` (for a new territory with no units yet)."""
    palette = list(palette or PALETTE)
    counts = {c: 0 for c in palette}
    for c in used:
        if isinstance(c, str) and c.lower() in counts:
            counts[c.lower()] += 1
    return min(palette, key=lambda c: counts[c])
