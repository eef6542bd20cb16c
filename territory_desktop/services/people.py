"""The people of a project: its users (``project_users``: who reviews and comments) and its reps, and who
is working on the project now."""

from __future__ import annotations

import re

import pandas as pd

from ..models import InvalidInputError, Project
from ..models.review import USER_COLUMNS
from ..storage.audit import os_user


def current_user(project: Project) -> str:
    """Who is working on the project: its configured user, else ``TERRITORY_DESKTOP_USER`` or the login."""
    return project.user or os_user()


def people(project: Project) -> pd.DataFrame:
    """Who can be mentioned: ``person_id``, ``name``, ``kind`` (user or rep); users first."""
    u = project.project_users
    r = project.reps
    users = pd.DataFrame({"person_id": u["user_id"].astype(str), "name": u["name"], "kind": "user"})
    reps = pd.DataFrame({"person_id": r["rep_id"].astype(str), "name": r.get("name"),
                         "kind": "rep"})
    frames = [f for f in (users, reps) if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["person_id", "name", "kind"])


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


def note_user(project: Project, name: str) -> str:
    """Make sure ``name`` (who reviews or comments) is one of the project's people, adding it to the users
    when it is neither a user nor a rep (by id or name); returns ``name``."""
    known = {str(v).lower() for v in people(project)[["person_id", "name"]].to_numpy().ravel() if isinstance(v, str)}
    if name.lower() not in known:
        user_id = re.sub(r"[^\w.\-]", "", name) or "user"
        if user_id.lower() not in known and user_id not in set(project.reps["rep_id"].astype(str)):
            add_user(project, user_id, name)
    return name
