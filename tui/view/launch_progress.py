"""The state of one launch as its progress panel shows it (pure logic, no widgets; fed from a worker thread)."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

from prdeck.services.models import LAUNCH_STEPS, LaunchEvent

OUTPUT_LINES = 400


@dataclass(frozen=True)
class StepView:
    name: str
    state: str
    """pending, running, done, skipped, failed."""
    seconds: float | None
    detail: str


class LaunchProgress:
    """Thread-safe: the launch worker applies events, the panel reads views on its timer."""

    def __init__(self, key: str, sha: str) -> None:
        self.key = key
        self.sha = sha
        self._lock = threading.Lock()
        self._steps = {name: StepView(name, "pending", None, "") for name in LAUNCH_STEPS}
        self._started: dict[str, float] = {}
        self._output: deque[str] = deque(maxlen=OUTPUT_LINES)
        self._lines_total = 0
        self.push_fraction: float | None = None
        self.notes: list[str] = []
        self.outcome: str | None = None
        """None while running; then "ready", "failed" or "stopped"."""
        self.summary = ""
        self.version = 0
        """Bumped on every change, so the panel repaints only when something happened."""

    def apply(self, event: LaunchEvent) -> None:
        with self._lock:
            self.version += 1
            if event.kind == "step":
                if event.state == "running":
                    self._started[event.step] = time.monotonic()
                self._steps[event.step] = StepView(event.step, event.state, event.seconds, event.text)
            elif event.kind == "line":
                self._output.append(event.text)
                self._lines_total += 1
            elif event.kind == "progress":
                self.push_fraction = event.fraction
            elif event.kind in ("note", "warning"):
                self.notes.append(f"{event.kind}: {event.text}")

    def finish(self, outcome: str, summary: str, output: tuple[str, ...] = ()) -> None:
        """End the launch; a failure also ends the step that was running when it struck (if it said nothing)."""
        now = time.monotonic()
        with self._lock:
            self.version += 1
            self.outcome, self.summary = outcome, summary
            if outcome == "failed":
                for name, step in self._steps.items():
                    if step.state == "running":
                        seconds = now - self._started[name] if name in self._started else None
                        self._steps[name] = StepView(name, "failed", seconds, step.detail)
            self._output.extend(output)
            self._lines_total += len(output)

    def steps(self) -> list[StepView]:
        """Each step; a running one reports its time so far."""
        now = time.monotonic()
        with self._lock:
            views = []
            for step in self._steps.values():
                if step.state == "running" and step.name in self._started:
                    step = StepView(step.name, "running", now - self._started[step.name], step.detail)
                views.append(step)
            return views

    def output(self, since: int) -> tuple[list[str], int]:
        """Output lines after the first ``since`` ones (as far as the bounded buffer still has them)."""
        with self._lock:
            missing = self._lines_total - since
            lines = list(self._output)[-missing:] if missing > 0 else []
            return lines, self._lines_total

    @property
    def running(self) -> bool:
        return self.outcome is None
