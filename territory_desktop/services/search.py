"""Find an account, territory, rep or unit by id or name (the main window's Ctrl+F).

:func:`search` returns hits best first: an exact id or name, then names that start with the text, then
names or ids that contain it (case-insensitive). Each hit names the units to zoom to: an account's unit,
a territory's units in the active scenario, a rep's territories' units (or the unit of their home).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from ..models import Project

KINDS = ("territory", "rep", "account", "unit")


@dataclass(frozen=True)
class Hit:
    """One search result: ``kind`` (territory/rep/account/unit), its id, a label to show, its rank
    (0 exact, 1 prefix, 2 substring) and the unit ids to zoom to."""

    kind: str
    id: str
    label: str
    rank: int
    unit_ids: tuple[str, ...]


def _rank(texts: pd.Series, ids: pd.Series, query: str) -> np.ndarray:
    """0 exact id or name, 1 name or id starts with ``query``, 2 contains it, 3 no match."""
    t, i = texts.astype(str).str.casefold(), ids.astype(str).str.casefold()
    rank = np.full(len(t), 3)
    rank[(t.str.contains(query, regex=False) | i.str.contains(query, regex=False)).to_numpy()] = 2
    rank[(t.str.startswith(query) | i.str.startswith(query)).to_numpy()] = 1
    rank[((t == query) | (i == query)).to_numpy()] = 0
    return rank


def _territory_units(project: Project) -> dict[str, tuple[str, ...]]:
    units: dict[str, list[str]] = {}
    for u, t in project.plan.as_dict().items():
        if t is not None:
            units.setdefault(str(t), []).append(u)
    return {t: tuple(us) for t, us in units.items()}


def _rep_units(project: Project, rep_id: str, by_territory: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    terr = project.scenario_territories()
    mine = [u for t in terr.loc[terr["rep_id"].astype(str) == rep_id, "territory_id"].astype(str)
            for u in by_territory.get(t, ())]
    if mine:
        return tuple(mine)
    home = project.reps.loc[project.reps["rep_id"].astype(str) == rep_id, "geometry"]
    if not len(home) or not len(project.units):
        return ()
    inside = project.units.loc[shapely.contains(project.units.geometry.to_numpy(), home.iloc[0]), "unit_id"]
    return tuple(inside.astype(str))


def _hits(kind: str, frame: pd.DataFrame, id_col: str, name_col: str, query: str, units_of) -> list[Hit]:
    if not len(frame):
        return []
    rank = _rank(frame[name_col], frame[id_col], query)
    rows = np.flatnonzero(rank < 3)
    return [Hit(kind, str(frame[id_col].iat[k]), f"{frame[name_col].iat[k]} ({frame[id_col].iat[k]})",
                int(rank[k]), units_of(str(frame[id_col].iat[k]), k)) for k in rows]


def search(project: Project, text: str, limit: int = 50) -> list[Hit]:
    """Hits for ``text`` in territories (active scenario), reps, accounts and units, best first; at most
    ``limit``. An empty text finds nothing."""
    query = text.strip().casefold()
    if not query:
        return []
    by_territory = _territory_units(project)
    terr = project.scenario_territories()
    accounts = project.accounts
    account_units = accounts["unit_id"].to_numpy() if len(accounts) else np.array([])
    hits = (_hits("territory", terr, "territory_id", "name", query, lambda t, _k: by_territory.get(t, ()))
            + _hits("rep", project.reps, "rep_id", "name", query, lambda r, _k: _rep_units(project, r, by_territory))
            + _hits("account", accounts, "account_id", "name", query,
                    lambda _a, k: (str(account_units[k]),) if pd.notna(account_units[k]) else ())
            + _hits("unit", project.units, "unit_id", "name", query, lambda u, _k: (u,)))
    hits.sort(key=lambda h: (h.rank, KINDS.index(h.kind), h.label.casefold()))
    return hits[:limit]
