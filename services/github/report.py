"""Tell GitHub about a preview: a Deployment with statuses, a commit status, optionally one sticky PR comment.

A failure here never breaks the preview: every call returns a warning (or None) instead of raising, so the launch
goes on and the maintainer is told what GitHub did not get.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
    _deployment: Deployment | None = None
    _repository: Any = None

    def _repo(self) -> Any:
        """The PyGithub repository, fetched once per launch (every write hangs off it)."""
        if self._repository is None:
            self._repository = self.github.client.get_repo(self.repo.full_name)
        return self._repository

    def _call(self, doing: str, action: Callable[[], Any]) -> Any:
        try:
            with github_errors(self.github.api_url, doing):
                return action()
        except PrdeckError as exc:
            self.warn(f"GitHub was not told ({doing}): {exc.title}. {exc.detail}".strip())
            return None

    def started(self) -> None:
        """Create the Deployment for the head SHA and mark it queued, with a pending commit status."""

        def create() -> Deployment:
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

        self._deployment = self._call("creating the deployment", create)
        self.commit_status("pending", "Preview is being built")

    def progress(self, description: str) -> None:
        if self._deployment is not None:
            deployment = self._deployment
            self._call("updating the deployment", lambda: deployment.create_status(
                "in_progress", description=description[:140]))

    def succeeded(self, url: str | None) -> None:
        """Ready: with its URL, or (no cluster.domain, so no URL anyone else could open) how to open it."""
        text = "Preview is ready" if url else f"Preview is ready: open it with `prdeck open {self.number}`"
        extra = {"environment_url": url} if url else {}
        if self._deployment is not None:
            deployment = self._deployment
            self._call("updating the deployment", lambda: deployment.create_status(
                "success", description=text, auto_inactive=True, **extra))
        self.commit_status("success", text, url)
        if self.sticky_comment:
            self.comment(f"Preview of {self.sha[:12]} is ready: {url or text}")

    def failed(self, step: str, reason: str) -> None:
        text = f"{step} failed: {reason}"[:140]
        if self._deployment is not None:
            deployment = self._deployment
            self._call("updating the deployment", lambda: deployment.create_status("failure", description=text))
        self.commit_status("failure", text)
        if self.sticky_comment:
            self.comment(f"Preview of {self.sha[:12]} failed at {step}: {reason}")

    def interrupted(self, step: str) -> None:
        """The launch was stopped (Ctrl+C, SIGTERM, a closed pipe, quitting the app, a destroy)."""
        text = f"Interrupted during {step}"[:140]
        if self._deployment is not None:
            deployment = self._deployment
            self._call("updating the deployment", lambda: deployment.create_status("error", description=text))
        self.commit_status("error", text)

    @property
    def deployment_id(self) -> int | None:
        return self._deployment.id if self._deployment is not None else None

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
