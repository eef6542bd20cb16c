"""The planner's lead rules as JSON (``assign-leads --rules RULES.json``, the GUI's rule list), checked.

Every key is optional::

    {"order": ["account_match", "account_rule", "location", "value_tier", "expertise", "availability",
               "capacity"],
     "disabled": ["expertise"],
     "fuzzy_threshold": 90,
     "tiers": [{"name": "key accounts", "min_value": 50000, "reps": ["R01", "R02"]}],
     "teams": {"T07": ["R07", "R12"]},
     "max_open": 20, "max_open_by_rep": {"R03": 10},
     "period": "month", "max_per_period": 40,
     "absences": {"R05": [["2026-12-21", "2027-01-01"]]},
     "round_robin": "weighted", "weights": {"R07": 2}}

``teams`` gives a territory several reps (default: the territory's rep); round robin runs among them.

The rules can be stored in the project (schema 6, table ``lead_rules``, the same JSON object as a rules
file): ``store_rules`` keeps them (the Leads dock, ``assign-leads --save-rules``), ``project_rules`` gives
them back, checked, to a run without a rules file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..engine.leads import ROUND_ROBIN, RULES, LeadRules, Tier
from ..models import InvalidInputError, Project, RowProblem
from ..models.project import LEAD_RULE_COLUMNS

PERIODS = ("day", "week", "month")
#: the stored rule set a run uses (``lead_rules.name``)
DEFAULT_SET = "default"
#: how an error in the stored rules names where they came from
STORED = "the project's lead rules (table lead_rules)"


@dataclass
class RuleSet:
    """The engine's rules plus the teams (territory id -> rep ids), which shape the world, not the rules."""

    rules: LeadRules = field(default_factory=LeadRules)
    teams: dict[str, list[str]] = field(default_factory=dict)


def read_rules(path: str | Path | None, rep_ids: set[str] | None = None) -> RuleSet:
    """Read and check a rules file (None: the defaults). Errors name the key at fault."""
    if path is None:
        return RuleSet()
    return parse_rules(read_rules_data(path), Path(path).name, rep_ids)


def read_rules_data(path: str | Path) -> dict:
    """A rules file's JSON as read (not yet checked: ``parse_rules`` does that)."""
    source = Path(path).name
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(source, [f"cannot read the rules file: {exc}"]) from exc
    except ValueError as exc:
        raise InvalidInputError(source, [f"not valid JSON: {exc}"]) from exc
    if not isinstance(data, dict):
        raise InvalidInputError(source, ["the rules must be a JSON object"])
    return data


def stored_rules(project: Project, name: str = DEFAULT_SET) -> dict | None:
    """The rules stored in the project under ``name`` (a rules file's JSON object), or None when none are.
    Stored text that is not a JSON object (edited in another program) is refused, naming the table."""
    rows = project.lead_rules
    hit = rows[rows["name"].astype(str) == name] if len(rows) else rows
    if not len(hit):
        return None
    text = hit["rules"].iat[0]
    try:
        data = json.loads(text) if isinstance(text, str) and text.strip() else {}
    except ValueError as exc:
        raise InvalidInputError(STORED, [f"the stored rules of '{name}' are not valid JSON: {exc}"]) from exc
    if not isinstance(data, dict):
        raise InvalidInputError(STORED, [f"the stored rules of '{name}' are not a JSON object"])
    return data


def project_rules(project: Project, rep_ids: set[str] | None = None) -> tuple[RuleSet, str]:
    """The rules a run without a rules file uses, and where they came from: the stored set, checked against
    today's reps ("project"), else the defaults ("defaults")."""
    data = stored_rules(project)
    if data is None:
        return RuleSet(), "defaults"
    return parse_rules(data, STORED, rep_ids), "project"


def store_rules(project: Project, data: dict, source: str = "rules", rep_ids: set[str] | None = None,
                name: str = DEFAULT_SET) -> bool:
    """Check ``data`` (``parse_rules``: errors name the key) and store it as the project's rule set
    ``name``; the next save writes it (dirty flag "lead_rules") with an audit entry. Returns False (and
    changes nothing) when the same rules are stored already."""
    from ..storage.project_file import now
    from .people import current_user

    parse_rules(data, source, rep_ids)
    if stored_rules(project, name) == data:
        return False
    rows = project.lead_rules
    kept = rows[rows["name"].astype(str) != name] if len(rows) else rows
    row = pd.DataFrame([{"name": name, "rules": json.dumps(data, sort_keys=True, ensure_ascii=False),
                         "updated_at": now(), "updated_by": current_user(project)}], columns=LEAD_RULE_COLUMNS)
    project.lead_rules = pd.concat([kept, row], ignore_index=True) if len(kept) else row
    project.mark_dirty("lead_rules")
    off = ", ".join(data.get("disabled") or []) or "none"
    project.log("store lead rules", f"rule set '{name}' from {source}: order "
                                    f"{', '.join(data.get('order') or RULES)}; switched off: {off}")
    return True


