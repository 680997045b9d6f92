"""The first fetch of the list, started before the UI is up and handed over to whoever asks first."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

from prdeck.services.deck.rows import Snapshot

_DONE = object()


class Prefetch(Iterator[Snapshot]):
    """Runs an iterator of snapshots in a daemon thread; iterating blocks for the next item or re-raises."""

    def __init__(self, source: Iterator[Snapshot]) -> None:
        self._items: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._source = source
        threading.Thread(target=self._run, name="prdeck-prefetch", daemon=True).start()

    def _run(self) -> None:
        try:
            for item in self._source:
                self._items.put(item)
        except BaseException as exc:  # handed to the consumer, which owns error reporting
            self._items.put(exc)
        self._items.put(_DONE)

    def __next__(self) -> Snapshot:
        item = self._items.get()
        if item is _DONE:
            self._items.put(_DONE)
            raise StopIteration
        if isinstance(item, BaseException):
            raise item
        return item  # type: ignore[return-value]
