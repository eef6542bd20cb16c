"""A Plan: which territory each unit (and each overridden account) belongs to in one scenario.

The plan is the model the canvas, tables and KPIs listen to: every change, from a brush stroke, an
undo, the optimiser or an import, goes through :meth:`Plan.assign` and fires ``assignment_changed``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping

from .errors import InfeasibleError

Listener = Callable[[list[str]], None]

#: what a realignment aims at (services.realign; the CLI's --goal choices, kept here so that building the
#: command line does not import the balancer)
REALIGN_GOALS = ("balance", "add-rep", "remove-rep", "new-market")


def units_digest(unit_ids: Iterable[str]) -> str:
    """A short digest of a set of unit ids (order does not matter): equal digests, same units."""
    h = hashlib.blake2b(digest_size=12)
    for u in sorted(map(str, unit_ids)):
        h.update(u.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()


class Plan:
    """Unit -> territory assignment plus account overrides, with change listeners (no Qt)."""

    def __init__(self, units: Mapping[str, str | None] | None = None,
                 account_overrides: Mapping[str, str] | None = None) -> None:
        self._unit_territory: dict[str, str | None] = dict(units or {})
        self._account_overrides: dict[str, str] = dict(account_overrides or {})
        self._listeners: list[Listener] = []
        self._account_listeners: list[Listener] = []
        #: why this plan may not change (its scenario is under review), or None: every change that would
        #: alter an assignment raises InfeasibleError with this text (``services.review`` sets it)
        self.frozen: str | None = None

    # ---- reading
    def territory_of(self, unit_id: str) -> str | None:
        return self._unit_territory.get(unit_id)

    def as_dict(self) -> dict[str, str | None]:
        return dict(self._unit_territory)

    def account_overrides(self) -> dict[str, str]:
        return dict(self._account_overrides)

    def units_of(self, territory_id: str) -> list[str]:
        return [u for u, t in self._unit_territory.items() if t == territory_id]

    def __len__(self) -> int:
        return len(self._unit_territory)

    # ---- listening
    def on_assignment_changed(self, listener: Listener) -> None:
        """Call ``listener(unit_ids)`` after every change of unit assignments."""
        self._listeners.append(listener)

    def on_account_override_changed(self, listener: Listener) -> None:
        """Call ``listener(account_ids)`` after every change of account overrides."""
        self._account_listeners.append(listener)

    def remove_listener(self, listener: Listener) -> bool:
        """Unsubscribe ``listener`` from both kinds of change; True when it was subscribed."""
        found = False
        for listeners in (self._listeners, self._account_listeners):
            while listener in listeners:
                listeners.remove(listener)
                found = True
        return found

    def listener_count(self) -> int:
        """How many listeners are subscribed (both kinds): a leak shows up here."""
        return len(self._listeners) + len(self._account_listeners)

    # ---- changing
    def assign(self, unit_ids: Iterable[str], territory_id: str | None) -> dict[str, str | None]:
        """Assign units to ``territory_id`` (None = orphan). Returns the previous territory of each."""
        return self.assign_many({u: territory_id for u in unit_ids})

    def assign_many(self, changes: Mapping[str, str | None]) -> dict[str, str | None]:
        """Apply ``unit -> territory`` changes at once (one notification). Returns the previous values."""
        previous = {u: self._unit_territory.get(u) for u in changes}
        changed = [u for u, t in changes.items() if previous[u] != t]
        self._refuse_if_frozen(changed)
        for u in changed:
            self._unit_territory[u] = changes[u]
        if changed:
            for listener in list(self._listeners):
                listener(changed)
        return previous

    def remove_units(self, unit_ids: Iterable[str]) -> None:
        """Forget units that no longer exist in the project (after a re-import of units)."""
        gone = [u for u in unit_ids if u in self._unit_territory]
        self._refuse_if_frozen(gone)
        for u in gone:
            del self._unit_territory[u]
        if gone:
            for listener in list(self._listeners):
                listener(gone)

    def set_account_overrides(self, changes: Mapping[str, str | None]) -> dict[str, str | None]:
        """Set (or clear with None) account -> territory overrides. Returns previous values."""
        previous = {a: self._account_overrides.get(a) for a in changes}
        self._refuse_if_frozen([a for a in changes if previous[a] != changes[a]])
        for a, t in changes.items():
            if t is None:
                self._account_overrides.pop(a, None)
            else:
                self._account_overrides[a] = t
        changed = [a for a in changes if previous[a] != changes[a]]
        if changed:
            for listener in list(self._account_listeners):
                listener(changed)
        return previous

    def _refuse_if_frozen(self, changing: list[str]) -> None:
        if changing and self.frozen:
            raise InfeasibleError(self.frozen)
