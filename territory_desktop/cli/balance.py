"""``territory-desktop balance``: contiguous, balanced territories from a units file or a project."""

from __future__ import annotations

import argparse

from ..models import InvalidInputError
from ..storage.export import write_table
from ._common import (
    TextProgress,
    check_number,
    check_scenario,
    json_text,
    number_in,
    output_file,
    project_file,
)

#: the most --alternatives one run builds (each is a full balancing run of --time-limit seconds)
MAX_ALTERNATIVES = 20
#: seconds a plan may take at most without --time-limit (the search stops earlier when it stalls)
DEFAULT_TIME_CAP = 60.0
OBJECTIVE_CHOICES = ("compact", "diameter", "travel", "total-diameter")
PLAN_SUFFIXES = (".csv", ".xlsx")

DESCRIPTION = """\
Build K contiguous territories balanced on one or more measures, or rebalance a current plan moving as
little as possible. UNITS_FILE is any vector file GDAL reads (Shapefile, GeoPackage, GeoJSON, ...);
units are neighbours when their polygons touch (queen), and islands are joined to their nearest unit.

Examples:
  territory-desktop balance counties.shp --id GEOID --weight workload -k 50 --tolerance 0.02 --out plan.csv
  territory-desktop balance zips.gpkg --id zip --weight workload --weight potential -k 200 \\
      --tolerance 0.02 --tolerance-for potential=0.05 --out plan.csv --json
  territory-desktop balance counties.shp --id GEOID --weight workload --current territory \\
      --max-moved 0.1 --tolerance 0.02 --out plan.csv
  territory-desktop balance --project demo.gpkg --weight workload_hours --tolerance 0.02 --max-moved 0.1

PLAN.csv has the columns <id>,territory. Exit code 0 on success, 2 with a one-line reason when the
request is infeasible (a unit heavier than a territory's target, a tolerance tighter than the units
allow, locked units in the way, or the tolerance not reached in the time limit).
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("balance", help="build or rebalance contiguous, balanced territories",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("units_file", nargs="?", metavar="UNITS_FILE", help="vector file of units (polygons)")
    p.add_argument("--layer", help="layer of UNITS_FILE (default: the first)")
    p.add_argument("--id", dest="id_col", metavar="COL", help="column with the unit id")
    p.add_argument("--weight", action="append", metavar="COL", default=[],
                   help="numeric column to balance; repeat for several measures")
    p.add_argument("-k", type=number_in(1, 100_000, int), metavar="K", help="number of territories (default with --current: as many "
                   "as the current plan; with --project: the scenario's territories)")
    p.add_argument("--tolerance", type=number_in(0, 1, low_open=True), default=0.02, metavar="T",
                   help="allowed deviation from the mean per territory, as a fraction, more than 0 and at most "
                        "1 (default 0.02 = +/-2%%)")
    p.add_argument("--tolerance-for", action="append", default=[], metavar="COL=T",
                   help="a tolerance for one measure, e.g. potential=0.05")
    p.add_argument("--current", metavar="COL", help="column with the current territory: rebalance it")
    p.add_argument("--max-moved", type=number_in(0, 1), metavar="FRACTION", default=None,
                   help="with --current/--project: at most this fraction of units may change territory "
                        "(0 to 1, default 0.1); without it the plan is rebuilt from scratch")
    p.add_argument("--moved-measure", metavar="COL",
                   help="count --max-moved in this measure (one of the --weight columns) instead of units")
    p.add_argument("--orphans-only", action="store_true", help="only assign units without a territory")
    p.add_argument("--locked", metavar="COL", help="true/1/yes in this column locks a unit in its current territory")
    p.add_argument("--max-distance", type=number_in(0, 20_000, low_open=True), metavar="KM",
                   help="no unit farther than KM from its territory's home (rep home with --rep-homes, else "
                        "the territory's centre); more than 0 and at most 20000")
    p.add_argument("--seed", type=number_in(0, 2**31 - 1, int), default=0, metavar="N",
                   help="random seed, 0 or more; same seed, same plan (default 0)")
    p.add_argument("--time-limit", type=number_in(0, 3600, low_open=True), default=None, metavar="S",
                   help="search for S seconds per plan (more than 0, at most 3600), improving the objective "
                        f"all that time; without it the search stops when improvement stalls (at most "
                        f"{DEFAULT_TIME_CAP:g} s)")
    p.add_argument("--workers", type=number_in(1, 64, int), default=None, metavar="N",
                   help="with --time-limit: N searches at once from seeds SEED, SEED+1, ..., one per core, and the "
                        "best plan kept (default: the machine's cores, at most 2; 1 to 64)")
    p.add_argument("--objective", choices=OBJECTIVE_CHOICES, default="compact",
                   help="what a balanced plan minimises: compact = fewest cut edges (default), diameter = the "
                        "largest territory diameter on the edge lengths, travel = travel from each rep's home "
                        "(or the territory's centre), total-diameter = the sum of the territory diameters")
    p.add_argument("--edge-lengths", metavar="road|great-circle|FILE",
                   help="lengths between neighbouring units for diameter, total-diameter and travel: road (travel "
                        "time on --osm or --osrm roads), great-circle (x 1.3 circuity), or a CSV from,to,length of unit ids "
                        "(default: straight distance between unit centres)")
    p.add_argument("--osm", metavar="EXTRACT.osm.pbf", help="with --edge-lengths road: the roads of this "
                   "OpenStreetMap extract")
    p.add_argument("--osrm", metavar="URL", help="with --edge-lengths road: an OSRM server (needs network)")
    p.add_argument("--alternatives", type=number_in(1, MAX_ALTERNATIVES, int), default=1, metavar="N",
                   help="build N plans from seeds SEED, SEED+1, ... and keep the best; all are scored in --json "
                        f"(1 to {MAX_ALTERNATIVES})")
    p.add_argument("--out", type=output_file(*PLAN_SUFFIXES), metavar="PLAN.csv",
                   help="write <id>,territory here (.csv, or .xlsx for a workbook; checked before the work)")
    p.add_argument("--json", action="store_true", help="print the scores as JSON on stdout")
    p.add_argument("--project", type=project_file, metavar="P.gpkg", help="balance a project's active scenario; the result "
                   "is saved as a new scenario in the project")
    p.add_argument("--scenario", help="with --project: the scenario to start from (default: active)")
    p.add_argument("--rep-homes", action="store_true", help="with --project: anchor territories on rep homes")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=run)


def _mode(args: argparse.Namespace, project: bool):
    from ..services.balancing import BalanceMode

    if args.orphans_only:
        return BalanceMode.ORPHANS
    rebalance = args.max_moved is not None and (project or args.current)
    return BalanceMode.REBALANCE if rebalance else BalanceMode.BUILD


def _tolerances_for(args: argparse.Namespace) -> dict[str, float]:
    """``--tolerance-for COL=T`` items as {COL: T}; T more than 0 and at most 1, like --tolerance."""
    tol_for = {}
    for item in args.tolerance_for:
        if "=" not in item:
            raise InvalidInputError("--tolerance-for", [f"'{item}' is not COL=T"])
        name, value = item.split("=", 1)
        try:
            tol_for[name.strip()] = float(value)
        except ValueError:
            raise InvalidInputError("--tolerance-for", [f"'{value}' is not a number"]) from None
        reason = check_number(tol_for[name.strip()], 0, 1, low_open=True)
        if reason:
            raise InvalidInputError("--tolerance-for", [f"{item}: the tolerance {reason}"])
    return tol_for


def _options(args: argparse.Namespace, mode):
    from ..services.balancing import BalanceOptions

    return BalanceOptions(measures=args.weight, k=args.k, tolerance=args.tolerance,
                          tolerance_for=_tolerances_for(args), mode=mode,
                          max_moved=0.1 if args.max_moved is None else args.max_moved,
                          moved_measure=args.moved_measure, seed=args.seed,
                          time_limit=DEFAULT_TIME_CAP if args.time_limit is None else args.time_limit,
                          use_time_limit=args.time_limit is not None, alternatives=args.alternatives,
                          use_rep_homes=args.rep_homes, max_distance_km=args.max_distance,
                          objective=args.objective, edge_lengths=args.edge_lengths,
                          road_provider=_road_provider(args), workers=_workers(args))


def _workers(args: argparse.Namespace) -> int:
    """--workers (with --time-limit only), by default one search per core."""
    from ..services.parallel_search import default_workers

    if args.workers is not None and args.time_limit is None:
        raise InvalidInputError("--workers", ["only used with --time-limit (a plain balance is one quick search)"])
    return args.workers or default_workers()


def _road_provider(args: argparse.Namespace):
    """The roads for --edge-lengths road (--osrm or --osm); refused with another --edge-lengths."""
    if (args.osm or args.osrm) and args.edge_lengths != "road":
        raise InvalidInputError("--osm/--osrm", ["only used with --edge-lengths road"])
    if args.edge_lengths != "road":
        return None
    from ..services.routing import OSRMProvider, load_osm_graph

    if args.osrm:
        return OSRMProvider(args.osrm)
    if args.osm:
        return load_osm_graph(args.osm)
    raise InvalidInputError("--edge-lengths road", ["give the roads: --osm EXTRACT.osm.pbf or --osrm URL"])


def _check_args(args: argparse.Namespace) -> None:
    """The checks argparse's types cannot make alone; refused before any work, like every other argument."""
    _tolerances_for(args)
    if args.moved_measure is not None and args.moved_measure not in args.weight:
        raise InvalidInputError("--moved-measure", [(f"'{args.moved_measure}' is not one of the --weight "
                                                     f"measures ({', '.join(args.weight)})")])


