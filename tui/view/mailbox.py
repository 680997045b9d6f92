"""A one-slot mailbox that coalesces updates from a worker thread (pure logic, no widgets).

A worker that produces faster than the UI can paint (pages of a long list, log lines) puts each new value in
the box; only the put that finds the box empty needs to wake the UI, which then takes the newest value. So the
UI paints at its own pace and never works through a backlog of stale values.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class Mailbox(Generic[T]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: T | None = None
        self._full = False

    def put(self, value: T) -> bool:
        """Leave ``value`` (replacing an unread one); True when the box was empty and the reader must be told."""
        with self._lock:
            was_empty = not self._full
            self._value, self._full = value, True
            return was_empty

    def take(self) -> T | None:
        """The newest value, or None when it was already taken."""
        with self._lock:
            value, self._value, self._full = self._value, None, False
            return value
