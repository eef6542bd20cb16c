"""Report benchmark: all KPIs of all territories for one period on the demo, plus the whole report; JSON.

Timed in one run (best of ``--repeat``):

- ``load``: opening the project file (``services.project.open_project``);
- ``code``: coding the history (ownership under each plan in force, dates to day numbers);
- ``kpis``: every KPI of every territory for ``--period`` (``services.kpi.kpi_table`` on the coded history);
- ``report``: the whole ``report --json`` content (KPIs, backtest, forecast, alerts) from the open project;
- ``cli``: ``territory-desktop report --json`` end to end in a subprocess (Python start-up and load included);
- peer ``pandas_sales_only``: the same period's sales per territory with pandas (merge + groupby), one KPI of
  fifteen, as a yardstick for the vectorised engine;
- ``kpis_x2``: the KPIs on the sales table doubled (to show how time grows with rows).

Usage: ``python benchmarks/report.py [--project demo/demo.gpkg] [--period 2026-Q3] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd

from territory_desktop.services.kpi import code_project, kpi_table
from territory_desktop.services.kpi_report import build_report
from territory_desktop.services.metrics import account_owners
from territory_desktop.services.project import open_project


def best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return round(min(times), 3), out


def pandas_sales_only(project, period: str) -> pd.Series:
    q = pd.Period(period.replace("-Q", "Q"), "Q")
    months = {str(m) for m in pd.period_range(q.asfreq("M", "start"), q.asfreq("M", "end"), freq="M")}
    s = project.sales[project.sales["period"].isin(months)]
    owners = account_owners(project).rename("territory_id").rename_axis("account_id").reset_index()
    return s.merge(owners, on="account_id").groupby("territory_id")["amount"].sum()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", default="demo/demo.gpkg")
    ap.add_argument("--period", default="2026-Q3")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    r = {"project": args.project, "period": args.period}
    r["load_s"], project = best(lambda: open_project(args.project), 1)
    r["sales_rows"] = len(project.sales)
    r["code_s"], coded = best(lambda: code_project(project), args.repeat)
    r["kpis_s"], table = best(lambda: kpi_table(project, args.period, coded=coded), args.repeat)
    r["kpis_with_coding_s"], _ = best(lambda: kpi_table(project, args.period), args.repeat)
    r["report_s"], _ = best(lambda: build_report(project, args.period), args.repeat)
    r["peer_pandas_sales_only_s"], peer = best(lambda: pandas_sales_only(project, args.period), args.repeat)
    mine = table.set_index("group_id")["sales"]
    r["peer_agrees"] = bool(np.allclose(mine.loc[peer.index].to_numpy(), peer.to_numpy()))
    doubled = project.sales
    project.sales = pd.concat([doubled, doubled], ignore_index=True)
    r["kpis_x2_rows"] = len(project.sales)
    r["kpis_x2_with_coding_s"], _ = best(lambda: kpi_table(project, args.period), args.repeat)
    project.sales = doubled
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "territory_desktop", "report", "--project", args.project, "--period",
                    args.period, "--json"], check=True, env=env, stdout=subprocess.DEVNULL)
    r["cli_json_end_to_end_s"] = round(time.perf_counter() - t, 3)
    r["territories"] = len(table)
    print(json.dumps(r, indent=2))


if __name__ == "__main__":
    main()
