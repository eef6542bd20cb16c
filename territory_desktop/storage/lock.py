"""One writer per project: a lock file beside the project names who has it open for editing, and since when.

``.NAME.gpkg.lock`` holds the holder's process id, host, program and start time as JSON. A lock whose
process is gone (same host, pid not running) is stale and taken over; another live holder makes
:func:`acquire` raise :class:`ProjectBusyError` with a message a person can act on. The lock complements
the revision stamp that every save checks (``project_file``): the lock stops a second writer early, the
stamp catches any write that slipped past it.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

import psutil

from ..models import ProjectFileError


class ProjectBusyError(ProjectFileError):
    """The project is open for editing in another window or process."""


def lock_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


def holder(path: str | os.PathLike) -> dict | None:
    """Who holds the project's lock (pid, host, program, since), or None when it is free or stale."""
    lock = lock_path(path)
    try:
        info = json.loads(lock.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None  # unreadable or half-written: treated as stale
    if not isinstance(info, dict):
        return None
    if info.get("host") == socket.gethostname() and not process_alive(info.get("pid")):
        return None
    return info


def process_alive(pid) -> bool:
    try:
        return isinstance(pid, int) and psutil.pid_exists(pid) and pid > 0
    except (OSError, ValueError):
        return False


def busy_message(path: str | os.PathLike, info: dict) -> str:
    since = str(info.get("since", "?"))
    return (f"{Path(path).name} is open in another window or process ({info.get('program', 'Territory Desktop')}, "
            f"process {info.get('pid')} on {info.get('host')}) since {since}; close it there first "
            f"(if that process is gone, delete {lock_path(path).name})")


def check_free(path: str | os.PathLike) -> None:
    """Raise ProjectBusyError when another live process holds the project's lock."""
    info = holder(path)
    if info is not None and not _ours(info):
        raise ProjectBusyError(busy_message(path, info))


def _ours(info: dict) -> bool:
    return info.get("pid") == os.getpid() and info.get("host") == socket.gethostname()


def acquire(path: str | os.PathLike, program: str = "Territory Desktop") -> bool:
    """Take the project's lock; returns False when this process already held it. Raises when busy."""
    lock = lock_path(path)
    info = holder(path)
    if info is not None:
        if _ours(info):
            return False
        raise ProjectBusyError(busy_message(path, info))
    record = {"pid": os.getpid(), "host": socket.gethostname(), "program": program,
              "since": datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M")}
    lock.unlink(missing_ok=True)  # stale (or unreadable): take it over
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        info = holder(path) or {}
        raise ProjectBusyError(busy_message(path, info)) from None
    except OSError:
        return False  # a read-only folder: the revision stamp still guards the save
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(record, fh)
    return True


def release(path: str | os.PathLike) -> None:
    """Give the lock back if this process holds it."""
    info = holder(path)
    if info is not None and _ours(info):
        lock_path(path).unlink(missing_ok=True)
