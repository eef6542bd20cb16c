"""Import a field report: what a rep logged offline, merged into the project without loss.

A report (written by the field app) is ``{"format", "format_version", "body": "<JSON text>", "sha256"}``;
``sha256`` is the SHA-256 of the UTF-8 body, so a truncated or altered body is refused. The body carries the
package identity and its HMAC signature (checked with the project's key: a report from another project's
package, or one whose identity was edited, is refused), the package's base copy of the correctable account
fields (its SHA-256 must be the one signed), the visits and the corrections.

Nothing is written unless the whole report is valid. Visits have ids: one already imported (recorded in
the project's audit log with the report) is skipped, so importing a report twice changes nothing.
Corrections merge three-way per account and field: base (as exported), field (the rep's value) and desk
(the project's value now):

- field == base: the rep did not change it, nothing to do;
- desk == base: only the rep changed it, the field value applies;
- desk == field: both made the same change, nothing to do;
- otherwise a conflict: listed, and applied only with ``resolve="field"`` (``"desk"`` keeps the desk value).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import shapely

from ..models import InvalidInputError, Project, RowProblem
from ..models.project import VISIT_COLUMNS
from ..storage import project_file
from . import package_data as pdata
from .comments import add_field_notes
from .placement import units_of_accounts
from .project import open_project, save_project

AUDIT_ACTION = "import field report"
MAX_REPORT_BYTES = 200_000_000
TEXT_LIMIT = 5000


@dataclass
class Report:
    """A checked report: its id, rep, package identity, base copy, visits and corrections."""

    report_id: str
    rep_id: str
    package: dict
    base: dict
    visits: list[dict]
    corrections: list[dict]


@dataclass
class MergeResult:
    visits: list[dict] = field(default_factory=list)
    skipped_visits: int = 0
    applied: list[dict] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)
    unchanged: int = 0


def _refuse(source: str, reason: str | list) -> InvalidInputError:
    reasons = reason if isinstance(reason, list) else [reason]
    return InvalidInputError(source, reasons, outcome="the report was refused and nothing was written")


def read_report(path: str | Path, key: bytes) -> Report:
    """Parse and check a report file: envelope, checksum, signature, base copy, rep. Raises
    InvalidInputError (nothing written) naming what is wrong."""
    path = Path(path)
    source = path.name
    raw = path.read_bytes()
    if len(raw) > MAX_REPORT_BYTES:
        raise _refuse(source, f"{len(raw)} bytes: larger than a field report can be")
    try:
        envelope = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _refuse(source, f"not a field report (malformed or truncated JSON: {str(exc)[:80]})") from None
    body_text = _envelope_body(envelope, source)
    try:
        body = json.loads(body_text)
    except ValueError:
        raise _refuse(source, "the report body is not JSON") from None
    if not isinstance(body, dict):
        raise _refuse(source, "the report body is not a JSON object")
    _check_package(body, key, source)
    return Report(str(body.get("report_id", "")), str(body["rep_id"]), body["package"], body["base"],
                  _list(body, "visits", source), _list(body, "corrections", source))


def _envelope_body(envelope, source: str) -> str:
    if not isinstance(envelope, dict) or envelope.get("format") != pdata.REPORT_FORMAT:
        raise _refuse(source, f"not a field report (no \"format\": \"{pdata.REPORT_FORMAT}\")")
    if envelope.get("format_version") != pdata.FORMAT_VERSION:
        raise _refuse(source, f"report format version {envelope.get('format_version')!r}; this version reads "
                              f"{pdata.FORMAT_VERSION}")
    body, digest = envelope.get("body"), envelope.get("sha256")
    if not isinstance(body, str) or not isinstance(digest, str):
        raise _refuse(source, "the report has no body or no checksum")
    if hashlib.sha256(body.encode("utf-8")).hexdigest() != digest.lower():
        raise _refuse(source, "the checksum does not match the report's content: it was altered or truncated")
    return body


def _check_package(body: dict, key: bytes, source: str) -> None:
    identity, base = body.get("package"), body.get("base")
    if not isinstance(identity, dict) or not isinstance(base, dict):
        raise _refuse(source, "the report names no package or has no base copy")
    if identity.get("format") != pdata.PACKAGE_FORMAT:
        raise _refuse(source, "the report's package is not a Territory Desktop field package")
    if not pdata.signature_ok(key, identity, body.get("package_signature")):
        raise _refuse(source, f"the package signature does not match: package {identity.get('package_id')!r} "
                              "was not exported from this project, or the report was edited")
    if pdata.sha256_of(base) != identity.get("base_sha256"):
        raise _refuse(source, f"the base copy is not the one of package {identity.get('package_id')!r} "
                              "(the report mixes data from another package)")
    if str(body.get("rep_id")) != str(identity.get("rep_id")):
        raise _refuse(source, f"the report is for rep {body.get('rep_id')!r} but its package is for rep "
                              f"{identity.get('rep_id')!r}")


def _list(body: dict, name: str, source: str) -> list[dict]:
    items = body.get(name, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise _refuse(source, f"'{name}' is not a list of records")
    return items


# ------------------------------------------------------------------------------------------ validation

def _visit_problems(k: int, v: dict, known: set[str]) -> list[RowProblem]:
    out = []
    if not isinstance(v.get("visit_id"), str) or not v["visit_id"]:
        out.append(RowProblem(k, "visit_id", "missing"))
    if str(v.get("account_id")) not in known:
        out.append(RowProblem(k, "account_id", f"unknown account {v.get('account_id')!r} (not in the package "
                                               "or no longer in the project)"))
    try:
        date.fromisoformat(str(v.get("date")))
    except ValueError:
        out.append(RowProblem(k, "date", f"{v.get('date')!r} is not a date YYYY-MM-DD"))
    minutes = v.get("minutes", 0)
    if not isinstance(minutes, (int, float)) or isinstance(minutes, bool) or not 0 <= minutes <= 1440:
        out.append(RowProblem(k, "minutes", f"{minutes!r} is not 0 to 1440 minutes"))
    for name in ("outcome", "notes", "next_step"):
        if not isinstance(v.get(name, ""), str) or len(v.get(name, "")) > TEXT_LIMIT:
            out.append(RowProblem(k, name, f"not text of at most {TEXT_LIMIT} characters"))
    return out


def _correction_problems(k: int, c: dict, known: set[str], base: dict) -> list[RowProblem]:
    aid, name, value = str(c.get("account_id")), c.get("field"), c.get("value")
    if aid not in known:
        return [RowProblem(k, "account_id", f"correction of unknown account {aid!r}")]
    if name not in pdata.CORRECTABLE or name not in base.get(aid, {}):
        return [RowProblem(k, "field", f"{name!r} cannot be corrected (fields: {', '.join(pdata.CORRECTABLE)})")]
    if name == "location":
        ok = (isinstance(value, list) and len(value) == 2 and all(isinstance(x, (int, float)) for x in value)
              and -180 <= value[0] <= 180 and -90 <= value[1] <= 90)
        return [] if ok else [RowProblem(k, "value", f"location {value!r} is not [longitude, latitude]")]
    if not isinstance(value, str) or len(value) > TEXT_LIMIT:
        return [RowProblem(k, "value", f"{name} is not text of at most {TEXT_LIMIT} characters")]
    return []


def validate(report: Report, project: Project, source: str) -> None:
    """Every visit and correction checked against the package and the project; one error lists them all."""
    if report.rep_id not in set(project.reps["rep_id"].astype(str)):
        raise _refuse(source, f"rep {report.rep_id!r} is not in the project")
    known = set(report.base) & set(project.accounts["account_id"].astype(str))
    problems = [p for k, v in enumerate(report.visits, 1) for p in _visit_problems(k, v, known)]
    problems += [p for k, c in enumerate(report.corrections, 1) for p in _correction_problems(k, c, known, report.base)]
    if problems:
        raise _refuse(source, problems)


# ------------------------------------------------------------------------------------------ merge

def _same(name: str, a, b) -> bool:
    if name == "location":
        if a is None or b is None:
            return a is None and b is None
        return all(math.isclose(float(x), float(y), abs_tol=1e-6) for x, y in zip(a, b, strict=True))
    return ("" if a is None else str(a)) == ("" if b is None else str(b))


def desk_values(project: Project, account_ids: set[str]) -> dict[str, dict]:
    """The correctable fields as the project has them now, in the base copy's form."""
    acc = project.accounts[project.accounts["account_id"].astype(str).isin(account_ids)]
    copy = acc.copy()
    for name in pdata.CORRECTABLE[1:]:
        if name not in copy.columns:
            copy[name] = ""
    return pdata.base_copy(copy)


