"""Reference geography bundled in pip packages: US county and state polygons (Census 2016, 1:500k,
from ``plotly-geo``). Read-only; used by the demo and as the map's context layer."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyogrio

#: state FIPS codes outside the conterminous US (Alaska, Hawaii, territories)
NOT_LOWER_48 = frozenset({"02", "15", "60", "66", "69", "72", "78"})


def plotly_geo_file(name: str) -> Path | None:
    """Path of a file in plotly-geo's package data, or None when the package is not installed."""
    spec = importlib.util.find_spec("_plotly_geo")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / name
    return path if path.exists() else None


COUNTIES = "cb_2016_us_county_500k.shp"
STATES = "cb_2016_us_state_500k.shp"


@lru_cache(maxsize=1)
def lower48_state_outlines() -> np.ndarray | None:
    """Lower-48 state polygons in EPSG:4326 (NAD83 read as WGS 84, < 2 m apart), or None if absent."""
    path = plotly_geo_file(STATES)
    if path is None:
        return None
    frame = pyogrio.read_dataframe(path, columns=["STATEFP"])
    return frame.geometry[~frame["STATEFP"].isin(NOT_LOWER_48)].to_numpy()
