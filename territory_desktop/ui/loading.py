"""Opening a project without freezing the window: the file is read and the map prepared in a worker
thread (ui.workers) while a progress bar in the status bar says what is happening; the map is shown as
soon as its data is there, and the sales/visit history (most of a large file, not needed to draw the map)
follows in a second worker."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QProgressBar

from .workers import Worker, start


def load_for_map(load, path: str, progress, _stop) -> tuple:
    """(project, error message, scene) for ``path``, read by ``load(path, history=False)`` (the window's
    ``_load``: project or the error message to show) with the territory shapes, labels and county outlines
    of the full-extent view already built (runs in a worker thread: no widgets here)."""
    from .scene import MapScene

    progress(0.05, f"Reading {Path(path).name}")
    project, error = load(path, history=False)
    if project is None:
        return None, error, None
    progress(0.55, f"Preparing the map of {len(project.units):,} units")
    scene = MapScene(project)
    keys = scene.drawn_keys()
    for i, key in enumerate(keys):
        scene.territory_path(key, 0)
        scene.label_circle(key)
        if i % 8 == 0:
            progress(0.6 + 0.35 * i / max(len(keys), 1), f"Drawing {len(keys)} territories")
    scene.unit_outline_paths(0)  # the full extent shows county outlines too
    return project, None, scene


def progress_bar(window) -> QProgressBar:
    """The status bar's progress bar (created hidden on first use)."""
    bar = getattr(window, "_load_bar", None)
    if bar is None:
        bar = QProgressBar()
        bar.setRange(0, 100)
        bar.setMaximumWidth(220)
        bar.setMaximumHeight(16)
        bar.setTextVisible(False)
        bar.hide()
        window.statusBar().addPermanentWidget(bar)
        window._load_bar = bar
    return bar


def open_in_background(window, path: str) -> Worker:
    """Open ``path`` in ``window`` through a worker; ``window._finish_open(path, project, error, scene)``
    takes the result in the GUI thread, then the history is read in a second worker."""
    bar = progress_bar(window)
    bar.setValue(0)
    bar.show()
    window.statusBar().showMessage(f"Opening {Path(path).name}...")
    worker = Worker(lambda progress, stop: load_for_map(window._load, path, progress, stop))

    def progressed(fraction: float, message: str) -> None:
        bar.setValue(int(fraction * 100))
        window.statusBar().showMessage(message + "...")

    def finished(result) -> None:
        bar.hide()
        project = result[0]
        if window._finish_open(path, *result) and project is not None:
            # after the first paint: a reader holding the interpreter lock would slow the paint down
            window.canvas.firstPainted.connect(lambda: QTimer.singleShot(300, lambda: load_history(window, project)),
                                               Qt.ConnectionType.SingleShotConnection)

    def failed(exc: Exception) -> None:
        bar.hide()
        window._finish_open(path, None, f"{Path(path).name} could not be opened:\n\n{exc}", None)

    worker.signals.progress.connect(progressed)
    worker.signals.finished.connect(finished)
    worker.signals.failed.connect(failed)
    window._open_worker = worker
    return start(worker)


def load_history(window, project) -> Worker | None:
    """Read the sales, visits and opportunities of a project opened map-first, in a worker."""
    from ..services.project import ensure_history, read_project_history

    if not getattr(project, "history_pending", False):
        return None
    # sleeping between chunks of rows hands the interpreter lock to the GUI thread (no convoy effect)
    worker = Worker(lambda _progress, _stop: read_project_history(project.path, pause=lambda: time.sleep(0.01)))

    def finished(tables) -> None:
        from ..models import TerritoryError

        try:
            ensure_history(project, tables)  # a no-op if a save or a route plan already read them
        except TerritoryError as exc:  # another process saved the file meanwhile: Save As still works
            if window.project is project:
                window.statusBar().showMessage(f"History not loaded: {exc}", 15000)
            return
        if window.project is project:
            window.statusBar().showMessage(f"History loaded: {len(project.sales):,} sales rows, "
                                           f"{len(project.visits):,} visits", 4000)

    worker.signals.finished.connect(finished)
    worker.signals.failed.connect(lambda _exc: None)  # ensure_history reads them again when needed
    window._history_worker = worker
    return start(worker)


def import_then(modules: tuple[str, ...], then) -> Worker:
    """Import ``modules`` in a worker thread (the window keeps responding meanwhile), then call ``then()``
    in the GUI thread, which finds them imported and only builds widgets."""
    import importlib

    worker = Worker(lambda _progress, _stop: [importlib.import_module(m) for m in modules])
    worker.signals.finished.connect(lambda _modules: then())
    worker.signals.failed.connect(lambda _exc: then())  # then() imports them itself and reports errors
    _keep.append(worker)
    return start(worker)


_keep: list[Worker] = []  # the signals objects of import workers must outlive their threads