def merge(report: Report, project: Project, imported: set[str], resolve: str | None) -> MergeResult:
    """What the report changes: new visits and the three-way merge of corrections (nothing applied yet)."""
    result = MergeResult()
    seen = set(imported)
    for v in report.visits:
        if v["visit_id"] in seen:
            result.skipped_visits += 1
        else:
            seen.add(v["visit_id"])
            result.visits.append(v)
    desk = desk_values(project, {str(c["account_id"]) for c in report.corrections})
    for c in report.corrections:
        aid, name, value = str(c["account_id"]), c["field"], c["value"]
        base, now = report.base[aid].get(name), desk.get(aid, {}).get(name)
        item = {"account_id": aid, "field": name, "base": base, "field_value": value, "desk_value": now}
        if _same(name, value, base) or _same(name, value, now):
            result.unchanged += 1
        elif _same(name, now, base):
            result.applied.append(item)
        else:
            item["resolved"] = resolve
            result.conflicts.append(item)
            if resolve == "field":
                result.applied.append(item)
    return result


def apply_merge(project: Project, report: Report, result: MergeResult) -> None:
    """Write the merge into the project: visits appended, corrections set; the tables marked dirty."""
    if result.visits:
        rows = pd.DataFrame([{"account_id": str(v["account_id"]), "rep_id": report.rep_id, "date": str(v["date"]),
                              "minutes": float(v.get("minutes", 0) or 0), "outcome": str(v.get("outcome", "")),
                              "note": _note(v)} for v in result.visits], columns=VISIT_COLUMNS)
        project.visits = pd.concat([project.visits, rows], ignore_index=True) if len(project.visits) else rows
        project.mark_dirty("visits")
        add_field_notes(project, report.rep_id, list(zip(rows["account_id"], rows["note"], strict=True)))
    if result.applied:
        _apply_corrections(project, result.applied)
        project.mark_dirty("accounts")


