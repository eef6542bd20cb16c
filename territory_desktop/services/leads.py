"""Lead distribution for a project: read a leads file, assign the leads by the planner's rules, keep them.

``read_leads`` validates a CSV/XLSX (every bad row listed, with its column); ``propose_leads`` runs
``engine.leads.assign_leads`` on the project's active scenario and returns a preview (nothing changed);
``apply_leads`` stores the assignments and the round-robin state in the project, with an audit entry;
``override_rep`` (in a preview) and ``reassign_leads`` (saved leads, after Apply) give leads to a rep by hand.
Account ownership comes from ``services.metrics.account_owners``; the territory's rep from the
territories table (or the rules' ``teams``).
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ..engine.leads import LeadData, LeadOutcome, World, assign_leads, period_keys
from ..engine.leads_match import AccountIndex, AccountMatch, account_index, locate, match_accounts
from ..engine.placement import PolygonIndex
from ..models import InvalidInputError, Project, RowProblem
from ..models.fields import LEAD_FIELDS
from ..models.project import LEAD_COLUMNS
from ..storage.tabular import detect_mapping, read_table, validate_table
from .lead_rules import RuleSet
from .metrics import account_owners
from .ownership import _rule_mask

#: columns of the preview table, one row per lead
PREVIEW_COLUMNS = ["lead_id", "territory_id", "rep_id", "rep_name", "account_id", "matched_by", "explanation",
                   "not_applied", "reason"]
DOMAIN_COLUMNS = ("domain", "website", "web", "url", "email")


@dataclass
class LeadProposal:
    """The preview: ``table`` (``PREVIEW_COLUMNS``), the leads as read, the rotation state after the run."""

    table: pd.DataFrame
    leads: pd.DataFrame
    rotation: dict
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def assigned(self) -> int:
        return int(self.table["rep_id"].notna().sum())

    def unassigned(self) -> pd.DataFrame:
        return self.table[self.table["rep_id"].isna()]


def read_rows(path: str | Path, sheet: str | None = None, encoding: str | None = None):
    """A CSV/XLSX file as text columns: (frame, the spreadsheet row number of each row, notes, and a
    ``validate(fields, id_field, mapping)`` that runs ``storage.tabular.validate_table`` on it)."""
    read = read_table(path, sheet, encoding)
    return (read.frame, read.frame.index.to_numpy(), list(read.notes),
            lambda fields, id_field, mapping: validate_table(read, fields, id_field, mapping))


def read_leads(path: str | Path, mapping: dict[str, str] | None = None, sheet: str | None = None,
               encoding: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The leads of a CSV/XLSX file (lat/lon or ZIP; dates ISO or blank = today), checked all at once."""
    frame, rows, _notes, validate = read_rows(path, sheet, encoding)
    columns = detect_mapping([str(c) for c in frame.columns], LEAD_FIELDS, mapping)
    dates, status, problems = _dates_and_status(frame, columns, rows)
    try:
        data = validate(LEAD_FIELDS, "lead_id", mapping)
    except InvalidInputError as exc:
        if not problems:
            raise
        problems = sorted(exc.problems + problems, key=lambda p: (p.row or 0, p.column or ""))
    if problems:
        raise InvalidInputError(Path(path).name, problems, outcome="nothing was imported")
    out = data.frame
    out["date"] = dates
    out["status"] = status
    return out, data.notes


def _dates_and_status(frame: pd.DataFrame, columns: dict[str, str], rows: np.ndarray):
    """Lead dates as ISO text (blank: today) and status (blank: open), with the rows that are neither."""
    problems = []
    blank = pd.Series([""] * len(frame), index=frame.index)
    text = frame[columns["date"]].astype(str).str.strip() if columns.get("date") in frame else blank
    parsed = pd.to_datetime(text.where(text != ""), errors="coerce", format="mixed")
    for i in np.flatnonzero(((text != "") & parsed.isna()).to_numpy()):
        problems.append(RowProblem(int(rows[i]), columns["date"], f"'{text.iat[i]}' is not a date"))
    raw = frame[columns["status"]].astype(str) if columns.get("status") in frame else blank
    status = raw.str.strip().str.lower().replace("", "open")
    for i in np.flatnonzero(~status.isin(["open", "closed"]).to_numpy()):
        problems.append(RowProblem(int(rows[i]), columns["status"], f"status '{raw.iat[i]}' is not open or closed"))
    dates = parsed.fillna(pd.Timestamp(date.today())).dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    return dates, status.to_numpy(dtype=object), problems


