"""The facade the screens call: pull requests joined with their previews.

Screens never talk to PyGithub (or, later, kubernetes and docker) directly; they call a :class:`Deck`.
Until the cluster side exists every row's preview is ``None`` ("no preview").
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from services.github import GitHubService
from services.models import PullDetail, PullRequest, RepoRef


@dataclass(frozen=True)
class Row:
    """One line of the main table."""

    pull: PullRequest
    preview: None = None

    @property
    def key(self) -> str:
        return f"{self.pull.repo}#{self.pull.number}"


@dataclass(frozen=True)
class Snapshot:
    """Everything the list view shows, as of ``fetched_at``."""

    repos: tuple[RepoRef, ...]
    rows: tuple[Row, ...]
    fetched_at: datetime
    complete: bool = True


class Deck:
    """Reads pull requests (and later previews) for a fixed set of repositories."""

    def __init__(self, github: GitHubService, repos: list[RepoRef]) -> None:
        self.github = github
        self.repos = tuple(repos)
        self._prefetch: Prefetch | None = None

    def prefetch(self) -> None:
        """Start the first fetch now, in a background thread, so it overlaps the UI's own start-up.

        The next :meth:`snapshots` call takes over the fetch in flight instead of starting another.
        """
        self._prefetch = Prefetch(self._fetch())

    def snapshot(self) -> Snapshot:
        """One fetch of every repository's open pull requests (blocking: call it from a worker)."""
        *_, last = self.snapshots()
        return last

    def snapshots(self) -> Iterator[Snapshot]:
        """The same fetch, yielding a growing partial snapshot as each page arrives; the last one is complete.

        A first screen can show the first hundred rows while the rest are still on the wire.
        """
        prefetch, self._prefetch = self._prefetch, None
        return prefetch if prefetch is not None else self._fetch()

    def _fetch(self) -> Iterator[Snapshot]:
        rows: list[Row] = []
        for repo in self.repos:
            for page in self.github.open_pull_pages(repo):
                rows.extend(Row(pull) for pull in page)
                yield Snapshot(self.repos, tuple(rows), datetime.now(UTC), complete=False)
        yield Snapshot(self.repos, tuple(rows), datetime.now(UTC))

    def detail(self, pull: PullRequest) -> PullDetail:
        owner, _, name = pull.repo.partition("/")
        return self.github.pull_detail(RepoRef(owner, name), pull.number)

    def close(self) -> None:
        self.github.close()


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
