"""Bundled reference geography for maps (the context layer of the canvas and printed maps)."""

from __future__ import annotations

import numpy as np

from ..storage.reference import lower48_state_outlines


def state_outlines() -> np.ndarray | None:
    """Lower-48 state polygons in EPSG:4326, or None when the reference data is not installed."""
    return lower48_state_outlines()