def propose_leads(project: Project, leads: pd.DataFrame, ruleset: RuleSet | None = None) -> LeadProposal:
    """Assign ``leads`` (as ``read_leads`` returns them) without changing the project."""
    ruleset = ruleset or RuleSet()
    if not len(project.scenario_territories()):
        raise InvalidInputError("assign-leads", [("the active scenario has no territories: build or import them "
                                                 "first")])
    known = set(project.leads["lead_id"].astype(str)) if len(project.leads) else set()
    fresh = ~leads["lead_id"].astype(str).isin(known)
    skipped = leads.loc[~fresh, "lead_id"].astype(str).tolist()
    leads = leads[fresh].reset_index(drop=True)
    world, territory_index = build_world(project, ruleset, leads)
    data = lead_data(project, leads, world, territory_index, ruleset)
    outcome = assign_leads(data, world, ruleset.rules, rotation_state(project))
    table = preview_table(leads, world, data, outcome)
    notes = [f"{len(skipped)} leads are already in the project and were left as they are"] if skipped else []
    return LeadProposal(table, leads, outcome.rotation, skipped, notes)


def build_world(project: Project, ruleset: RuleSet, leads: pd.DataFrame) -> tuple[World, dict[str, int]]:
    terr = project.scenario_territories()
    tids = terr["territory_id"].astype(str).to_numpy(dtype=object)
    territory_index = {t: i for i, t in enumerate(tids)}
    reps = project.reps
    rep_ids = reps["rep_id"].astype(str).to_numpy(dtype=object)
    rep_index = {r: i for i, r in enumerate(rep_ids)}
    teams = [tuple(rep_index[r] for r in ruleset.teams.get(t, [rid]) if r in rep_index)
             for t, rid in zip(tids, terr["rep_id"].astype(object), strict=True)]
    owners = account_owners(project).map(territory_index).fillna(-1).to_numpy(np.int64)
    skills = [frozenset(s.strip().lower() for s in str(v or "").split(",") if s.strip()) for v in reps["skills"]]
    open_leads, period_leads = _held_leads(project, rep_index, ruleset.rules.period)
    world = World(tids, terr["name"].astype(str).to_numpy(dtype=object), teams,
                  project.accounts["account_id"].astype(str).to_numpy(dtype=object),
                  project.accounts["name"].astype(str).to_numpy(dtype=object), owners, rep_ids,
                  reps["name"].astype(str).to_numpy(dtype=object), skills, open_leads, period_leads)
    return world, territory_index


def _held_leads(project: Project, rep_index: dict[str, int], period: str):
    """Open leads per rep, and leads per (rep, period), already in the project."""
    held = project.leads
    open_leads = np.zeros(len(rep_index), dtype=np.int64)
    if not len(held):
        return open_leads, {}
    rep = held["rep_id"].map(rep_index)
    ok = rep.notna().to_numpy()
    is_open = ok & (held["status"].astype(str) == "open").to_numpy()
    np.add.at(open_leads, rep[is_open].astype(int).to_numpy(), 1)
    days = pd.to_datetime(held["date"], errors="coerce").to_numpy(dtype="datetime64[D]")
    keys = pd.Series(list(zip(rep[ok].astype(int), period_keys(days[ok], period), strict=True)), dtype=object)
    return open_leads, keys.value_counts().to_dict()


