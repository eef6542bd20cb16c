"""``territory-desktop route``: a rep's multi-week visit plan with daily routes (headless)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date

from ..models import InvalidInputError
from ..storage.export import write_table
from ._common import (
    TextProgress,
    UsageError,
    input_file,
    json_text,
    number_in,
    output_file,
    printable,
    project_command,
)

WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


DESCRIPTION = """\
Plan the visits of one rep: each account owned by the rep (through the territories whose rep_id is the
rep, or an account override) is visited every visit_frequency_weeks weeks; accounts seen less often than
the horizon are planned only when due (from the visit history). Each visit gets a working day, each day
an ordered route from the rep's home and back, within the rep's working hours, the accounts' opening
hours (open_minute/close_minute), a lunch break and service_minutes per visit. Travel: great-circle
distance x road circuity at speeds by trip length (or the roads of an OpenStreetMap extract with --osm),
scaled by a weekday/hour congestion profile. Prints a per-day table and the visits that could not be
planned, with the reason.

With --all, plans every rep of the project on this machine's cores (--workers) or a Dask cluster
(--cluster) and saves each rep's planned visits to the project as it finishes; a run that was stopped
resumes: reps already planned for this horizon are skipped unless --restart.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = project_command(
        sub, "route", "plan a rep's visits over 1-5 weeks and route every day", DESCRIPTION,
        epilog="examples:\n  territory-desktop route --project demo.gpkg --rep R17 --start 2026-11-30 --weeks 4 "
               "--out plan.csv\n  territory-desktop route --project demo.gpkg --all --start 2026-11-30 --weeks 2 "
               "--workers 2 --json", raw=True)
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--rep", metavar="ID", help="rep_id to plan for")
    who.add_argument("--all", action="store_true",
                     help="plan every rep and save the planned visits to the project (resumable)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=number_in(1, 256, int), default=None, metavar="N",
                       help=f"with --all: plan in N processes on this machine, 1 to 256 (default: the "
                            f"{os.cpu_count() or 1} cores; 1 = in this process)")
    where.add_argument("--cluster", metavar="ADDRESS",
                       help="with --all: plan on the Dask distributed scheduler at ADDRESS, e.g. tcp://host:8786 "
                            "(needs territory-desktop[cluster]; workers need territory-desktop installed)")
    p.add_argument("--restart", "--force", action="store_true",
                   help="with --all: plan again the reps already planned for this horizon")
    p.add_argument("--start", required=True, metavar="DATE", help="first day of the plan, YYYY-MM-DD")
    p.add_argument("--weeks", type=number_in(1, 5, int), default=4, metavar="N",
                   help="horizon in weeks, 1 to 5 (default 4)")
    p.add_argument("--json", action="store_true", help="print the plan summary as JSON")
    p.add_argument("--out", type=output_file(".csv", ".xlsx"), metavar="plan.csv",
                   help="write one row per stop (date, seq, times, drive) as CSV (or .xlsx); checked before "
                        "the work")
    p.add_argument("--details", action="store_true", help="also list every stop of every day")
    p.add_argument("--holiday", action="append", default=[], metavar="DATE",
                   help="a day off, YYYY-MM-DD (repeat for several)")
    p.add_argument("--weekdays", default="mon,tue,wed,thu,fri",
                   help="working weekdays, comma-separated (default mon,tue,wed,thu,fri)")
    p.add_argument("--lunch", default="11:30-13:30/30", metavar="HH:MM-HH:MM/MIN",
                   help="lunch must start in this window and lasts MIN minutes (default 11:30-13:30/30); "
                        "'none' for no lunch")
    p.add_argument("--time-limit", type=number_in(0, 3600, low_open=True), default=30.0, metavar="S",
                   help="seconds for the whole plan, more than 0 and at most 3600 (default 30)")
    p.add_argument("--circuity", type=number_in(1, 3), default=1.3, metavar="F",
                   help="road distance / great-circle distance, 1 to 3 (default 1.3)")
    p.add_argument("--no-traffic", action="store_true", help="ignore the weekday/hour congestion profile")
    p.add_argument("--osm", type=input_file, metavar="FILE.osm.pbf",
                   help="travel on the roads of this OpenStreetMap extract (needs the osmium package)")
    p.add_argument("--osrm", metavar="URL", help="use an OSRM server's table service for travel (needs network)")
    p.add_argument("--seed", type=number_in(0, 2**31 - 1, int), default=0, metavar="N",
                   help="random seed, 0 or more (default 0)")
    p.set_defaults(func=run)


