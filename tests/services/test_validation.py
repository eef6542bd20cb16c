"""services.validation against independently computed answers (networkx components on box grids)."""

from __future__ import annotations

import networkx as nx

from territory_desktop.models import Plan, Project
from territory_desktop.services.validation import unit_adjacency, validate_plan


def grid_project(make_grid, nx_: int, ny: int, assignment: dict[str, str | None]) -> Project:
    p = Project(name="v")
    p.units = make_grid(nx_, ny)
    p.plans = {"base": Plan(assignment)}
    return p


def queen_graph(nx_: int, ny: int) -> nx.Graph:
    """Grid adjacency with diagonals, built from indices (no geometry)."""
    g = nx.Graph()
    for j in range(ny):
        for i in range(nx_):
            g.add_node(j * nx_ + i)
            for di, dj in ((1, 0), (0, 1), (1, 1), (-1, 1)):
                a, b = i + di, j + dj
                if 0 <= a < nx_ and 0 <= b < ny:
                    g.add_edge(j * nx_ + i, b * nx_ + a)
    return g


def test_adjacency_is_queen_contiguity(make_grid):
    units = make_grid(4, 3)
    a, b = unit_adjacency(units.geometry.to_numpy())
    got = {(int(x), int(y)) for x, y in zip(a, b, strict=True)}
    expected = {tuple(sorted(e)) for e in queen_graph(4, 3).edges}
    assert got == expected


def test_pieces_match_networkx_components(make_grid):
    # 6x4 grid, territory A = columns 0 and 5 (two pieces), B = columns 1-4 except the orphan u9
    n_x, n_y = 6, 4
    assignment = {f"u{j * n_x + i}": ("A" if i in (0, 5) else "B") for j in range(n_y) for i in range(n_x)}
    assignment["u9"] = None  # column 3, row 1
    p = grid_project(make_grid, n_x, n_y, assignment)
    report = validate_plan(p)
    assert report.orphans == ["u9"]
    g = queen_graph(n_x, n_y)
    for t in ("A", "B"):
        nodes = [int(u[1:]) for u, v in assignment.items() if v == t]
        comps = sorted((sorted(c) for c in nx.connected_components(g.subgraph(nodes))), key=lambda c: (-len(c), c[0]))
        expected = sorted([[f"u{k}" for k in c] for c in comps[1:]], key=lambda piece: piece[0])
        got = report.pieces.get(t, [])
        assert [sorted(piece, key=lambda u: int(u[1:])) for piece in got] == expected, t
    assert len(report.pieces["A"]) == 1 and len(report.pieces["A"][0]) == 4
    # B surrounds the orphan unit: one hole containing exactly u9
    holes = [h for h in report.holes if h.territory_id == "B"]
    assert len(holes) == 1 and holes[0].unit_ids == ["u9"]
    assert 8000 < holes[0].area_km2 < 10000  # a 1x1 degree box at 41N is ~9,300 km2


def test_clean_plan_is_ok(make_grid):
    p = grid_project(make_grid, 3, 3, {f"u{k}": "A" if k % 3 < 2 else "B" for k in range(9)})
    report = validate_plan(p)
    assert report.ok and report.orphans == [] and report.pieces == {} and report.holes == []
    assert report.problem_units() == []
    assert report.summary() == "0 orphan unit(s), 0 detached piece(s) in 0 territory(ies), 0 hole(s)"
    g = queen_graph(3, 3)  # independently: A (columns 0-1) and B (column 2) are each one piece
    for t in ("A", "B"):
        assert nx.is_connected(g.subgraph([k for k in range(9) if (k % 3 < 2) == (t == "A")]))