def lead_data(project: Project, leads: pd.DataFrame, world: World, territory_index: dict[str, int],
              ruleset: RuleSet) -> LeadData:
    unit_territory = project.units["unit_id"].map(project.plan.as_dict()).map(territory_index)
    unit_territory = unit_territory.fillna(-1).to_numpy(np.int64)
    geoms = project.units.geometry.to_numpy()
    polygons = _cached(project, "units", (np.asarray(geoms, dtype=object)[unit_territory >= 0],),
                       PolygonIndex) if (unit_territory >= 0).any() else None
    location, inside = locate(leads["lon"].to_numpy(float), leads["lat"].to_numpy(float), geoms, unit_territory,
                              index=polygons)
    n = len(leads)
    if ruleset.rules.active("account_match"):
        match = match_accounts(leads["domain"], leads["company"], threshold=ruleset.rules.fuzzy_threshold,
                               index=accounts_index(project))
    else:
        match = AccountMatch(np.full(n, -1, dtype=np.int64), np.full(n, "", dtype=object), np.zeros(n))
    return LeadData(leads["lead_id"].astype(str).to_numpy(dtype=object), leads["value"].to_numpy(float),
                    leads["industry"].astype(str).str.strip().str.lower().to_numpy(dtype=object),
                    leads["product"].astype(str).str.strip().str.lower().to_numpy(dtype=object),
                    pd.to_datetime(leads["date"]).to_numpy(dtype="datetime64[D]"), location, inside,
                    _rule_territories(project, leads, territory_index), match)


def accounts_index(project: Project) -> AccountIndex:
    """The project's accounts as ``engine.leads_match.account_index`` (domain column: the first of
    ``DOMAIN_COLUMNS`` the accounts have), built once and kept while the account names and domains are the
    same objects."""
    accounts = project.accounts
    domain_col = next((c for c in DOMAIN_COLUMNS if c in accounts.columns), None)
    domains = accounts[domain_col].to_numpy(dtype=object) if domain_col else np.full(len(accounts), "", dtype=object)

    def build(names: np.ndarray, domains: np.ndarray) -> AccountIndex:
        return account_index(domains, pd.Series(names, dtype=object).astype(str).to_numpy(dtype=object))

    return _cached(project, "accounts", (accounts["name"].to_numpy(dtype=object), domains), build)


#: per open project (by id, dropped with the project): name -> (element ids of the inputs, inputs, value)
_CACHES: dict[int, tuple[weakref.ref, dict]] = {}


def _cached(project: Project, name: str, parts: tuple[np.ndarray, ...], build: Callable):
    """``build(*parts)``, kept for ``project`` and reused while ``parts`` hold the very same objects in the
    same order (names and geometries are immutable, and the inputs are kept so their ids stay theirs)."""
    key = id(project)
    entry = _CACHES.get(key)
    if entry is None or entry[0]() is not project:
        def drop(ref: weakref.ref, key: int = key) -> None:
            if key in _CACHES and _CACHES[key][0] is ref:
                del _CACHES[key]

        entry = (weakref.ref(project, drop), {})
        _CACHES[key] = entry
    cache = entry[1]
    ids = [np.fromiter(map(id, part), dtype=np.uint64, count=len(part)) for part in parts]
    hit = cache.get(name)
    if hit is not None and len(hit[0]) == len(ids) and all(
            len(a) == len(b) and np.array_equal(a, b) for a, b in zip(hit[0], ids, strict=True)):
        return hit[2]
    value = build(*parts)
    cache[name] = (ids, parts, value)
    return value


def _rule_territories(project: Project, leads: pd.DataFrame, territory_index: dict[str, int]) -> np.ndarray:
    """Territory index of the first account-attribute territory whose rule matches the lead's fields."""
    out = np.full(len(leads), -1, dtype=np.int64)
    terr = project.scenario_territories()
    for row in terr[terr["kind"] == "account"].itertuples():
        if not row.rule:
            continue
        rule = json.loads(row.rule) if isinstance(row.rule, str) else dict(row.rule)
        rule = {k: v for k, v in rule.items() if k != "account_ids"}  # key-account lists name accounts only
        if rule:
            hit = _rule_mask(leads, rule) & (out < 0)
            out[hit] = territory_index[str(row.territory_id)]
    return out


def rotation_state(project: Project) -> dict:
    rows = project.lead_rotation
    return {str(p): json.loads(s) for p, s in zip(rows["pool"], rows["state"], strict=True) if s}


def _none_last(values) -> np.ndarray:
    """``values`` as an object array with None appended: index -1 (none) reads None."""
    out = np.empty(len(values) + 1, dtype=object)  # object arrays start filled with None
    out[:-1] = values
    return out


def _where_or_none(mask: np.ndarray, values) -> np.ndarray:
    """An object array: ``values`` where ``mask`` holds, None elsewhere."""
    out = np.empty(len(mask), dtype=object)
    out[mask] = np.asarray(values, dtype=object)[mask]
    return out


