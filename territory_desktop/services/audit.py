"""The audit log and the activity feed: who changed which assignment and when, filtered and exported;
edits, comments and review steps as one feed, newest first.

Entries come from the project file (``audit_log``, written by every save: one row per assignment change,
``storage.audit``) and, for a project with unsaved changes, from what the next save will write.
"""

from __future__ import annotations

import os

import pandas as pd

from ..models import InvalidInputError, Project
from ..storage.audit import AUDIT_COLUMNS, read_audit_file
from ..storage.export import write_table


def _day(text: str | None, option: str) -> str | None:
    if text is None or str(text).strip() == "":
        return None
    try:
        return pd.Timestamp(str(text)).strftime("%Y-%m-%d")
    except ValueError:
        raise InvalidInputError(option, [f"'{text}' is not a date (YYYY-MM-DD)"]) from None


def audit_entries(path: str | os.PathLike, since: str | None = None, user: str | None = None,
                  territory: str | None = None, until: str | None = None) -> pd.DataFrame:
    """Audit-log rows of a project file (columns ``storage.audit.AUDIT_COLUMNS``), oldest first.

    ``since``/``until``: ISO dates, inclusive; ``user``: exact name (any case); ``territory``: the change
    moved something into or out of it."""
    return read_audit_file(path, since=_day(since, "--since"), until=_day(until, "--until"),
                           user=user or None, territory=territory or None)


def export_audit(entries: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write audit rows to CSV or XLSX (formula-safe, ``storage.export.write_table``)."""
    write_table(entries[AUDIT_COLUMNS], path, sheet="Audit log")


def activity(project: Project, limit: int = 200) -> pd.DataFrame:
    """The activity feed, newest first: saved edits (audit log), comments and review steps.

    Columns ``ts`` (UTC DATETIME text), ``user``, ``kind`` (edit, comment, review), ``text``, ``entity_type``,
    ``entity_id``. Assignment edits appear once saved (the save writes their audit rows); comments and
    review steps at once."""
    parts = [_audit_feed(project), _comment_feed(project), _review_feed(project)]
    feed = pd.concat([f for f in parts if len(f)], ignore_index=True) if any(len(f) for f in parts) else \
        pd.DataFrame(columns=FEED_COLUMNS)
    return feed.sort_values("ts", ascending=False, kind="stable").head(limit).reset_index(drop=True)


FEED_COLUMNS = ["ts", "user", "kind", "text", "entity_type", "entity_id"]


def _audit_feed(project: Project) -> pd.DataFrame:
    rows = audit_entries(project.path) if project.path and os.path.exists(project.path) else \
        pd.DataFrame(columns=AUDIT_COLUMNS)
    rows = rows[~rows["action"].astype(str).str.startswith("review ")]  # the review rows say it better
    return pd.DataFrame({"ts": rows["ts"], "user": rows["user"], "kind": "edit",
                         "text": rows["details"].fillna(rows["action"]), "entity_type": rows["entity_type"],
                         "entity_id": rows["entity_id"]}, columns=FEED_COLUMNS)


def _comment_feed(project: Project) -> pd.DataFrame:
    c = project.comments
    text = c["entity_type"].astype(str) + " " + c["entity_id"].astype(str) + ": " + c["text"].astype(str)
    return pd.DataFrame({"ts": c["created"], "user": c["author"], "kind": "comment", "text": text,
                         "entity_type": c["entity_type"], "entity_id": c["entity_id"]}, columns=FEED_COLUMNS)


def _review_feed(project: Project) -> pd.DataFrame:
    r = project.scenario_reviews
    text = "scenario " + r["scenario_id"].astype(str) + " " + r["status"].astype(str) + \
        r["from_date"].map(lambda d: f" (in force from {d})" if isinstance(d, str) and d else "")
    return pd.DataFrame({"ts": r["ts"], "user": r["user"], "kind": "review", "text": text,
                         "entity_type": "scenario", "entity_id": r["scenario_id"]}, columns=FEED_COLUMNS)
