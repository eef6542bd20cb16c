"""``territory-desktop allocate``: split a budget, materials or staff hours across territories."""

from __future__ import annotations

import argparse

from ._common import input_file, json_text, number_in, output_file, printable, project_command

DESCRIPTION = """\
Allocate --total across the territories of the project's active scenario to maximise the expected
return, with a diminishing-returns curve per territory: fitted from --history (territory_id, period,
spend[, sales]) where a territory has 4+ periods, else from its potential (spending without limit adds
--lift x potential; --saturation x its potential-proportional share of --total brings half of that, so
prior curves alone split the total by potential). Continuous amounts are the
exact optimum (equal marginal returns); --whole gives whole units (staff, kits) by CP-SAT. The marginal
return per territory at the optimum is shown, and a what-if curve of return against total.

Examples:
  territory-desktop allocate --project demo.gpkg --total 500000
  territory-desktop allocate --project demo.gpkg --total 40 --whole --min 0 --max 3 --json
  territory-desktop allocate --project demo.gpkg --total 250000 --history spend.csv --bounds bounds.csv
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = project_command(sub, "allocate", "allocate a budget or staff across territories (max expected return)",
                        DESCRIPTION, raw=True)
    p.add_argument("--total", type=number_in(0, 1e12, low_open=True), required=True, metavar="X",
                   help="amount to allocate (currency, hours or units), more than 0")
    p.add_argument("--whole", action="store_true", help="whole units (staff, kits): integers by CP-SAT")
    p.add_argument("--min", type=number_in(0, 1e12), metavar="X", help="minimum per territory (default 0)")
    p.add_argument("--max", type=number_in(0, 1e12), metavar="X", help="maximum per territory (default: none)")
    p.add_argument("--bounds", type=input_file, metavar="FILE.csv", help="territory_id,min,max per territory")
    p.add_argument("--history", type=input_file, metavar="FILE.csv", help="territory_id,period,spend[,sales]")
    p.add_argument("--lift", type=number_in(0, 10, low_open=True), default=0.1, metavar="F",
                   help="prior curves: the most spend can add, as a fraction of potential (default 0.1)")
    p.add_argument("--saturation", type=number_in(0, 100, low_open=True), default=1.0, metavar="F",
                   help="prior curves: spend bringing half the lift, as a multiple of the territory's "
                        "potential-proportional share of --total (default 1)")
    p.add_argument("--what-if", type=number_in(0, 50, int), default=9, metavar="N",
                   help="points of the return-vs-total curve, 25%%..200%% of --total (default 9; 0 for none)")
    p.add_argument("--out", type=output_file(".csv", ".xlsx"), metavar="FILE.csv", help="write the table here")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def emit(args: argparse.Namespace, result: dict, drop: str) -> bool:
    """Write ``result["territories"]`` (without the ``drop`` column) to --out; print JSON with --json.
    True when the JSON was printed (nothing else to show). Shared by ``allocate`` and ``quotas``."""
    if args.out:
        import pandas as pd

        from ..storage.export import write_table

        write_table(pd.DataFrame([{k: v for k, v in r.items() if k != drop} for r in result["territories"]]),
                    args.out)
    if args.json:
        print(json_text(result))
    return bool(args.json)


def run(args: argparse.Namespace) -> int:
    from ..services.allocation import allocate_project, read_bounds, read_history
    from ..services.project import open_project

    project = open_project(args.project)
    history = read_history(args.history, project) if args.history else None
    bounds = read_bounds(args.bounds, project) if args.bounds else None
    result = allocate_project(project, args.total, args.whole, args.min, args.max, bounds, history,
                              args.what_if, args.lift, args.saturation)
    if emit(args, result, drop="curve"):
        return 0
    unit = "units" if args.whole else ""
    print(f"allocated {result['total']:,.0f} {unit}: expected return {result['expected_return']:,.0f}".rstrip())
    print(f"{'territory':<28} {'amount':>12} {'return':>12} {'marginal':>9}  curve")
    for r in result["territories"]:
        c = r["curve"]
        fit = f"fit R2 {c['r2']:.2f}, +/-{c['a_rel_se']:.0%}" if c["source"] == "history" else "from potential"
        bound = f" (at {r['at_bound']})" if r["at_bound"] else ""
        print(f"{printable(r['territory_id'] + ' ' + r['name'])[:28]:<28} {r['amount']:>12,.0f} "
              f"{r['expected_return']:>12,.0f} {r['marginal_return']:>9.3f}  {c['form']} {fit}{bound}")
    if result["what_if"]:
        print("what-if: " + ", ".join(f"{p['total']:,.0f} -> {p['expected_return']:,.0f}" for p in result["what_if"]))
    return 0
