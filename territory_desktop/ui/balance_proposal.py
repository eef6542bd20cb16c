"""The balancing proposal: a dock listing the changes per territory and the scores of each alternative,
with the moved units highlighted on the map; Apply (one undo step), Save as scenario, Discard.

The map shows the plan as it would be after Apply: moved units in the colour of the territory they would
join, hatched, each moved area outlined thinly in magenta, the old boundaries as thin grey lines
(ui.proposal_view).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
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
from ..services.balancing import BalanceOptions, Proposal, align_labels, apply_as_new_scenario
from .commands import AssignUnitsCommand

OVERLAY_PREFIX = "balance:"
HIGHLIGHT = "#e0007a"  # outline of moved units: magenta, unlike any territory fill
TABLE_MEASURES = ("workload_hours", "accounts", "potential")
LABELS = {"workload_hours": "Hours", "accounts": "Accounts", "potential": "Potential"}


@dataclass
class BalanceRun:
    """What a balancing run produced: proposals best first, the plan it started from, unit measures."""

    proposals: list[Proposal]
    before: dict[str, str | None]  # unit_id -> territory at the start of the run
    measures: pd.DataFrame  # per unit (index unit_id): accounts, workload_hours, potential
    opts: BalanceOptions
    errors: list[str] = field(default_factory=list)  # messages of alternatives that failed


def rank(proposals: list[Proposal]) -> list[Proposal]:
    """Best first: within tolerance, then fewest cut edges, then fewest units moved."""
    return sorted(proposals, key=lambda p: (not p.scores.get("within_tolerance", False),
                                            p.scores.get("cut_edges", 0), len(p.changes)))


def proposal_from_labels(project: Project, opts: BalanceOptions, scenario_id: str, labels: np.ndarray,
                         seed: int, message: str) -> Proposal:
    """A proposal from an engine label array (unit order of ``project.units``), e.g. the best plan an
    InfeasibleError carries; territory ids are picked as ``propose_project_balance`` picks them."""
    terr = project.scenario_territories(scenario_id)
    tids = terr[terr["kind"].fillna("geographic") == "geographic"]["territory_id"].astype(str).tolist()
    k = opts.k or len(tids)
    tids = (tids + [f"N{i + 1:03d}" for i in range(max(0, k - len(tids)))])[:k]
    plan = project.plans[scenario_id]
    ids = project.units["unit_id"].astype(str).tolist()
    labels = np.asarray(labels, dtype=np.int64)
    index = {t: i for i, t in enumerate(tids)}
    current = np.array([index.get(plan.territory_of(u), -1) for u in ids], dtype=np.int64)
    locked = project.units["locked"].fillna(False).astype(bool) if "locked" in project.units else None
    if opts.mode == "build" and (current >= 0).all() and (locked is None or not locked.any()):
        labels = align_labels(labels, current)
    new = {u: tids[t] for u, t in zip(ids, labels)}
    changes = {u: (plan.territory_of(u), new[u]) for u in ids if plan.territory_of(u) != new[u]}
    scores = {"within_tolerance": False, "message": message, "seed": seed,
              "disruption": {"units_moved": len(changes), "units_moved_fraction": len(changes) / max(len(ids), 1)}}
    return Proposal(scenario_id, new, changes, pd.DataFrame(), scores, seed)


def change_table(project: Project, run: BalanceRun, proposal: Proposal) -> pd.DataFrame:
    """Per territory of the proposal: units in/out, before/after of workload, accounts, potential and the
    after-deviation from the mean of every balanced measure (percent)."""
    names = dict(zip(project.territories["territory_id"].astype(str), project.territories["name"].astype(str)))
    tids = sorted(set(proposal.assignment.values()) - {None}, key=lambda t: (t not in names, t))
    ids = list(proposal.assignment)
    before = pd.Series([run.before.get(u) for u in ids], index=ids, dtype=object)
    after = pd.Series([proposal.assignment[u] for u in ids], index=ids, dtype=object)
    moved = before != after
    um = run.measures.reindex(ids).fillna(0.0)
    rows = pd.DataFrame(index=tids)
    rows["name"] = [names.get(t, t) for t in tids]
    rows["units_in"] = after[moved].value_counts().reindex(tids).fillna(0).astype(int)
    rows["units_out"] = before[moved].value_counts().reindex(tids).fillna(0).astype(int)
    shown = [m for m in TABLE_MEASURES if m in um.columns and (m in run.opts.measures or m != "potential")]
    for m in shown:
        rows[f"{m}_before"] = um[m].groupby(before.to_numpy()).sum().reindex(tids).fillna(0.0)
        rows[f"{m}_after"] = um[m].groupby(after.to_numpy()).sum().reindex(tids).fillna(0.0)
    for m in run.opts.measures:
        if f"{m}_after" in rows:
            mean = rows[f"{m}_after"].mean()
            rows[f"{m}_dev_pct"] = (rows[f"{m}_after"] / mean - 1) * 100 if mean else 0.0
    rows = rows.rename_axis("territory_id").reset_index()
    changed = (rows["units_in"] + rows["units_out"]) > 0
    return pd.concat([rows[changed], rows[~changed]], ignore_index=True)  # territories with moves first


def score_text(p: Proposal) -> str:
    """Scores in a few lines of HTML: balance per measure, cut edges, Polsby-Popper, disruption."""
    s = p.scores
    lines = []
    if s.get("message"):
        lines.append(f"<b style='color:#b00'>Not within tolerance:</b> {s['message']}")
    for m, b in s.get("balance", {}).items():
        ok = "within" if b.get("within_tolerance") else "<b style='color:#b00'>outside</b>"
        lines.append(f"{LABELS.get(m, m)}: max/mean <b>{b['max_over_mean']:.3f}</b>, min/mean "
                     f"<b>{b['min_over_mean']:.3f}</b> ({ok} +/-{b['tolerance']:.1%})")
    parts = []
    if "cut_edges" in s:
        parts.append(f"cut edges <b>{s['cut_edges']}</b>")
    if "polsby_popper_mean" in s:
        parts.append(f"Polsby-Popper mean <b>{s['polsby_popper_mean']:.2f}</b>, min {s['polsby_popper_min']:.2f}")
    if s.get("split_territories"):
        parts.append(f"<b style='color:#b00'>{s['split_territories']} split territories</b>")
    if parts:
        lines.append(", ".join(parts))
    d = s.get("disruption", {})
    moved = f"units moved <b>{len(p.changes)}</b> ({d.get('units_moved_fraction', 0):.1%})"
    for key, value in d.items():
        if key.endswith("_moved_fraction") and key != "units_moved_fraction":
            moved += f", {LABELS.get(key[:-15], key[:-15])} moved {value:.1%}"
    lines.append(moved)
    return "<br>".join(lines)


class ProposalPanel(QWidget):
    """Shows a :class:`BalanceRun` for a main window; ``closed`` is emitted after Apply/Save/Discard."""

    closed = Signal(str)  # "applied", "saved" or "discarded"

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
            b = next(iter(p.scores.get("balance", {}).values()), None)
            bal = f"max/mean {b['max_over_mean']:.3f}, " if b else "not within tolerance, "
            cut = f"{p.scores['cut_edges']} cut edges, " if "cut_edges" in p.scores else ""
            self.choice.addItem(f"{'Best: ' if i == 0 else ''}seed {p.seed}: {bal}{cut}{len(p.changes)} moved")
        self.choice.setVisible(len(run.proposals) > 1)
        self.choice.blockSignals(False)
        self._show()

    def _show(self) -> None:
        p = self.proposal
        if p is None:
            return
        self.summary.setText(score_text(p))
        frame = change_table(self.window.project, self.run, p)
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
        for r, row in enumerate(frame.itertuples(index=False)):
            values = row._asdict()
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
        QMessageBox.warning(self, "Balance proposal", "The proposal belongs to a project that is no longer open.")
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
            QMessageBox.warning(self, "Apply balance", f"The proposal is for scenario '{p.scenario_id}', "
                                f"not the current '{w.project.active_scenario}'.")
            return False
        drift = self._drift()
        if drift and QMessageBox.question(
                self, "Apply balance", f"{len(drift)} units changed territory since the plan was computed; "
                "applying sets every moved unit as proposed. Apply anyway?") != QMessageBox.StandardButton.Yes:
            return False
        changes = {u: new for u, (_old, new) in p.changes.items()}
        n = len(changes)
        w.undo_stack.push(AssignUnitsCommand(w.project, changes, f"Apply balance: {n} unit{'s' if n != 1 else ''} moved"))
        w.statusBar().showMessage(f"Balance applied: {n} units moved (Ctrl+Z undoes it)", 6000)
        self._close("applied")
        return True

    def save_as_scenario(self) -> str | None:
        """Write the chosen plan as a new scenario (the current plan is untouched); returns its id."""
        p, w = self.proposal, self.window
        if p is None or w.project is None or self._stale():
            return None
        sid = apply_as_new_scenario(w.project, p)
        w.setWindowModified(True)
        w.statusBar().showMessage(f"Saved as scenario '{sid}' ({len(p.changes)} units differ from "
                                  f"'{p.scenario_id}'); save the project to keep it", 8000)
        self.saved_scenario = sid
        self._close("saved")
        return sid

    def discard(self) -> None:
        self._close("discarded")

    def _close(self, how: str) -> None:
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
    if update:
        canvas.update()
