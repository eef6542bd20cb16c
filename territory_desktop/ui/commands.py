"""Undo commands over the Plan and Project, and the Qt bridge re-emitting Plan changes as signals."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from ..models import Plan, Project

ASSIGN_ID = 1001


class PlanBridge(QObject):
    """Re-emits a Plan's listener calls as Qt signals (``assignmentChanged(unit_ids)``)."""

    assignmentChanged = Signal(list)
    accountOverridesChanged = Signal(list)

    def __init__(self, plan: Plan, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.plan = plan
        self.active = True
        plan.on_assignment_changed(self._units)
        plan.on_account_override_changed(self._accounts)

    def _units(self, unit_ids: list[str]) -> None:
        if self.active:
            self.assignmentChanged.emit(list(unit_ids))

    def _accounts(self, account_ids: list[str]) -> None:
        if self.active:
            self.accountOverridesChanged.emit(list(account_ids))

    def detach(self) -> None:
        """Unsubscribe from the Plan: a detached bridge is no longer called (no listener is left behind)."""
        self.active = False
        self.plan.remove_listener(self._units)
        self.plan.remove_listener(self._accounts)


class PlanUndoStack(QUndoStack):
    """The window's undo stack: a command that would change a frozen scenario (under review or published,
    ``Plan.frozen``) is not pushed (nor run), nor undone or redone (a scenario frozen after the command was
    pushed keeps what it holds); ``refused(reason, during_stroke)`` says why instead. A command says
    why it may not run with ``refusal()`` (None: it may)."""

    refused = Signal(str, bool)

    def push(self, command: QUndoCommand) -> None:
        if not self._refused(command):
            super().push(command)

    def undo(self) -> None:
        """Undo the command before the index, unless its ``refusal()`` says no (the index stays)."""
        if self.index() > 0 and not self._refused(self.command(self.index() - 1), "Undo"):
            super().undo()

    def redo(self) -> None:
        """Redo the command at the index, unless its ``refusal()`` says no (the index stays)."""
        if self.index() < self.count() and not self._refused(self.command(self.index()), "Redo"):
            super().redo()

    def _refused(self, command: QUndoCommand | None, step: str = "") -> bool:
        reason = getattr(command, "refusal", lambda: None)()
        if reason:
            text = f"{step} of '{command.text()}' refused: {reason}" if step else reason
            self.refused.emit(text, getattr(command, "stroke", None) is not None)
        return bool(reason)


class AssignUnitsCommand(QUndoCommand):
    """Assign units to territories. Commands of the same ``stroke`` merge into one undo step."""

    def __init__(self, project: Project, changes: Mapping[str, str | None], text: str = "",
                 stroke: int | None = None) -> None:
        super().__init__()
        self.project = project
        self.plan = project.plan
        self.new: dict[str, str | None] = dict(changes)
        self.old: dict[str, str | None] | None = None
        self.stroke = stroke
        self._text = text
        self._update_text()

    def refusal(self) -> str | None:
        """Why this edit may not run (its scenario is frozen), or None."""
        return self.plan.frozen

    def _update_text(self) -> None:
        n = len(self.new)
        self.setText(self._text or f"Assign {n} unit{'s' if n != 1 else ''}")

    def redo(self) -> None:
        previous = self.plan.assign_many(self.new)
        if self.old is None:
            self.old = previous
        self.project.mark_dirty("plans")

    def undo(self) -> None:
        self.plan.assign_many(self.old or {})
        self.project.mark_dirty("plans")

    def id(self) -> int:
        return ASSIGN_ID if self.stroke is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, AssignUnitsCommand) or other.stroke != self.stroke or self.stroke is None:
            return False
        for unit, territory in (other.old or {}).items():
            self.old.setdefault(unit, territory)  # the state before the whole stroke
        self.new.update(other.new)
        self._text = ""
        self._update_text()
        self.setText(f"Brush: {len(self.new)} unit{'s' if len(self.new) != 1 else ''}")
        return True


class AccountOverrideCommand(QUndoCommand):
    """Move accounts to a territory regardless of their unit (None clears the override)."""

    def __init__(self, project: Project, changes: Mapping[str, str | None], text: str = "") -> None:
        super().__init__(text or f"Move {len(changes)} account(s)")
        self.project = project
        self.new = dict(changes)
        self.old: dict[str, str | None] | None = None

    def refusal(self) -> str | None:
        return self.project.plan.frozen

    def redo(self) -> None:
        previous = self.project.plan.set_account_overrides(self.new)
        if self.old is None:
            self.old = previous
        self.project.mark_dirty("plans")

    def undo(self) -> None:
        self.project.plan.set_account_overrides(self.old or {})
        self.project.mark_dirty("plans")