def preview_table(leads: pd.DataFrame, world: World, data: LeadData, outcome: LeadOutcome) -> pd.DataFrame:
    tids = _none_last(world.territory_ids)
    rids = _none_last(world.rep_ids)
    names = _none_last(world.rep_names)
    acc = data.match.account
    account = _where_or_none(acc >= 0, _none_last(world.account_ids)[acc])
    columns = {
        "lead_id": data.ids, "territory_id": tids[outcome.territory], "rep_id": rids[outcome.rep],
        "rep_name": names[outcome.rep], "account_id": account,
        "matched_by": _where_or_none(acc >= 0, data.match.how),
        "explanation": _where_or_none(outcome.rep >= 0, outcome.explanation),
        "not_applied": outcome.not_applied,
        "reason": _where_or_none(outcome.rep < 0, outcome.reason)}
    # object columns as they are: converting 100,000 explanations to Arrow strings costs more than the rules
    return pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()}, columns=PREVIEW_COLUMNS)


def override_rep(project: Project, proposal: LeadProposal, lead_ids: list[str], rep_id: str) -> int:
    """The planner's override in a preview: ``lead_ids`` go to ``rep_id``, the territory as
    :meth:`ManualRep.territory_for` says; the explanation says so and what the rules had chosen. Unknown
    lead or rep ids are refused, naming them. Returns leads changed."""
    table = proposal.table
    rep, rows = _manual_target(project, table["lead_id"], lead_ids, rep_id, "override", "in the preview")
    for i in table.index[rows]:
        before = table.at[i, "rep_name"] or "nobody"
        table.at[i, "rep_id"], table.at[i, "rep_name"], table.at[i, "reason"] = rep.rep_id, rep.name, None
        table.at[i, "territory_id"] = rep.territory_for(table.at[i, "territory_id"])
        table.at[i, "explanation"] = f"{table.at[i, 'territory_id'] or '-'}; rep {rep.name} by manual override " \
                                     f"(the rules gave {before})"
    return len(rows)


@dataclass(frozen=True)
class ManualRep:
    """The rep a planner gives leads to by hand (in the preview or after Apply), and the territories of the
    active scenario the rep serves: the rep's own first, then those whose ``teams`` (stored rules) name the
    rep."""

    rep_id: str
    name: str
    serves: tuple[str, ...]

    def territory_for(self, territory) -> str | None:
        """A lead keeps its territory when the rep serves it (or serves none: a key-account rep works
        anywhere); otherwise, and when it has none, it takes the rep's first territory, so the lead counts
        where its rep works."""
        current = _text_or_none(territory)
        if not self.serves or current in self.serves:
            return current
        return self.serves[0]


def _manual_target(project: Project, ids: pd.Series, lead_ids, rep_id: str, source: str,
                   where: str) -> tuple[ManualRep, np.ndarray]:
    """The rep and the positions in ``ids`` of ``lead_ids``, checked at once: one error names every unknown
    lead id and an unknown rep."""
    wanted = list(dict.fromkeys(str(i) for i in lead_ids))
    known = ids.astype(str)
    present = set(known)
    problems = [] if wanted else ["no lead ids given"]
    problems += [f"no lead '{m}' {where}" for m in wanted if m not in present]
    rep_ids = project.reps["rep_id"].astype(str)
    if str(rep_id) not in set(rep_ids):
        problems.append(f"no rep '{rep_id}' in the project")
    if problems:
        raise InvalidInputError(source, problems)
    rep_id = str(rep_id)
    terr = project.scenario_territories()
    own = terr.loc[terr["rep_id"].astype(object).map(str).to_numpy() == rep_id, "territory_id"].astype(str).tolist()
    scenario = set(terr["territory_id"].astype(str))
    teams = [str(t) for t, members in _stored_ruleset(project)[0].teams.items()
             if rep_id in members and str(t) in scenario and str(t) not in own]
    name = str(project.reps.loc[(rep_ids == rep_id).to_numpy(), "name"].iat[0])
    return ManualRep(rep_id, name, tuple(own + teams)), np.flatnonzero(known.isin(wanted).to_numpy())


