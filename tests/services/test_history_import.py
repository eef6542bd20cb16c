"""Importing sales, opportunities and visits: every bad row named, unknown accounts and reps refused, the
three modes, and the KPIs counting an imported sale for the territory that owned the account at its date."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from kpi_fixtures import tiny_project

from territory_desktop.models import InvalidInputError
from territory_desktop.services.history_import import (
    import_history,
    prepare_history_import,
    read_history_file,
)
from territory_desktop.services.importing import capture_state, restore_state
from territory_desktop.services.kpi import kpi_table
from territory_desktop.services.project import open_project, save_project

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def problems_of(exc) -> list[str]:
    return [str(p) for p in exc.value.problems]


def test_imported_sales_count_for_the_owner_at_their_date(tmp_path):
    # tiny_project: U1 (account a1) moved from T1 to T2 on 2026-08-01; Q3 sales were T1 100, T2 85
    p = tiny_project()
    path = write(tmp_path, "sales.csv", "Account,Month,Product,Revenue\n"
                                        "a1,2026-07-15,Plus,30\n"  # a date: read as its month
                                        "a1,08/2026,Plus,40\n"
                                        "a2,2026-09,Plus,5.5\n")
    report = import_history(p, "sales", path)
    assert (report.counts.added, report.counts.updated, report.counts.removed) == (3, 0, 0)
    q3 = kpi_table(p, "2026-Q3").set_index("group_id")
    assert q3.loc["T1", "sales"] == pytest.approx(100 + 30 + 5.5)
    assert q3.loc["T2", "sales"] == pytest.approx(85 + 40)
    assert "sales" in p.dirty and "plans" not in p.dirty


def test_every_bad_row_is_named_and_nothing_changes(tmp_path):
    p = tiny_project()
    before = p.sales.copy()
    path = write(tmp_path, "bad.csv", "account_id,period,product,amount\n"
                                      "a1,2026-13,Core,1\n"      # row 2: no such month
                                      ",2026-01,Core,1\n"        # row 3: no account
                                      "a1,2026-01,Core,lots\n"   # row 4: not a number
                                      "a1,2026-02,Core,\n")      # row 5: no amount
    with pytest.raises(InvalidInputError) as exc:
        import_history(p, "sales", path)
    found = problems_of(exc)
    assert any(s.startswith("row 2, column 'period'") and "not a month" in s for s in found)
    assert any(s.startswith("row 3, column 'account_id'") and "empty" in s for s in found)
    assert any(s.startswith("row 4, column 'amount'") and "not a number" in s for s in found)
    assert any(s.startswith("row 5, column 'amount'") and "empty" in s for s in found)
    pd.testing.assert_frame_equal(p.sales, before)


def test_unknown_accounts_and_reps_are_refused_by_row(tmp_path):
    p = tiny_project()
    p.reps = pd.DataFrame({"rep_id": ["R1", "R2"]})
    path = write(tmp_path, "visits.csv", "account_id,rep_id,date,minutes\n"
                                         "a1,R1,2026-10-01,30\n"
                                         "zz9,R1,2026-10-02,30\n"
                                         "a2,R7,2026-10-03,30\n")
    read = read_history_file("visits", path)
    with pytest.raises(InvalidInputError) as exc:
        prepare_history_import(p, "visits", read, "visits.csv")
    assert problems_of(exc) == ["row 3, column 'account_id': unknown account 'zz9' (not in the project's accounts)",
                                "row 4, column 'rep_id': unknown rep 'R7' (not in the project's reps)"]


def test_bad_values_and_unknown_accounts_are_listed_together(tmp_path):
    p = tiny_project()
    path = write(tmp_path, "s.csv", "account_id,period,amount\na1,2026-01,1\nzz9,2026-02,1\na2,someday,1\n")
    with pytest.raises(InvalidInputError) as exc:
        read_history_file("sales", path, project=p)
    assert problems_of(exc) == ["row 3, column 'account_id': unknown account 'zz9' (not in the project's accounts)",
                                "row 4, column 'period': 'someday' is not a month (YYYY-MM)"]


def test_duplicate_keys_in_the_file_name_the_first_row(tmp_path):
    path = write(tmp_path, "dup.csv", "account_id,period,product,amount\na1,2026-01,Core,1\n"
                                      "a2,2026-01,Core,1\na1,2026-01-20,Core,2\n")
    with pytest.raises(InvalidInputError) as exc:
        read_history_file("sales", path)
    assert problems_of(exc) == ["row 4, column 'account_id': duplicate account_id / period / product "
                                "'a1 / 2026-01 / Core' (first on row 2)"]


def test_modes_upsert_append_replace(tmp_path):
    p = tiny_project()
    n = len(p.sales)  # 9 rows; a1 2026-07 Core is 100
    path = write(tmp_path, "s.csv", "account_id,period,product,amount\na1,2026-07,Core,120\na5,2026-07,Core,7\n")
    read = read_history_file("sales", path)
    up = prepare_history_import(p, "sales", read, "s.csv", "upsert")
    assert (up.counts.added, up.counts.updated, up.counts.removed) == (1, 1, 0)
    assert len(up.table) == n + 1
    row = up.table[(up.table["account_id"] == "a1") & (up.table["period"] == "2026-07")]
    assert row["amount"].tolist() == [120.0]
    with pytest.raises(InvalidInputError) as exc:
        prepare_history_import(p, "sales", read, "s.csv", "append")
    assert "1 ids exist" in str(exc.value) and "a1 / 2026-07 / Core" in str(exc.value)
    rep = prepare_history_import(p, "sales", read, "s.csv", "replace")
    assert (rep.counts.added, rep.counts.updated, rep.counts.removed) == (1, 1, n - 1)
    assert len(rep.table) == 2
    assert len(p.sales) == n  # preparing changes nothing


def test_opportunity_outcome_from_stage_and_date_order(tmp_path):
    p = tiny_project()
    path = write(tmp_path, "o.csv", "id,account_id,created,closed,stage,amount,won\n"
                                    "n1,a1,2026-09-01,2026-09-20,Closed Won,900,\n"
                                    "n2,a2,2026-09-01,2026-09-25,,400,no\n"
                                    "n3,a3,2026-09-05,,,250,\n")
    import_history(p, "opportunities", path)
    o = p.opportunities.set_index("opportunity_id")
    assert o.loc["n1", "won"] is True and o.loc["n2", "won"] is False and pd.isna(o.loc["n3", "won"])
    assert [o.loc[i, "stage"] for i in ("n1", "n2", "n3")] == ["Closed Won", "Closed Lost", "Open"]
    q3 = kpi_table(p, "2026-Q3").set_index("group_id")
    # T2 (owner of a1 since August) won o3 (300) and n1 (900); T1 lost n2 (a2) and won nothing in Q3
    assert q3.loc["T2", "avg_deal_size"] == pytest.approx((300 + 900) / 2)
    assert q3.loc["T1", "win_rate"] == pytest.approx(1 / 2)  # o1 won (closed 2026-07-20), n2 lost
    bad = write(tmp_path, "bad.csv", "id,account_id,created,closed,won\nm1,a1,2026-09-10,2026-09-01,yes\n"
                                     "m2,a1,2026-09-10,,yes\nm3,a1,2026-09-10,,maybe\n")
    with pytest.raises(InvalidInputError) as exc:
        read_history_file("opportunities", bad)
    assert problems_of(exc) == ["row 2, column 'closed': closed 2026-09-01 is before created 2026-09-10",
                                "row 3, column 'closed': a won or lost opportunity needs a closed date",
                                "row 4, column 'won': 'maybe' is not true/false (1/0, yes/no)"]


def test_import_undo_restores_the_history(tmp_path):
    p = tiny_project()
    state = capture_state(p)
    n = len(p.visits)
    p.reps = pd.DataFrame({"rep_id": ["R1"]})
    import_history(p, "visits", write(tmp_path, "v.csv", "account_id,rep_id,date\na2,R1,2026-10-01\n"))
    assert len(p.visits) == n + 1
    p.dirty.clear()
    restore_state(p, state)
    assert len(p.visits) == n and "visits" in p.dirty


def test_cli_import_saves_and_reopens(grid_project, tmp_path):
    target = tmp_path / "p.gpkg"
    save_project(grid_project, target)
    sales = write(tmp_path, "s.csv", "account_id,period,product,amount\na1,2026-01,Core,10\na4,2026-02,Core,5\n")
    run = [sys.executable, "-m", "territory_desktop", "import-sales", "--project", str(target), str(sales)]
    done = subprocess.run(run, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "imported 2 sales from s.csv (upsert: 2 added, 0 updated, 0 removed)" in done.stdout
    again = open_project(target)
    assert sorted(zip(again.sales["account_id"], again.sales["amount"], strict=True)) == [("a1", 10.0), ("a4", 5.0)]
    bad = write(tmp_path, "b.csv", "account_id,period,product,amount\nnope,2026-03,Core,1\n")
    done = subprocess.run([*run[:-1], str(bad), "--mode", "append"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and "row 2, column 'account_id': unknown account 'nope'" in done.stderr
    assert "Traceback" not in done.stderr
    done = subprocess.run([*run, "--mode", "replace"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and "0 added, 2 updated, 0 removed" in done.stderr  # asks for --yes
