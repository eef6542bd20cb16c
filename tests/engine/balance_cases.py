"""Small cases the balance engine's tests share: grids with random edge lengths and plans on a graph.

Imported as ``from balance_cases import ...`` (pytest puts this folder on the path)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp

from territory_desktop.engine.balance.anytime import Plan


def with_random_lengths(g: nx.Graph, rng: np.random.Generator):
    """(graph, nodes, CSR adjacency, CSR edge lengths): each edge of ``g`` gets an integer length 1-8
    drawn from ``rng`` (kept on the graph as ``d``)."""
    for a, b in g.edges:
        g.edges[a, b]["d"] = float(rng.integers(1, 9))
    nodes = list(g.nodes)
    adj = sp.csr_matrix(nx.to_scipy_sparse_array(g, nodelist=nodes, format="csr", weight=None))
    lengths = sp.csr_matrix(nx.to_scipy_sparse_array(g, nodelist=nodes, format="csr", weight="d"))
    return g, nodes, adj, lengths


def grid_with_lengths(rows: int, cols: int, rng: np.random.Generator):
    """A rows x cols grid with random edge lengths (:func:`with_random_lengths`)."""
    return with_random_lengths(nx.grid_2d_graph(rows, cols), rng)


def plan_on(adj: sp.csr_matrix, labels, w: np.ndarray, tol, k: int, pin=None) -> Plan:
    """The engine's plan of ``labels`` on the CSR adjacency; ``tol`` one tolerance or one per measure."""
    lists = [adj.indices[adj.indptr[i]:adj.indptr[i + 1]].tolist() for i in range(adj.shape[0])]
    tolerance = np.broadcast_to(np.asarray(tol, float), (w.shape[1],)).copy()
    pins = np.full(len(lists), -1) if pin is None else pin
    return Plan(w, tolerance, k, adj, lists, np.asarray(labels), pins)


def plan_of_graph(g: nx.Graph, w: np.ndarray, tol, k: int, labels, pin=None) -> Plan:
    """The engine's plan of ``labels`` on a graph whose nodes are 0..n-1."""
    nodes = list(range(g.number_of_nodes()))
    return plan_on(sp.csr_matrix(nx.to_scipy_sparse_array(g, nodelist=nodes, format="csr", weight=None)),
                   labels, w, tol, k, pin)
