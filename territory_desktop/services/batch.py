"""Run one function per rep (or territory) as tasks: in this process, a local process pool or a Dask cluster.

:func:`run_batch` is the one batch mechanism of the project (``route --all``, ``export-package --all``, the
GUI's Plan All Routes). The tasks go to an executor with the ``concurrent.futures`` interface:

- ``workers=1`` and no cluster: in this process, one after the other (the serial reference; ``fn`` gets the
  ``stop`` flag so Cancel interrupts a task);
- ``workers=N``: a ``ProcessPoolExecutor`` of N spawned processes (one BLAS thread each);
- ``cluster="tcp://host:8786"``: a Dask distributed scheduler (``distributed.Client(address)``); its
  workers need territory_desktop installed. Dask itself reschedules the tasks of a worker that dies and
  reports ``KilledWorker`` after its allowed failures.

Each task is ``(key, make_args)``: ``make_args()`` runs in this process just before the task is sent
(so preparing 5,000 reps does not wait for the first solve and only a few inputs are held at a time).
A task that raises is reported with its reason and the others go on; a task whose process died (killed,
out of memory) is sent again up to ``retries`` times. ``on_result`` is called in this process as each
task ends, in completion order: the caller saves there, so workers never write the project.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from ..models import CancelledError, InvalidInputError, Progress, StopFlag, TerritoryError, no_progress

#: a task: its key (a rep id) and a function returning the arguments of ``fn`` (called in this process)
Task = tuple[str, Callable[[], tuple]]
#: environment of pool processes: one BLAS/OpenMP thread each, so N workers use N cores, not N x cores
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


@dataclass
class TaskOutcome:
    """How a task ended: ``value`` (what ``fn`` returned) or ``error`` (the reason), after ``attempts``."""

    key: str
    value: Any = None
    error: str | None = None
    attempts: int = 1
    seconds: float = 0.0


@dataclass
class _Slot:
    key: str
    args: tuple
    attempts: int = 0  # times sent to a worker
    deaths: int = 0  # times its process died while it ran alone
    started: float = field(default_factory=time.perf_counter)


def describe_error(exc: BaseException) -> str:
    """One line for a failed task: the project's own message, else the exception type and text."""
    if isinstance(exc, InvalidInputError):
        return "; ".join(str(p) for p in exc.problems)
    if isinstance(exc, TerritoryError):
        return str(exc)
    name = type(exc).__name__
    if name == "KilledWorker":
        return f"the worker process died running this task too many times ({exc})"
    return f"{name}: {exc}" if str(exc) else name


def eta_text(done: int, total: int, elapsed: float) -> str:
    """'12 of 40 done, ETA 1 min 20 s' from the mean time per finished task so far."""
    if not done or done >= total:
        return f"{done} of {total} done"
    left = elapsed / done * (total - done)
    minutes, seconds = divmod(round(left), 60)
    return f"{done} of {total} done, ETA {f'{minutes} min ' if minutes else ''}{seconds} s"


def run_batch(fn: Callable, tasks: Iterable[Task], total: int, on_result: Callable[[TaskOutcome], None],
              workers: int = 1, cluster: str | None = None, retries: int = 2, progress: Progress = no_progress,
              stop: StopFlag | None = None, noun: str = "tasks") -> list[TaskOutcome]:
    """Run ``fn(*make_args())`` for every task; returns the outcomes in completion order.

    ``fn`` must be a module-level function (it is pickled to other processes). Raises CancelledError when
    ``stop`` is set (outcomes reported so far stay reported), InvalidInputError when the cluster cannot
    be reached.
    """
    clock = _Clock(total, progress, noun)
    if cluster is None and workers <= 1:
        return _run_here(fn, iter(tasks), on_result, clock, stop)
    runner = _PoolRunner(fn, iter(tasks), on_result, clock, workers, cluster, retries)
    return runner.run(stop)


class _Clock:
    """Counts finished tasks and reports done / total with an ETA."""

    def __init__(self, total: int, progress: Progress, noun: str) -> None:
        self.total, self.progress, self.noun = total, progress, noun
        self.t0 = time.perf_counter()
        self.done: list[TaskOutcome] = []
        progress(0.0, f"0 of {total} {noun} done")

    def finished(self, outcome: TaskOutcome, on_result: Callable[[TaskOutcome], None]) -> None:
        on_result(outcome)
        self.done.append(outcome)
        n = len(self.done)
        self.progress(n / max(self.total, 1), f"{eta_text(n, self.total, time.perf_counter() - self.t0)} "
                                              f"({self.noun}; last: {outcome.key})")


def _prepared(key: str, make_args: Callable[[], tuple]) -> tuple | TaskOutcome:
    """The task's arguments, or a failed outcome when preparing them raised (that task fails, not the batch)."""
    try:
        return make_args()
    except CancelledError:
        raise
    except Exception as exc:  # any failure of one task is that task's result, the others go on
        return TaskOutcome(key, error=describe_error(exc))


def _run_here(fn: Callable, tasks: Iterator[Task], on_result, clock: _Clock, stop: StopFlag | None) -> list:
    for key, make_args in tasks:
        if stop is not None:
            stop.check()
        args = _prepared(key, make_args)
        if isinstance(args, TaskOutcome):
            clock.finished(args, on_result)
            continue
        t0 = time.perf_counter()
        try:
            outcome = TaskOutcome(key, value=fn(*args, stop=stop))
        except CancelledError:
            raise
        except Exception as exc:  # any failure of one task is that task's result, the others go on
            outcome = TaskOutcome(key, error=describe_error(exc))
        outcome.seconds = time.perf_counter() - t0
        clock.finished(outcome, on_result)
    return clock.done


