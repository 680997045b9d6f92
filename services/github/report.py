"""Tell GitHub about a preview: a Deployment with statuses, a commit status, optionally one sticky PR comment.

A failure here never breaks the preview: every call returns a warning (or None) instead of raising, so the launch
goes on and the maintainer is told what GitHub did not get.

A launch's reporter runs in the background (``background=True``): its calls are queued and sent in order by one
thread while the launch builds, pushes and deploys, and the launch waits (:meth:`GitHubReporter.flush`) only for
what is still on its way when it ends — at 100 ms a request, 14 round trips were 1.4 s of every launch.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from github.Deployment import Deployment

from prdeck.services.errors import PrdeckError
from prdeck.services.github.service import GitHubService, github_errors
from prdeck.services.models import RepoRef

STATUS_CONTEXT = "prdeck/preview"
COMMENT_MARKER = "<!-- prdeck:preview -->"


def environment_name(number: int) -> str:
    return f"preview/pr-{number}"


@dataclass
class GitHubReporter:
    """Deployment statuses queued -> in_progress -> success/failure, and inactive on destroy."""

    github: GitHubService
    repo: RepoRef
    number: int
    sha: str
    sticky_comment: bool = False
    warn: Callable[[str], None] = print
    background: bool = False
    """Queue the calls and send them from one thread, in order (see :meth:`flush`)."""
    on_deployment: Callable[[int | None], None] | None = None
    """Told the id of the deployment this reporter created (None: creating it failed), from the reporting thread."""
    _deployment: Deployment | None = None
    _refused: list[str] = field(default_factory=list, repr=False)
    _pending: deque[Callable[[], None]] = field(default_factory=deque, repr=False)
    _changed: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _busy: bool = False
    _worker: threading.Thread | None = None
    _adopted: int | None = None

    def _repo(self) -> Any:
        """The repository as a lazy PyGithub object of the calling thread's client: writes hang off its URL, so it
        costs no request of its own (nor does the commit a status is set on)."""
        return self.github.lazy_client.get_repo(self.repo.full_name)

    @property
    def all_sent(self) -> bool:
        """Whether GitHub took every report so far (none warned)."""
        return not self._refused

    def then(self, action: Callable[[], None]) -> None:
        """Run ``action`` after everything reported so far (in the background when the reporter is)."""
        if not self.background:
            action()
            return
        with self._changed:
            self._pending.append(action)
            if self._worker is None:
                self._worker = threading.Thread(target=self._drain, name="prdeck-github-reports", daemon=True)
                self._worker.start()
            self._changed.notify_all()

    def flush(self, timeout: float = 60.0) -> bool:
        """Wait until everything queued was sent (each call has GitHub's own timeout and retries); False when
        ``timeout`` passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._pending and not self._busy, timeout)

    def _drain(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: bool(self._pending))
                action = self._pending.popleft()
                self._busy = True
            try:
                action()
            except Exception as exc:
                self.warn(f"GitHub was not told: {type(exc).__name__}: {exc}")
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()

    def _call(self, doing: str, action: Callable[[], Any]) -> Any:
        try:
            with github_errors(self.github.api_url, doing):
                return action()
        except PrdeckError as exc:
            self._refused.append(doing)
            self.warn(f"GitHub was not told ({doing}): {exc.title}. {exc.detail}".strip())
            return None

    def started(self) -> None:
        """Create the Deployment for the head SHA and mark it queued, with a pending commit status."""
        self.then(self._started)

    def _started(self) -> None:
        def deploy() -> None:
            self._deploy_new()

        _side_by_side(deploy, lambda: self.commit_status("pending", "Preview is being built"))

    def _deploy_new(self) -> None:
        self._deployment = self._call("creating the deployment", self._create)
        if self.on_deployment is not None:
            self.on_deployment(self.deployment_id)

    def _create(self) -> Deployment:
        deployment = self._repo().create_deployment(
            ref=self.sha,
            environment=environment_name(self.number),
            description=f"prdeck preview of #{self.number}",
            transient_environment=True,
            production_environment=False,
            auto_merge=False,
            required_contexts=[],
            payload={"pr": self.number},
        )
        deployment.create_status("queued", description="Preview queued")
        return deployment

    def progress(self, description: str) -> None:
        self.then(lambda: self._progress(description))

    def _progress(self, description: str) -> None:
        if (deployment := self._deployment) is not None:  # an adopted one finished already: progress is no news
            self._call("updating the deployment", lambda: deployment.create_status(
                "in_progress", description=description[:140]))

    def succeeded(self, url: str | None) -> None:
        """Ready: with its URL, or (no cluster.domain, so no URL anyone else could open) how to open it."""
        self.then(lambda: self._succeeded(url))

    def _succeeded(self, url: str | None) -> None:
        text = "Preview is ready" if url else f"Preview is ready: open it with `prdeck open {self.number}`"
        extra = {"environment_url": url} if url else {}
        def deploy() -> None:
            if (deployment := self._current()) is not None:
                self._call("updating the deployment", lambda: deployment.create_status(
                    "success", description=text, auto_inactive=True, **extra))

        _side_by_side(deploy, lambda: self.commit_status("success", text, url))
        if self.sticky_comment:
            self.comment(f"Preview of {self.sha[:12]} is ready: {url or text}")

    def failed(self, step: str, reason: str) -> None:
        self.then(lambda: self._failed(step, reason))

    def _failed(self, step: str, reason: str) -> None:
        text = f"{step} failed: {reason}"[:140]
        def deploy() -> None:
            if (deployment := self._current()) is not None:
                self._call("updating the deployment", lambda: deployment.create_status("failure", description=text))

        _side_by_side(deploy, lambda: self.commit_status("failure", text))
        if self.sticky_comment:
            self.comment(f"Preview of {self.sha[:12]} failed at {step}: {reason}")

    def interrupted(self, step: str) -> None:
        """The launch was stopped (Ctrl+C, SIGTERM, a closed pipe, quitting the app, a destroy)."""
        self.then(lambda: self._interrupted(step))

    def _interrupted(self, step: str) -> None:
        text = f"Interrupted during {step}"[:140]
        def deploy() -> None:
            if (deployment := self._current()) is not None:
                self._call("updating the deployment", lambda: deployment.create_status("error", description=text))

        _side_by_side(deploy, lambda: self.commit_status("error", text))

    @property
    def deployment_id(self) -> int | None:
        return self._deployment.id if self._deployment is not None else self._adopted

    def adopt(self, deployment_id: int) -> None:
        """Stand on a deployment an earlier launch of this commit created and finished, instead of creating one:
        nothing is sent now. A launch that then ends otherwise (failed, interrupted) gets a deployment of its own
        for that ending, as it would have had from its start: the adopted one still runs what it said."""
        self._adopted = deployment_id

    def _current(self) -> Deployment | None:
        if self._deployment is None and self._adopted is not None:
            self._adopted = None
            self._deploy_new()
        return self._deployment

    def resume(self, deployment_id: int) -> None:
        """Report on a deployment another launch (or process) created: whoever sees the launch end reports it."""
        self._deployment = self._call("reading the deployment", lambda: self._repo().get_deployment(deployment_id))

    def commit_status(self, state: str, description: str, url: str | None = None) -> None:
        def create() -> None:
            extra = {"target_url": url} if url else {}
            commit = self._repo().get_commit(self.sha)
            commit.create_status(state, description=description[:140], context=STATUS_CONTEXT, **extra)

        self._call("setting the commit status", create)

    def comment(self, text: str) -> None:
        """Create or update in place the one comment prdeck keeps on the PR."""
        body = f"{COMMENT_MARKER}\n**prdeck preview** · {text}"

        def upsert() -> None:
            issue = self._repo().get_issue(self.number)
            for existing in issue.get_comments():
                if existing.body.startswith(COMMENT_MARKER):
                    existing.edit(body)
                    return
            issue.create_comment(body)

        self._call("updating the PR comment", upsert)


