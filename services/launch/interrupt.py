"""Blocking work a launch can walk away from: Ctrl+C, SIGTERM, a closed pipe, quitting the app or a destroy set the
launch's stop event, and the step ends within a fraction of a second instead of when the work would have.

The work itself (a ``docker build`` stream, a push) runs in a daemon thread that is left behind: when the process
exits its connection closes, and the Docker engine cancels a build whose client went away.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from prdeck.services.launch.results import LaunchCancelled

T = TypeVar("T")


class StopEvent(threading.Event):
    """A launch's stop event that also knows whether a destroy set it (then the launch ends as destroyed)."""

    destroyed = False

    def destroy(self) -> None:
        self.destroyed = True
        self.set()

POLL_SECONDS = 0.1


def until_stopped(action: Callable[[], T], stop: threading.Event, doing: str) -> T:
    """``action()``'s result, or LaunchCancelled as soon as ``stop`` is set."""
    outcome: dict[str, object] = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = action()
        except BaseException as exc:  # handed to the waiting thread as is
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name=f"prdeck-{doing.replace(' ', '-')}", daemon=True).start()
    while not done.wait(POLL_SECONDS):
        if stop.is_set():
            raise LaunchCancelled("The launch was stopped", f"while {doing}")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def each_until_stopped(actions: Sequence[tuple[str, Callable[[], T]]], stop: threading.Event,
                       workers: int) -> list[T]:
    """The results of ``actions`` (``(doing, action)``), run at most ``workers`` at a time in daemon threads.

    The first failure is raised as soon as it happens, and LaunchCancelled as soon as ``stop`` is set; actions
    still running are left behind as :func:`until_stopped` leaves its one (and those not started never start).
    """
    results: dict[int, T] = {}
    errors: list[BaseException] = []
    finished = threading.Condition()
    slots = threading.Semaphore(max(1, workers))

    def run(index: int, action: Callable[[], T]) -> None:
        with slots:
            try:
                if not stop.is_set() and not errors:
                    results[index] = action()
            except BaseException as exc:  # handed to the waiting thread as is
                errors.append(exc)
            finally:
                with finished:
                    finished.notify_all()

    for index, (doing, action) in enumerate(actions):
        threading.Thread(target=run, args=(index, action), name=f"prdeck-{doing.replace(' ', '-')}",
                         daemon=True).start()
    with finished:
        while len(results) < len(actions):
            if errors:
                raise errors[0]
            if stop.is_set():
                waiting = next(doing for index, (doing, _) in enumerate(actions) if index not in results)
                raise LaunchCancelled("The launch was stopped", f"while {waiting}")
            finished.wait(POLL_SECONDS)
    return [results[index] for index in range(len(actions))]


def quiet_after(stop: threading.Event, on_line: Callable[[str], None]) -> Callable[[str], None]:
    """``on_line`` that goes silent once the launch stopped (the abandoned work may still print)."""

    def line(text: str) -> None:
        if not stop.is_set():
            on_line(text)

    return line
