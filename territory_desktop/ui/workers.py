"""The one way to run background work: a long ``job(progress, stop)`` in a QThreadPool worker, results
back as Qt signals (Orange3's ``ConcurrentWidgetMixin.start`` shape).

The job is a plain function (a services call) taking ``progress(fraction, message)`` and a
:class:`StopFlag`; it runs off the GUI thread, so the window keeps repainting and Cancel works.
Signals are emitted from the worker thread and delivered queued to receivers in the GUI thread.
:func:`run_job` wires the callbacks, registers the job in the window's :class:`~.state.AppState`
(``jobs_changed``) and starts it; the balancer dialog, the routes dock and printing all use it. Nothing
calls ``processEvents()`` in a loop.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QProgressDialog

from ..models import StopFlag
from ..models.errors import CancelledError
from .state import AppState

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
        except Exception as exc:  # handed to the GUI thread, which decides how to show it
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


def run_job(job: Job, on_done: Callable[[object], None], *, on_failed: Callable[[BaseException], None] | None = None,
            on_cancelled: Callable[[], None] | None = None, on_progress: Callable[[float, str], None] | None = None,
            state: AppState | None = None, label: str = "", pool: QThreadPool | None = None) -> Worker:
    """Run ``job(progress, stop)`` in a worker: ``on_done(result)``, ``on_failed(exc)`` or ``on_cancelled()``
    is called in the GUI thread when it ends, ``on_progress(fraction, message)`` while it runs. With
    ``state`` the job is listed in ``state.jobs`` (``jobs_changed``) from start to end. Returns the worker
    (its :meth:`Worker.cancel` sets the stop flag)."""
    worker = Worker(job)
    s = worker.signals
    if on_progress is not None:
        s.progress.connect(on_progress)
    if state is not None:
        job_id = state.job_started(label or "background job")
        for signal in (s.finished, s.failed, s.cancelled):
            signal.connect(lambda *_a: state.job_ended(job_id))
    s.finished.connect(on_done)
    if on_failed is not None:
        s.failed.connect(on_failed)
    if on_cancelled is not None:
        s.cancelled.connect(on_cancelled)
    return start(worker, pool)


def run_job_with_dialog(parent, title: str, label: str, job: Job, on_done: Callable[[object], None], *,
                        on_failed: Callable[[BaseException], None] | None = None,
                        on_cancelled: Callable[[], None] | None = None, state: AppState | None = None,
                        show: bool = True) -> tuple[Worker, QProgressDialog]:
    """:func:`run_job` with a window-modal progress dialog: its bar and text follow the job's progress, its
    Cancel button cancels the job, and it closes when the job ends (before ``on_done``/``on_failed``/
    ``on_cancelled`` run). Returns the worker and the dialog."""
    dialog = QProgressDialog(label, "Cancel", 0, 1000, parent)
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.setMinimumWidth(380)

    def progress(fraction: float, message: str) -> None:
        dialog.setValue(int(fraction * 1000))
        dialog.setLabelText(f"{label}\n{message}")

    def ended(then):
        def run(*args) -> None:
            dialog.close()
            if then is not None:
                then(*args)
        return run

    worker = run_job(job, ended(on_done), on_failed=ended(on_failed), on_cancelled=ended(on_cancelled),
                     on_progress=progress, state=state, label=label)
    dialog.canceled.connect(lambda: (worker.cancel(), dialog.setLabelText("Cancelling...")))
    if show:
        dialog.show()
    return worker, dialog


class GuiThreadGarbageCollector(QObject):
    """Python's cycle collector runs only in the GUI thread (the pattern of pyqtgraph's GarbageCollector).

    Left automatic, the collector runs in whichever thread allocates when a threshold is crossed: in a
    worker, it may free a dead Qt widget's wrapper there, whose C++ destructor then waits for the GIL
    held by... the worker itself (a deadlock or crash seen in a print job). Here automatic collection is
    off and a timer in the GUI thread collects whenever the thresholds say so, as the collector would.
    """

    def __init__(self, parent: QObject, interval_ms: int = 500) -> None:
        super().__init__(parent)
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def settle(self) -> None:
        """Move the objects alive now (the project just shown: its frames, indexes and the map scene) to
        the permanent generation (``gc.freeze``), so that a full collection walks only the objects made
        since: on the demo about 1 ms instead of 110 ms, a stall that otherwise hit a brush stroke at
        random. The objects an earlier call froze (the project shown before) are thawed and collected
        first, so a closed project is still freed."""
        if gc.get_freeze_count():
            gc.unfreeze()
            gc.collect()
        gc.freeze()

    def check(self) -> None:
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return
