"""``balance --objective --edge-lengths --time-limit`` (#17): the diameter on a CSV's lengths equals the one
networkx computes from the written plan; bad rows and misused flags are one-line errors; a plain run says it
stopped because improvement stalled."""

from __future__ import annotations

import json
import re

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from territory_desktop.cli import main


def run(argv, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def layer(tmp_path, make_grid):
    units = make_grid(4, 4)
    units["w"] = np.random.default_rng(4).integers(5, 20, len(units)).astype(float)
    path = tmp_path / "units.gpkg"
    units.to_file(path)
    return units, path


def _neighbours(units) -> list[tuple[str, str]]:
    """Queen neighbours (polygons touching in at least a point), as the balancer builds them."""
    g = units.geometry.to_numpy()
    ids = units["unit_id"].tolist()
    return [(ids[i], ids[j]) for i in range(len(g)) for j in range(i + 1, len(g)) if shapely.intersects(g[i], g[j])]


def test_diameter_on_file_lengths_matches_networkx(layer, tmp_path, capsys):
    units, path = layer
    pairs = _neighbours(units)
    rng = np.random.default_rng(9)
    lengths = pd.DataFrame({"from": [a for a, _ in pairs], "to": [b for _, b in pairs],
                            "length": rng.integers(1, 50, len(pairs))})
    lengths.to_csv(tmp_path / "lengths.csv", index=False)
    code, out, _ = run(["balance", path, "--id", "unit_id", "--weight", "w", "-k", "2", "--tolerance", "0.1",
                        "--objective", "diameter", "--edge-lengths", tmp_path / "lengths.csv",
                        "--time-limit", "2", "--out", tmp_path / "plan.csv", "--json", "--quiet"], capsys)
    assert code == 0
    scores = json.loads(out)
    assert scores["objective"] == "diameter" and scores["search_stopped"] == "time limit"
    assert scores["objective_unit"] is None  # a lengths file's own units: not named
    plan = pd.read_csv(tmp_path / "plan.csv", dtype=str).set_index("unit_id")["territory"].to_dict()
    g = nx.Graph()
    g.add_weighted_edges_from(lengths.itertuples(index=False, name=None))
    dist = dict(nx.all_pairs_dijkstra_path_length(g))
    diam = max(dist[a][b] for a in plan for b in plan if plan[a] == plan[b])
    assert scores["objective_value"] == pytest.approx(diam)


def test_a_great_circle_diameter_is_named_in_km(layer, tmp_path, capsys):
    """The JSON keeps the value in metres and names the unit; the text line shows it in km."""
    _, path = layer
    base = ["balance", path, "--id", "unit_id", "--weight", "w", "-k", "2", "--tolerance", "0.1",
            "--objective", "diameter", "--edge-lengths", "great-circle"]
    code, out, _ = run([*base, "--out", tmp_path / "plan.csv", "--json", "--quiet"], capsys)
    assert code == 0
    scores = json.loads(out)
    assert scores["objective_unit"] == "m" and scores["objective_value"] > 1000  # grid cells are km apart
    code, out, _ = run([*base, "--out", tmp_path / "again.csv", "--quiet"], capsys)
    km = scores["objective_value"] / 1000  # the same seed: the same plan
    assert code == 0
    assert f"; largest diameter {km:,.0f} km)" in out if km >= 100 else f"; largest diameter {km:,.3g} km)" in out
    # the search's progress names the unit too (on stderr, one search: no other process's lines)
    code, _, err = run([*base, "--time-limit", "1", "--workers", "1", "--out", tmp_path / "third.csv"], capsys)
    assert code == 0 and re.search(r"best largest diameter so far: [\d,.]+ km", err), err[-300:]


def test_plain_run_says_the_search_stalled(layer, tmp_path, capsys):
    _, path = layer
    code, out, _ = run(["balance", path, "--id", "unit_id", "--weight", "w", "-k", "2", "--tolerance", "0.1",
                        "--out", tmp_path / "plan.csv", "--quiet"], capsys)
    assert code == 0
    assert "search stopped: improvement stalled" in out


@pytest.mark.parametrize(("rows", "words"), [
    ("from,to,length\nu0,u1,3\nu0,nowhere,2\n", ["row 3", "nowhere"]),
    ("from,to,length\nu0,u1,-3\n", ["row 2", "length"]),
    ("a,b,c\n", ["from,to,length"]),
])
def test_bad_length_files_are_one_line_errors(layer, tmp_path, capsys, rows, words):
    _, path = layer
    (tmp_path / "bad.csv").write_text(rows)
    code, _, err = run(["balance", path, "--id", "unit_id", "--weight", "w", "-k", "2", "--objective", "travel",
                        "--edge-lengths", tmp_path / "bad.csv", "--out", tmp_path / "plan.csv", "--quiet"], capsys)
    assert code == 2 and "Traceback" not in err
    assert err.strip().splitlines()[0].startswith("error: ")
    for word in words:
        assert word in err
    assert not (tmp_path / "plan.csv").exists()


def test_road_lengths_need_roads_and_roads_need_road_lengths(layer, tmp_path, capsys):
    _, path = layer
    base = ["balance", path, "--id", "unit_id", "--weight", "w", "-k", "2", "--out", tmp_path / "plan.csv"]
    code, _, err = run([*base, "--edge-lengths", "road"], capsys)
    assert code == 2 and "--osm" in err
    code, _, err = run([*base, "--osrm", "http://localhost:5000"], capsys)
    assert code == 2 and "only used with --edge-lengths road" in err


def test_a_search_proved_optimal_says_so():
    from territory_desktop.cli.balance import _search_line

    line = _search_line({"search_stopped": "optimal", "seconds": 12.3, "objective": "diameter",
                         "objective_value": 277.0})
    assert line == "search stopped: the plan is proved optimal after 12.3 s (objective diameter; largest diameter 277)"
    line = _search_line({"search_stopped": "time limit", "seconds": 60.0, "objective": "diameter",
                         "objective_value": 246_000.0, "objective_unit": "m", "start_plans": 3})
    assert line == ("search stopped: time limit reached after 60.0 s (objective diameter; largest diameter 246 km; "
                    "best of 3 start plans)")
    line = _search_line({"search_stopped": "time limit", "seconds": 60.0, "objective": "compact",
                         "objective_value": 31.0, "searches": 2})
    assert line == ("search stopped: time limit reached after 60.0 s (objective compact; cut edges 31; "
                    "best of 2 searches, one per core)")


def test_workers_run_searches_at_once_and_keep_the_best(layer, tmp_path, capsys):
    """--alternatives 3 on 2 workers: 4 searches in two rounds of 2 (seeds 0-3), the best 3 returned,
    ranked; every plan written or scored is balanced and its diameter is networkx's."""
    units, path = layer
    pairs = _neighbours(units)
    lengths = pd.DataFrame({"from": [a for a, _ in pairs], "to": [b for _, b in pairs],
                            "length": np.random.default_rng(3).integers(1, 50, len(pairs))})
    lengths.to_csv(tmp_path / "lengths.csv", index=False)
    base = ["balance", path, "--id", "unit_id", "--weight", "w", "-k", "2", "--tolerance", "0.1",
            "--objective", "diameter", "--edge-lengths", tmp_path / "lengths.csv"]
    code, _, err = run([*base, "--workers", "2", "--out", tmp_path / "plan.csv"], capsys)
    assert code == 2 and "--workers" in err and "only used with --time-limit" in err
    code, out, _ = run([*base, "--time-limit", "1.5", "--workers", "2", "--alternatives", "3",
                        "--out", tmp_path / "plan.csv", "--json", "--quiet"], capsys)
    assert code == 0
    best = json.loads(out)
    plans = [best, *best["alternatives"]]
    assert len(plans) == 3 and all(p["searches"] == 4 for p in plans)
    assert len({p["seed"] for p in plans}) == 3 and {p["seed"] for p in plans} <= {0, 1, 2, 3}
    values = [p["objective_value"] for p in plans]
    assert values == sorted(values) and all(p["within_tolerance"] for p in plans)
    plan = pd.read_csv(tmp_path / "plan.csv", dtype=str).set_index("unit_id")["territory"].to_dict()
    g = nx.Graph()
    g.add_weighted_edges_from(lengths.itertuples(index=False, name=None))
    dist = dict(nx.all_pairs_dijkstra_path_length(g))
    assert best["objective_value"] == pytest.approx(max(dist[a][b] for a in plan for b in plan if plan[a] == plan[b]))


def test_total_diameter_on_file_lengths_matches_networkx(layer, tmp_path, capsys):
    """--objective total-diameter: the JSON value is the sum of the written plan's territory diameters."""
    units, path = layer
    pairs = _neighbours(units)
    lengths = pd.DataFrame({"from": [a for a, _ in pairs], "to": [b for _, b in pairs],
                            "length": np.random.default_rng(5).integers(1, 50, len(pairs))})
    lengths.to_csv(tmp_path / "lengths.csv", index=False)
    code, out, _ = run(["balance", path, "--id", "unit_id", "--weight", "w", "-k", "3", "--tolerance", "0.2",
                        "--objective", "total-diameter", "--edge-lengths", tmp_path / "lengths.csv",
                        "--time-limit", "1", "--workers", "1", "--out", tmp_path / "plan.csv", "--json", "--quiet"],
                       capsys)
    assert code == 0
    scores = json.loads(out)
    assert scores["objective"] == "total-diameter" and scores["within_tolerance"]
    plan = pd.read_csv(tmp_path / "plan.csv", dtype=str).set_index("unit_id")["territory"].to_dict()
    g = nx.Graph()
    g.add_weighted_edges_from(lengths.itertuples(index=False, name=None))
    dist = dict(nx.all_pairs_dijkstra_path_length(g))
    total = sum(max(dist[a][b] for a in plan for b in plan if plan[a] == plan[b] == t) for t in set(plan.values()))
    assert scores["objective_value"] == pytest.approx(total)
