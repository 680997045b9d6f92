"""One launch in flight: its step records and the events it emits (the panel and ``prdeck launch`` render them)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from prdeck.services.errors import PrdeckError
from prdeck.services.launch.deploy import RolloutStopped
from prdeck.services.launch.journal import JournalEntry
from prdeck.services.launch.results import LaunchCancelled, LaunchFailed, StepRecord
from prdeck.services.models import LaunchEvent, RepoRef


class StepHandle:
    def __init__(self) -> None:
        self.skipped: str | None = None

    def skip(self, why: str) -> None:
        self.skipped = why


class LaunchRun:
    """Emits the events of one launch and keeps the step records."""

    def __init__(self, repo: RepoRef, number: int, emit: Callable[[LaunchEvent], None], stop: threading.Event) -> None:
        self.repo, self.number, self.emit, self.stop = repo, number, emit, stop
        self.records: list[StepRecord] = []
        self.warnings: list[str] = []
        self.current = ""

    def _event(self, kind: str, **fields: Any) -> None:
        self.emit(LaunchEvent(self.repo, self.number, kind, fields.pop("step", self.current), **fields))

    @contextmanager
    def step(self, name: str, entry: JournalEntry) -> Iterator[StepHandle]:
        if self.stop.is_set():
            raise LaunchCancelled(f"The launch of #{self.number} was stopped", f"before {name}")
        self.current = name
        entry.step(name)
        handle = StepHandle()
        started = time.monotonic()
        self._event("step", step=name, state="running")
        try:
            yield handle
        except LaunchCancelled:
            raise
        except RolloutStopped as exc:
            raise LaunchCancelled(f"The launch of #{self.number} was stopped", exc.detail) from exc
        except PrdeckError as exc:
            self._fail(name, started, exc, tuple(getattr(exc, "output", ())))
        seconds = time.monotonic() - started
        state = "skipped" if handle.skipped else "done"
        self.records.append(StepRecord(name, state, seconds, handle.skipped or ""))
        self._event("step", step=name, state=state, seconds=seconds, text=handle.skipped or "")

    def _fail(self, name: str, started: float, exc: PrdeckError, output: tuple[str, ...]) -> None:
        seconds = time.monotonic() - started
        self.records.append(StepRecord(name, "failed", seconds, exc.title))
        self._event("step", step=name, state="failed", seconds=seconds, text=f"{exc.title}. {exc.detail}".strip())
        raise LaunchFailed(name, exc, output) from exc

    def line(self, text: str) -> None:
        self._event("line", text=text)

    def note(self, text: str) -> None:
        self._event("note", text=text)

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        self._event("warning", text=text)

    def progress(self, step: str, fraction: float) -> None:
        self._event("progress", step=step, fraction=fraction)
