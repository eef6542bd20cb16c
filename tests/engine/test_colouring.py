"""Neighbour-aware territory colouring: touching territories always differ, colours are unique while the
palette lasts and repeat far apart, and the palette's colours are distinguishable (CIE76 ΔE >= 16)."""

from __future__ import annotations

import itertools

import numpy as np

from territory_desktop.engine.colouring import PALETTE, least_used_colour, neighbour_colours


def grid_pairs(nx: int, ny: int) -> np.ndarray:
    """Queen adjacency of an nx x ny grid of territories (index = j * nx + i)."""
    pairs = []
    for j in range(ny):
        for i in range(nx):
            for di, dj in ((1, 0), (0, 1), (1, 1), (-1, 1)):
                a, b = i + di, j + dj
                if 0 <= a < nx and 0 <= b < ny:
                    pairs.append((j * nx + i, b * nx + a))
    return np.array(pairs)


def lab(hex_colour: str) -> np.ndarray:
    """sRGB (D65) -> CIE L*a*b*, written out from the CIE formulas."""
    rgb = np.array([int(hex_colour[k:k + 2], 16) / 255.0 for k in (1, 3, 5)])
    lin = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    x, y, z = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ lin
    f = [v ** (1 / 3) if v > 0.008856 else 7.787 * v + 16 / 116 for v in (x / 0.95047, y, z / 1.08883)]
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_palette_colours_are_distinct_and_light():
    assert len(PALETTE) == len(set(PALETTE)) >= 30
    for a, b in itertools.combinations(PALETTE, 2):
        assert np.linalg.norm(lab(a) - lab(b)) >= 16, (a, b)
    assert all(lab(c)[0] >= 45 for c in PALETTE)


def test_touching_territories_differ_and_colours_are_unique_up_to_the_palette():
    pairs = grid_pairs(5, 6)  # 30 territories, up to 8 neighbours each
    colours = neighbour_colours(30, pairs)
    assert all(colours[a] != colours[b] for a, b in pairs)
    assert len(set(colours)) == 30


def test_repeats_are_far_apart_when_territories_outnumber_the_palette():
    nx, ny = 8, 6  # 48 territories, 34 colours
    centres = np.array([(i, j) for j in range(ny) for i in range(nx)], dtype=float)
    pairs = grid_pairs(nx, ny)
    colours = neighbour_colours(nx * ny, pairs, centres)
    assert all(colours[a] != colours[b] for a, b in pairs)
    assert len(set(colours)) == len(PALETTE)
    for c in set(colours):
        users = [k for k, v in enumerate(colours) if v == c]
        for a, b in itertools.combinations(users, 2):
            assert np.hypot(*(centres[a] - centres[b])) >= 3.0, (c, a, b)


def test_least_used_colour_for_a_new_territory():
    assert least_used_colour([]) == PALETTE[0]
    assert least_used_colour([*PALETTE[:5], PALETTE[0]]) == PALETTE[5]
