"""Run a service call off the GUI thread (QThreadPool) with progress and a Cancel button's StopFlag.

``RouteJob(fn)`` calls ``fn(progress, stop)`` in a pool thread; its ``signals`` report progress
(fraction 0..1, message), the result, a user error (TerritoryError message) or a cancellation.
Signals are queued to the receiver's (GUI) thread, so slots may touch widgets.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from ..models import StopFlag
from ..models.errors import CancelledError, TerritoryError


class JobSignals(QObject):
    progress = Signal(float, str)
    finished = Signal(object)  # the result of fn
    failed = Signal(str)  # a message for the user
    cancelled = Signal()


class RouteJob(QRunnable):
    """One background call of ``fn(progress, stop)``; ``cancel()`` sets the StopFlag."""

    def __init__(self, fn: Callable[[Callable[[float, str], None], StopFlag], object]) -> None:
        super().__init__()
        self.fn = fn
        self.stop = StopFlag()
        self.signals = JobSignals()
        self.setAutoDelete(False)  # the owner keeps the job (and its signals) alive until it reports

    def cancel(self) -> None:
        self.stop.set()

    def run(self) -> None:  # pool thread
        try:
            result = self.fn(lambda f, m: self.signals.progress.emit(float(f), str(m)), self.stop)
        except CancelledError:
            self.signals.cancelled.emit()
        except TerritoryError as exc:
            self.signals.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug must reach the user, not kill the thread silently
            self.signals.failed.emit(f"unexpected error: {exc!r}\n{traceback.format_exc(limit=4)}")
        else:
            if self.stop.is_set():
                self.signals.cancelled.emit()
            else:
                self.signals.finished.emit(result)


def start_job(job: RouteJob, pool: QThreadPool | None = None) -> RouteJob:
    """Start ``job`` on ``pool`` (default: the global pool) and return it."""
    (pool or QThreadPool.globalInstance()).start(job)
    return job