class SnapshotCommand(QUndoCommand):
    """Run ``edit(project)`` once (``apply_first``), then undo and redo put back the snapshots taken
    before and after it. A subclass says what a snapshot holds (``snapshot``), how it is put back
    (``restore``) and what follows an applied edit (``edited``)."""

    #: put the before-snapshot back when the edit raises (it may have changed the project half-way)
    restore_on_error = True

    def __init__(self, edit: Callable[[Project], object], text: str) -> None:
        super().__init__(text)
        self.edit = edit
        self.before_state: tuple | None = None
        self.after_state: tuple | None = None
        self.result: object = None
        self._skip_redo = False

    def target(self) -> Project:
        raise NotImplementedError

    def snapshot(self) -> tuple:
        raise NotImplementedError

    def restore(self, state: tuple) -> None:
        raise NotImplementedError

    def edited(self) -> None:
        """After the edit ran (not after undo/redo, which ``restore`` handles)."""

    def apply_first(self) -> object:
        """Run the edit now (errors propagate to the caller, nothing is pushed); then push the command,
        whose first redo (fired by the push) does nothing."""
        self.before_state = self.snapshot()
        try:
            self.result = self.edit(self.target())
        except Exception:
            if self.restore_on_error:
                self.restore(self.before_state)
            raise
        self.after_state = self.snapshot()
        self._skip_redo = True
        self.edited()
        return self.result

    def redo(self) -> None:
        if self._skip_redo:
            self._skip_redo = False
        elif self.after_state is None:
            self.apply_first()
            self._skip_redo = False
        else:
            self.restore(self.after_state)

    def undo(self) -> None:
        if self.before_state is not None:
            self.restore(self.before_state)


class ProjectSnapshotCommand(SnapshotCommand):
    """A :class:`SnapshotCommand` on one project, calling ``after()`` (if given) after every change."""

    def __init__(self, project: Project, edit: Callable[[Project], object], text: str,
                 after: Callable[[], None] | None = None) -> None:
        super().__init__(edit, text)
        self.project = project
        self.after = after

    def target(self) -> Project:
        return self.project


class TablesSnapshotCommand(ProjectSnapshotCommand):
    """A :class:`ProjectSnapshotCommand` whose snapshot is the project's frames named by ``tables`` (each
    also its dirty flag, e.g. "quotas", "lead_rules"): undo and redo put them back and call ``after()``,
    as does the edit. The edit must refuse before it changes anything (nothing is restored on error)."""

    tables: tuple[str, ...] = ()
    restore_on_error = False

    def snapshot(self) -> tuple:
        return tuple(getattr(self.project, name).copy() for name in self.tables)

    def restore(self, state: tuple) -> None:
        for name, frame in zip(self.tables, state, strict=True):
            setattr(self.project, name, frame.copy())
        self.project.mark_dirty(*self.tables)
        self.edited()

    def edited(self) -> None:
        if self.after:
            self.after()


class ProjectEditCommand(ProjectSnapshotCommand):
    """Run ``edit(project)`` (a services.editing call); undo restores territories, units' locks,
    assignments and overrides as they were (snapshot), firing the Plan's listeners."""

    def snapshot(self) -> tuple:
        p = self.project
        locked = p.units["locked"].copy() if "locked" in p.units else None
        return (p.territories.copy(), locked, p.plan.as_dict(), p.plan.account_overrides())

    def restore(self, state: tuple) -> None:
        p = self.project
        territories, locked, units, overrides = state
        p.territories = territories.copy()
        if locked is not None:
            p.units["locked"] = locked.to_numpy()
        p.plan.assign_many(units)
        current = p.plan.account_overrides()
        clear = {a: None for a in current if a not in overrides}
        p.plan.set_account_overrides({**clear, **overrides})
        p.mark_dirty("territories", "units", "plans")
        if self.after:
            self.after()

    def edited(self) -> None:
        self.project.mark_dirty("territories", "units", "plans")
        if self.after:
            self.after()


def route_snapshot(rep_plan) -> tuple[dict, list]:
    """The days and per-account planned counts of a rep's visit plan (days are replaced, never mutated,
    by re-routing, so a shallow copy is a snapshot)."""
    return dict(rep_plan.plan.days), [(c, c.planned) for c in rep_plan.plan.coverage]


def _restore_routes(rep_plan, snapshot: tuple[dict, list]) -> None:
    days, coverage = snapshot
    rep_plan.plan.days.clear()
    rep_plan.plan.days.update(days)
    for c, planned in coverage:
        c.planned = planned


class RouteEditCommand(QUndoCommand):
    """A visit moved to another day or cancelled in a rep's route plan, already applied by the routes
    dock's worker. Undo/redo swap the days back and forth; ``show(rep_plan, day)`` redraws the dock
    and stores the plan in the project."""

    def __init__(self, rep_plan, before: tuple[dict, list], text: str, day,
                 show: Callable[[object, object], None]) -> None:
        super().__init__(text)
        self.rep_plan = rep_plan
        self.before = before
        self.after = route_snapshot(rep_plan)
        self.day = day
        self.show = show
        self._applied = True  # the worker did the first redo

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        _restore_routes(self.rep_plan, self.after)
        self.show(self.rep_plan, self.day)

    def undo(self) -> None:
        _restore_routes(self.rep_plan, self.before)
        self.show(self.rep_plan, self.day)
