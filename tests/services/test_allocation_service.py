"""allocate on a project: prior curves split by potential, history fits, bounds files, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from territory_desktop.cli import main
from territory_desktop.models import InvalidInputError
from territory_desktop.services.allocation import allocate_project, read_bounds, read_history
from territory_desktop.services.project import save_project


def test_prior_curves_split_by_potential(grid_project):
    # W owns a1, a2 (potential 150), E owns a3, a4 (35): the prior optimum is proportional to potential
    result = allocate_project(grid_project, 1000.0)
    amounts = {r["territory_id"]: r["amount"] for r in result["territories"]}
    assert amounts["W"] == pytest.approx(1000 * 150 / 185, rel=1e-6)
    assert amounts["E"] == pytest.approx(1000 * 35 / 185, rel=1e-6)
    assert result["territories"][0]["marginal_return"] == pytest.approx(result["territories"][1]["marginal_return"])
    returns = [p["expected_return"] for p in result["what_if"]]
    assert np.all(np.diff(returns) > 0)


def test_history_fit_and_bounds_file(grid_project, tmp_path):
    rng = np.random.default_rng(3)
    spend = rng.uniform(0, 100, 12)
    sales = 50 + 40 * np.log1p(spend / 10)
    rows = ["territory_id,period,spend,sales"] + [f"W,2026-{m + 1:02d},{s:.3f},{v:.3f}"
                                                  for m, (s, v) in enumerate(zip(spend, sales, strict=True))]
    (tmp_path / "h.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "b.csv").write_text("territory_id,min,max\nE,300,\n")
    history = read_history(tmp_path / "h.csv", grid_project)
    bounds = read_bounds(tmp_path / "b.csv", grid_project)
    result = allocate_project(grid_project, 1000.0, bounds=bounds, history=history)
    w, e = result["territories"]
    assert w["curve"]["source"] == "history" and w["curve"]["a"] == pytest.approx(40, rel=1e-3)
    assert e["curve"]["source"] == "potential" and e["amount"] >= 300 - 1e-9
    assert w["amount"] + e["amount"] == pytest.approx(1000.0)


def test_bad_history_rows_named(grid_project, tmp_path):
    (tmp_path / "h.csv").write_text("territory_id,period,spend\nW,2026-01,abc\nNOPE,2026-02,5\n")
    with pytest.raises(InvalidInputError) as err:
        read_history(tmp_path / "h.csv", grid_project)
    assert "row 2, column 'spend': 'abc' is not a number" in str(err.value)
    assert "row 3, column 'territory_id': no territory 'NOPE'" in str(err.value)


def test_cli_whole_units_json(grid_project, tmp_path, capsys):
    save_project(grid_project, tmp_path / "p.gpkg")
    assert main(["allocate", "--project", str(tmp_path / "p.gpkg"), "--total", "7", "--whole", "--max", "5",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    amounts = [r["amount"] for r in out["territories"]]
    assert sum(amounts) == 7 and all(float(a).is_integer() and a <= 5 for a in amounts)