def _check_project_args(args: argparse.Namespace) -> None:
    """A project's balance reads its units, plan and locks from the project: refuse the layer options."""
    given = [flag for flag, value in (("--layer", args.layer), ("--id", args.id_col), ("--current", args.current),
                                      ("--locked", args.locked)) if value is not None]
    if given:
        raise InvalidInputError(", ".join(given), [(f"not used when balancing a project ({args.project}): the "
                                                   "project's units, current plan and locks are used")])


def run(args: argparse.Namespace) -> int:
    progress = (lambda f, m: None) if args.quiet else TextProgress()
    if not args.weight:
        raise InvalidInputError("balance", ["give at least one --weight COL"])
    _check_args(args)
    from ..services.balancing import balance_layer
    from ..storage.vector import is_project_file, read_layer

    if args.project or (args.units_file and is_project_file(args.units_file)):
        args.project = args.project or args.units_file
        _check_project_args(args)
        return _run_project(args, progress)
    if not args.units_file or not args.id_col or not args.out:
        raise InvalidInputError("balance", ["give UNITS_FILE, --id COL and --out PLAN.csv (or --project P.gpkg)"])
    units = read_layer(args.units_file, args.layer, polygons=True)
    outcome = balance_layer(units, args.id_col, _options(args, _mode(args, False)), args.current, args.locked,
                            progress)
    out = write_table(outcome.plan, args.out)
    _report(args, _json(outcome.summaries, out=str(out)))
    return 0


