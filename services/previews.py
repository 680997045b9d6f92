"""The facade the screens call: pull requests joined with their previews.

Screens never talk to PyGithub (or, later, kubernetes and docker) directly; they call a :class:`Deck`.
Until the cluster side exists every row's preview is ``None`` ("no preview").
"""

from __future__ import annotations

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


class Deck:
    """Reads pull requests (and later previews) for a fixed set of repositories."""

    def __init__(self, github: GitHubService, repos: list[RepoRef]) -> None:
        self.github = github
        self.repos = tuple(repos)

    def snapshot(self) -> Snapshot:
        """One fetch of every repository's open pull requests (blocking: call it from a worker)."""
        pulls = self.github.open_pulls_of(self.repos)
        return Snapshot(self.repos, tuple(Row(pull) for pull in pulls), datetime.now(UTC))

    def detail(self, pull: PullRequest) -> PullDetail:
        owner, _, name = pull.repo.partition("/")
        return self.github.pull_detail(RepoRef(owner, name), pull.number)

    def close(self) -> None:
        self.github.close()
