"""Progress and cancel plumbing shared by every long computation.

Long functions take ``progress: Progress`` and ``stop: StopFlag``; the CLI passes a text bar, the GUI
a worker signal and its Cancel button.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .errors import CancelledError

Progress = Callable[[float, str], None]


def no_progress(fraction: float, message: str) -> None:
    """A progress callback that ignores every report."""


class StopFlag:
    """A thread-safe cancel flag; ``check()`` raises :class:`CancelledError` once it is set."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self.is_set():
            raise CancelledError("cancelled by the user")