def _run_project(args: argparse.Namespace, progress) -> int:
    from ..services.project import open_project, save_project
    from ..services.scenario_balance import apply_as_new_scenario, run_project_balance

    project = open_project(args.project, for_writing=True)  # busy elsewhere: say so before the work
    check_scenario(project, args.scenario)
    run = run_project_balance(project, _options(args, _mode(args, True)), args.scenario, progress)
    proposal = run.proposals[0]
    sid = apply_as_new_scenario(project, proposal)
    save_project(project)
    extra: dict = {"scenario": sid, "units_changed": len(proposal.changes)}
    if args.out:
        import pandas as pd

        plan = pd.DataFrame({"unit_id": list(proposal.assignment), "territory": list(proposal.assignment.values())})
        extra["out"] = str(write_table(plan, args.out))
    _report(args, _json([proposal.summary], **extra))  # the project JSON has no alternatives (kept as it was)
    return 0


def _json(summaries, **extra) -> dict:
    """The JSON of a run: the best plan's summary, the extra keys, and the other plans as ``alternatives``."""
    scores = dict(summaries[0].to_json(), **extra)
    if len(summaries) > 1:
        scores["alternatives"] = [s.to_json() for s in summaries[1:]]
    return scores


def _report(args: argparse.Namespace, scores: dict) -> None:
    if args.json:
        print(json_text(scores))
        return
    bal = ", ".join(f"{m} {b['min_over_mean']:.3f}-{b['max_over_mean']:.3f} of mean"
                    for m, b in scores["balance"].items())
    where = f"scenario {scores['scenario']} in {args.project}" if "scenario" in scores else scores.get("out")
    print(f"{scores['territories']} territories, {bal}; {scores['cut_edges']} cut edges; "
          f"split territories {scores['split_territories']}; {scores['seconds']:.1f} s -> {where}")
    if scores.get("search_stopped"):
        print(_search_line(scores))
    if "disruption" in scores:
        d = scores["disruption"]
        print(f"moved {d['units_moved']} units ({d['units_moved_fraction']:.1%})")


def _search_line(scores: dict) -> str:
    """How the anytime search ended, in words: "search stopped: improvement stalled after 3.2 s"."""
    from ..services.balancing import objective_words

    why = {"stalled": "improvement stalled", "optimal": "the plan is proved optimal"}.get(
        scores["search_stopped"], "time limit reached")
    value = scores.get("objective_value")
    shown = "" if value is None else f"; {objective_words(scores['objective'], value, scores.get('objective_unit'))}"
    if scores.get("start_plans", 1) > 1:
        shown += f"; best of {scores['start_plans']} start plans"
    if scores.get("searches", 1) > 1:
        shown += f"; best of {scores['searches']} searches, one per core"
    return f"search stopped: {why} after {scores['seconds']:.1f} s (objective {scores['objective']}{shown})"
