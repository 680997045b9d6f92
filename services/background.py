"""Work started now and waited for later: a blocking call on a thread of its own, its outcome in a Future."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


def in_background(work: Callable[[], T], name: str) -> Future[T]:
    """Run ``work`` on a daemon thread; its result (or its exception, for whoever waits) in the Future.

    For a wait that holds no GIL (a network answer, a subprocess, the keyring's D-Bus call) next to other work: two
    CPU-bound calls side by side take as long as one after the other.
    """
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(work())
        except BaseException as exc:  # handed to whoever waits for the result
            future.set_exception(exc)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future
