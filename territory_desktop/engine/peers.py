"""Peer groups and best practice: compare territories with others of similar size and account mix.

- **Peer groups**: territories ranked by potential and cut into ``n_groups`` groups of (nearly) equal
  size; within a group, the share of A accounts splits ties in the ranking, so the groups differ in
  size first and account mix second.
- **Performance** inside a group: sales / potential (yield), so a small territory is judged against
  small ones. The **top quartile** of each group (at least one territory) is flagged.
- **Practices**: for each measurable practice (visits per account, coverage, share of A accounts, days to
  follow up an opportunity), the mean of the top-quartile territories against the rest.
"""

from __future__ import annotations

import numpy as np

PRACTICES = {
    "visits_per_account": "completed visits per owned account in the period",
    "coverage": "completed / required visits",
    "a_share": "share of the owned accounts in segment A",
    "followup_days": "days from an opportunity's creation to the next completed visit",
}


def peer_groups(potential: np.ndarray, a_share: np.ndarray, n_groups: int = 3) -> np.ndarray:
    """Group 0..n_groups-1 of each territory (0 = smallest potential)."""
    n = len(potential)
    order = np.lexsort((np.nan_to_num(a_share), np.nan_to_num(potential)))
    groups = np.empty(n, dtype=np.int64)
    groups[order] = np.arange(n) * max(min(n_groups, n), 1) // max(n, 1)
    return groups


def top_quartile(score: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Bool per territory: in the best quarter of its peer group by ``score`` (NaN never is)."""
    top = np.zeros(len(score), dtype=bool)
    for g in np.unique(groups):
        members = np.flatnonzero((groups == g) & np.isfinite(score))
        if len(members):
            best = members[np.argsort(-score[members], kind="stable")]
            top[best[: max(1, len(members) // 4)]] = True
    return top


def practice_gaps(practices: dict[str, np.ndarray], top: np.ndarray) -> list[dict]:
    """Per practice: the top quartile's mean, the rest's mean and the difference (NaNs left out)."""
    out = []
    for name, values in practices.items():
        v = np.asarray(values, dtype=float)
        a, b = v[top & np.isfinite(v)], v[~top & np.isfinite(v)]
        if not len(a) or not len(b):
            continue
        out.append({"practice": name, "meaning": PRACTICES.get(name, name), "top_quartile": float(a.mean()),
                    "rest": float(b.mean()), "difference": float(a.mean() - b.mean())})
    return out
