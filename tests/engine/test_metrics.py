"""engine.metrics on plain arrays: positions, workload hours, deviation."""

from __future__ import annotations

import numpy as np

from territory_desktop.engine.metrics import account_workload_hours, deviation_pct, positions


def test_positions_finds_each_value_and_marks_missing_ones():
    keys = ["T2", "T10", "T1"]
    got = positions(keys, np.array(["T1", "T2", None, "T10", "T9", "T1"], dtype=object))
    assert got.dtype == np.int64
    assert got.tolist() == [2, 0, -1, 1, -1, 2]
    assert positions(keys, []).tolist() == []


def test_workload_and_deviation_by_hand():
    # every 2 weeks for 30 min: 26 visits x 0.5 h = 13 h; every 4 weeks for 60 min: 13 h; never visited: 0
    assert account_workload_hours(np.array([2, 4, 0]), np.array([30, 60, 45])).tolist() == [13.0, 13.0, 0.0]
    assert deviation_pct(np.array([90.0, 110.0])).tolist() == [-10.0, 10.0]
