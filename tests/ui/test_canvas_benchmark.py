"""benchmarks/canvas.py runs end to end on a small layer and prints the promised JSON keys."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import shapely

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "canvas.py"
KEYS = {"first_draw_s", "frame_ms_median", "frame_ms_p95", "stroke_ms_median"}


def test_voronoi_layer_is_a_coverage_with_requested_sizes():
    spec = importlib.util.spec_from_file_location("canvas_bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    project = module.voronoi_project(500, 12, seed=3, source="random")
    geoms = project.units.geometry.to_numpy()
    assert len(geoms) == 500 and shapely.is_valid(geoms).all()
    assert len(set(project.plan.as_dict().values())) == 12
    # cells do not overlap: the union's area equals the sum of the areas
    assert shapely.union_all(geoms).area == pytest.approx(shapely.area(geoms).sum(), rel=1e-6)


def test_benchmark_prints_ours_and_reference(tmp_path):
    run = subprocess.run([sys.executable, str(SCRIPT), "--units", "600", "--territories", "15", "--source",
                          "random", "--size", "800x500", "--json"], capture_output=True, text=True, timeout=300, check=False,
                         cwd=ROOT, env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert set(result) >= KEYS and set(result["ours"]) >= KEYS
    assert set(result["reference_qgraphicspathitem_per_unit"]) >= KEYS
    assert result["units"] == 600
    assert all(result["ours"][k] > 0 for k in KEYS)
