"""Anytime balance searches on several cores at once: one here, the others in spawned processes.

A search with a time limit (:func:`.engine.balance.balance_territories` with ``use_time_limit``) is one
process's work, and searches from different seeds end in different plans (on the DTDP grid
Corners726_G4 at 60 s, largest diameters 248 and 296). :func:`run_searches` runs ``len(seeds)``
searches, ``workers`` at a time, each for the whole time limit from its own start (a spawned process
starts about a second later, after its imports, and ends as much later): the first of each round in
this process (it reports progress, Stop cancels it and Finish ends it as usual), the others in a
:func:`.batch.spawn_pool` pool. Their progress comes back through a queue and is shown with this
process's; Finish, or a plan proved optimal in any of them, ends them all (each returns its best plan
at once); Stop terminates them. A search that fails in its process is left out (with a progress line
saying why) and the others are kept.
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from typing import Any

from ..engine.balance import BalanceProblem, BalanceResult, balance_territories
from ..models.progress import Progress, StopFlag, no_progress
from .batch import describe_error, guarded, spawn_pool, terminate_pool

#: a process's search reports its progress at most this often (seconds)
REPORT_EVERY = 0.5


@dataclass(frozen=True)
class SearchJob:
    """One search: the problem, its seed, and what :func:`balance_territories` needs with a time limit."""

    problem: BalanceProblem
    objective: str
    seed: int
    time_limit: float  # seconds from the search's own start


def default_workers() -> int:
    """Searches at once when a time limit is given: both cores of a two-core machine, at most 2 (each
    process holds its own copy of the problem and, for the diameter, all shortest paths)."""
    return max(1, min(2, os.cpu_count() or 1))


def run_searches(problem: BalanceProblem, objective: str, seeds: Sequence[int], time_limit: float,
                 workers: int, progress: Progress = no_progress, stop: StopFlag | None = None,
                 finish: StopFlag | None = None) -> list[BalanceResult]:
    """The results of the searches from ``seeds`` (in seed order; failed ones left out), ``workers`` at a
    time, each round for ``time_limit`` seconds. Raises CancelledError when ``stop`` is set."""
    rounds = [list(seeds[i:i + workers]) for i in range(0, len(seeds), max(workers, 1))]
    out: list[BalanceResult] = []
    for r, chunk in enumerate(rounds):
        def part(fraction: float, message: str, r: int = r) -> None:
            word = "plan" if workers <= 1 else "round"
            progress((r + fraction) / len(rounds), f"{word} {r + 1} of {len(rounds)}: {message}"
                     if len(rounds) > 1 else message)

        out.extend(_round(problem, objective, chunk, time_limit, part, stop, finish))
        if finish is not None and finish.is_set():
            break
    return out


def _round(problem: BalanceProblem, objective: str, seeds: list[int], time_limit: float, progress: Progress,
           stop: StopFlag | None, finish: StopFlag | None) -> list[BalanceResult]:
    here = SearchJob(problem, objective, seeds[0], time_limit)
    if len(seeds) == 1:
        return [_search(here, progress, stop, finish)]
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    end, messages = ctx.Event(), ctx.Queue()
    pool = spawn_pool(len(seeds) - 1, _child_setup, (end, messages))
    others = _Others(messages, seeds)
    try:
        futures = {pool.submit(guarded, _child_search, SearchJob(problem, objective, s, time_limit)): s
                   for s in seeds[1:]}
        # this search ends on Finish or when another one proves its plan optimal (it sets ``end``)
        mine = _search(here, lambda f, m: progress(f, others.line(m)), stop, _AnyFlag(finish, end))
        if mine.stopped == "optimal" or (finish is not None and finish.is_set()):
            end.set()  # nothing is better than a proved optimum; Finish ends every search
        results = [mine, *others.collect(futures, end, progress, stop, finish)]
        pool.shutdown(wait=True)  # the processes are idle: they end at once
    except BaseException:  # Stop, Ctrl+C or a failure here: the other searches end now
        terminate_pool(pool)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        messages.close()
    return sorted(results, key=lambda res: seeds.index(res.seed))


def _search(job: SearchJob, progress: Progress, stop: StopFlag | None, finish: StopFlag | None) -> BalanceResult:
    return balance_territories(job.problem, job.seed, job.time_limit, progress, stop, strict=False,
                               objective=job.objective, use_time_limit=True, finish=finish)


class _Others:
    """The searches in other processes, as this process sees them: their last progress messages and,
    at the end, their results."""

    def __init__(self, messages: Any, seeds: list[int]) -> None:
        self.messages, self.seeds = messages, seeds
        self.last: dict[int, str] = {}

    def line(self, message: str) -> str:
        """This process's progress ``message`` (seed first) with the other searches' latest ones."""
        self.drain()
        return "; ".join([f"seed {self.seeds[0]}: {message}",
                          *(f"seed {s}: {self.last[s]}" for s in self.seeds[1:] if s in self.last)])

    def drain(self) -> None:
        while True:
            try:
                seed, message = self.messages.get_nowait()
            except (queue.Empty, OSError, ValueError):
                return
            self.last[seed] = message

    def collect(self, futures: dict[Future, int], end: Any, progress: Progress, stop: StopFlag | None,
                finish: StopFlag | None) -> list[BalanceResult]:
        """Wait for the other searches (they end about a second after this one), passing on Finish and Stop."""
        done: list[BalanceResult] = []
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            self.drain()
            for future in finished:
                try:
                    ok, value = future.result()
                except Exception as exc:  # the process died (killed, out of memory): that search is lost
                    ok, value = False, describe_error(exc)
                if ok:
                    done.append(value)
                else:
                    progress(1.0, f"the search from seed {futures[future]} failed: {value}")
            if stop is not None:
                stop.check()
            if finish is not None and finish.is_set():
                end.set()
        return done


# ---------------------------------------------------------------- in the spawned processes

_child: dict[str, Any] = {}


def _child_setup(end: Any, messages: Any) -> None:
    _child["end"], _child["messages"] = end, messages


class _AnyFlag(StopFlag):
    """A :class:`StopFlag` set when any of ``flags`` is (the planner's Finish, the round's
    multiprocessing Event: Finish there or a plan proved optimal; None entries are ignored)."""

    def __init__(self, *flags: Any) -> None:
        super().__init__()
        self.flags = [f for f in flags if f is not None]

    def is_set(self) -> bool:
        return any(f.is_set() for f in self.flags)


def _child_search(job: SearchJob) -> BalanceResult:
    messages, last = _child["messages"], [0.0]

    def report(_fraction: float, message: str) -> None:
        now = time.perf_counter()
        if now - last[0] >= REPORT_EVERY:
            last[0] = now
            messages.put((job.seed, message))

    result = _search(job, report, None, _AnyFlag(_child["end"]))
    if result.stopped == "optimal":
        _child["end"].set()  # the other searches cannot do better: they end with their best plans
    return result

