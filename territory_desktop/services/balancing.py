"""Balancing for the CLI and the GUI: options, typed summaries, the one seed loop and ranking (:func:`solve`).

- :func:`balance_layer`: a GeoDataFrame of units (any CRS) -> plan table ``<id>, territory`` + summaries.
- A project scenario: :mod:`.scenario_balance` (``run_project_balance``, the proposals, applying them).

Geometry is projected for the engine with :func:`.projection.project_units` (US Albers for US data).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..engine.adjacency import Adjacency, build_adjacency
from ..engine.balance import (
    BalanceMode,
    BalanceProblem,
    BalanceResult,
    assign_orphans,
    balance_territories,
    rebalance_plan,
)
from ..engine.balance.improve import OBJECTIVE_WORDS, objective_value_text
from ..engine.balance.objectives import Objective
from ..engine.scores import PlanScores, align_labels, score_plan
from ..engine.travel import TravelProvider
from ..models import InfeasibleError, InvalidInputError
from ..models.progress import Progress, StopFlag, no_progress
from .edge_lengths import edge_lengths, length_unit
from .metrics import MEASURE_LABELS
from .parallel_search import run_searches
from .projection import project_units

OBJECTIVES = tuple(str(o) for o in Objective)

__all__ = ["BalanceMode", "BalanceOptions", "LayerOutcome", "PlanSummary", "Prepared", "ProblemInputs",
           "balance_layer", "prepare", "project_units", "solve"]


@dataclass
class BalanceOptions:
    """What to balance and how. ``tolerance_for`` maps a measure name to its own tolerance."""

    measures: list[str]
    k: int | None = None
    tolerance: float = 0.02
    tolerance_for: dict[str, float] = field(default_factory=dict)
    mode: BalanceMode = BalanceMode.BUILD
    max_moved: float = 0.1
    moved_measure: str | None = None  # None = count units
    seed: int = 0
    time_limit: float = 30.0
    alternatives: int = 1  # from-scratch plans from seeds seed, seed+1, ...; the best is kept
    max_distance_km: float | None = None
    use_rep_homes: bool = False
    objective: str = "compact"  # compact | diameter | travel | total-diameter (engine.balance.objectives)
    edge_lengths: str | None = None  # road | great-circle | a CSV from,to,length (services.edge_lengths)
    use_time_limit: bool = False  # search for the whole time limit; else stop when improvement stalls
    workers: int = 1  # with use_time_limit when building: searches at once, one per core (parallel_search)
    road_provider: TravelProvider | None = None  # the roads for edge_lengths="road"
    finish: StopFlag | None = field(default=None, compare=False)  # set: end the search, keep the best plan

    def __post_init__(self) -> None:
        self.mode = BalanceMode(self.mode)
        if self.objective not in OBJECTIVES:
            raise InvalidInputError("--objective", [f"'{self.objective}' is not one of {', '.join(OBJECTIVES)}"])


@dataclass(frozen=True)
class PlanSummary:
    """A plan's scores and how it was made; ``to_json()`` is the JSON the CLI prints."""

    scores: PlanScores
    seed: int
    mode: BalanceMode
    seconds: float
    moves: int
    within_tolerance: bool
    bridges: int
    failure: str | None = None  # why the plan misses the request, in words
    objective: str = "compact"
    objective_value: float | None = None  # cut edges, largest diameter or weighted travel
    stopped: str | None = None  # how the anytime search ended: "time limit", "stalled" or "optimal"
    objective_unit: str | None = None  # of a diameter: "m", "s" (road time) or None (a lengths file's own)
    start_plans: int = 1  # anytime searches from different start plans (engine BalanceResult.starts)
    searches: int = 1  # searches (seeds) run for the request, one per core (parallel_search); plans are their best

    @property
    def units_moved(self) -> int:
        return self.scores.disruption.units_moved if self.scores.disruption is not None else 0

    def rank_key(self) -> tuple:
        """Best first: within tolerance, then fewest cut edges (the lowest objective value for diameter
        and travel), then fewest units moved, then seed."""
        value = self.scores.cut_edges if self.objective == "compact" or self.objective_value is None \
            else self.objective_value
        return (not self.within_tolerance, value, self.units_moved, self.seed)

    def objective_text(self) -> str | None:
        """The objective the search lowered when it is not cut edges (those are in the scores), in words:
        "largest diameter 277, proved optimal"; None for cut edges or without a value."""
        if self.objective == "compact" or self.objective_value is None:
            return None
        text = objective_words(self.objective, self.objective_value, self.objective_unit)
        return f"{text}, proved optimal" if self.stopped == "optimal" else text

    def to_json(self) -> dict:
        out = self.scores.to_json()
        out.update({"seed": self.seed, "mode": str(self.mode), "seconds": round(self.seconds, 3),
                    "moves": self.moves, "within_tolerance": self.within_tolerance, "bridges": self.bridges,
                    "objective": self.objective, "objective_value": self.objective_value,
                    "objective_unit": self.objective_unit, "search_stopped": self.stopped,
                    "start_plans": self.start_plans, "searches": self.searches})
        return out


