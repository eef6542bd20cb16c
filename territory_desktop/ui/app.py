"""Application start-up: ``run_gui(argv)`` for the GUI and ``render_screenshot`` for docs and reviews."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, Qt
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

from .actions import ICONS
from .main_window import MainWindow

APP_ICON = ICONS / "app" / "territory-desktop-256.png"  # the window and task-bar icon (installer/make-icons.py)


def application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (created once): Fusion style, light or dark palette following the system."""
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication([sys.argv[0] if sys.argv else "territory-desktop", *(argv or [])])
        app.setApplicationName("Territory Desktop")
        app.setOrganizationName("TerritoryDesktop")
        app.setStyle("Fusion")  # Fusion follows the system colour scheme (light/dark) in Qt 6.5+
        app.setWindowIcon(QIcon(str(APP_ICON)))
        from .workers import GuiThreadGarbageCollector

        app.garbage_collector = GuiThreadGarbageCollector(app)  # never collect Qt wrappers in a worker
    return app


#: set to any value, the GUI prints start-up timings as JSON on stdout once the map is painted, and quits
#: (benchmarks/startup.py); TERRITORY_DESKTOP_LAUNCH_TIME (time.time() at launch) is the zero if given
STARTUP_PROBE = "TERRITORY_DESKTOP_STARTUP_PROBE"


def run_gui(argv: list[str]) -> int:
    """Open the main window; ``argv`` may hold a project path. Without one, reopen the most recent
    project if it still exists, else show an empty window. The window shows at once; the project loads
    in a worker thread with a progress bar. Returns the exit code."""
    app = application()
    window = MainWindow(defer_tools=True)
    path = next((a for a in argv if not a.startswith("-")), None)
    if path is None:
        recent = [p for p in window.recent_files() if Path(p).exists()]
        path = recent[0] if recent else None
    window.show()
    if os.environ.get(STARTUP_PROBE):
        _install_probe(app, window)
    if path is not None:
        window.open_path_async(path)
    else:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, window._install_tools)
    opener = _FileOpenFilter(window)
    app.installEventFilter(opener)
    return app.exec()


class _FileOpenFilter(QObject):
    """macOS gives a double-clicked .gpkg (the .app's document type) as a FileOpen event, not in argv."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and event.file():
            self.window.open_path_async(event.file())
            return True
        return super().eventFilter(watched, event)


def _since_launch() -> float:
    import time

    launch = os.environ.get("TERRITORY_DESKTOP_LAUNCH_TIME")
    if launch:
        return time.time() - float(launch)
    with open(f"/proc/{os.getpid()}/stat") as fh:  # process start, in clock ticks since boot
        start_ticks = float(fh.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime") as fh:
        uptime = float(fh.read().split()[0])
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


def _install_probe(app: QApplication, window: MainWindow) -> None:
    """Print {"window_shown_s", "first_paint_s", ...} seconds since launch after the first map paint."""
    import json

    from PySide6.QtCore import QTimer

    marks = {"window_shown_s": round(_since_launch(), 3)}

    def painted() -> None:
        marks["first_paint_s"] = round(_since_launch(), 3)
        project = window.project
        marks.update(units=len(project.units), territories=len(window.table_model.frame),
                     modules=len(sys.modules))
        print(json.dumps(marks), flush=True)
        QTimer.singleShot(0, app.quit)

    window.canvas.firstPainted.connect(painted)


def render_screenshot(project_path: str | os.PathLike, out: str | os.PathLike, size: tuple[int, int] = (1600, 1000),
                      settings_path: str | None = None, setup=None) -> Path:
    """Render the main window with a project offscreen to a PNG (JPEG for a .jpg/.jpeg name). ``setup(window)``
    may change the view (tool, layers, selection) before the grab. Returns the image path."""
    from ..models import ProjectFileError
    from ..services.project import open_project
    from .layout import apply_default_sizes

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    application()
    project = open_project(project_path)
    import tempfile

    scratch = tempfile.TemporaryDirectory()  # default layers every time: no state from earlier runs
    settings = QSettings(settings_path or os.path.join(scratch.name, "screenshot.ini"), QSettings.Format.IniFormat)
    window = MainWindow(project, settings=settings)
    window.resize(*size)
    window.show()
    apply_default_sizes(window)  # the layout a planner sees at first start at this size
    QApplication.processEvents()
    window.canvas.zoom_full()
    if setup is not None:
        setup(window)
    QApplication.processEvents()
    window._refresh_totals(paint_now=True)  # the route columns too, not greyed as owed for a next turn
    image = window.grab()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fmt = "JPEG" if out.suffix.lower() in (".jpg", ".jpeg") else "PNG"  # the format follows the suffix
    if not image.save(str(out), fmt, 92 if fmt == "JPEG" else -1):
        raise ProjectFileError(f"could not write the screenshot to {out}")
    window.undo_stack.setClean()
    window.close()
    scratch.cleanup()
    return out