def _stored_ruleset(project: Project) -> tuple[RuleSet, str | None]:
    """The project's stored rules (teams, caps) for a manual reassignment, and why they could not be used
    (stored rules naming a rep who has left must not stop an override: the defaults are used instead)."""
    from .lead_rules import project_rules

    try:
        return project_rules(project, set(project.reps["rep_id"].astype(str)))[0], None
    except InvalidInputError as exc:
        return RuleSet(), f"the stored lead rules were not used ({str(exc).splitlines()[-1].strip()})"


def apply_leads(project: Project, proposal: LeadProposal, source: str = "") -> int:
    """Add the proposal's leads (assigned or not) and the rotation state to the project; returns leads added."""
    from ..storage.project_file import now

    leads = proposal.leads.copy()
    for column in ("territory_id", "rep_id", "account_id", "matched_by", "explanation", "not_applied"):
        leads[column] = proposal.table[column].to_numpy(dtype=object)
    leads["explanation"] = leads["explanation"].where(leads["rep_id"].notna(), proposal.table["reason"])
    leads["assigned"] = now()
    added = leads.reindex(columns=LEAD_COLUMNS)
    project.leads = pd.concat([project.leads, added], ignore_index=True) if len(project.leads) else added
    project.lead_rotation = pd.DataFrame({"pool": list(proposal.rotation),
                                          "state": [json.dumps(v, sort_keys=True) for v in proposal.rotation.values()]})
    project.mark_dirty("leads")
    unassigned = len(proposal.table) - proposal.assigned
    project.log("assign leads", f"{proposal.assigned} of {len(proposal.table)} leads assigned"
                                f"{f' from {source}' if source else ''}; {unassigned} nobody could take")
    return len(added)


#: the audit action of a reassignment of saved leads (and of its undo in the GUI: "undo reassign leads")
REASSIGN_ACTION = "reassign leads"


@dataclass
class Reassignment:
    """What :func:`reassign_leads` did: the leads given to the rep (with their rep and territory before),
    those already with the rep (left alone), the rep's open leads afterwards against the cap (None: no
    cap), the audit entry's text, and notes for the planner."""

    rep_id: str
    rep_name: str
    changed: list[str]
    previous_rep: dict[str, str | None]
    moved: dict[str, tuple[str | None, str | None]]
    unchanged: list[str]
    open_leads: int
    cap: int | None
    audit: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def over_cap(self) -> bool:
        return self.cap is not None and self.open_leads > self.cap


def reassign_leads(project: Project, lead_ids: list[str], rep_id: str, reason: str = "") -> Reassignment:
    """Give saved leads (``project.leads``) to ``rep_id`` by hand, after Apply.

    The territory follows :meth:`ManualRep.territory_for` (kept unless the rep does not serve it). A manual
    reassignment overrides the capacity caps: it is made even when the rep is at or over the cap, and the
    explanation then says so. Each changed lead's explanation gets "reassigned manually to ... by USER on
    DAY (was ...)" and the reason appended, its ``assigned`` time is now; one audit entry covers the batch.
    Leads already with the rep are left alone. Unknown lead or rep ids are refused (nothing changed)."""
    from ..storage.project_file import now
    from .people import current_user

    leads = project.leads
    rep, rows = _manual_target(project, leads["lead_id"], lead_ids, rep_id, "reassign-leads", "in the project")
    reps_before = leads["rep_id"].to_numpy(dtype=object)[rows]
    take = rows[np.array([_text_or_none(r) != rep.rep_id for r in reps_before], dtype=bool)]
    ids = leads["lead_id"].astype(str).to_numpy(dtype=object)
    result = Reassignment(rep.rep_id, rep.name, [str(i) for i in ids[take]], {}, {},
                          [str(i) for i in ids[np.setdiff1d(rows, take)]], 0, None)
    ruleset, why_not = _stored_ruleset(project)
    result.notes += [why_not] if why_not else []
    if result.unchanged:
        result.notes.append(f"{len(result.unchanged)} lead(s) already with {rep.name} were left as they are: "
                            f"{', '.join(result.unchanged)}")
    frame = leads.copy()
    if len(take):
        _give(frame, take, rep, result)
    result.open_leads = int(((frame["rep_id"].astype(object).map(str) == rep.rep_id)
                             & (frame["status"].astype(str) == "open")).sum())
    result.cap = _open_cap(ruleset, rep.rep_id)
    if not len(take):
        return result
    stamp, user = now(), current_user(project)
    names = dict(zip(project.reps["rep_id"].astype(str), project.reps["name"].astype(str), strict=True))
    before = frame["explanation"].to_numpy(dtype=object)[take]
    frame.iloc[take, frame.columns.get_loc("explanation")] = [
        _reassigned_text(text, rep, result, str(lead), f"{user} on {stamp[:10]}", reason, names)
        for text, lead in zip(before, ids[take], strict=True)]
    frame.iloc[take, frame.columns.get_loc("assigned")] = stamp
    project.leads = frame
    project.mark_dirty("leads")
    result.audit = _reassign_audit(result, user, reason)
    project.log(REASSIGN_ACTION, result.audit)
    return result


