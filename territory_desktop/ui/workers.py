"""Run a long ``job(progress, stop)`` in a QThreadPool worker; results come back as Qt signals.

The job is a plain function (a services call) taking ``progress(fraction, message)`` and a
:class:`StopFlag`; it runs off the GUI thread, so the window keeps repainting and Cancel works.
Signals are emitted from the worker thread and delivered queued to receivers in the GUI thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal

from ..models import StopFlag
from ..models.errors import CancelledError

#: workers started and not yet ended: keeps each one (and its signals object) alive while its thread
#: runs, even when the dialog that started it is closed and deleted
_alive: set[Worker] = set()
_quit_hooked = False

Job = Callable[[Callable[[float, str], None], StopFlag], object]


class WorkerSignals(QObject):
    """``progress(fraction 0-1, message)``, ``finished(result)``, ``failed(exception)``, ``cancelled()``."""

    progress = Signal(float, str)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()


class Worker(QRunnable):
    """One job run in a thread pool; ``stop`` is set by :meth:`cancel`. Progress reports are throttled
    to one every ``min_interval`` seconds per message (a new message or the final report always goes
    through) so a chatty engine cannot flood the GUI."""

    def __init__(self, job: Job, min_interval: float = 0.05) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the owner keeps a reference until it gets a signal
        self.job = job
        self.stop = StopFlag()
        self.signals = WorkerSignals()
        self.min_interval = min_interval
        self._last = 0.0
        self._message = None

    def _progress(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if message != self._message or now - self._last >= self.min_interval or fraction >= 1.0:
            self._last, self._message = now, message
            self.signals.progress.emit(float(fraction), str(message))

    def cancel(self) -> None:
        self.stop.set()

    def run(self) -> None:
        try:
            self._run()
        except RuntimeError:  # the application quit and Qt deleted the signals object: nobody listens
            pass
        finally:
            _alive.discard(self)

    def _run(self) -> None:
        try:
            result = self.job(self._progress, self.stop)
        except CancelledError:
            self.signals.cancelled.emit()
            return
        except Exception as exc:  # noqa: BLE001 - handed to the GUI thread, which decides how to show it
            self.signals.failed.emit(exc)
            return
        if self.stop.is_set():
            self.signals.cancelled.emit()
        else:
            self.signals.finished.emit(result)


def stop_all(wait_ms: int = 5000) -> None:
    """Cancel every running worker and wait up to ``wait_ms`` for the global pool (on application quit)."""
    for worker in list(_alive):
        worker.cancel()
    QThreadPool.globalInstance().waitForDone(wait_ms)


def start(worker: Worker, pool: QThreadPool | None = None) -> Worker:
    """Start ``worker`` in ``pool`` (default: the global pool) and return it; running workers are
    cancelled when the application quits."""
    global _quit_hooked
    app = QCoreApplication.instance()
    if app is not None and not _quit_hooked:
        app.aboutToQuit.connect(stop_all)
        _quit_hooked = True
    _alive.add(worker)
    (pool or QThreadPool.globalInstance()).start(worker)
    return worker
