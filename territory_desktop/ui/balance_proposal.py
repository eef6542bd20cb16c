"""The balancing proposal: a dock listing the changes per territory and the scores of each alternative,
with the moved units highlighted on the map; Apply (one undo step), Save as scenario, Discard.

The map shows the plan as it would be after Apply: moved units in the colour of the territory they would
join, hatched, each moved area outlined thinly in magenta, the old boundaries as thin grey lines
(ui.proposal_view).
"""

from __future__ import annotations

import pandas as pd
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..models import Project
from ..services.metrics import MEASURE_LABELS
from ..services.scenario_balance import BalanceRun, Proposal, ProposalOutcome, apply_as_new_scenario
from . import plaintext as msg
from .commands import AssignUnitsCommand
from .plaintext import esc

OVERLAY_PREFIX = "balance:"
HIGHLIGHT = "#e0007a"  # outline of moved units: magenta, unlike any territory fill
LABELS = {"workload_hours": "Hours", "accounts": "Accounts", "potential": "Potential"}  # short table headings


def _measure_name(m: str) -> str:
    return esc(MEASURE_LABELS.get(m, (m, ""))[0])  # a unit column name may hold markup


def score_text(p: Proposal) -> str:
    """Scores in a few lines of HTML: balance per measure, cut edges, Polsby-Popper, disruption. Names from
    the project (measures, territories in the message and warnings) are escaped."""
    s, sc = p.summary, p.summary.scores
    lines = []
    if s.failure:
        lines.append(f"<b style='color:#b00'>Not within tolerance:</b> {esc(s.failure)}")
    for m, b in sc.balance.items():
        ok = "within" if b.within_tolerance else "<b style='color:#b00'>outside</b>"
        tol = f" +/-{b.tolerance * 100:.1f} %" if b.tolerance is not None else ""
        lines.append(f"{_measure_name(m)}: max/mean <b>{b.max_over_mean:.3f}</b>, min/mean "
                     f"<b>{b.min_over_mean:.3f}</b> ({ok}{tol})")
    parts = [f"cut edges <b>{sc.cut_edges}</b>"]
    if sc.polsby_popper_mean is not None:
        parts.append(f"Polsby-Popper mean <b>{sc.polsby_popper_mean:.2f}</b>, min {sc.polsby_popper_min:.2f}")
    if sc.split_territories:
        parts.append(f"<b style='color:#b00'>{sc.split_territories} split territories</b>")
    if (objective := s.objective_text()) is not None:
        parts.insert(0, f"<b>{esc(objective)}</b>")
    lines.append(", ".join(parts))
    moved = f"units moved <b>{len(p.changes):,}</b>"
    if sc.disruption is not None:
        moved += f" ({sc.disruption.units_moved_fraction * 100:.1f} %)"
        for m, (_amount, fraction) in sc.disruption.measures.items():
            moved += f", {_measure_name(m)} moved {fraction * 100:.1f} %"
    lines.append(moved)
    lines.extend(f"<b style='color:#b00'>Warning:</b> {esc(w)}" for w in p.warnings[:3])
    if len(p.warnings) > 3:
        lines.append(f"<b style='color:#b00'>... and {len(p.warnings) - 3} more reps outside their territory</b>")
    return "<br>".join(lines)


