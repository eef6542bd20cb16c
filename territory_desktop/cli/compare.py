"""``territory-desktop compare --project P --a SCENARIO --b SCENARIO [--json] [--xlsx F] [--pdf F]``: the
change report between two scenarios (services.compare): units and accounts that change territory, the
table per territory and the relationship-level disruption (accounts, T12M revenue and open pipeline that
change rep). The PDF comes from the print engine (a diff map page and the tables)."""

from __future__ import annotations

import argparse

from ..models import InvalidInputError
from ._common import json_text, output_file, printable, project_command

DESCRIPTION = """\
Compare scenario A (before) with scenario B (after). SCENARIO is an id or a name only one scenario has.

Examples:
  territory-desktop compare --project demo.gpkg --a base --b realign-1
  territory-desktop compare --project demo.gpkg --a base --b realign-1 --json
  territory-desktop compare --project demo.gpkg --a Base --b "West split" --xlsx changes.xlsx --pdf changes.pdf
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = project_command(sub, "compare", "compare two scenarios: moves, table per territory, disruption",
                        DESCRIPTION, raw=True)
    p.add_argument("--a", required=True, metavar="SCENARIO", help="the scenario before (id or name)")
    p.add_argument("--b", required=True, metavar="SCENARIO", help="the scenario after (id or name)")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.add_argument("--xlsx", type=output_file(".xlsx", ".csv"), metavar="F.xlsx",
                   help="write the change report (Summary, Territories, Reps, Accounts, Units sheets); .csv: "
                        "the territory table only")
    p.add_argument("--pdf", type=output_file(".pdf"), metavar="F.pdf",
                   help="write the change report as PDF: diff map and tables")
    p.add_argument("--page", default="letter", help="PDF paper (as for print; default letter, landscape)")
    p.add_argument("--no-route", action="store_true", help="skip the route workload estimate (faster)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..services.compare import compare_scenarios, comparison_sheets
    from ..services.printing import page_spec
    from ..services.project import open_project
    from ..services.scenarios import resolve_scenario

    page = page_spec(args.page, True)  # a bad --page is refused before the work
    project = open_project(args.project)
    a, b = resolve_scenario(project, args.a, "--a"), resolve_scenario(project, args.b, "--b")
    if a == b:
        raise InvalidInputError("--b", [f"'{args.b}' is the same scenario as --a; compare two scenarios"])
    comparison = compare_scenarios(project, a, b, route=not args.no_route)
    written = []
    if args.xlsx:
        from ..storage.export import write_sheets

        written.append(str(write_sheets(comparison_sheets(comparison), args.xlsx)))
    if args.pdf:
        written.append(str(_pdf(project, comparison, args.pdf, page)))
    if args.json:
        print(json_text({**comparison.to_json(), "written": written}))
    else:
        _print(comparison, written)
    return 0


def _pdf(project, comparison, path: str, page):
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ..ui.print import PrintOptions, ensure_application
    from ..ui.print.compare import export_comparison

    ensure_application()
    return export_comparison(project, comparison, path, PrintOptions(page=page))


def _print(c, written: list[str]) -> None:
    t = c.totals
    print(f"{printable(c.a_name)} ({c.a}) -> {printable(c.b_name)} ({c.b})")
    print(f"units moved {t['units_moved']:,} of {t['units']:,}; accounts changing territory "
          f"{t['accounts_changing_territory']:,}, changing rep {t['accounts_changing_rep']:,} of {t['accounts']:,}")
    print(f"revenue (T12M) changing rep {t['revenue_changing_rep']:,.0f} of {t['revenue_t12m_total']:,.0f}; "
          f"open pipeline changing rep {t['pipeline_changing_rep']:,.0f} of {t['pipeline_total']:,.0f}")
    changed = c.territories[(c.territories["gained"] + c.territories["lost"]) > 0]
    if len(changed):
        print(f"\n{'territory':<10} {'name':<20} {'units':>11} {'+':>4} {'-':>4} {'accounts':>11} "
              f"{'revenue T12M before -> after':>30}")
    for r in changed.itertuples():
        print(f"{printable(r.territory_id)[:10]:<10} {printable(r.name)[:20]:<20} "
              f"{r.units_before:>5}->{r.units_after:<5} {r.gained:>4} {r.lost:>4} "
              f"{r.accounts_before:>5}->{r.accounts_after:<5} {r.revenue_before:>14,.0f} -> {r.revenue_after:<14,.0f}")
    for w in written:
        print(f"wrote {w}")
