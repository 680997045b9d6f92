"""The launch queue of one prdeck: at most ``preview.max_parallel_launches`` launches run at once, the others wait
their turn in order (their rows read ``queued #1``, ``queued #2``...)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from prdeck.services.models import LaunchEvent, RepoRef

POLL_SECONDS = 0.25
"""How often a waiting launch looks at its stop event (a destroy or quit while it waits)."""


class LaunchQueue:
    def __init__(self, slots: int) -> None:
        self.slots = max(1, slots)
        self._running = 0
        self._waiting: list[object] = []
        self._changed = threading.Condition()

    def wait_turn(self, on_position: Callable[[int], None], stop: threading.Event) -> bool:
        """Block until a place is free (True) or ``stop`` is set (False: no place taken). ``on_position`` hears
        the launch's place in the queue, from 1, each time it changes (not at all when a place is free at once)."""
        ticket = object()
        told = 0
        with self._changed:
            self._waiting.append(ticket)
        while True:
            with self._changed:
                position = self._waiting.index(ticket) + 1
                if position == 1 and self._running < self.slots:
                    self._waiting.pop(0)
                    self._running += 1
                    self._changed.notify_all()
                    return True
                if stop.is_set():
                    self._waiting.remove(ticket)
                    self._changed.notify_all()
                    return False
                if position == told:
                    self._changed.wait(POLL_SECONDS)
                    continue
            told = position
            on_position(position)  # outside the lock: it may repaint, or print

    @contextmanager
    def place(self, on_position: Callable[[int], None], stop: threading.Event) -> Iterator[None]:
        """:meth:`wait_turn`, then the block, then :meth:`release` (a launch stopped while it waited ran with no
        place taken: it ends at once, as cancelled)."""
        turn = self.wait_turn(on_position, stop)
        try:
            yield
        finally:
            if turn:
                self.release()

    def note(self, repo: RepoRef, number: int, position: int) -> LaunchEvent:
        """What a waiting launch says (the CLI prints it; the row reads ``queued #N``)."""
        return LaunchEvent(repo, number, "note", "queue",
                           text=f"queued #{position} (preview.max_parallel_launches: {self.slots} at once)")

    def release(self) -> None:
        with self._changed:
            self._running -= 1
            self._changed.notify_all()

    @property
    def waiting(self) -> int:
        with self._changed:
            return len(self._waiting)
