"""Peer groups by potential, top quartile inside each group, practice gaps by hand."""

from __future__ import annotations

import numpy as np
import pytest

from territory_desktop.engine.peers import peer_groups, practice_gaps, top_quartile


def test_groups_follow_potential():
    potential = np.array([10, 50, 20, 90, 70, 30.0])
    g = peer_groups(potential, np.zeros(6), n_groups=3)
    assert list(g) == [0, 1, 0, 2, 2, 1]  # 10, 20 | 30, 50 | 70, 90


def test_top_quartile_is_per_group():
    groups = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    score = np.array([0.1, 0.4, 0.2, 0.3, 0.9, 0.5, 0.6, np.nan])
    assert list(np.flatnonzero(top_quartile(score, groups))) == [1, 4]  # best of each group of 4 (NaN left out)


def test_practice_gaps():
    top = np.array([True, False, False, True])
    gaps = practice_gaps({"coverage": np.array([0.9, 0.5, 0.6, 0.8]), "a_share": np.array([np.nan] * 4)}, top)
    assert len(gaps) == 1 and gaps[0]["practice"] == "coverage"
    assert gaps[0]["top_quartile"] == pytest.approx(0.85) and gaps[0]["rest"] == pytest.approx(0.55)
    assert gaps[0]["difference"] == pytest.approx(0.30)
