"""KPIs against numbers worked out by hand on the tiny history of ``kpi_fixtures`` (realignment 2026-08-01)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from kpi_fixtures import tiny_project

from territory_desktop.engine.kpi import parse_period
from territory_desktop.models import InvalidInputError
from territory_desktop.services.kpi import kpi_table, latest_period, read_quotas


@pytest.fixture
def q3():
    return kpi_table(tiny_project(), "2026-Q3").set_index("group_id")


def test_sales_follow_the_plan_in_force_at_the_sale_date(q3):
    # a1's July sale (100) is T1's (before the realignment), its August sale (50) T2's
    assert q3.loc["T1", "sales"] == pytest.approx(100.0)
    assert q3.loc["T2", "sales"] == pytest.approx(50 + 20 + 15)


def test_growth(q3):
    assert q3.loc["T1", "growth_pop"] == pytest.approx(100 / 105 - 1)  # Q2: a1 80 + a2 25
    assert q3.loc["T2", "growth_pop"] == pytest.approx(85 / 40 - 1)
    assert q3.loc["T1", "growth_yoy"] == pytest.approx(100 / 60 - 1)  # 2025-Q3: a1 60
    assert q3.loc["T2", "growth_yoy"] == pytest.approx(85 / 10 - 1)


def test_customers_penetration_retention(q3):
    assert q3.loc["T1", "new_customers"] == 0 and q3.loc["T2", "new_customers"] == 1  # a4
    assert q3.loc["T1", "penetration"] == 0.0  # owns a2 at the end, which bought nothing in Q3
    assert q3.loc["T2", "penetration"] == pytest.approx(3 / 4)  # a1, a3, a4 of a1, a3, a4, a5
    assert q3.loc["T1", "retention"] == pytest.approx(0.5)  # Q2 buyers a1 (again), a2 (not)
    assert q3.loc["T2", "retention"] == pytest.approx(1.0)  # a3


def test_visits_coverage_and_revenue_per_visit(q3):
    # a1 needs 92/28 visits over the quarter: 31 days under T1, 61 under T2; a3 needs 92/91 (T2)
    assert q3.loc["T1", "coverage"] == pytest.approx(1 / (31 / 28))
    assert q3.loc["T2", "coverage"] == pytest.approx(3 / (61 / 28 + 92 / 91))
    assert q3.loc["T1", "revenue_per_visit"] == pytest.approx(100.0)
    assert q3.loc["T2", "revenue_per_visit"] == pytest.approx(85 / 3)


def test_opportunities(q3):
    assert q3.loc["T1", "win_rate"] == 1.0 and q3.loc["T2", "win_rate"] == 0.5
    assert q3.loc["T1", "avg_deal_size"] == 1000 and q3.loc["T2", "avg_deal_size"] == 300
    assert q3.loc["T1", "sales_cycle_days"] == 80 and q3.loc["T2", "sales_cycle_days"] == 40
    assert q3.loc["T1", "pipeline"] == 2000 and q3.loc["T2", "pipeline"] == 700  # o4; o5 closes in October


def test_followup_days_to_the_next_completed_visit():
    q2 = kpi_table(tiny_project(), "2026-Q2").set_index("group_id")
    # o1 (a1, May 1) -> a1's visit on Jul 10: 70 days; o5 (a1, Jun 15) -> 25 days; both T1's
    assert q2.loc["T1", "followup_days"] == pytest.approx((70 + 25) / 2)
    # o2 (a3, Jun 1): the Aug 2 visit had no answer, the next completed one is Sep 1: 92 days
    assert q2.loc["T2", "followup_days"] == pytest.approx(92)


def test_workload_potential_and_attainment():
    t = kpi_table(tiny_project(), "2026-Q3", quotas=pd.Series({"T1": 200.0})).set_index("group_id")
    assert t.loc["T1", "workload_hours"] == 0 and t.loc["T2", "workload_hours"] == pytest.approx(13 + 2)
    assert t.loc["T1", "potential"] == 2000 and t.loc["T2", "potential"] == 13000
    assert t.loc["T1", "attainment"] == pytest.approx(0.5) and math.isnan(t.loc["T2", "attainment"])


def test_roll_up_by_district_and_rep():
    d = kpi_table(tiny_project(), "2026-Q3", by="district").set_index("group_id")
    assert list(d.index) == ["D1"] and d.loc["D1", "sales"] == pytest.approx(185.0)
    assert d.loc["D1", "win_rate"] == pytest.approx(2 / 3)
    r = kpi_table(tiny_project(), "2026-Q3", by="rep").set_index("group_id")
    assert r.loc["R2", "sales"] == pytest.approx(85.0)


def test_without_history_todays_plan_owns_every_sale():
    p = tiny_project()
    p.plans_in_force = []
    t = kpi_table(p, "2026-Q3").set_index("group_id")  # active scenario "new": U1 in T2 all along
    assert t.loc["T2", "sales"] == pytest.approx(185.0)
    assert "T1" not in t.index or t.loc["T1", "sales"] == 0


def test_custom_and_month_periods():
    t = kpi_table(tiny_project(), "2026-08-01..2026-08-31").set_index("group_id")
    assert t.loc["T2", "sales"] == pytest.approx(70.0)
    assert math.isnan(t.loc["T2", "growth_pop"])  # July 1-31 (31 days before): T2 sold nothing
    m = kpi_table(tiny_project(), "2026-07").set_index("group_id")
    assert m.loc["T1", "sales"] == 100 and m.loc["T1", "growth_pop"] == pytest.approx(100 / 25 - 1)


def test_period_parsing_and_errors():
    p = parse_period("2026-Q3")
    assert p.days == 92 and p.start - p.prev_start == 91  # Q2 has 91 days
    assert parse_period("2026").days == 365
    with pytest.raises(InvalidInputError, match="2026-Q5"):
        parse_period("2026-Q5")
    with pytest.raises(InvalidInputError, match="district"):
        kpi_table(tiny_project(), "2026-Q3", by="county")


def test_latest_complete_quarter():
    assert latest_period(tiny_project()) == "2026-Q3"


def test_unit_performance_measures_for_the_balancer():
    from territory_desktop.services.kpi import unit_performance_measures

    p = tiny_project()
    p.units = pd.DataFrame({"unit_id": ["U1", "U2", "U3"]})
    m = unit_performance_measures(p)
    # last 12 months with sales: 2025-10..2026-09; the 12 before: 2024-10..2025-09
    assert m.loc["U1", "sales_t12m"] == 230 and m.loc["U2", "sales_t12m"] == 25 and m.loc["U3", "sales_t12m"] == 75
    assert list(m["growth_t12m"]) == [230 - 60, 25, 75 - 10]
    assert list(m["pipeline"]) == [0, 2000, 0]  # o4 is the only deal still open at the end of the history


def test_bad_dates_and_unknown_accounts_are_reported_by_row():
    p = tiny_project()
    p.sales.loc[2, "period"] = "July"
    with pytest.raises(InvalidInputError, match=r"row 3, column 'period': 'July' is not a date"):
        kpi_table(p, "2026-Q3")
    p = tiny_project()
    p.visits.loc[0, "account_id"] = "zz"
    with pytest.raises(InvalidInputError, match="row 1, column 'account_id': account 'zz' does not exist"):
        kpi_table(p, "2026-Q3")


def test_a_project_without_history_reports_empty_forecasts():
    from territory_desktop.services.kpi_report import build_report

    p = tiny_project()
    p.sales = p.sales.iloc[0:0]
    report = build_report(p, "2026-Q3")
    assert [r["sales"] for r in report["territories"]] == [0.0, 0.0]
    assert report["forecast_backtest"] == {} and report["forecast"] == [] and report["alerts"] == []
    with pytest.raises(InvalidInputError, match="give --period"):
        build_report(p)


def test_unit_values_for_the_choropleth():
    from territory_desktop.services.kpi_report import unit_values

    p = tiny_project()
    t = kpi_table(p, "2026-Q3")
    # under today's plan U1 and U3 are T2's (85), U2 is T1's (100); an unknown unit has no value
    values = unit_values(p, t, "territory", "sales", ["U1", "U2", "U3", "U9"])
    assert list(values[:3]) == [85.0, 100.0, 85.0] and np.isnan(values[3])
    d = kpi_table(p, "2026-Q3", by="district")
    assert list(unit_values(p, d, "district", "sales", ["U1", "U2"])) == [185.0, 185.0]


def test_read_quotas_reads_a_csv_and_names_every_bad_row(tmp_path):
    good = tmp_path / "quotas.csv"
    good.write_text("ID,Quota\nT1,100\nT2,2.5\n")
    assert read_quotas(str(good)).to_dict() == {"T1": 100.0, "T2": 2.5}
    bad = tmp_path / "bad.csv"
    bad.write_text("id,quota\nT1,100\nT2,abc\nT1,5\n,3\nT3,-1\n")
    with pytest.raises(InvalidInputError) as info:
        read_quotas(str(bad))
    # spreadsheet rows (header = row 1): 'abc' on row 3, T1 again on row 4, no id on row 5, -1 on row 6
    assert {(p.row, p.column) for p in info.value.problems} == {(3, "quota"), (4, "id"), (5, "id"), (6, "quota")}


def test_quota_and_attainment_roll_up_from_territories(tmp_path):
    from territory_desktop.services.kpi_report import attainment_summary

    path = tmp_path / "q.csv"
    path.write_text("territory_id,quota,period\nT1,80,2026-Q3\nT2,100,2026-Q3\nT1,999,2026-Q2\n")
    quotas = read_quotas(str(path), "2026-Q3")
    assert quotas.to_dict() == {"T1": 80.0, "T2": 100.0}  # the Q2 row is not this period's
    t = kpi_table(tiny_project(), "2026-Q3", quotas=quotas).set_index("group_id")
    assert t.loc["T1", "quota"] == 80 and t.loc["T1", "attainment"] == pytest.approx(100 / 80)
    assert t.loc["T2", "attainment"] == pytest.approx(85 / 100)
    d = kpi_table(tiny_project(), "2026-Q3", "district", quotas).set_index("group_id")
    assert d.loc["D1", "quota"] == 180 and d.loc["D1", "attainment"] == pytest.approx(185 / 180)
    s = attainment_summary(t.reset_index())
    assert s["quota"] == 180 and s["sales"] == 185 and s["groups_at_or_above_quota"] == 1
    assert s["attainment"] == pytest.approx(185 / 180)
    none = kpi_table(tiny_project(), "2026-Q3").set_index("group_id")
    assert none["quota"].isna().all() and none["attainment"].isna().all()