class _PoolRunner:
    """Keeps about two tasks per worker in flight on a process pool or a Dask cluster."""

    def __init__(self, fn, tasks: Iterator[Task], on_result, clock: _Clock, workers: int, cluster: str | None,
                 retries: int) -> None:
        self.fn, self.tasks, self.on_result, self.clock = fn, tasks, on_result, clock
        self.workers, self.cluster, self.retries = workers, cluster, retries
        self.client = _dask_client(cluster) if cluster else None
        self.executor = self._executor()
        self.running: dict[Future, _Slot] = {}
        self.again: list[_Slot] = []  # tasks to send again (their process died)

    def _executor(self) -> Executor:
        if self.client is not None:
            self.workers = max(1, sum(self.client.nthreads().values()))
            return self.client.get_executor(pure=False)
        return spawn_pool(self.workers)

    def run(self, stop: StopFlag | None) -> list[TaskOutcome]:
        try:
            self._fill()
            while self.running:
                finished, _ = wait(list(self.running), timeout=0.25, return_when=FIRST_COMPLETED)
                alone = len(self.running) == 1
                broken = [self._finish(f, alone) for f in finished]
                if any(broken):
                    self._restart_pool()
                if stop is not None and stop.is_set():
                    stop.check()
                self._fill()
        except BaseException:  # cancelled, Ctrl+C, or the caller's on_result failed: stop the workers now
            self._abort()
            raise
        finally:
            self._close()
        return self.clock.done

    def _fill(self) -> None:
        """Send tasks until about two per worker run; one at a time while suspects of a crash run again."""
        while len(self.running) < (1 if self.again else 2 * self.workers):
            slot = self.again.pop(0) if self.again else self._next_slot()
            if slot is None:
                return
            slot.started, slot.attempts = time.perf_counter(), slot.attempts + 1
            self.running[self.executor.submit(guarded, self.fn, *slot.args)] = slot
            if self.again or slot.attempts > 1:
                return  # a task sent again runs alone, so a crash tells which task caused it

    def _next_slot(self) -> _Slot | None:
        for key, make_args in self.tasks:
            args = _prepared(key, make_args)
            if isinstance(args, TaskOutcome):
                self.clock.finished(args, self.on_result)
                continue
            return _Slot(key, args)
        return None

    def _finish(self, future: Future, alone: bool) -> bool:
        """Report a finished task; True when its process died (the pool is broken)."""
        slot = self.running.pop(future)
        exc = future.exception()
        if isinstance(exc, BrokenProcessPool):
            self._died(slot, alone)
            return True
        outcome = TaskOutcome(slot.key, attempts=slot.attempts, seconds=time.perf_counter() - slot.started)
        value = future.result() if exc is None else (False, describe_error(exc))
        if value[0]:
            outcome.value = value[1]
        else:
            outcome.error = value[1]
        self.clock.finished(outcome, self.on_result)
        return False

    def _died(self, slot: _Slot, alone: bool) -> None:
        """A task's process died: the task runs again, alone; it fails once it died ``retries`` + 1 times
        alone (a crash with several tasks running does not tell which one caused it)."""
        slot.deaths += alone
        if slot.deaths > self.retries:
            self.clock.finished(TaskOutcome(slot.key, error=f"the worker process died {slot.deaths} times running "
                                                            "this task (killed, or out of memory)",
                                            attempts=slot.attempts), self.on_result)
            return
        self.again.append(slot)

    def _restart_pool(self) -> None:
        """A process died: every task of the pool is lost; send them again to a new pool."""
        for future in list(self.running):
            self._died(self.running.pop(future), alone=False)
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = self._executor()

    def _abort(self) -> None:
        for future in self.running:
            future.cancel()
        if self.client is None:
            terminate_pool(self.executor)
        self.running.clear()

    def _close(self) -> None:
        if self.client is not None:
            self.executor.shutdown(wait=False)
            self.client.close()
        else:
            self.executor.shutdown(wait=False, cancel_futures=True)


def spawn_pool(workers: int, setup: Callable | None = None, setup_args: tuple = ()) -> Executor:
    """A pool of ``workers`` spawned processes (never forked from a process that may hold Qt or threads),
    one BLAS thread each, ignoring Ctrl+C (the parent stops them: no traceback from every worker); each
    process runs ``setup(*setup_args)`` first (``setup_args`` may hold the spawn context's Events and
    Queues, which only cross to a process when it starts)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    for name, value in ONE_THREAD.items():
        os.environ.setdefault(name, value)  # inherited by the spawned processes
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_setup, initargs=(setup, setup_args))


def terminate_pool(executor: Executor) -> None:
    """End the processes of a :func:`spawn_pool` pool now (a running solve would otherwise finish first)."""
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        process.terminate()


def _worker_setup(setup: Callable | None, setup_args: tuple) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if setup is not None:
        setup(*setup_args)


def guarded(fn: Callable, *args) -> tuple[bool, Any]:
    """Run a task in a worker: (True, value), or (False, the reason) when it raised, so no exception (which
    may not pickle) crosses back; a dead process still shows as the executor's error."""
    try:
        return True, fn(*args)
    except Exception as exc:  # any failure of one task is that task's result, the others go on
        return False, describe_error(exc)


def _dask_client(address: str):
    """A Dask distributed client of the scheduler at ``address``; the project's error when unavailable."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise InvalidInputError("--cluster", ["needs Dask distributed: pip install 'territory-desktop[cluster]'"
                                              ]) from exc
    try:
        return Client(address, timeout=15)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InvalidInputError("--cluster", [f"cannot reach the Dask scheduler at {address!r}: {exc}"]) from exc
