"""quotas on a project: bases from sales history by owner, ramps for new reps, capacity, the CLI."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from territory_desktop.cli import main
from territory_desktop.services.project import save_project
from territory_desktop.services.quotas import plan_quotas


@pytest.fixture
def project(grid_project):
    p = grid_project
    p.territories["rep_id"] = ["r1", None]
    # W owns a1, a2; E owns a3, a4. 2025: W 300, E 100. Trailing 12 (2025-06..2026-05): W 60+200, E 140.
    p.sales = pd.DataFrame({"account_id": ["a1", "a2", "a3", "a1", "a3", "a2"],
                            "period": ["2025-02", "2025-07", "2025-08", "2026-01", "2026-05", "2025-05"],
                            "product": "x", "amount": [100.0, 200.0, 100.0, 60.0, 40.0, 0.0]})
    return p


def test_prior_year_and_trailing_12(project):
    prior = plan_quotas(project, 1000.0, "prior_year")
    assert [r["quota"] for r in prior["territories"]] == [750.0, 250.0]
    assert prior["bases"]["prior_year"] == "2025-01..2025-12"
    trailing = plan_quotas(project, 1000.0, "trailing_12")
    assert trailing["bases"]["trailing_12"] == "2025-06..2026-05"
    assert [r["quota"] for r in trailing["territories"]] == pytest.approx([1000 * 260 / 400, 1000 * 140 / 400])


def test_new_rep_ramp_and_capacity(project):
    result = plan_quotas(project, 1200.0, "even", new_reps={"r1": "2027-01"}, ramp=3, start="2027-01",
                         coverage=1.0)
    west = result["territories"][0]
    assert west["quota"] == 600.0 and west["ramped_quota"] == pytest.approx(50 * (1 / 3 + 2 / 3 + 10))
    assert result["ramped_total"] == pytest.approx(west["ramped_quota"] + 600.0)
    # workload: a1 weekly 60 min = 52 h, a2 fortnightly 30 min = 13 h, a3 4-weekly 30 min = 6.5 h: 71.5 h
    assert result["capacity"]["workload_hours"] == pytest.approx(71.5)
    assert result["capacity"]["reps_needed"] == 1


def test_cli_blend_json_and_bad_blend(project, tmp_path, capsys):
    save_project(project, tmp_path / "p.gpkg")
    args = ["quotas", "--project", str(tmp_path / "p.gpkg"), "--total", "1000", "--method", "blend",
            "--blend", "even=1", "--blend", "prior_year=1", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["quota"] for r in out["territories"]] == [625.0, 375.0]  # (0.5 + 0.75) / 2, (0.5 + 0.25) / 2
    assert main([*args[:-1], "--blend", "luck=2"]) == 2
    assert "'luck' is not one of" in capsys.readouterr().err


SEASON = [1.0, 0.9, 1.1, 1.2, 0.8, 1.0, 1.05, 0.95, 1.1, 1.3, 0.7, 1.0]


@pytest.fixture
def history(grid_project):
    """30 months (2024-01..2026-06): W's a1 grows 1 % a month with a fixed season, E's a3 sells 50 a month.
    Both are what the forecast model (log level, trend, month effects) fits exactly."""
    p = grid_project
    months = pd.period_range("2024-01", "2026-06", freq="M")
    w = [100 * 1.01**k * SEASON[m.month - 1] for k, m in enumerate(months)]
    p.sales = pd.DataFrame({"account_id": ["a1"] * len(months) + ["a3"] * len(months),
                            "period": [str(m) for m in months] * 2, "product": "x",
                            "amount": w + [50.0] * len(months)})
    return p


def expected_forecast() -> tuple[float, float]:
    """W and E over 2026-09..2027-08 (months 32..43 after 2024-01), extrapolated by hand."""
    plan = pd.period_range("2026-09", "2027-08", freq="M")
    return sum(100 * 1.01 ** (32 + k) * SEASON[m.month - 1] for k, m in enumerate(plan)), 12 * 50.0


def test_bottom_up_quotas_are_the_forecast(history):
    west, east = expected_forecast()
    result = plan_quotas(history, None, "bottom-up", start="2026-09")
    quotas = [r["quota"] for r in result["territories"]]
    assert quotas == pytest.approx([west, east], abs=0.006)  # to the cent
    assert result["total"] == pytest.approx(sum(quotas), abs=0.01)
    assert result["bases"]["bottom-up"] == "forecast 2026-09..2027-08"
    scaled = plan_quotas(history, 1000.0, "bottom-up", start="2026-09")  # scaled to a top-down total
    assert [r["quota"] for r in scaled["territories"]] == pytest.approx([1000 * west / (west + east),
                                                                         1000 * east / (west + east)], abs=0.01)
    assert sum(r["quota"] for r in scaled["territories"]) == pytest.approx(1000.0, abs=1e-9)


def test_bottom_up_needs_history_after_it_and_a_total_elsewhere(history):
    from territory_desktop.models import InvalidInputError

    with pytest.raises(InvalidInputError, match="2026-05 is not after the last month with sales"):
        plan_quotas(history, None, "bottom-up", start="2026-05")
    with pytest.raises(InvalidInputError, match="give --total"):
        plan_quotas(history, None, "potential")
    history.sales = history.sales[history.sales["period"] >= "2025-03"]  # 16 months
    with pytest.raises(InvalidInputError, match="needs 24 months of sales history; the project has 16"):
        plan_quotas(history, None, "bottom-up", start="2027-01")


def test_cli_bottom_up(history, tmp_path, capsys):
    save_project(history, tmp_path / "p.gpkg")
    assert main(["quotas", "--project", str(tmp_path / "p.gpkg"), "--method", "bottom-up", "--start", "2026-09",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["quota"] for r in out["territories"]] == pytest.approx(list(expected_forecast()), abs=0.006)
    assert main(["quotas", "--project", str(tmp_path / "p.gpkg"), "--method", "even"]) == 2
    assert "give --total" in capsys.readouterr().err


def test_saved_quotas_are_stored_refused_replaced_and_used_by_the_report(project, tmp_path, capsys):
    import sqlite3

    from territory_desktop.services.project import open_project

    path = tmp_path / "p.gpkg"
    project.sales = pd.DataFrame({"account_id": ["a1", "a3", "a1"], "period": ["2027-01", "2027-02", "2027-04"],
                                  "product": "x", "amount": [90.0, 30.0, 500.0]})
    save_project(project, path)
    base = ["quotas", "--project", str(path), "--total", "1200", "--start", "2027-01"]
    assert main([*base, "--method", "even", "--new-rep", "r1=2027-01", "--ramp", "3", "--save"]) == 0
    capsys.readouterr()
    with sqlite3.connect(path) as con:
        rows = con.execute("SELECT territory_id, rep_id, period, period_start, period_end, quota, method, "
                           "ramp_months, ramped_quota, created_at FROM quotas ORDER BY territory_id").fetchall()
    assert [r[:8] for r in rows] == [("E", None, "2027-01..2027-12", "2027-01-01", "2027-12-31", 600.0, "even", None),
                                     ("W", "r1", "2027-01..2027-12", "2027-01-01", "2027-12-31", 600.0, "even", 3)]
    assert rows[1][8] == pytest.approx(50 * (1 / 3 + 2 / 3 + 10)) and rows[0][9].endswith("Z")
    # the same scenario and months again: refused, naming the stored set; --replace replaces it
    assert main([*base, "--method", "potential", "--save"]) == 2
    assert "already has quotas for 2027-01..2027-12" in capsys.readouterr().err
    assert len(open_project(path).quotas) == 2
    # the report's Q1 2027 quota: W ramps 50/3 + 100/3 + 50 (its monthly quotas), E 600 / 4
    assert main(["report", "--project", str(path), "--period", "2027-Q1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    quota = {t["territory_id"]: t["quota"] for t in report["territories"]}
    assert quota == pytest.approx({"W": 50 / 3 + 100 / 3 + 50, "E": 150.0}) and report["quotas_from"] == "project"
    assert report["attainment"]["sales"] == 120.0
    assert main([*base, "--total", "2400", "--method", "even", "--save", "--replace"]) == 0
    capsys.readouterr()
    # a month of the set: a twelfth; a file given still wins; a period the set does not cover has none
    assert main(["report", "--project", str(path), "--period", "2027-04", "--json"]) == 0
    assert {t["territory_id"]: t["quota"] for t in json.loads(capsys.readouterr().out)["territories"]} == \
        {"W": 100.0, "E": 100.0}
    (tmp_path / "q.csv").write_text("territory_id,quota\nW,7\nE,3\n")
    assert main(["report", "--project", str(path), "--period", "2027-Q1", "--quotas", str(tmp_path / "q.csv"),
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["attainment"]["quota"] == 10.0
    assert main(["report", "--project", str(path), "--period", "2026-Q4", "--json"]) == 0
    assert "attainment" not in json.loads(capsys.readouterr().out)


def test_replace_needs_save(project, tmp_path, capsys):
    save_project(project, tmp_path / "p.gpkg")
    assert main(["quotas", "--project", str(tmp_path / "p.gpkg"), "--total", "1", "--method", "even",
                 "--replace"]) == 2
    assert "--replace needs --save" in capsys.readouterr().err


def test_a_frozen_scenario_refuses_saved_quotas(project):
    from territory_desktop.models import InfeasibleError
    from territory_desktop.services.quotas import quota_clash, save_quotas
    from territory_desktop.services.review import transition

    result = plan_quotas(project, 1000.0, "even", start="2027-01")
    assert quota_clash(project, result["plan_months"]) is None
    save_quotas(project, result)
    assert quota_clash(project, "2027-01..2027-12").startswith("scenario 'base' already has quotas for 2027-01")
    transition(project, "base", "propose")
    with pytest.raises(InfeasibleError, match="is proposed"):
        save_quotas(project, result, replace=True)
    assert len(project.quotas) == 2


def test_suggested_total_from_the_last_complete_year_trailing_months_or_potential(project):
    from territory_desktop.services.quotas import suggested_total

    # the fixture's history runs 2025-02..2026-05: no complete year, so the trailing 12 months 2025-06..2026-05
    assert suggested_total(project) == (400.0, "sales 2025-06..2026-05: 400, rounded")
    project.sales = pd.DataFrame({"account_id": ["a1", "a2", "a3", "a1", "a4"],
                                  "period": ["2024-12", "2025-01", "2025-06", "2025-12", "2026-03"],
                                  "product": "x", "amount": [500.0, 1_234_000.0, 2_345.6, 10.0, 999.0]})
    total, why = suggested_total(project)  # 2025: 1,234,000 + 2,345.6 + 10 = 1,236,355.6
    assert total == 1_240_000.0 and why == "2025 sales: 1,236,356, rounded"
    assert suggested_total(project, growth=0.1)[0] == 1_360_000.0  # 1,359,991.16
    project.sales = project.sales.iloc[:0]
    assert suggested_total(project) == (185.0, "the accounts' annual potential: 185, rounded")  # 100+50+25+10
    project.sales = pd.DataFrame({"account_id": ["a1"] * 3, "period": ["2026-01", "2026-02", "2026-03"],
                                  "product": "x", "amount": [100.0, 100.0, 100.0]})
    assert suggested_total(project) == (1200.0, "sales 2026-01..2026-03 annualised from 3 months: 1,200, rounded")
    project.sales = project.sales.iloc[:0]
    project.accounts["potential"] = 0.0
    assert suggested_total(project) == (1_000_000.0, "no sales history or potential")


def test_cli_table_shows_whole_units_and_the_json_keeps_the_cents(project, tmp_path, capsys):
    save_project(project, tmp_path / "p.gpkg")
    args = ["quotas", "--project", str(tmp_path / "p.gpkg"), "--total", "1234567.89", "--method", "potential"]
    assert main(args) == 0
    text = capsys.readouterr().out
    west = 1234567.89 * 150 / 185  # W: a1 100 + a2 50 of the grid's 185 potential
    assert "quotas of 1,234,568 by potential" in text and f"{west:,.0f}" in text
    assert ".89" not in text and f"{west:,.2f}" not in text
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["total"] == 1234567.89 and sum(r["quota"] for r in out["territories"]) == pytest.approx(1234567.89)
    assert out["territories"][0]["quota"] == pytest.approx(west, abs=0.005)