def objective_words(objective: str, value: float, unit: str | None = None) -> str:
    """An objective and its value in words: "cut edges 27", "largest diameter 253 km" (a diameter in
    metres shown in km, in seconds of road time in minutes, in a lengths file's units as it is),
    "weighted travel 1,234" (a load-weighted sum: no unit of its own)."""
    kind = Objective(objective)
    return f"{OBJECTIVE_WORDS[kind]} {objective_value_text(kind, value, unit)}"


@dataclass(frozen=True)
class LayerOutcome:
    """A balanced units layer: ``plan`` (columns <id>, territory) and the summaries, best first."""

    plan: pd.DataFrame
    summaries: list[PlanSummary]

    @property
    def summary(self) -> PlanSummary:
        return self.summaries[0]


@dataclass(frozen=True)
class Prepared:
    """An engine problem with the adjacency and projected geometry it was built from."""

    problem: BalanceProblem
    adjacency: Adjacency
    geoms: np.ndarray
    length_unit: str | None = "m"  # of the edge lengths (services.edge_lengths.length_unit)


def _tolerances(opts: BalanceOptions) -> np.ndarray:
    unknown = [m for m in opts.tolerance_for if m not in opts.measures]
    if unknown:
        raise InvalidInputError("--tolerance-for", [f"'{m}' is not one of the weights {opts.measures}" for m in unknown])
    return np.array([opts.tolerance_for.get(m, opts.tolerance) for m in opts.measures], float)


def _valid_geoms(units: gpd.GeoDataFrame, ids: list[str]) -> np.ndarray:
    geoms = units.geometry.to_numpy()
    bad = [i for i, g in enumerate(geoms) if g is None or g.is_empty]
    if bad:
        raise InvalidInputError("units", [f"row {i + 1} ({ids[i]}): no geometry" for i in bad])
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():  # self-intersections and the like: repair rather than fail in GEOS
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    return geoms


@dataclass
class ProblemInputs:
    """What a problem is built from besides the units: unit ids, weights and per-territory names."""

    ids: list[str]
    weights: pd.DataFrame
    k: int
    territory_names: list[str]
    current: np.ndarray | None = None
    locked: np.ndarray | None = None
    homes: np.ndarray | None = None
    home_units: np.ndarray | None = None


def prepare(units: gpd.GeoDataFrame, inp: ProblemInputs, opts: BalanceOptions) -> Prepared:
    """Engine problem from projected units."""
    geoms = _valid_geoms(units, inp.ids)
    adj = build_adjacency(geoms)
    cent = shapely.point_on_surface(geoms)
    xy = np.column_stack([shapely.get_x(cent), shapely.get_y(cent)])
    lengths = None
    if opts.edge_lengths:
        lonlat = gpd.GeoSeries(cent, crs=units.crs).to_crs(4326)
        lengths = edge_lengths(opts.edge_lengths, inp.ids, adj.matrix, lonlat.x.to_numpy(), lonlat.y.to_numpy(),
                               opts.road_provider)
    names = list(inp.weights.columns)
    p = BalanceProblem(adj.matrix, inp.weights.to_numpy(float), names, _tolerances(opts), xy, inp.k, inp.ids,
                       inp.locked,  # type: ignore[arg-type]  # None = no locks: BalanceProblem makes the mask
                       inp.current, inp.homes,
                       None if opts.max_distance_km is None else opts.max_distance_km * 1000,
                       home_units=inp.home_units, territory_names=inp.territory_names,
                       measure_units=[MEASURE_LABELS.get(m, (m, m))[1] for m in names],
                       measure_labels=[MEASURE_LABELS.get(m, (m, m))[0] for m in names], edge_lengths=lengths,
                       length_unit=length_unit(opts.edge_lengths))
    return Prepared(p, adj, geoms, p.length_unit)