#: dates a plan may use (a horizon of 5 weeks from the last one still is a date)
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2999, 12, 31)


def _date(text: str, what: str) -> date:
    try:
        value = date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInputError(what, [f"{text!r} is not a date (YYYY-MM-DD)"]) from exc
    if not FIRST_DATE <= value <= LAST_DATE:
        raise InvalidInputError(what, [f"{text} is outside {FIRST_DATE} .. {LAST_DATE}"])
    return value


def _minutes(hhmm: str) -> float:
    """'11:30' -> 690; ValueError outside 00:00..24:00."""
    h, m = hhmm.split(":")
    value = 60 * int(h) + int(m)
    if not (0 <= int(m) < 60 and 0 <= value <= 24 * 60):
        raise ValueError(hhmm)
    return value


def parse_lunch(text: str) -> tuple[float, float, float] | None:
    """'11:30-13:30/30' -> (690, 810, 30); 'none' -> None."""
    if text.strip().lower() == "none":
        return None
    try:
        window, minutes = text.split("/")
        a, b = window.split("-")
        out = (_minutes(a), _minutes(b), float(minutes))
    except ValueError as exc:
        raise InvalidInputError("--lunch", [f"{text!r} is not HH:MM-HH:MM/MINUTES"]) from exc
    if out[0] > out[1] or not 0 < out[2] <= 240:
        raise InvalidInputError("--lunch", [(f"{text!r}: the window must not end before it starts; the lunch "
                                            "lasts more than 0 and at most 240 minutes")])
    return out


def parse_weekdays(text: str) -> tuple[int, ...]:
    """'mon,tue' -> (0, 1); at least one day."""
    try:
        days = tuple(sorted({WEEKDAYS[w.strip().lower()[:3]] for w in text.split(",") if w.strip()}))
    except KeyError as exc:
        raise InvalidInputError("--weekdays", [f"unknown weekday {exc.args[0]!r}; use mon,tue,..."]) from exc
    if not days:
        raise InvalidInputError("--weekdays", ["give at least one working weekday, e.g. mon,tue,wed,thu,fri"])
    return days


def _provider(args: argparse.Namespace, progress):
    from ..engine.travel import GreatCircleProvider
    from ..services.routing import OSRMProvider, load_osm_graph

    if args.osrm:
        return OSRMProvider(args.osrm)
    if args.osm:
        progress(0.01, f"reading roads from {args.osm}")
        return load_osm_graph(args.osm)
    return GreatCircleProvider(circuity=args.circuity)


def run(args: argparse.Namespace) -> int:
    from ..engine.travel import TrafficProfile
    from ..services.project import open_project
    from ..services.routing import day_settings, plan_rep_visits, plan_rows, plan_summary

    start = _date(args.start, "--start")
    holidays = frozenset(_date(h, "--holiday") for h in args.holiday)
    weekdays = parse_weekdays(args.weekdays)
    lunch = parse_lunch(args.lunch)
    progress = TextProgress()
    if args.all:
        return _run_all(args, start, holidays, weekdays, lunch, progress)
    for flag, given in (("--workers", args.workers is not None), ("--cluster", args.cluster), ("--restart", args.restart)):
        if given:
            raise UsageError(f"territory-desktop route: {flag} goes with --all")
    progress(0.0, f"opening {args.project}")
    project = open_project(args.project)
    reps = project.reps.set_index("rep_id")
    if args.rep not in reps.index:
        raise InvalidInputError("--rep", [f"rep {args.rep!r} is not in the project"])
    traffic = None if args.no_traffic else TrafficProfile()
    rp = plan_rep_visits(project, args.rep, start, args.weeks, holidays, weekdays,
                         day_settings(reps.loc[args.rep], lunch), _provider(args, progress), traffic,
                         time_limit=args.time_limit, seed=args.seed, progress=progress)
    summary = plan_summary(rp).to_json()  # the JSON form of the RouteSummary
    if args.out:
        write_table(plan_rows(rp), args.out)
        print(f"wrote {args.out}", file=sys.stderr)
    if args.json:
        print(json_text(summary, indent=1))
        return 0
    _print_plan(summary, plan_rows(rp) if args.details else None)
    return 0


