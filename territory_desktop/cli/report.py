"""``territory-desktop report --project P.gpkg [--period 2026-Q3] [--by ...] [--json | --xlsx out.xlsx]``."""

from __future__ import annotations

import argparse
import json

from ..models import InvalidInputError
from ._common import project_command


def register(sub: argparse._SubParsersAction) -> None:
    p = project_command(sub, "report", "KPIs, forecast accuracy and alerts per territory/rep/district/region",
                        "Sales KPIs for one period (sales attributed to the territory that owned the account on "
                        "the sale's date), the rolling-origin forecast backtest per hierarchy level, the "
                        "reconciled forecast and the alerts.")
    p.add_argument("--period", help="2026-Q3, 2026-07, 2026 or 2026-01-01..2026-03-31 "
                                    "(default: the last complete quarter with sales)")
    p.add_argument("--by", default="territory", choices=["territory", "rep", "district", "region"],
                   help="group the KPIs by (default territory)")
    p.add_argument("--quotas", metavar="FILE", help="CSV/XLSX with columns id (or territory_id, as quotas --out "
                                                    "writes), quota and optionally period: the period's quota "
                                                    "per group, for attainment (a rep's, district's or region's "
                                                    "quota defaults to the sum of its territories'); without it, "
                                                    "the quotas stored by quotas --save that cover the period")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the report as JSON")
    out.add_argument("--xlsx", metavar="OUT.xlsx", help="write the KPI table to an XLSX (or .csv) file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..engine.kpi import parse_period
    from ..services.kpi import latest_period, read_quotas
    from ..services.kpi_report import build_report
    from ..services.project import open_project
    from ..services.quotas import stored_quotas

    project = open_project(args.project)
    period = args.period or latest_period(project)
    quotas = read_quotas(args.quotas, parse_period(period).label) if args.quotas else stored_quotas(project, period)
    report = build_report(project, period, args.by, quotas)
    if quotas is not None:
        report["quotas_from"] = args.quotas or "project"
    if args.json:
        print(json.dumps(report, indent=2))
    elif args.xlsx:
        _write(report, args.xlsx)
    else:
        _print(report)
    return 0


def _write(report: dict, path: str) -> None:
    import pandas as pd

    from ..storage.export import write_table

    frame = pd.DataFrame(report["territories"]).rename(columns={"territory_id": report["by"] + "_id"})
    try:
        written = write_table(frame, path, sheet=f"KPIs {report['period']}")
    except ValueError as exc:
        raise InvalidInputError("--xlsx", [str(exc)]) from None
    print(f"wrote {written}: {len(frame)} rows, {len(frame.columns)} columns")


def _fmt(value, pct: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:.1%}" if pct else f"{value:,.0f}"


def _print(report: dict) -> None:
    print(f"{report['project']}: {report['period']} by {report['by']}")
    print(f"{'id':<16} {'sales':>12} {'PoP':>7} {'YoY':>7} {'/visit':>8} {'penetr':>7} {'win':>6} "
          f"{'new':>5} {'retain':>7} {'pipeline':>11} {'cover':>6}")
    for t in report["territories"]:
        print(f"{str(t['territory_id'])[:16]:<16} {_fmt(t['sales']):>12} {_fmt(t['growth_pop'], True):>7} "
              f"{_fmt(t['growth_yoy'], True):>7} {_fmt(t['revenue_per_visit']):>8} "
              f"{_fmt(t['penetration'], True):>7} {_fmt(t['win_rate'], True):>6} {_fmt(t['new_customers']):>5} "
              f"{_fmt(t['retention'], True):>7} {_fmt(t['pipeline']):>11} {_fmt(t['coverage'], True):>6}")
    print("\nforecast backtest (rolling origins, last 12 months)")
    for level, s in report["forecast_backtest"].items():
        print(f"  {level:<10} MASE {s['mase']:.3f} (seasonal naive {s['seasonal_naive_mase']:.3f})  "
              f"sMAPE {s['smape']:.1%} ({s['seasonal_naive_smape']:.1%})  "
              f"80% covers {s['coverage_80']:.0%}, 95% covers {s['coverage_95']:.0%}")
    print(f"\n{len(report['alerts'])} alerts")
    for a in report["alerts"]:
        print(f"  [{a['severity']}] {a['territory_id']} {a['kind']}: {a['message']}")
