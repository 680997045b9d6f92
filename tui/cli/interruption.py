"""Signals and closed pipes on the command line. During ``prdeck launch``, Ctrl+C, SIGTERM and a closed pipe stop
the launch at the step it is on (recorded as interrupted on the cluster and on GitHub) and the command exits 130,
143 or 1 — never 0. ``prdeck sandbox`` and ``logs -f`` stop on Ctrl+C even as a script's background job."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from prdeck.services.deck import Deck

EXIT_SIGINT, EXIT_SIGTERM, EXIT_PIPE = 130, 143, 1


class Interruption:
    """What stopped a command, as its exit status (0: nothing did)."""

    def __init__(self, deck: Deck) -> None:
        self.deck = deck
        self.exit_code = 0

    @contextlib.contextmanager
    def handling(self) -> Iterator[Interruption]:
        """SIGINT and SIGTERM stop the deck's launches while the block runs (the default handlers come back after).
        A shell starts a background job with SIGINT ignored; the handler is set anyway, as ``kill -INT`` means it."""
        previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
        signal.signal(signal.SIGINT, lambda *_: self.stop(EXIT_SIGINT))
        signal.signal(signal.SIGTERM, lambda *_: self.stop(EXIT_SIGTERM))
        try:
            yield self
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    def stop(self, code: int) -> None:
        if not self.exit_code:
            self.exit_code = code
            self.deck.interrupt()

    def pipe_closed(self) -> None:
        """The reader of our output went away (``prdeck launch ... 2>&1 | head``): stop, and write no more."""
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stderr.fileno())
            os.dup2(devnull, sys.stdout.fileno())
        self.stop(EXIT_PIPE)


def safe_printer(stream: TextIO, on_broken: Callable[[], None]) -> Callable[..., None]:
    """``print`` to ``stream`` that turns a closed pipe into ``on_broken()`` once, then prints nothing."""
    broken = [False]

    def emit(*values: Any, **options: Any) -> None:
        if broken[0]:
            return
        try:
            print(*values, file=stream, flush=True, **options)
        except (BrokenPipeError, ValueError):  # ValueError: the stream was closed
            broken[0] = True
            on_broken()

    return emit


def interruptible() -> None:
    """Ctrl+C raises KeyboardInterrupt even when prdeck started with SIGINT ignored: a shell ignores it for a
    script's background jobs (``prdeck sandbox &``), and Python then keeps it ignored, so `kill -INT` did nothing."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def wait_for_interrupt() -> None:
    """Block until Ctrl+C or SIGTERM (``prdeck sandbox``, ``open --forward``)."""
    interruptible()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        pass
