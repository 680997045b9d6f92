"""One action on several pull requests at once (``prdeck destroy 101 102``, the TUI's marked rows).

Each target runs in its own thread, at most ``parallel`` at a time; a failure of one is its result, never the
others' end. Results come back in the order the targets were given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from prdeck.services.errors import PrdeckError
from prdeck.services.models import RepoRef


@dataclass(frozen=True)
class BulkResult:
    """How one target of a bulk action ended: ``text`` says what was done, or the error (title: detail)."""

    repo: RepoRef
    number: int
    action: str
    ok: bool
    text: str
    namespace: str | None = None

    @property
    def key(self) -> str:
        return f"{self.repo}#{self.number}"

    def to_json(self) -> dict[str, Any]:
        return {"repo": self.repo.full_name, "number": self.number, "action": self.action, "ok": self.ok,
                "namespace": self.namespace, ("result" if self.ok else "error"): self.text}


QUEUED_AT_MOST = 64
"""Launches handed to the deck at once: it runs ``preview.max_parallel_launches`` of them and queues the others,
whose rows read ``queued #N`` (see :func:`launch_parallel`)."""


def launch_parallel(targets: int) -> int:
    """How many launch threads a bulk launch uses: all of them (the deck's queue keeps the cap), up to a bound."""
    return max(1, min(targets, QUEUED_AT_MOST))


BulkStep = Callable[[RepoRef, int], tuple[str, str | None]]
"""Acts on one pull request (blocking); returns what it did and the namespace it acted on."""


def run_each(action: str, targets: Sequence[tuple[RepoRef, int]], step: BulkStep, parallel: int,
             on_result: Callable[[BulkResult], None] = lambda _result: None) -> list[BulkResult]:
    """``step`` on every target, ``parallel`` at a time (at least 1); ``on_result`` hears each as it ends (from
    its worker thread). A PrdeckError is that target's failed result; anything else is a bug and is raised."""
    unique = list(dict.fromkeys(targets))

    def one(target: tuple[RepoRef, int]) -> BulkResult:
        repo, number = target
        try:
            text, namespace = step(repo, number)
            result = BulkResult(repo, number, action, True, text, namespace)
        except PrdeckError as exc:
            result = BulkResult(repo, number, action, False, exc.title + (f": {exc.detail}" if exc.detail else ""))
        on_result(result)
        return result

    if not unique:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(unique))), thread_name_prefix="prdeck-bulk") as pool:
        return list(pool.map(one, unique))