def _give(frame: pd.DataFrame, take: np.ndarray, rep: ManualRep, result: Reassignment) -> None:
    """Set the rep and territory of rows ``take`` of ``frame``, noting each lead's rep and territory before."""
    leads = frame["lead_id"].astype(str).to_numpy(dtype=object)[take]
    reps = frame["rep_id"].to_numpy(dtype=object)[take]
    olds = [_text_or_none(t) for t in frame["territory_id"].to_numpy(dtype=object)[take]]
    territories = [rep.territory_for(t) for t in olds]
    result.previous_rep.update(zip(leads, map(_text_or_none, reps), strict=True))
    result.moved.update((lead, (old, new)) for lead, old, new in zip(leads, olds, territories, strict=True)
                        if new != old)
    frame.iloc[take, frame.columns.get_loc("rep_id")] = rep.rep_id
    frame.iloc[take, frame.columns.get_loc("territory_id")] = territories


def _text_or_none(value) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def _open_cap(ruleset: RuleSet, rep_id: str) -> int | None:
    """The rep's cap of open leads under the rules (None: no cap, or the capacity rule is off)."""
    rules = ruleset.rules
    if not rules.active("capacity"):
        return None
    return rules.max_open_by_rep.get(rep_id, rules.max_open)


def _reassigned_text(explanation, rep: ManualRep, result: Reassignment, lead: str, by: str, reason: str,
                     names: dict[str, str]) -> str:
    """The lead's explanation with its manual reassignment appended (``by``: "USER on DAY"; the rep before,
    the territory move, the reason, and the rep's cap when the override put the rep over it)."""
    before = result.previous_rep.get(lead)
    was = f"{names.get(before, before)} ({before})" if before else "nobody"
    parts = [f"reassigned manually to {rep.name} ({rep.rep_id}) by {by} (was {was})"]
    if lead in result.moved:
        old, new = result.moved[lead]
        parts.append(f"territory {old or '-'} -> {new}" + (f" ({rep.name} does not serve {old})" if old else ""))
    if reason.strip():
        parts.append(f"reason: {reason.strip()}")
    if result.over_cap:
        parts.append(f"{rep.name} now holds {result.open_leads} open leads, over the cap of {result.cap}")
    text = "" if explanation is None or pd.isna(explanation) else str(explanation)
    return "; ".join([text, *parts]) if text else "; ".join(parts)


#: leads named one by one in a reassignment's audit entry (each lead's explanation names its own change)
AUDIT_LISTED = 50


def _more(n: int) -> str:
    return f" and {n:,} more (see each lead's explanation)" if n > 0 else ""


def _reassign_audit(result: Reassignment, user: str, reason: str) -> str:
    """The batch's audit text: every lead with the rep it came from, territory moves, reason and cap."""
    shown = result.changed[:AUDIT_LISTED]
    leads = ", ".join(f"{lead} (from {result.previous_rep[lead] or 'nobody'})" for lead in shown)
    leads += _more(len(result.changed) - len(shown))
    text = f"{len(result.changed)} lead(s) to {result.rep_name} ({result.rep_id}) by {user}: {leads}"
    if result.moved:
        moves = list(result.moved.items())
        text += "; territory " + ", ".join(f"{k} {a or '-'} -> {b}" for k, (a, b) in moves[:AUDIT_LISTED])
        text += _more(len(moves) - AUDIT_LISTED)
    if reason.strip():
        text += f"; reason: {reason.strip()}"
    if result.over_cap:
        text += f"; over the cap: {result.open_leads} of {result.cap} open leads"
    return text
