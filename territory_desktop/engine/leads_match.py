"""Lead-to-account matching and lead location: pure functions on arrays (no files, no project).

Matching, first hit wins: the lead's web domain (or e-mail domain) equals an account's domain; else the
lead's company name, normalised (case, punctuation and legal suffixes such as "Inc", "Corp", "LLC"
removed), equals an account's normalised name; else the best fuzzy score (rapidfuzz ``token_sort_ratio``,
0-100) of names that share their first two letters, when it reaches the threshold. The block on the first
two letters keeps 100,000 leads against 20,000 accounts to a few million comparisons; a typo in the first
two letters is therefore not matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from .placement import place_points

LEGAL_SUFFIXES = ("inc", "incorporated", "corp", "corporation", "co", "company", "llc", "ltd", "limited",
                  "plc", "gmbh", "ag", "sa", "lp", "llp", "the", "group", "holdings")
_SUFFIX = re.compile(r"\b(?:" + "|".join(LEGAL_SUFFIXES) + r")\b")


def normalise_company(names) -> np.ndarray:
    """Company names as comparison keys: lower case, '&' as 'and', no punctuation or legal suffixes."""
    s = pd.Series(names, dtype=object).fillna("").astype(str).str.lower()
    s = s.str.replace("&", " and ", regex=False).str.replace(r"[^a-z0-9 ]+", " ", regex=True)
    s = s.str.replace(_SUFFIX, " ", regex=True).str.replace(r"\s+", " ", regex=True).str.strip()
    return s.to_numpy(dtype=object)


def normalise_domain(values) -> np.ndarray:
    """Web domains as keys: 'https://www.Acme.com/x' and 'ana@acme.com' both become 'acme.com'."""
    s = pd.Series(values, dtype=object).fillna("").astype(str).str.strip().str.lower()
    s = s.str.replace(r"^.*@", "", regex=True).str.replace(r"^[a-z]+://", "", regex=True)
    s = s.str.replace(r"^www\.", "", regex=True).str.replace(r"[/?#:].*$", "", regex=True)
    return s.to_numpy(dtype=object)


@dataclass
class AccountMatch:
    """Per lead: matched account index (-1 none), how ('domain', 'name', 'fuzzy name' or ''), score 0-100."""

    account: np.ndarray
    how: np.ndarray
    score: np.ndarray


def match_accounts(lead_domains, lead_companies, account_domains, account_names,
                   threshold: float = 90.0) -> AccountMatch:
    """Match leads to accounts by domain, then exact normalised name, then fuzzy name (see module doc)."""
    n = len(lead_companies)
    account = np.full(n, -1, dtype=np.int64)
    how = np.full(n, "", dtype=object)
    score = np.zeros(n)
    _exact(normalise_domain(lead_domains), normalise_domain(account_domains), account, how, score, "domain")
    lead_keys = normalise_company(lead_companies)
    account_keys = normalise_company(account_names)
    _exact(lead_keys, account_keys, account, how, score, "name")
    _fuzzy(lead_keys, account_keys, account, how, score, threshold)
    return AccountMatch(account, how, score)


def _exact(lead_keys: np.ndarray, account_keys: np.ndarray, account: np.ndarray, how: np.ndarray,
           score: np.ndarray, label: str) -> None:
    """Fill unmatched leads whose key equals an account's key (the first account with that key)."""
    keys = pd.Series(np.arange(len(account_keys)), index=account_keys)
    keys = keys[(keys.index != "") & ~keys.index.duplicated()]
    open_ = np.flatnonzero((account < 0) & (lead_keys != ""))
    hit = pd.Series(lead_keys[open_]).map(keys).to_numpy(dtype=float)
    found = ~np.isnan(hit)
    account[open_[found]] = hit[found].astype(np.int64)
    how[open_[found]] = label
    score[open_[found]] = 100.0


def _fuzzy(lead_keys: np.ndarray, account_keys: np.ndarray, account: np.ndarray, how: np.ndarray,
           score: np.ndarray, threshold: float) -> None:
    from rapidfuzz import fuzz, process

    open_ = np.flatnonzero((account < 0) & (lead_keys != ""))
    if not len(open_) or not len(account_keys):
        return
    lead_block = pd.Series(lead_keys[open_]).str[:2].to_numpy(dtype=object)
    acc_block = pd.Series(account_keys).str[:2].to_numpy(dtype=object)
    acc_by_block = pd.Series(np.arange(len(account_keys))).groupby(acc_block).apply(np.asarray)
    for block, members in pd.Series(np.arange(len(open_))).groupby(lead_block):
        if block == "" or block not in acc_by_block.index:
            continue
        choices = acc_by_block[block]
        rows = open_[members.to_numpy()]
        scores = process.cdist(lead_keys[rows].tolist(), account_keys[choices].tolist(),
                               scorer=fuzz.token_sort_ratio, score_cutoff=threshold, workers=-1)
        best = scores.argmax(axis=1)
        top = scores[np.arange(len(rows)), best]
        ok = top >= threshold
        account[rows[ok]] = choices[best[ok]]
        how[rows[ok]] = "fuzzy name"
        score[rows[ok]] = top[ok]


def locate(x: np.ndarray, y: np.ndarray, unit_polygons: np.ndarray, unit_territory: np.ndarray,
           ) -> tuple[np.ndarray, np.ndarray]:
    """Territory index of each point and whether it lies inside one.

    ``unit_territory[i]`` is the territory index of unit i (-1 for a unit in no territory). A point in a
    unit of a territory is inside it; any other point takes the territory of the nearest assigned unit
    (planar distance in the polygons' CRS). Returns (territory index, inside), -1 when no unit is assigned.
    """
    unit_territory = np.asarray(unit_territory, dtype=np.int64)
    assigned = np.flatnonzero(unit_territory >= 0)
    result = np.full(len(x), -1, dtype=np.int64)
    if not len(assigned):
        return result, np.zeros(len(x), dtype=bool)
    polys = np.asarray(unit_polygons, dtype=object)[assigned]
    unit = place_points(x, y, polys)
    inside = unit >= 0
    result[inside] = unit_territory[assigned[unit[inside]]]
    outside = np.flatnonzero(~inside & np.isfinite(x) & np.isfinite(y))
    if len(outside):
        tree = shapely.STRtree(polys)
        point_idx, poly_idx = tree.query_nearest(shapely.points(x[outside], y[outside]), all_matches=False)
        result[outside[point_idx]] = unit_territory[assigned[poly_idx]]
    return result, inside