# ---------------------------------------------------------------- the one seed loop and ranking


def _run_once(p: BalanceProblem, opts: BalanceOptions, seed: int, progress: Progress,
              stop: StopFlag | None) -> BalanceResult:
    if opts.mode is BalanceMode.ORPHANS:
        return assign_orphans(p, progress)
    if opts.mode is BalanceMode.REBALANCE:
        moved_j = None if opts.moved_measure is None else p.measure_names.index(opts.moved_measure)
        return rebalance_plan(p, opts.max_moved, moved_j, seed, opts.time_limit, progress, stop, strict=False)
    return balance_territories(p, seed, opts.time_limit, progress, stop, strict=False, objective=opts.objective,
                               use_time_limit=opts.use_time_limit, finish=opts.finish)


def _aligned(r: BalanceResult, p: BalanceProblem, opts: BalanceOptions) -> BalanceResult:
    """A from-scratch plan renumbered to overlap the current plan most, so that a territory's name and rep
    follow its area; territories holding locked units, or anchored on homes, keep their number."""
    if opts.mode is not BalanceMode.BUILD or p.current is None or p.homes is not None:
        return r
    fixed = np.unique(p.current[p.locked & (p.current >= 0)])
    return replace(r, labels=align_labels(r.labels, p.current, fixed=fixed))


def _summary(r: BalanceResult, prep: Prepared) -> PlanSummary:
    p = prep.problem
    s = score_plan(r.labels, prep.adjacency.matrix, p.weights, p.measure_names, p.k, p.tolerance, prep.geoms,
                   p.current)
    return PlanSummary(s, r.seed, r.mode, r.seconds, r.moves, r.within_tolerance, len(prep.adjacency.bridges),
                       r.failure, r.objective, r.objective_value, r.stopped,
                       prep.length_unit if Objective(r.objective).on_diameters else None, r.starts)


def solve(prep: Prepared, opts: BalanceOptions, progress: Progress = no_progress,
          stop: StopFlag | None = None) -> list[tuple[BalanceResult, PlanSummary]]:
    """Every plan asked for (``opts.alternatives`` seeds when building, else one), best first by
    :meth:`PlanSummary.rank_key`; a build searching for the whole time limit runs ``opts.workers``
    searches at once (:func:`_solve_searches`). A provably impossible request raises InfeasibleError
    at once."""
    n = max(1, opts.alternatives) if opts.mode is BalanceMode.BUILD else 1
    if opts.mode is BalanceMode.BUILD and opts.use_time_limit:
        return _solve_searches(prep, opts, n, progress, stop)
    out = []
    for i in range(n):
        def part(fraction: float, message: str, i: int = i) -> None:
            progress((i + fraction) / n, f"plan {i + 1} of {n}: {message}" if n > 1 else message)

        r = _aligned(_run_once(prep.problem, opts, opts.seed + i, part, stop), prep.problem, opts)
        out.append((r, _summary(r, prep)))
    out.sort(key=lambda rs: rs[1].rank_key())
    return out


