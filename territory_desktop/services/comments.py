"""Comment threads on territories, accounts and scenarios, and the people of the project.

A thread is every comment on one entity (``entity_type``, ``entity_id``), oldest first; each comment has
an author, a time, its text, the people it @mentions and a resolved state. A thread is open while one of
its comments is unresolved: the map marks those territories and accounts. People are the project's users
(``project_users``) and its reps; ``@id`` or ``@Name`` (spaces left out, any case) mentions one. Field
notes imported from rep packages join the account's thread (``source`` "field"). Comments are not plan
edits: a scenario under review takes comments (that is what reviewers do).
"""

from __future__ import annotations

import json
import re

import pandas as pd

from ..models import InvalidInputError, Project
from ..models.review import COMMENT_COLUMNS, COMMENT_ENTITIES, USER_COLUMNS
from ..storage.project_file import now
from .review import current_user

MENTION = re.compile(r"(?<![\w.])@([\w.\-]+)")


def people(project: Project) -> pd.DataFrame:
    """Who can be mentioned: ``person_id``, ``name``, ``kind`` (user or rep); users first."""
    u = project.project_users
    r = project.reps
    users = pd.DataFrame({"person_id": u["user_id"].astype(str), "name": u["name"], "kind": "user"})
    reps = pd.DataFrame({"person_id": r["rep_id"].astype(str), "name": r.get("name"),
                         "kind": "rep"})
    frames = [f for f in (users, reps) if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["person_id", "name", "kind"])


def _handle(text) -> str:
    return re.sub(r"\s+", "", str(text)).lower() if isinstance(text, str) else ""


def mentions(project: Project, text: str) -> list[str]:
    """The ids of the people ``text`` mentions (``@R07``, ``@alice``, ``@RitaMoreno``), in order, once each;
    an @word that names nobody is left as text."""
    known: dict[str, str] = {}
    for row in people(project).itertuples():
        known.setdefault(_handle(row.name), row.person_id)
        known[row.person_id.lower()] = row.person_id
    known.pop("", None)
    found = [known.get(m.lower().rstrip(".-")) for m in MENTION.findall(text or "")]
    return list(dict.fromkeys(f for f in found if f))


def _check_entity(project: Project, entity_type: str, entity_id: str) -> None:
    if entity_type not in COMMENT_ENTITIES:
        raise InvalidInputError("comment", [f"'{entity_type}' is not one of {', '.join(COMMENT_ENTITIES)}"])
    ids = {"territory": project.territories["territory_id"], "account": project.accounts["account_id"],
           "scenario": pd.Series(list(project.plans), dtype=object)}[entity_type]
    if entity_id not in set(ids.astype(str)):
        raise InvalidInputError("comment", [f"no {entity_type} '{entity_id}' in the project"])


def _next_id(project: Project) -> str:
    used = set(project.comments["comment_id"].astype(str))
    n = len(used) + 1
    while f"C{n}" in used:
        n += 1
    return f"C{n}"


def add_comment(project: Project, entity_type: str, entity_id: str, text: str, author: str | None = None,
                scenario_id: str | None = None, source: str = "desk") -> str:
    """Add a comment to the thread of an entity; returns its id. Raises InvalidInputError naming the
    entity when it does not exist, or when the text is empty."""
    entity_id = str(entity_id)
    _check_entity(project, entity_type, entity_id)
    text = (text or "").strip()
    if not text:
        raise InvalidInputError("comment", [f"the comment on {entity_type} '{entity_id}' is empty"])
    cid = _next_id(project)
    row = {"comment_id": cid, "entity_type": entity_type, "entity_id": entity_id,
           "scenario_id": scenario_id or project.active_scenario, "author": author or current_user(project),
           "created": now(), "text": text, "mentions": json.dumps(mentions(project, text)), "resolved": False,
           "resolved_by": None, "resolved_at": None, "source": source}
    new = pd.DataFrame([row], columns=COMMENT_COLUMNS)
    project.comments = pd.concat([project.comments, new], ignore_index=True) if len(project.comments) else new
    project.mark_dirty("comments")
    return cid


