"""``report`` on a small demo: the fixed JSON shape, XLSX through the safe writer, errors, demo stories."""

from __future__ import annotations

import json

import openpyxl
import pytest

from territory_desktop.cli import main
from territory_desktop.services.demo import build_demo
from territory_desktop.services.demo_history import story_territories
from territory_desktop.services.project import save_project

KPI_KEYS = {"territory_id", "sales", "growth_pop", "growth_yoy", "revenue_per_visit", "penetration", "win_rate",
            "avg_deal_size", "new_customers", "retention", "pipeline", "coverage"}
BACKTEST_KEYS = {"mase", "seasonal_naive_mase", "smape", "seasonal_naive_smape", "coverage_80", "coverage_95"}


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    project = build_demo(seed=3, n_accounts=3000)
    path = tmp_path_factory.mktemp("kpi") / "demo.gpkg"
    save_project(project, path)
    return project, path


def test_report_json_keeps_the_published_shape(demo_file, capsys):
    project, path = demo_file
    assert main(["report", "--project", str(path), "--period", "2026-Q3", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["territories"]) == 40
    for row in report["territories"]:
        assert set(row) >= KPI_KEYS
    assert set(report["forecast_backtest"]) == {"territory", "district", "region", "total"}
    for scores in report["forecast_backtest"].values():
        assert set(scores) >= BACKTEST_KEYS
        assert all(0 <= scores[k] <= 1 for k in ("coverage_80", "coverage_95", "smape"))
    # sales add up to the sales table of the quarter (every account is owned in the demo)
    s = project.sales
    expected = s.loc[s["period"].isin(["2026-07", "2026-08", "2026-09"]), "amount"].sum()
    owned = project.accounts.loc[project.accounts["unit_id"].notna(), "account_id"]
    expected_owned = s.loc[s["period"].isin(["2026-07", "2026-08", "2026-09"]) & s["account_id"].isin(owned),
                           "amount"].sum()
    got = sum(r["sales"] for r in report["territories"])
    assert got == pytest.approx(expected_owned, rel=1e-6) and got <= expected + 1e-6
    assert isinstance(report["alerts"], list)
    # the forecast is coherent: territories add up to the total in every month, and carries its accuracy
    for month in {f["month"] for f in report["forecast"]}:
        rows = [f for f in report["forecast"] if f["month"] == month]
        total = next(f["mean"] for f in rows if f["level"] == "total")
        assert sum(f["mean"] for f in rows if f["level"] == "territory") == pytest.approx(total, rel=1e-6)
        assert all(f["backtest_mase"] is not None and f["lower_95"] <= f["mean"] <= f["upper_95"] for f in rows)


def test_report_by_region_and_xlsx(demo_file, tmp_path, capsys):
    _, path = demo_file
    assert main(["report", "--project", str(path), "--by", "region", "--json"]) == 0
    regions = json.loads(capsys.readouterr().out)["territories"]
    assert sorted(r["territory_id"] for r in regions) == ["R-Midwest", "R-Northeast", "R-South", "R-West"]
    out = tmp_path / "kpi.xlsx"
    assert main(["report", "--project", str(path), "--xlsx", str(out)]) == 0
    rows = list(openpyxl.load_workbook(out).active.values)
    assert rows[0][0] == "territory_id" and len(rows) == 41


def test_report_errors_are_one_line(demo_file, capsys):
    _, path = demo_file
    assert main(["report", "--project", str(path), "--period", "Q3"]) == 2
    assert "is not a period" in capsys.readouterr().err
    assert main(["report", "--project", str(path), "--xlsx", str(path.with_suffix(".pdf"))]) == 2
    assert ".xlsx" in capsys.readouterr().err


def test_demo_stories_show_in_the_history(demo_file):
    project, _ = demo_file
    from territory_desktop.services.kpi import kpi_table

    story = story_territories(project)
    # falling coverage: visits thin out over the last six months in the story territory only
    early = kpi_table(project, "2025-11-01..2026-04-30").set_index("group_id")["coverage"]
    late = kpi_table(project, "2026-08-01..2026-10-31").set_index("group_id")["coverage"]
    change = late - early
    assert change[story["falling_coverage"]] < -0.2
    assert abs(change.drop(story["falling_coverage"]).median()) < 0.1
    # the sudden drop: the story territory's last three months against the same months a year before
    yoy = kpi_table(project, "2026-08-01..2026-10-31").set_index("group_id")["growth_yoy"]
    assert yoy[story["sudden_drop"]] < -0.2 and yoy.drop(story["sudden_drop"]).median() > -0.1
    # churn and acquisition exist; territories differ (some grow, some decline)
    year = kpi_table(project, "2026")
    assert year["new_customers"].sum() > 0 and (year["retention"] < 1).any()
    growth = kpi_table(project, "2025").set_index("group_id")["growth_yoy"]
    assert (growth > 0.05).sum() >= 5 and (growth < -0.02).sum() >= 5


def test_peer_groups_and_top_quartile(demo_file, capsys):
    _, path = demo_file
    assert main(["report", "--project", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    rows = {r["territory_id"]: r for r in report["territories"]}
    groups = report["peers"]["groups"]
    assert sorted(t for g in groups for t in g["territories"]) == sorted(rows)
    for g in groups:
        yields = {t: rows[t]["sales"] / rows[t]["potential"] for t in g["territories"]}
        best = sorted(yields, key=yields.get, reverse=True)[: max(1, len(yields) // 4)]
        assert sorted(g["top_quartile"]) == sorted(best)
    assert groups[0]["potential_to"] <= groups[-1]["potential_from"]
    assert {p["practice"] for p in report["peers"]["practices"]} == {"visits_per_account", "coverage", "a_share",
                                                                     "followup_days"}