def _solve_searches(prep: Prepared, opts: BalanceOptions, n: int, progress: Progress,
                    stop: StopFlag | None) -> list[tuple[BalanceResult, PlanSummary]]:
    """The ``n`` best plans of searches for the whole time limit, ``opts.workers`` at a time (one per
    core, :mod:`.parallel_search`): as many as fill every round, so the cores are never idle."""
    workers = max(1, opts.workers)
    seeds = [opts.seed + i for i in range(-(-n // workers) * workers)]
    results = run_searches(prep.problem, opts.objective, seeds, opts.time_limit, workers, progress, stop,
                           opts.finish)
    out = [(r, replace(_summary(r, prep), searches=len(results))) for r in
           (_aligned(r, prep.problem, opts) for r in results)]
    out.sort(key=lambda rs: rs[1].rank_key())
    return out[:n]


# ---------------------------------------------------------------- a units layer


def _layer_weights(units: gpd.GeoDataFrame, ids: list[str], opts: BalanceOptions) -> pd.DataFrame:
    weights = pd.DataFrame({m: pd.to_numeric(units[m], errors="coerce") for m in opts.measures})
    nan = [(i, m) for m in opts.measures for i in np.flatnonzero(weights[m].isna().to_numpy())]
    if nan:
        raise InvalidInputError("units", [f"row {i + 1} ({ids[i]}), column '{m}': not a number" for i, m in nan])
    return weights


def _layer_current(units: gpd.GeoDataFrame, current_col: str | None,
                   opts: BalanceOptions) -> tuple[list[str] | None, np.ndarray | None]:
    """Territory names and index per unit (-1 = none) of the current plan column."""
    if current_col is None:
        if opts.mode is not BalanceMode.BUILD:
            raise InvalidInputError("balance", ["rebalancing and orphans need the current plan (--current COL)"])
        return None, None
    cur = units[current_col]
    valid = cur.notna() & (cur.astype(str).str.strip() != "")
    names = sorted(cur[valid].astype(str).unique().tolist())
    index = {n: i for i, n in enumerate(names)}
    current = np.array([index[str(v)] if ok else -1 for v, ok in zip(cur, valid, strict=True)], dtype=np.int64)
    if opts.k is not None and opts.k != len(names):
        raise InvalidInputError("-k", [(f"-k {opts.k} but the current plan in '{current_col}' has "
                                        f"{len(names)} territories")])
    return names, current


def _layer_inputs(units: gpd.GeoDataFrame, id_col: str, opts: BalanceOptions, current_col: str | None,
                  locked_col: str | None) -> tuple[ProblemInputs, list[str]]:
    problems = [f"no column '{c}'" for c in [id_col, *opts.measures, current_col, locked_col]
                if c is not None and c not in units.columns]
    if problems:
        raise InvalidInputError("units", [*problems, f"columns are: {', '.join(map(str, units.columns))}"])
    ids = units[id_col].astype(str).tolist()
    dup = pd.Series(ids)[pd.Series(ids).duplicated()].unique().tolist()
    if dup:
        raise InvalidInputError("units", [f"id '{d}' appears more than once in '{id_col}'" for d in dup[:20]])
    weights = _layer_weights(units, ids, opts)
    names, current = _layer_current(units, current_col, opts)
    locked = None
    if locked_col is not None:
        locked = units[locked_col].fillna(False).astype(str).str.lower().isin(["1", "true", "yes", "y"]).to_numpy()
    k = len(names) if names is not None else opts.k
    if k is None:
        raise InvalidInputError("balance", ["give -k (the number of territories) or --current"])
    label_names = names if names is not None else [str(i + 1) for i in range(k)]
    shown = [f"territory {n}" for n in label_names]
    return ProblemInputs(ids, weights, k, shown, current, locked), label_names


def balance_layer(units: gpd.GeoDataFrame, id_col: str, opts: BalanceOptions, current_col: str | None = None,
                  locked_col: str | None = None, progress: Progress = no_progress,
                  stop: StopFlag | None = None) -> LayerOutcome:
    """Balance a units layer; territories are 1..k, or the current plan's names when rebalancing.
    Raises InfeasibleError (carrying the outcome) when the best plan misses the tolerance."""
    units = units.reset_index(drop=True)
    inp, label_names = _layer_inputs(units, id_col, opts, current_col, locked_col)
    prep = prepare(project_units(units), inp, opts)
    results = solve(prep, opts, progress, stop)
    best, summary = results[0]
    plan = pd.DataFrame({id_col: inp.ids, "territory": [label_names[t] for t in best.labels]})
    outcome = LayerOutcome(plan, [s for _, s in results])
    if summary.failure is not None:
        raise InfeasibleError[LayerOutcome](summary.failure, result=outcome)
    return outcome