def _run_all(args: argparse.Namespace, start: date, holidays, weekdays, lunch, progress) -> int:
    from ..engine.travel import TrafficProfile
    from ..models import ProjectFileError
    from ..services.project import hold_for_editing, open_project, release_editing
    from ..services.route_batch import RouteBatchOptions, plan_all_routes

    for flag, given in (("--out", args.out), ("--details", args.details)):
        if given:
            raise UsageError(f"territory-desktop route: {flag} is for one rep; with --all the plans are saved "
                             "to the project (export them with export-package --all)")
    progress(0.0, f"opening {args.project}")
    project = open_project(args.project, for_writing=True)
    opts = RouteBatchOptions(start, args.weeks, holidays, weekdays, lunch, _provider(args, progress),
                             None if args.no_traffic else TrafficProfile(), args.time_limit, args.seed,
                             args.workers or os.cpu_count() or 1, args.cluster, args.restart)
    busy = hold_for_editing(args.project, "territory-desktop route --all")  # a long run: no one else edits
    if busy is not None:
        raise ProjectFileError(busy)
    try:
        result = plan_all_routes(project, opts, progress=progress)
    finally:
        release_editing(args.project)
    if args.json:
        print(json_text(result, indent=1))
        return 0
    _print_batch(result)
    return 0


def _print_batch(result: dict) -> None:
    """One line per rep (planned, resumed or failed) and the totals."""
    where = f"cluster {result['cluster']}" if result["cluster"] else f"{result['workers']} workers"
    print(f"{len(result['reps'])} reps, {result['weeks']} weeks from {result['start']} on {where} in "
          f"{result['seconds']} s: {result['planned_reps']} planned, {result['resumed_reps']} already planned "
          f"(resumed), {result['failed_reps']} failed")
    for e in result["reps"]:
        if "error" in e:
            print(f"  {printable(e['rep_id']):<10} failed: {printable(e['error'])}")
        else:
            note = " (already planned)" if e.get("resumed") else ""
            print(f"  {printable(e['rep_id']):<10} {e['planned_visits']:>5} of {e['required_visits']:>5} visits"
                  f"{note}")


def _print_plan(summary: dict, rows=None) -> None:
    """The per-day table, the stops of every day (``rows`` = plan_rows, with --details), the unplanned."""
    print(f"rep {summary['rep_id']}: {summary['weeks']} weeks from {summary['start']}, travel {summary['travel']}")
    print(f"{summary['accounts']} accounts due ({summary['not_due_accounts']} not due), "
          f"{summary['planned_visits']} of {summary['required_visits']} visits planned "
          f"({summary['coverage_pct']} %), drive {summary['drive_hours']} h, {summary['drive_km']} km")
    print(f"\n{'date':<11} {'stops':>5} {'leave':>6} {'back':>6} {'lunch':>6} {'drive h':>8} {'km':>8} {'wait min':>9}")
    for d in summary["days"]:
        print(f"{d['date']:<11} {d['stops']:>5} {d['leave']:>6} {d['back'] or '-':>6} {d['lunch'] or '-':>6} "
              f"{d['drive_min'] / 60:>8.2f} {d['drive_km']:>8.1f} {d['wait_min']:>9.1f}")
    if rows is not None:
        for d, day_rows in rows.groupby("date", sort=True):
            print(f"\n{d}")
            for r in day_rows.itertuples():
                lunch = f"  lunch {r.lunch}" if r.lunch else ""
                print(f"  {r.seq:>2}. {r.start}-{r.depart} {printable(r.account_id):<10} "
                      f"{printable(r.name)[:32]:<32} drive {r.drive_min:5.1f} min {r.drive_km:6.1f} km  "
                      f"wait {r.wait_min:4.1f}{lunch}")
    if summary["unplanned"]:
        print(f"\n{len(summary['unplanned'])} accounts not fully planned:")
        for u in summary["unplanned"][:15]:
            print(f"  {printable(u['account_id'])}: {u['planned']} of {u['required']} visits; {u['reason']}")
        if len(summary["unplanned"]) > 15:
            print(f"  ... and {len(summary['unplanned']) - 15} more (see --json)")
