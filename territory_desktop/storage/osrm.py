"""An OSRM server's table service over HTTP: travel distance and time matrices (needs network)."""

from __future__ import annotations

import json
import urllib.request

import numpy as np

from ..models import InvalidInputError


def osrm_table(url: str, lon: np.ndarray, lat: np.ndarray, profile: str = "driving",
               timeout: float = 30.0) -> tuple[np.ndarray, np.ndarray]:
    """(distance metres, duration seconds) int64 matrices between the points from the OSRM server at
    ``url`` (e.g. "http://localhost:5000"). Raises InvalidInputError when the server cannot be reached,
    answers with an error or cannot connect every pair."""
    coords = ";".join(f"{x:.6f},{y:.6f}" for x, y in zip(lon, lat, strict=True))
    req = f"{url.rstrip('/')}/table/v1/{profile}/{coords}?annotations=distance,duration"
    try:
        with urllib.request.urlopen(req, timeout=timeout) as fh:
            body = json.load(fh)
    except OSError as exc:
        raise InvalidInputError("OSRM", [f"cannot reach {url}: {exc}"]) from exc
    if body.get("code") != "Ok":
        raise InvalidInputError("OSRM", [f"server answered {body.get('code')}: {body.get('message', '')}"])
    dist = np.array(body["distances"], dtype=float)
    dur = np.array(body["durations"], dtype=float)
    if not (np.isfinite(dist).all() and np.isfinite(dur).all()):
        raise InvalidInputError("OSRM", ["some points cannot be reached from each other"])
    return np.round(dist).astype(np.int64), np.round(dur).astype(np.int64)