class ProposalPanel(QWidget):
    """Shows a :class:`BalanceRun` for a main window; ``closed`` is emitted after Apply/Save/Discard."""

    closed = Signal(object)  # a ProposalOutcome

    def __init__(self, window, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.run: BalanceRun | None = None
        self.project: Project | None = None
        self.choice = QComboBox()
        self.choice.setToolTip("Alternative plans (one per seed), best first")
        self.choice.currentIndexChanged.connect(self._show)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.apply_button = QPushButton("&Apply")
        self.apply_button.setToolTip("Apply the plan to the current scenario (one undo step)")
        self.save_button = QPushButton("Save as &Scenario")
        self.save_button.setToolTip("Keep the current plan; add the proposal as a new scenario")
        self.discard_button = QPushButton("&Discard")
        self.apply_button.clicked.connect(self.apply)
        self.save_button.clicked.connect(self.save_as_scenario)
        self.discard_button.clicked.connect(self.discard)
        buttons = QHBoxLayout()
        for b in (self.apply_button, self.save_button, self.discard_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.choice)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    @property
    def proposal(self) -> Proposal | None:
        i = self.choice.currentIndex()
        return self.run.proposals[i] if self.run is not None and 0 <= i < len(self.run.proposals) else None

    def set_run(self, run: BalanceRun) -> None:
        self.run = run
        self.project = self.window.project  # the proposal belongs to this project only
        self.choice.blockSignals(True)
        self.choice.clear()
        for i, p in enumerate(run.proposals):
            b = next(iter(p.summary.scores.balance.values()))
            within = "" if p.summary.within_tolerance else " (not within tolerance)"
            self.choice.addItem(f"{'Best: ' if i == 0 else ''}seed {p.seed}: max/mean {b.max_over_mean:.3f}, "
                                f"{p.summary.scores.cut_edges} cut edges, {len(p.changes):,} moved{within}")
        self.choice.setVisible(len(run.proposals) > 1)
        self.choice.blockSignals(False)
        self._show()

    def _show(self) -> None:
        p = self.proposal
        if p is None:
            return
        self.summary.setText(score_text(p))
        frame = p.table
        self.frame = frame
        self._fill(frame)
        extra = set(p.assignment.values()) - set(self.window.project.scenario_territories()["territory_id"].astype(str))
        self.apply_button.setEnabled(not extra)
        self.apply_button.setToolTip("Apply the plan to the current scenario (one undo step)" if not extra else
                                     f"The plan has {len(extra)} new territories: use Save as Scenario")
        self.highlight(p)

    def _fill(self, frame: pd.DataFrame) -> None:
        cols = ["name", "units_in", "units_out"] + [c for c in frame.columns if c.endswith(("_before", "_after",
                                                                                            "_dev_pct"))]
        heads = {"name": "Territory", "units_in": "Units in", "units_out": "Units out"}
        for m, label in LABELS.items():
            heads.update({f"{m}_before": f"{label} before", f"{m}_after": f"{label} after",
                          f"{m}_dev_pct": f"{label} dev %"})
        self.table.setSortingEnabled(False)
        self.table.clear()
        self.table.setColumnCount(len(cols))
        self.table.setRowCount(len(frame))
        self.table.setHorizontalHeaderLabels([heads.get(c, c) for c in cols])
        for r, values in enumerate(frame.to_dict("records")):  # not itertuples: it renames odd column names
            for c, col in enumerate(cols):
                v = values[col]
                item = QTableWidgetItem()
                if isinstance(v, str):
                    item.setText(v)
                else:
                    shown = round(float(v), 1) if col.endswith(("_dev_pct", "hours_before", "hours_after")) \
                        else round(float(v))
                    item.setData(Qt.ItemDataRole.DisplayRole, shown)
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    if col.endswith("_dev_pct") and self.run is not None:
                        tol = self.run.opts.tolerance_for.get(col[:-8], self.run.opts.tolerance) * 100
                        if abs(float(v)) > tol + 1e-9:
                            item.setForeground(QColor("#b00000"))
                self.table.setItem(r, c, item)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    # ---- map highlight
    def highlight(self, p: Proposal | None) -> None:
        """The map as the proposal would leave it: new fills, moved units hatched, old boundaries thin
        (ui.proposal_view)."""
        from .proposal_view import show_proposal_on

        canvas = self.window.canvas
        if canvas.renderer is None:
            return
        clear_highlight(canvas, update=False)
        if p is not None and p.changes:
            show_proposal_on(canvas, p.changes)
        canvas.update()

    # ---- outcomes
    def _stale(self) -> bool:
        """True (and the proposal discarded, with a message) when another project was opened since."""
        if self.window.project is self.project:
            return False
        msg.warning(self, "Balance proposal", "The proposal belongs to a project that is no longer open.")
        self.discard()
        return True

    def _drift(self) -> list[str]:
        plan = self.window.project.plan
        return [u for u, t in self.run.before.items() if plan.territory_of(u) != t]

    def apply(self) -> bool:
        """Push ONE AssignUnitsCommand with every change of the chosen plan; returns True when applied."""
        p, w = self.proposal, self.window
        if p is None or w.project is None or self._stale():
            return False
        if p.scenario_id != w.project.active_scenario:
            msg.warning(self, "Apply balance", f"The proposal is for scenario '{p.scenario_id}', "
                        f"not the current '{w.project.active_scenario}'.")
            return False
        if p.warnings and msg.question(
                self, "Apply balance", "\n".join(["After this plan:", *p.warnings, "", "Apply anyway?"])
                ) != QMessageBox.StandardButton.Yes:
            return False
        drift = self._drift()
        if drift and msg.question(
                self, "Apply balance", f"{len(drift)} units changed territory since the plan was computed; "
                "applying sets every moved unit as proposed. Apply anyway?") != QMessageBox.StandardButton.Yes:
            return False
        changes = {u: new for u, (_old, new) in p.changes.items()}
        n = len(changes)
        w.undo_stack.push(AssignUnitsCommand(w.project, changes, f"Apply balance: {n} unit{'s' if n != 1 else ''} moved"))
        w.statusBar().showMessage(f"Balance applied: {n} units moved (Ctrl+Z undoes it)", 6000)
        self._close(ProposalOutcome.APPLIED)
        return True

    def save_as_scenario(self) -> str | None:
        """Write the chosen plan as a new scenario (the current plan is untouched); returns its id."""
        p, w = self.proposal, self.window
        if p is None or w.project is None or self._stale():
            return None
        sid = apply_as_new_scenario(w.project, p)
        w.mark_modified()
        w.state.scenarios_edited()  # the scenario switcher lists it: the planner can look at it
        w.statusBar().showMessage(f"Saved as scenario '{sid}' ({len(p.changes)} units differ from "
                                  f"'{p.scenario_id}'); save the project to keep it", 8000)
        self.saved_scenario = sid
        self._close(ProposalOutcome.SAVED)
        return sid

    def discard(self) -> None:
        self._close(ProposalOutcome.DISCARDED)

    def _close(self, how: ProposalOutcome) -> None:
        clear_highlight(self.window.canvas)
        self.run = None
        self.choice.clear()
        self.table.setRowCount(0)
        self.summary.clear()
        self.closed.emit(how)


def clear_highlight(canvas, update: bool = True) -> None:
    """Remove every balancing overlay from the canvas."""
    if canvas.renderer is None:
        return
    for key in [k for k in canvas.renderer.overlays if k.startswith(OVERLAY_PREFIX)]:
        del canvas.renderer.overlays[key]
    canvas.renderer.muted_outlines = set()
    canvas.renderer.label_shapes = None
    if update:
        canvas.update()