def parse_rules(data, source: str = "rules", rep_ids: set[str] | None = None) -> RuleSet:
    problems: list[RowProblem] = []
    if not isinstance(data, dict):
        raise InvalidInputError(source, ["the rules must be a JSON object"])
    known = {"order", "disabled", "fuzzy_threshold", "tiers", "teams", "max_open", "max_open_by_rep", "period",
             "max_per_period", "absences", "round_robin", "weights"}
    for key in sorted(set(data) - known):
        problems.append(RowProblem(None, key, f"unknown key (known: {', '.join(sorted(known))})"))
    order = _rule_names(data.get("order", list(RULES)), "order", problems)
    disabled = _rule_names(data.get("disabled", []), "disabled", problems)
    rules = LeadRules(
        order=tuple(order + [r for r in RULES if r not in order]) if "order" in data else RULES,
        disabled=frozenset(disabled),
        fuzzy_threshold=_number(data, "fuzzy_threshold", 90.0, 0, 100, problems),
        tiers=_tiers(data.get("tiers", []), rep_ids, problems),
        max_open=_count(data, "max_open", problems),
        max_open_by_rep=_rep_counts(data.get("max_open_by_rep", {}), rep_ids, problems),
        period=_choice(data, "period", "month", PERIODS, problems),
        max_per_period=_count(data, "max_per_period", problems),
        absences=_absences(data.get("absences", {}), rep_ids, problems),
        round_robin=_choice(data, "round_robin", "count", ROUND_ROBIN, problems),
        weights=_weights(data.get("weights", {}), rep_ids, problems))
    teams = _teams(data.get("teams", {}), rep_ids, problems)
    if problems:
        raise InvalidInputError(source, problems)
    return RuleSet(rules, teams)


def _rule_names(values, key: str, problems: list) -> list[str]:
    if not isinstance(values, list):
        problems.append(RowProblem(None, key, "must be a list of rule names"))
        return []
    bad = [v for v in values if v not in RULES]
    if bad:
        problems.append(RowProblem(None, key, f"unknown rule(s) {', '.join(map(str, bad))} "
                                              f"(rules: {', '.join(RULES)})"))
    return [v for v in values if v in RULES]


def _number(data: dict, key: str, default: float, low: float, high: float, problems: list,
            where: str | None = None) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        limits = f"from {low:g} to {high:g}" if high < float("inf") else f"of {low:g} or more"
        problems.append(RowProblem(None, where or key, f"must be a number {limits}, not {value!r}"))
        return default
    return float(value)


def _count(data: dict, key: str, problems: list) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        problems.append(RowProblem(None, key, f"must be a whole number, 0 or more, not {value!r}"))
        return None
    return value


def _choice(data: dict, key: str, default: str, allowed: tuple[str, ...], problems: list) -> str:
    value = data.get(key, default)
    if value not in allowed:
        problems.append(RowProblem(None, key, f"must be one of {', '.join(allowed)}, not {value!r}"))
        return default
    return value


def _check_rep(rep: object, where: str, rep_ids: set[str] | None, problems: list) -> bool:
    if not isinstance(rep, str) or (rep_ids is not None and rep not in rep_ids):
        problems.append(RowProblem(None, where, f"no rep {rep!r} in the project"))
        return False
    return True


def _tiers(values, rep_ids, problems: list) -> tuple[Tier, ...]:
    if not isinstance(values, list):
        problems.append(RowProblem(None, "tiers", "must be a list of {name, min_value, reps}"))
        return ()
    tiers = []
    for i, item in enumerate(values):
        where = f"tiers[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("reps"), list) or not item["reps"]:
            problems.append(RowProblem(None, where, "needs name, min_value and a non-empty list of reps"))
            continue
        value = _number(item, "min_value", 0.0, 0, float("inf"), problems, f"{where}.min_value")
        reps = tuple(r for r in item["reps"] if _check_rep(r, f"{where}.reps", rep_ids, problems))
        tiers.append(Tier(str(item.get("name", f"tier {i + 1}")), value, reps))
    return tuple(tiers)


def _rep_counts(values, rep_ids, problems: list) -> dict[str, int]:
    out = {}
    for rep, cap in (values.items() if isinstance(values, dict) else []):
        if _check_rep(rep, "max_open_by_rep", rep_ids, problems):
            checked = _count({f"max_open_by_rep.{rep}": cap}, f"max_open_by_rep.{rep}", problems)
            if checked is not None:
                out[rep] = checked
    return out


def _weights(values, rep_ids, problems: list) -> dict[str, float]:
    out = {}
    for rep, weight in (values.items() if isinstance(values, dict) else []):
        if _check_rep(rep, "weights", rep_ids, problems):
            out[rep] = _number({rep: weight}, rep, 1.0, 0.001, 1e6, problems, f"weights.{rep}")
    return out


def _absences(values, rep_ids, problems: list) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for rep, spans in (values.items() if isinstance(values, dict) else []):
        if not _check_rep(rep, "absences", rep_ids, problems):
            continue
        for span in spans if isinstance(spans, list) else [None]:
            try:
                if span is None:
                    raise TypeError
                start, end = (np.datetime64(str(d), "D") for d in span)
                if end < start:
                    raise ValueError
            except (TypeError, ValueError):
                problems.append(RowProblem(None, f"absences.{rep}", f"{span!r} is not [first day, last day] "
                                                                    "as ISO dates, first before last"))
                continue
            out.setdefault(rep, []).append((str(start), str(end)))
    return out


def _teams(values, rep_ids, problems: list) -> dict[str, list[str]]:
    if not isinstance(values, dict):
        problems.append(RowProblem(None, "teams", "must map territory ids to lists of rep ids"))
        return {}
    return {str(t): [r for r in reps if _check_rep(r, f"teams.{t}", rep_ids, problems)]
            for t, reps in values.items() if isinstance(reps, list)}