def _side_by_side(deployment: Callable[[], None], commit: Callable[[], None]) -> None:
    """A deployment's status and the commit's status at once: they are independent on GitHub, and at 100 ms a
    request each pair sent one after the other was 0.1 s more of every launch's end. Both ended on return, so the
    next report still comes after them."""
    failed: list[BaseException] = []

    def send_commit_status() -> None:
        try:
            commit()
        except BaseException as exc:  # raised here after the join, where the queue's one error path takes it
            failed.append(exc)

    other = threading.Thread(target=send_commit_status, name="prdeck-commit-status", daemon=True)
    other.start()
    try:
        deployment()
    finally:
        other.join()
    if failed:
        raise failed[0]


def mark_inactive(github: GitHubService, repo: RepoRef, number: int, warn: Callable[[str], None]) -> int:
    """Destroy: every active deployment of ``preview/pr-<n>`` gets an ``inactive`` status. Returns how many."""
    count = 0
    try:
        with github_errors(github.api_url, f"marking the deployments of #{number} inactive"):
            repository = github.client.get_repo(repo.full_name)
            for deployment in repository.get_deployments(environment=environment_name(number)):
                newest = next(iter(deployment.get_statuses()), None)
                latest = newest.state if newest is not None else None
                if latest not in ("inactive", "failure", "error"):
                    deployment.create_status("inactive", description="Preview destroyed")
                    count += 1
    except PrdeckError as exc:
        warn(f"GitHub was not told the preview is gone: {exc.title}. {exc.detail}".strip())
    return count
