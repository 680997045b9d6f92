"""The GitHub sandbox's data: users, repositories, pull requests, statuses, deployments, comments.

REST and GraphQL read the same objects, so a status posted over REST shows up in the GraphQL rollup.
All mutation happens under one lock; git content lives in :class:`GitStore`.
"""

from __future__ import annotations

import itertools
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prdeck.services.sandbox.github.gitstore import CommitSpec, GitStore


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


@dataclass
class User:
    login: str
    id: int
    token: str | None = None
    scopes: tuple[str, ...] = ("repo", "read:org")
    name: str | None = None
    type: str = "User"


@dataclass
class Status:
    id: int
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: str
    created_at: datetime
    updated_at: datetime


@dataclass
class Pull:
    number: int
    id: int
    title: str
    body: str
    author: str
    branch: str
    base_branch: str
    base_sha: str
    head_sha: str
    fork: bool
    draft: bool
    labels: list[str]
    review: str | None
    state: str  # open | closed
    merged: bool
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    merged_at: datetime | None = None
    association: str = ""
    """GitHub's ``author_association``; empty: OWNER for the repository's owner, CONTRIBUTOR for a fork, else
    MEMBER (see :func:`author_association`)."""


def author_association(owner: str, pull: Pull) -> str:
    """What GitHub says of a PR's author, the same in REST and GraphQL."""
    if pull.association:
        return pull.association
    if pull.author == owner:
        return "OWNER"
    return "CONTRIBUTOR" if pull.fork else "MEMBER"


@dataclass
class Deployment:
    id: int
    sha: str
    ref: str
    task: str
    environment: str
    description: str | None
    payload: Any
    transient_environment: bool
    production_environment: bool
    creator: str
    created_at: datetime
    updated_at: datetime
    statuses: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Comment:
    id: int
    issue_number: int
    body: str
    author: str
    created_at: datetime
    updated_at: datetime


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    default_branch: str
    private: bool = False
    collaborators: set[str] = field(default_factory=set)
    description: str = ""
    pulls: dict[int, Pull] = field(default_factory=dict)
    statuses: dict[str, list[Status]] = field(default_factory=dict)
    deployments: dict[int, Deployment] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def visible_to(self, login: str | None) -> bool:
        return not self.private or (login is not None and (login == self.owner or login in self.collaborators))

    def rollup(self, sha: str) -> str | None:
        """GraphQL's statusCheckRollup.state for a commit (None: no statuses at all)."""
        # newest first in the list: reversed, so the newest status of each context wins
        latest = {status.context: status.state for status in reversed(self.statuses.get(sha, []))}
        if not latest:
            return None
        states = set(latest.values())
        for state, rolled in (("error", "ERROR"), ("failure", "FAILURE"), ("pending", "PENDING")):
            if state in states:
                return rolled
        return "SUCCESS"


