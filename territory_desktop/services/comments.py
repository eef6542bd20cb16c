"""Comment threads on territories, accounts and scenarios, and the people of the project.

A thread is every comment on one entity (``entity_type``, ``entity_id``), oldest first; each comment has
an author, a time, its text, the people it @mentions and a resolved state. A thread is open while one of
its comments is unresolved: the map marks those territories and accounts. People are the project's users
(``project_users``, ``services.people``: whoever comments or reviews joins them) and its reps; ``@id`` or ``@Name`` (spaces left out, any case) mentions one. Field
notes imported from rep packages join the account's thread (``source`` "field"). Comments are not plan
edits: a scenario under review takes comments (that is what reviewers do).
"""

from __future__ import annotations

import json
import re

import pandas as pd

from ..models import InvalidInputError, Project
from ..models.review import COMMENT_COLUMNS, COMMENT_ENTITIES
from ..storage.project_file import now
from .people import current_user, note_user, people

MENTION = re.compile(r"(?<![\w.])@([\w.\-]+)")


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
    author = author or note_user(project, current_user(project))
    row = {"comment_id": cid, "entity_type": entity_type, "entity_id": entity_id,
           "scenario_id": scenario_id or project.active_scenario, "author": author,
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