def resolve_thread(project: Project, entity_type: str, entity_id: str, resolved: bool = True) -> int:
    """Resolve (or reopen) every comment of a thread; returns how many changed."""
    c = project.comments
    rows = (c["entity_type"] == entity_type) & (c["entity_id"].astype(str) == str(entity_id))
    change = rows & (c["resolved"].fillna(False).astype(bool) != resolved)
    if not change.any():
        return 0
    c.loc[change, "resolved"] = resolved
    c.loc[change, "resolved_by"] = current_user(project) if resolved else None
    c.loc[change, "resolved_at"] = now() if resolved else None
    project.mark_dirty("comments")
    return int(change.sum())


def thread(project: Project, entity_type: str, entity_id: str) -> pd.DataFrame:
    """The comments on one entity, oldest first."""
    c = project.comments
    rows = c[(c["entity_type"] == entity_type) & (c["entity_id"].astype(str) == str(entity_id))]
    return rows.sort_values("created", kind="stable").reset_index(drop=True)


def threads(project: Project) -> pd.DataFrame:
    """One row per thread: ``entity_type``, ``entity_id``, ``comments``, ``open`` (unresolved comments),
    ``last`` (time of the latest comment); newest first."""
    c = project.comments
    if not len(c):
        return pd.DataFrame(columns=["entity_type", "entity_id", "comments", "open", "last"])
    frame = c.assign(open=~c["resolved"].fillna(False).astype(bool), entity_id=c["entity_id"].astype(str))
    out = frame.groupby(["entity_type", "entity_id"], sort=False).agg(
        comments=("comment_id", "size"), open=("open", "sum"), last=("created", "max")).reset_index()
    return out.sort_values("last", ascending=False, kind="stable").reset_index(drop=True)


def open_entities(project: Project, entity_type: str) -> list[str]:
    """Ids of the territories (or accounts) with an open thread: the map's comment markers."""
    t = threads(project)
    return t.loc[(t["entity_type"] == entity_type) & (t["open"] > 0), "entity_id"].astype(str).tolist()


def add_user(project: Project, user_id: str, name: str = "", email: str = "", role: str = "") -> None:
    """Add a person to the project's users (or update one); ids are unique, reps' ids are taken."""
    user_id = (user_id or "").strip()
    if not user_id or not re.fullmatch(r"[\w.\-]+", user_id):
        raise InvalidInputError("user", [f"'{user_id}' is not a user id (letters, digits, . _ -)"])
    if user_id in set(project.reps["rep_id"].astype(str)):
        raise InvalidInputError("user", [f"'{user_id}' is a rep's id already"])
    u = project.project_users
    row = {"user_id": user_id, "name": name or user_id, "email": email or None, "role": role or None}
    kept = u[u["user_id"].astype(str) != user_id]
    new = pd.DataFrame([row], columns=USER_COLUMNS)
    project.project_users = pd.concat([kept, new], ignore_index=True) if len(kept) else new
    project.mark_dirty("project_users")


def add_field_notes(project: Project, rep_id: str, notes: list[tuple[str, str]]) -> int:
    """Field notes of a rep package, ``[(account_id, text)]``, as comments in the accounts' threads
    (author the rep, source "field"); empty notes and unknown accounts are skipped. Returns how many."""
    reps = project.reps.set_index(project.reps["rep_id"].astype(str))
    author = str(reps["name"].get(rep_id, rep_id)) if "name" in reps else rep_id
    known = set(project.accounts["account_id"].astype(str))
    added = 0
    for account_id, text in notes:
        if str(account_id) in known and str(text or "").strip():
            add_comment(project, "account", str(account_id), str(text), author=author, source="field")
            added += 1
    return added
