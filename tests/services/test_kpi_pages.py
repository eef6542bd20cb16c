"""The map book's KPI page content, against numbers worked out by hand on the tiny history of
``kpi_fixtures`` (realignment 2026-08-01: a1's July sale is T1's, its August sale T2's)."""

from __future__ import annotations

import numpy as np
import pytest
from kpi_fixtures import tiny_project

from territory_desktop.models import Project
from territory_desktop.services.kpi_pages import kpi_page, year_before
from territory_desktop.services.printing import TerritorySummary


def summary(number: int, tid: str, name: str) -> TerritorySummary:
    return TerritorySummary(number, tid, name, f"rep of {name}", None, 1, 1, 0.0, 0.0, 0.0, None)


def test_year_before():
    assert [year_before(x) for x in ("2026-Q3", "2026-01", "2026")] == ["2025-Q3", "2025-01", "2025"]


def test_rows_bars_and_total_of_2026_q3():
    page = kpi_page(tiny_project(), [summary(1, "T2", "Two"), summary(2, "T1", "One")], "2026-Q3")
    assert page.period == "2026-Q3" and page.prior_period == "2025-Q3"
    assert page.territory_ids == ["T2", "T1"]  # the book's order
    # Q3 2026: T1 = a1's July 100; T2 = a1's August 50 + a3 20 + a4 15. Q3 2025: T1 a1 60, T2 a3 10
    np.testing.assert_allclose(page.sales, [85.0, 100.0])
    np.testing.assert_allclose(page.prior, [10.0, 60.0])
    two, one = page.rows
    assert two[:5] == ("1", "Two", "rep of Two", "$85", "+750%")
    assert one[:5] == ("2", "One", "rep of One", "$100", "+67%")
    # T1 closed o1 (won); T2 closed o2 (lost) and o3 (won) in Q3 -> 100 % and 50 %
    assert one[6] == "100%" and two[6] == "50%"
    # all: 185 against 70 (+164 %), 2 won of 3 closed; completed visits 4 (a1 x3, a3 x1) against
    # a1 every 4 weeks (92 / 28) + a3 every 13 weeks (92 / 91) required
    total = page.total
    assert total[1] == "All territories" and total[3] == "$185" and total[4] == "+164%"
    assert total[6] == "67%"
    assert total[7] == f"{4 / (92 / 28 + 92 / 91) * 100:.0f}%"
    assert total[8] == "$2,700"  # open at the end of Q3: o4 (2000, never closed) and o5 (700, closes in October)
    assert any(d.startswith("coverage: ") for d in page.definitions)


def test_no_sales_no_page():
    assert kpi_page(Project(), [], None) is None


@pytest.mark.parametrize("label", ["2026-Q3"])
def test_growth_without_a_prior_year_is_blank(label):
    p = tiny_project()
    p.sales = p.sales[~p.sales["period"].str.startswith("2025")]
    page = kpi_page(p, [summary(1, "T1", "One")], label)
    assert page.rows[0][4] == "–" and page.prior.tolist() == [0.0]
