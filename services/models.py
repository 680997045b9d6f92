"""Frozen data passed between the services and the UI."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import total_ordering
from typing import Any

_REPO_PART = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


@total_ordering
@dataclass(frozen=True, eq=False)
class RepoRef:
    """A GitHub repository, ``owner/name``.

    GitHub's names are case-insensitive: ``Octo/App`` and ``octo/app`` are one repository, so they compare,
    hash and sort as equal, while each keeps the spelling it was given for display.
    """

    owner: str
    name: str

    @property
    def identity(self) -> tuple[str, str]:
        """What tells repositories apart: owner and name, lower-cased."""
        return (self.owner.lower(), self.name.lower())

    def __eq__(self, other: object) -> bool:
        return self.identity == other.identity if isinstance(other, RepoRef) else NotImplemented

    def __hash__(self) -> int:
        return hash(self.identity)

    def __lt__(self, other: RepoRef) -> bool:
        return self.identity < other.identity

    @classmethod
    def parse(cls, text: str) -> RepoRef:
        """Parse ``owner/name`` (a trailing ``.git`` is dropped); raise ValueError with a readable reason otherwise."""
        if not isinstance(text, str):
            raise TypeError("a repository is a string")
        owner, sep, name = text.strip().partition("/")
        if not sep or not _REPO_PART.match(owner) or not _REPO_PART.match(name) or name in (".", ".."):
            raise ValueError(f"{text!r} is not a repository (expected owner/name)")
        return cls(owner, name.removesuffix(".git"))

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def __str__(self) -> str:
        return self.full_name


@dataclass(frozen=True)
class PullRequest:
    """An open pull request as the list view needs it."""

    repo: RepoRef
    number: int
    title: str
    author: str
    branch: str
    head_sha: str
    fork: bool
    draft: bool
    labels: tuple[str, ...]
    ci: str | None
    """The last commit's status rollup: SUCCESS, FAILURE, PENDING, ERROR, EXPECTED, or None without checks."""
    review: str | None
    """APPROVED, CHANGES_REQUESTED, REVIEW_REQUIRED, or None."""
    updated_at: datetime
    url: str
    association: str = ""
    """The author's relation to the repository (GitHub's ``authorAssociation``: OWNER, MEMBER, COLLABORATOR,
    CONTRIBUTOR, FIRST_TIME_CONTRIBUTOR, FIRST_TIMER, MANNEQUIN, NONE); empty when not known."""

    def to_json(self) -> dict[str, Any]:
        """The public JSON shape of ``prdeck ls --json`` (keys documented in the README)."""
        return {
            "repo": self.repo.full_name,
            "number": self.number,
            "title": self.title,
            "author": self.author,
            "branch": self.branch,
            "head_sha": self.head_sha,
            "fork": self.fork,
            "draft": self.draft,
            "labels": list(self.labels),
            "ci": self.ci,
            "review": self.review,
            "updated_at": self.updated_at.isoformat().replace("+00:00", "Z"),
            "url": self.url,
        }


@dataclass(frozen=True)
class Identity:
    """Who a token belongs to, as ``/user`` reports it."""

    login: str
    name: str | None
    scopes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class PullDetail:
    """What the detail pane adds to a row: fetched on demand, one request per pull request."""

    repo: RepoRef
    number: int
    body: str
    base_branch: str
    head_sha: str
    head_owner: str | None
    fork: bool
    created_at: datetime
    branch: str = ""
    state: str = "OPEN"
    """OPEN, CLOSED or MERGED."""

    @property
    def head_repo(self) -> RepoRef:
        """Where the head branch lives: the fork, or the repository itself."""
        return RepoRef(self.head_owner, self.repo.name) if self.fork and self.head_owner else self.repo


@dataclass(frozen=True)
class PodStatus:
    """One pod of a preview, as the detail pane and ``prdeck status`` show it."""

    name: str
    phase: str
    ready: bool
    reason: str | None
    """Why it is not running or ready: ContainerCreating, ImagePullBackOff, CrashLoopBackOff..."""
    restarts: int
    containers: tuple[str, ...]
    deleting: bool = False
    started_at: datetime | None = None


@dataclass(frozen=True)
class Preview:
    """The preview environment of one pull request, as found on the cluster."""

    repo: RepoRef
    number: int
    namespace: str
    state: str
    """ready, deploying, failed, terminating, stale, expiring, empty, asleep (README, "The TUI")."""
    reason: str | None
    url: str | None
    deployed_sha: str | None
    expires_at: datetime | None
    pods: tuple[PodStatus, ...] = ()
    pinned: bool = False
    """Never expires (``prdeck pin``): reap leaves it alone."""
    known: bool = True
    """False when the namespace names no repository for sure (labels only, shortened): an orphan of an unknown PR."""
    created_at: datetime | None = None
    """When its namespace was created (reap's grace period for empty namespaces)."""
    approved_sha: str | None = None
    active_at: datetime | None = None
    """Its last launch or wake (``phase-at``, ``active-at``): reap's idle sleep counts from it."""
    """For a fork's preview: the head SHA its maintainer approved (reconcile relaunches a fork only at that SHA)."""

    @property
    def key(self) -> str:
        return f"{self.repo}#{self.number}" if self.known else f"?#{self.number} ({self.namespace})"

    @property
    def host(self) -> str | None:
        if not self.url:
            return None
        return self.url.split("://", 1)[-1].split("/", 1)[0]

    def to_json(self) -> dict[str, Any]:
        """The ``preview`` object of ``prdeck ls --json`` and ``prdeck status --json``."""
        return {
            "state": self.state,
            "reason": self.reason,
            "url": self.url,
            "namespace": self.namespace,
            "deployed_sha": self.deployed_sha,
            "expires_at": self.expires_at.isoformat().replace("+00:00", "Z") if self.expires_at else None,
            "pinned": self.pinned,
        }


@dataclass(frozen=True)
class ClusterEvent:
    """A Kubernetes Event in a preview's namespace (newest last)."""

    time: datetime | None
    kind: str
    """Normal or Warning."""
    reason: str
    message: str
    object: str


@dataclass(frozen=True)
class LogLine:
    pod: str
    container: str
    timestamp: str
    text: str
    notice: bool = False
    """prdeck's own line about the stream (e.g. reconnected after an outage), not the container's."""

    @property
    def prefix(self) -> str:
        return f"{self.pod}/{self.container}"


@dataclass(frozen=True)
class LogRequest:
    """Which logs of a preview to read (``prdeck logs`` options, the logs screen's settings)."""

    follow: bool = False
    tail: int | None = None
    since_seconds: int | None = None
    container: str | None = None
    previous: bool = False


LAUNCH_STEPS = ("fetch", "build", "push", "apply", "rollout", "report")
"""The steps of a launch, in order (the progress panel shows one line each)."""


@dataclass(frozen=True)
class LaunchEvent:
    """One thing a launch reports while it runs; the progress panel and ``prdeck launch`` render them."""

    repo: RepoRef
    number: int
    kind: str
    """step (a step changed state), line (build/push output), progress (push fraction), warning, note."""
    step: str
    state: str = ""
    """For ``step``: running, done, skipped or failed."""
    text: str = ""
    seconds: float | None = None
    fraction: float | None = None

    @property
    def key(self) -> str:
        return f"{self.repo}#{self.number}"


@dataclass(frozen=True)
class LaunchCheck:
    """What a maintainer must see before a launch: for a fork, the files that run code at build time."""

    repo: RepoRef
    number: int
    head_sha: str
    fork: bool
    head_repo: RepoRef
    build_files: tuple[str, ...] = ()
