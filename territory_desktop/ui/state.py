"""The application state of one main window, without Qt (napari's ``ViewerModel`` shape).

One :class:`AppState` holds what the window shows: the open project, its active scenario, the selected
units and the running background jobs. Every change goes through a method here and fires one event;
docks, panels and the canvas subscribe to the events they need and unsubscribe when they go::

    state = AppState()
    off = state.project_changed.connect(dock.follow_project)   # returns the unsubscribe callable
    state.set_project(project)                                  # -> dock.follow_project(project)
    off()                                                       # or state.project_changed.disconnect(...)

Events (listener arguments):

- ``project_changed(project | None)``: another project was opened, created or closed;
- ``scenario_changed(scenario_id)``: the active scenario switched, or the scenario list changed;
- ``selection_changed(unit_ids)``: the selected units (a tuple of ids);
- ``jobs_changed(jobs)``: a background job started or ended (``{job id: label}`` of the running ones).

No Qt import here: the state is tested and used without a QApplication (tests/ui/test_state.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable

from ..models import InvalidInputError, Project


class Event:
    """A named event with listeners that subscribe (:meth:`connect`) and unsubscribe (:meth:`disconnect`)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._listeners: list[Callable] = []

    def connect(self, listener: Callable) -> Callable[[], None]:
        """Call ``listener(*args)`` on every :meth:`emit`; returns a callable that unsubscribes it."""
        self._listeners.append(listener)
        return lambda: self.disconnect(listener)

    def disconnect(self, listener: Callable) -> None:
        """Unsubscribe ``listener`` (no error when it is not subscribed)."""
        while listener in self._listeners:
            self._listeners.remove(listener)

    def emit(self, *args) -> None:
        for listener in list(self._listeners):
            listener(*args)

    def __len__(self) -> int:
        return len(self._listeners)


class AppState:
    """Project, active scenario, selection and running jobs of one window; see the module docstring."""

    def __init__(self) -> None:
        self.project: Project | None = None
        self.selection: tuple[str, ...] = ()
        self.jobs: dict[int, str] = {}
        self._job_ids = itertools.count(1)
        self.project_changed = Event("project_changed")
        self.scenario_changed = Event("scenario_changed")
        self.selection_changed = Event("selection_changed")
        self.jobs_changed = Event("jobs_changed")

    @property
    def scenario(self) -> str | None:
        """The active scenario's id (None without a project)."""
        return self.project.active_scenario if self.project is not None else None

    def set_project(self, project: Project | None) -> None:
        """Show ``project`` (None: no project); the selection is cleared. Fires even for the same
        project (a re-import changes its tables)."""
        self.project = project
        self.selection = ()
        self.project_changed.emit(project)
        self.selection_changed.emit(self.selection)

    def set_scenario(self, scenario_id: str) -> None:
        """Make ``scenario_id`` the active scenario; an unknown id is refused with its name."""
        if self.project is None:
            raise InvalidInputError("scenario", ["no project is open"])
        from ..services.scenarios import activate_scenario

        if scenario_id == self.project.active_scenario:
            return
        activate_scenario(self.project, scenario_id)
        self.selection = ()
        self.scenario_changed.emit(scenario_id)
        self.selection_changed.emit(self.selection)

    def scenarios_edited(self) -> None:
        """A scenario was added, renamed or removed (Save as Scenario): listeners re-read the list."""
        self.scenario_changed.emit(self.scenario)

    def set_selection(self, unit_ids: Iterable[str]) -> None:
        ids = tuple(unit_ids)
        if ids != self.selection:
            self.selection = ids
            self.selection_changed.emit(ids)

    def job_started(self, label: str) -> int:
        """Record a running background job; returns its id for :meth:`job_ended`."""
        job_id = next(self._job_ids)
        self.jobs[job_id] = label
        self.jobs_changed.emit(dict(self.jobs))
        return job_id

    def job_ended(self, job_id: int) -> None:
        if self.jobs.pop(job_id, None) is not None:
            self.jobs_changed.emit(dict(self.jobs))

    def listener_count(self) -> int:
        """Listeners of all four events (tests check that closing a dock leaves none behind)."""
        return sum(len(e) for e in (self.project_changed, self.scenario_changed, self.selection_changed,
                                    self.jobs_changed))
