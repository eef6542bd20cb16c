"""Territory totals kept up to date from the units an edit reassigned: the live territory table under
the brush and after undo/redo.

:func:`metrics.territory_totals` recomputes everything from the accounts (ownership, positions, sums:
15-20 ms on the demo's 20,000 accounts, several times per second while painting). A
:class:`LiveTotals` snapshot does that work once and afterwards moves only the reassigned units'
measures: each territory's sums minus the measures of the units that left it, plus those of the units
that joined it. The snapshot covers one scenario's plan and the project's accounts, territories and
account overrides as they were when it was built; :meth:`LiveTotals.current` says whether it still
does (anything but a unit reassignment needs a new snapshot).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..engine.metrics import deviation_pct, positions
from ..models import Project
from .metrics import MEASURES, account_workload_array
from .ownership import account_owners, fixed_owners
from .workload import AccountArrays, account_arrays

LABELS = ("territory_id", "name", "rep_id", "kind", "parent_id")


class LiveTotals:
    """Units, accounts, workload (h/yr) and potential per territory of one scenario, updated per edit.

    ``sums`` (territories x MEASURES) and ``units`` are the numbers of :func:`metrics.territory_totals`;
    ``owners`` the territory owning each account (``project.accounts`` order, None: none), as
    :func:`ownership.account_owners` returns them, kept in step for the route workload.
    """

    def __init__(self, project: Project, scenario_id: str | None = None) -> None:
        self.project = project
        self.scenario_id = sid = scenario_id or project.active_scenario
        self.plan = project.plans[sid]
        self.territories = project.scenario_territories(sid)
        self._source = self._identity()
        self.ids = self.territories["territory_id"].astype(str).tolist()
        fixed = fixed_owners(project, sid)
        self.owners = account_owners(project, sid, fixed=fixed).to_numpy().copy()
        assignment = self.plan.as_dict()
        unit_ids = list(assignment)
        self._unit_index = {u: i for i, u in enumerate(unit_ids)}
        #: the territory id of each unit (None: none) and its row (-1: not a territory of the scenario)
        self._owner_of_unit = np.array([*assignment.values(), None], dtype=object)[:-1]
        self._owner_of_unit[pd.isna(self._owner_of_unit)] = None
        self.unit_row = positions(self.ids, self._owner_of_unit)
        a = project.accounts
        weights = np.column_stack([np.ones(len(a)), account_workload_array(project), a["potential"].to_numpy(float)]) \
            if len(a) else np.zeros((0, len(MEASURES)))
        acc_unit = positions(unit_ids, a["unit_id"].to_numpy(dtype=object))
        follows = np.flatnonzero(pd.isna(fixed) & (acc_unit >= 0))  # accounts that move with their unit
        n_units, n = len(unit_ids), len(self.ids)
        #: measures of the accounts that move with each unit (units x MEASURES)
        self.unit_measures = np.column_stack([np.bincount(acc_unit[follows], weights=weights[follows, k],
                                                          minlength=n_units) for k in range(len(MEASURES))]
                                             ).astype(float) if n_units else np.zeros((0, len(MEASURES)))
        order = np.argsort(acc_unit[follows], kind="stable")
        self._unit_accounts = follows[order]  # accounts grouped by unit: unit i's are [_starts[i], _starts[i+1])
        self._starts = np.searchsorted(acc_unit[self._unit_accounts], np.arange(n_units + 1))
        pinned = positions(self.ids, fixed)
        kept = np.flatnonzero(pinned >= 0)
        #: measures of the accounts owned by an override or a rule, per territory: they never move
        self.fixed_sums = np.column_stack([np.bincount(pinned[kept], weights=weights[kept, k], minlength=n)
                                           for k in range(len(MEASURES))]) if n else np.zeros((0, len(MEASURES)))
        self.units = np.zeros(n, dtype=int)
        self.fixed_sums = self.fixed_sums.astype(float)  # bincount of no accounts gives integers
        self.sums = self.fixed_sums.copy()
        self._add_units(np.flatnonzero(self.unit_row >= 0), 1)

    def _identity(self) -> tuple:
        """What the snapshot was built from: the scenario, its plan (object, size, account overrides), the
        accounts and reps (objects, sizes) and every value of the territories table (an edit in place)."""
        p = self.project
        plan = p.plans.get(self.scenario_id)
        return (p.active_scenario, id(plan), len(plan) if plan is not None else -1,
                tuple(sorted(plan.account_overrides().items())) if plan is not None else (),
                id(p.accounts), len(p.accounts), id(p.reps), len(p.reps),
                tuple(map(tuple, p.territories.to_numpy(dtype=object).tolist())))

    def current(self) -> bool:
        """True while the snapshot still describes the project: same scenario, plan, accounts,
        territories and account overrides (a unit reassignment is what :meth:`update` follows)."""
        return self._identity() == self._source

    def _add_units(self, units: np.ndarray, sign: int) -> None:
        """Add (``sign`` 1) or remove (-1) the measures of ``units`` to or from their ``unit_row``."""
        rows = self.unit_row[units]
        keep = rows >= 0
        units, rows = units[keep], rows[keep]
        n = len(self.ids)
        self.units += sign * np.bincount(rows, minlength=n)
        for k in range(len(MEASURES)):
            self.sums[:, k] += sign * np.bincount(rows, weights=self.unit_measures[units, k], minlength=n)

    def update(self, unit_ids: Iterable[str]) -> list[int] | None:
        """Follow the plan for ``unit_ids`` (units reassigned since the last call): their measures leave
        their old territory's sums and join the new one's. Returns the rows whose numbers changed, or
        None when the snapshot no longer describes the project (build a new one)."""
        if not self.current():
            return None
        idx = [self._unit_index.get(u, -1) for u in unit_ids]
        if not idx:
            return []
        if min(idx) < 0:
            return None  # a unit the snapshot does not know
        units = np.unique(np.array(idx, dtype=np.int64))
        plan = self.plan
        new = np.array([plan.territory_of(u) for u in self.unit_ids_of(units)] + [None], dtype=object)[:-1]
        new[pd.isna(new)] = None
        new_rows = positions(self.ids, new)
        moved = (new_rows != self.unit_row[units]) | (new != self._owner_of_unit[units])
        units, new_rows, new = units[moved], new_rows[moved], new[moved]
        if not len(units):
            return []
        touched = set(self.unit_row[units].tolist()) | set(new_rows.tolist())
        self._add_units(units, -1)
        self.unit_row[units] = new_rows
        self._add_units(units, 1)
        accounts = np.concatenate([self._unit_accounts[self._starts[u]:self._starts[u + 1]] for u in units])
        self.owners[accounts] = np.repeat(new, self._starts[units + 1] - self._starts[units])
        self._owner_of_unit[units] = new
        touched.discard(-1)
        emptied = [r for r in touched if self.units[r] == 0]
        self.sums[emptied] = self.fixed_sums[emptied]  # no round-off left behind ("-0 h/yr")
        return sorted(touched)

    def route_accounts(self) -> AccountArrays:
        """The accounts' positions, visits and service times for the route workload (read once)."""
        arrays = self.__dict__.get("_route_accounts")
        if arrays is None:
            arrays = self._route_accounts = account_arrays(self.project)
        return arrays

    def unit_ids_of(self, units: np.ndarray) -> list[str]:
        """The unit ids at snapshot positions ``units``."""
        ids = self.__dict__.get("_ids_by_position")
        if ids is None:
            ids = self._ids_by_position = np.array(list(self._unit_index), dtype=object)
        return ids[units].tolist()

    def owners_series(self) -> pd.Series:
        """:attr:`owners` as :func:`ownership.account_owners` returns them (index account_id)."""
        return pd.Series(self.owners, index=pd.Index(self.project.accounts["account_id"].to_numpy(), dtype=object),
                         name="territory_id", dtype=object)

    def frame(self) -> pd.DataFrame:
        """One row per territory, the columns of :func:`metrics.territory_totals`."""
        terr = self.territories
        labels = self.__dict__.get("_labels")
        if labels is None:  # the territories' own dtypes (object ids stay objects), made once
            labels = self._labels = {k: pd.Series(terr[k].to_numpy(), dtype=terr[k].dtype, copy=False) for k in LABELS}
            self._geo = (terr["kind"] != "account").to_numpy()
        columns: dict[str, object] = dict(labels)
        columns["units"] = self.units.copy()
        for k, m in enumerate(MEASURES):
            columns[m] = self.sums[:, k].copy()
        columns["accounts"] = np.rint(self.sums[:, 0]).astype(int) if len(self.ids) else np.zeros(0, int)
        geo = self._geo
        dev = np.zeros(len(self.ids))
        if geo.any():
            dev[geo] = deviation_pct(self.sums[geo, 1])
        columns["workload_deviation_pct"] = dev
        return pd.DataFrame(columns)
