"""What the list shows: pull requests joined with their previews (pure data and functions, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from prdeck.services.errors import PrdeckError
from prdeck.services.kube.state import with_head
from prdeck.services.models import ClusterEvent, Preview, PullDetail, PullRequest, RepoRef

ORPHAN_TITLE = "(PR closed or gone: orphaned preview)"


@dataclass(frozen=True)
class Row:
    """One line of the main table: a pull request and its preview (None: no preview)."""

    pull: PullRequest
    preview: Preview | None = None
    orphan: bool = False
    """A preview whose pull request is closed or gone; ``pull`` then only carries the repo and number."""

    @property
    def key(self) -> str:
        if self.preview is not None and not self.preview.known:
            return self.preview.key  # an unknown PR: its namespace tells it apart
        return f"{self.pull.repo}#{self.pull.number}"


@dataclass(frozen=True)
class Snapshot:
    """Everything the list view shows, as of ``fetched_at``."""

    repos: tuple[RepoRef, ...]
    rows: tuple[Row, ...]
    fetched_at: datetime
    complete: bool = True

    @property
    def pulls(self) -> list[PullRequest]:
        return [row.pull for row in self.rows if not row.orphan]

    @property
    def orphans(self) -> list[Preview]:
        return [row.preview for row in self.rows if row.orphan and row.preview is not None]

    def with_previews(self, previews: Iterable[Preview]) -> Snapshot:
        """The same pull requests joined with a newer state of the previews."""
        return replace(self, rows=join(self.pulls, previews, self.repos, orphans=self.complete))


@dataclass(frozen=True)
class Overview:
    """What ``prdeck ls`` prints: the rows, and why previews are missing when they are."""

    snapshot: Snapshot
    cluster_problem: PrdeckError | None


@dataclass(frozen=True)
class PreviewDetail:
    """Pods and recent events of one preview, for the detail pane."""

    preview: Preview
    events: tuple[ClusterEvent, ...]


@dataclass(frozen=True)
class PreviewStatus:
    """What ``prdeck status`` shows: the PR's head and its preview (None: no preview) with recent events."""

    repo: RepoRef
    number: int
    namespace: str
    detail: PullDetail | None
    preview: Preview | None
    events: tuple[ClusterEvent, ...]


def orphan_pull(preview: Preview) -> PullRequest:
    """A stand-in pull request for a preview whose PR is not open: it carries the repo and number only."""
    return PullRequest(
        repo=preview.repo,
        number=preview.number,
        title=ORPHAN_TITLE,
        author="",
        branch="",
        head_sha=preview.deployed_sha or "",
        fork=False,
        draft=False,
        labels=(),
        ci=None,
        review=None,
        updated_at=datetime.fromtimestamp(0, UTC),
        url="",
    )


def at_head(preview: Preview, head_sha: str) -> Preview:
    """The preview as a PR row shows it: stale when the PR head moved since it was deployed, or expiring."""
    state = with_head(preview.state, preview.deployed_sha, head_sha, preview.expires_at)
    if state == preview.state:
        return preview
    reason = f"PR head moved to {head_sha[:7]}" if state == "stale" else preview.reason
    return replace(preview, state=state, reason=reason)


def join(
    pulls: Iterable[PullRequest], previews: Iterable[Preview], repos: Iterable[RepoRef], *, orphans: bool = True
) -> tuple[Row, ...]:
    """Rows for ``pulls`` with their previews (stale/expiring marked), then orphan previews of ``repos``, then
    those of an unknown repository (a namespace with prdeck's labels that names none for sure).

    Repositories match case-insensitively (RepoRef's equality), as on GitHub: ``--repo Octo/App`` lists the
    previews of ``octo/app``.
    """
    wanted = set(repos)
    previews = list(previews)
    by_key = {(p.repo, p.number): p for p in previews if p.repo in wanted and p.known}
    rows = []
    for pull in pulls:
        preview = by_key.pop((pull.repo, pull.number), None)
        rows.append(Row(pull, at_head(preview, pull.head_sha) if preview is not None else None))
    if orphans:
        ordered = sorted(by_key.values(), key=lambda p: (p.repo.identity, p.number))
        rows.extend(Row(orphan_pull(p), p, orphan=True) for p in ordered)
        rows.extend(Row(orphan_pull(p), p, orphan=True) for p in previews if not p.known)
    return tuple(rows)