class GitHubState:
    """Everything the sandbox knows; thread-safe through :attr:`lock`."""

    def __init__(self, git_root: Path) -> None:
        self.lock = threading.RLock()
        self.git = GitStore(git_root)
        self.users: dict[str, User] = {}
        self.repos: dict[str, Repo] = {}
        self.commit_repos: dict[tuple[int, str], Repo] = {}
        """Every pull request head commit ever written, by repository ID and SHA (GraphQL's ``nodes(ids:)``; as on
        GitHub, a commit in several repositories has one ID in each)."""
        self._ids = itertools.count(1000)

    def next_id(self) -> int:
        return next(self._ids)

    # users -----------------------------------------------------------------------------------------
    def add_user(self, login: str, token: str | None = None, scopes: tuple[str, ...] | None = None) -> User:
        with self.lock:
            user = self.users.get(login)
            if user is None:
                user = self.users[login] = User(login=login, id=self.next_id())
            if token is not None:
                user.token = token
            if scopes is not None:
                user.scopes = scopes
            return user

    def user_for_token(self, token: str) -> User | None:
        with self.lock:
            return next((user for user in self.users.values() if user.token == token), None)

    # repositories ----------------------------------------------------------------------------------
    def add_repo(
        self,
        full_name: str,
        default_branch: str,
        files: dict[str, str],
        *,
        private: bool = False,
        collaborators: set[str] | None = None,
        description: str = "",
    ) -> Repo:
        owner, name = full_name.split("/", 1)
        with self.lock:
            self.add_user(owner)
            repo = Repo(
                owner,
                name,
                self.next_id(),
                default_branch,
                private,
                set(collaborators or ()),
                description,
                files=dict(files),
            )
            self.repos[full_name.lower()] = repo
            self.git.create(full_name, default_branch)
            files = files or {"README.md": f"# {name}\n"}
            self.git.write(
                full_name, [CommitSpec([f"refs/heads/{default_branch}"], files, "Initial commit", author=owner)]
            )
            return repo

    def repo(self, owner: str, name: str) -> Repo | None:
        with self.lock:
            return self.repos.get(f"{owner}/{name}".lower())

    def default_sha(self, repo: Repo) -> str:
        path = self.git.path(repo.full_name)
        head = path / "refs" / "heads" / repo.default_branch
        if head.exists():
            return head.read_text().strip()
        return subprocess.run(
            ["git", "rev-parse", repo.default_branch], cwd=path, capture_output=True, text=True, check=True
        ).stdout.strip()

    # pull requests ---------------------------------------------------------------------------------
    def open_pulls(self, repo: Repo, specs: list[dict[str, Any]]) -> list[Pull]:
        """Create pull requests (seed entries or admin "open" actions) with real head commits."""
        with self.lock:
            base_sha = self.default_sha(repo)
            commits = []
            for spec in specs:
                number = spec["number"]
                refs = [f"refs/pull/{number}/head"]
                if not spec.get("fork"):
                    refs.insert(0, f"refs/heads/{spec['branch']}")
                files = spec.get("files") or {f"changes/pr-{number}.md": f"Change for #{number}\n"}
                commits.append(CommitSpec(refs, files, spec["title"], parent=base_sha, author=spec["author"]))
            shas = self.git.write(repo.full_name, commits)
            created = []
            for spec, sha in zip(specs, shas, strict=True):
                self.add_user(spec["author"])
                moment = spec.get("updated_at") or now()
                pull = Pull(
                    number=spec["number"],
                    id=self.next_id(),
                    title=spec["title"],
                    body=spec.get("body", ""),
                    author=spec["author"],
                    branch=spec["branch"],
                    base_branch=repo.default_branch,
                    base_sha=base_sha,
                    head_sha=sha,
                    fork=bool(spec.get("fork")),
                    draft=bool(spec.get("draft")),
                    labels=list(spec.get("labels") or []),
                    review=spec.get("review"),
                    state="open",
                    merged=False,
                    created_at=spec.get("created_at") or moment,
                    updated_at=moment,
                    association=str(spec.get("association") or ""),
                )
                repo.pulls[pull.number] = pull
                self.commit_repos[repo.id, sha] = repo
                if spec.get("ci"):
                    self.add_status(repo, sha, spec["ci"].lower(), "ci/build", "sandbox-ci", None, None)
                created.append(pull)
            return created

    def next_number(self, repo: Repo) -> int:
        with self.lock:
            return max(repo.pulls, default=0) + 1

    def push(self, repo: Repo, pull: Pull, files: dict[str, str], message: str) -> str:
        """A new commit on the pull request's head; its CI goes back to pending if it had statuses."""
        with self.lock:
            refs = [f"refs/pull/{pull.number}/head"]
            if not pull.fork:
                refs.insert(0, f"refs/heads/{pull.branch}")
            files = files or {f"changes/pr-{pull.number}.md": f"Change for #{pull.number} at {now()}\n"}
            (sha,) = self.git.write(
                repo.full_name, [CommitSpec(refs, files, message, parent=pull.head_sha, author=pull.author)]
            )
            pull.head_sha = sha
            self.commit_repos[repo.id, sha] = repo
            pull.updated_at = now()
            return sha

    def add_status(
        self,
        repo: Repo,
        sha: str,
        state: str,
        context: str,
        creator: str,
        description: str | None,
        target_url: str | None,
    ) -> Status:
        with self.lock:
            moment = now()
            status = Status(self.next_id(), state, context, description, target_url, creator, moment, moment)
            repo.statuses.setdefault(sha, []).insert(0, status)
            return status

    def commit_info(self, repo: Repo, sha: str) -> dict[str, str]:
        """Tree, parents, author and message of a commit, read with ``git show``."""
        fields = subprocess.run(
            ["git", "show", "-s", "--format=%T%x00%P%x00%an%x00%ae%x00%aI%x00%B", sha],
            cwd=self.git.path(repo.full_name),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\x00")
        tree, parents, name, email, date, message = fields
        return {
            "tree": tree,
            "parents": parents,
            "name": name,
            "email": email,
            "date": date,
            "message": message.strip(),
        }

    def resolve_ref(self, repo: Repo, ref: str) -> str | None:
        """A branch, tag, ``refs/...`` name or (abbreviated) SHA to a full commit SHA."""
        result = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
            cwd=self.git.path(repo.full_name),
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout.strip() or None