def _apply_corrections(project: Project, applied: list[dict]) -> None:
    """Set the corrected fields; a moved account is placed again (its unit, hence maybe its territory)."""
    acc = project.accounts
    index = pd.Index(acc["account_id"].astype(str))
    moved = []
    for item in applied:
        pos = index.get_loc(item["account_id"])
        row = acc.index[pos]
        if item["field"] == "location":
            acc.loc[row, "geometry"] = shapely.Point(*item["field_value"])
            moved.append(pos)
        else:
            if item["field"] not in acc.columns:
                acc[item["field"]] = None
            acc.loc[row, item["field"]] = item["field_value"]
    if moved:
        placed = units_of_accounts(project)
        column = acc.columns.get_loc("unit_id")
        for pos in moved:
            acc.iloc[pos, column] = placed[pos]


def _note(v: dict) -> str:
    parts = [str(v.get("notes") or "").strip()]
    if str(v.get("next_step") or "").strip():
        parts.append(f"Next step: {str(v['next_step']).strip()}")
    return " | ".join(p for p in parts if p)


def _visit_ids(entries: list[str]) -> set[str]:
    ids: set[str] = set()
    for details in entries:
        try:
            ids.update(json.loads(details).get("visit_ids", []))
        except (ValueError, AttributeError):
            continue
    return ids


def imported_visit_ids(project: Project) -> set[str]:
    """Ids of the field visits already imported: recorded in the file's audit log, or pending in the
    project (imported in the GUI, not saved yet)."""
    saved = project_file.audit_details(project.path, AUDIT_ACTION) if project.path else []
    return _visit_ids(saved + [d for a, d in project.pending_audit if a == AUDIT_ACTION])


def prepare_merge(project: Project, report_path: str | Path, key: bytes, resolve: str | None = None
                  ) -> tuple[Report, MergeResult]:
    """Check the report against ``project`` and work out the merge (nothing changed yet)."""
    report = read_report(report_path, key)
    validate(report, project, Path(report_path).name)
    return report, merge(report, project, imported_visit_ids(project), resolve)


def record_merge(project: Project, report: Report, result: MergeResult) -> bool:
    """Apply the merge to ``project`` and log it for the audit log (and later idempotence). False when the
    report changes nothing."""
    if not (result.visits or result.applied):
        return False
    apply_merge(project, report, result)
    project.log(AUDIT_ACTION, json.dumps({
        "report_id": report.report_id, "package_id": report.package.get("package_id"), "rep_id": report.rep_id,
        "visit_ids": [v["visit_id"] for v in result.visits],
        "corrections": [[i["account_id"], i["field"]] for i in result.applied]}))
    return True


def summary(report: Report, result: MergeResult, resolve: str | None) -> dict:
    return {"report_id": report.report_id, "package_id": report.package.get("package_id"), "rep_id": report.rep_id,
            "visits_added": len(result.visits), "visits_already_imported": result.skipped_visits,
            "corrections_applied": len(result.applied), "corrections_unchanged": result.unchanged,
            "conflicts": result.conflicts, "resolve": resolve}


def import_report(project_path: str | Path, report_path: str | Path, resolve: str | None = None) -> dict:
    """Check ``report_path`` and merge it into the project file; returns what happened (JSON-ready).

    ``resolve``: None (conflicts listed, not applied), "field" or "desk". Raises InvalidInputError, with
    nothing written, for a report that is not valid for this project.
    """
    key = project_file.package_key(project_path)
    project = open_project(project_path, for_writing=True)
    report, result = prepare_merge(project, report_path, key, resolve)
    if record_merge(project, report, result):
        save_project(project)
    return summary(report, result, resolve)
