"""GitHub through PyGithub: GraphQL for the pull request list, REST for identity (and, later, writes).

Every PyGithub or network exception leaves this module as one of :mod:`prdeck.services.errors`, through
:func:`github_errors` (:mod:`prdeck.services.github.failures`), so callers handle a single hierarchy.
"""

from __future__ import annotations

import ipaddress
import threading
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from github import Auth, Github, GithubRetry

from prdeck.services import __version__
from prdeck.services.errors import ConfigError, NotFound
from prdeck.services.github.budget import Budget, budget_from_headers
from prdeck.services.github.failures import github_errors

__all__ = ["GitHubService", "github_errors", "head_commit_id", "pull_from_node", "require_private_channel"]
from prdeck.services.github.graphql import load_query
from prdeck.services.github.quiet_logs import quiet_library_logs
from prdeck.services.models import Identity, PullDetail, PullRequest, RepoRef

PAGE_SIZE = 100


class _NoRateLimitRetry(GithubRetry):
    """GithubRetry that never retries a rate-limited answer (403/429): it would sleep out Retry-After (a
    minute, in a worker nobody can cancel) or hammer a secondary limit; the caller schedules the next try."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        return status_code not in (403, 429) and super().is_retry(method, status_code, has_retry_after)


class GitHubService:
    """A signed-in connection to one GitHub (or GitHub Enterprise) API."""

    def __init__(self, api_url: str, token: str, *, timeout: int = 10, retries: int = 3) -> None:
        require_private_channel(api_url)
        quiet_library_logs()
        self.api_url = api_url.rstrip("/")
        self.token = token
        self._timeout, self._retries = timeout, retries
        self._threads = threading.local()
        self._clients: weakref.WeakSet[Github] = weakref.WeakSet()
        self.budget: Budget | None = None
        """GraphQL points left and when they reset, from the newest GraphQL answer (None: none yet)."""
        self.server_time: datetime | None = None
        """GitHub's clock (the ``Date`` header) at the newest GraphQL answer: a refresh's marks use no local clock."""

    @property
    def _github(self) -> Github:
        """This thread's PyGithub client. PyGithub's Requester keeps one connection object per client, and a
        request is two calls on it (``request`` stores the verb, URL and body; ``getresponse`` sends them): two
        threads sharing a client could send one request twice and lose the other. A thread's client goes with
        the thread."""
        client: Github | None = getattr(self._threads, "client", None)
        if client is None:
            client = self._threads.client = self._new_client()
        return client

    def _new_client(self, lazy: bool = False) -> Github:
        # raise_on_status=False: after the last retry PyGithub sees the final 5xx answer, not a RetryError.
        retry = _NoRateLimitRetry(total=self._retries, backoff_factor=0.5, max_rate_limit_wait=0,
                                  raise_on_status=False)
        client = Github(
            auth=Auth.Token(self.token),
            base_url=self.api_url,
            timeout=self._timeout,
            retry=retry,
            per_page=PAGE_SIZE,
            user_agent=f"prdeck/{__version__}",
            # PyGithub otherwise sleeps 0.25 s before every request and 1 s before every POST, GraphQL
            # queries included: 10 s for 1,000 pull requests. prdeck sends requests one at a time, and
            # a secondary rate limit (403, Retry-After) is waited out by the caller: see _NoRateLimitRetry.
            seconds_between_requests=None,
            seconds_between_writes=None,
            lazy=lazy,
        )
        self._clients.add(client)
        return client

    def close(self) -> None:
        for client in list(self._clients):
            client.close()

    def __enter__(self) -> GitHubService:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def whoami(self) -> Identity:
        """The token's user and OAuth scopes (``GET /user``)."""
        with github_errors(self.api_url, "checking the token"):
            user = self._github.get_user()
            login = user.login
            name = user.name
            if not isinstance(login, str) or not login:
                raise TypeError("GET /user answered without a login")
        scopes = tuple(self._github.oauth_scopes or ())
        return Identity(login=login, name=name, scopes=scopes)

    def open_pulls(self, repo: RepoRef) -> list[PullRequest]:
        """All open pull requests of one repository, newest update first, 100 per GraphQL request."""
        return [pull for page in self.open_pull_pages(repo) for pull in page]

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """One GraphQL request's ``data``; the answer's rate-limit headers update :attr:`budget`.

        Call it inside :func:`github_errors`."""
        headers, payload = self._github.requester.graphql_query(query, variables)
        self.budget = budget_from_headers(headers) or self.budget
        self.server_time = _server_time(headers) or self.server_time
        data: dict[str, Any] = payload["data"]
        return data

    def open_pull_pages(
        self, repo: RepoRef, heads: dict[tuple[RepoRef, int], str] | None = None
    ) -> Iterator[list[PullRequest]]:
        """The open pull requests of one repository page by page (100 each), as each GraphQL response arrives.

        ``heads``, when given, receives the node ID of each pull request's head commit (for rollup checks)."""
        query = load_query("open_pull_requests")
        cursor: str | None = None
        while True:
            variables = {"owner": repo.owner, "name": repo.name, "after": cursor}
            with github_errors(self.api_url, f"listing pull requests of {repo}"):
                repository = self.graphql(query, variables)["repository"]
                connection = repository["pullRequests"]
                page = [pull_from_node(RepoRef.parse(repository["nameWithOwner"]), node)
                        for node in connection["nodes"]]
                if heads is not None:
                    for pull, node in zip(page, connection["nodes"], strict=True):
                        commit_id = head_commit_id(node)
                        if commit_id is not None:
                            heads[pull.repo, pull.number] = commit_id
            yield page
            if not connection["pageInfo"]["hasNextPage"]:
                return
            cursor = connection["pageInfo"]["endCursor"]

    def pull_detail(self, repo: RepoRef, number: int) -> PullDetail:
        """Description, base and head of one pull request (the detail pane)."""
        variables = {"owner": repo.owner, "name": repo.name, "number": number}
        with github_errors(self.api_url, f"reading {repo}#{number}"):
            node = self.graphql(load_query("pull_request_detail"), variables)["repository"]["pullRequest"]
            if node is None:
                raise NotFound(f"{repo}#{number} does not exist", "check the number; it may have been deleted")
            owner = node.get("headRepositoryOwner") or {}
            return PullDetail(
                repo=repo,
                number=node["number"],
                body=node["bodyText"],
                base_branch=node["baseRefName"],
                head_sha=node["headRefOid"],
                head_owner=owner.get("login"),
                fork=node["isCrossRepository"],
                created_at=datetime.fromisoformat(node["createdAt"].replace("Z", "+00:00")),
                branch=node["headRefName"],
                state=node["state"],
            )

    @property
    def client(self) -> Github:
        """The PyGithub client, for the REST writes in :mod:`prdeck.services.github.report`."""
        return self._github

    @property
    def lazy_client(self) -> Github:
        """This thread's client whose objects are lazy: ``get_repo(...).get_commit(sha).create_status(...)`` is
        one POST, not two GETs and a POST."""
        client: Github | None = getattr(self._threads, "lazy", None)
        if client is None:
            client = self._threads.lazy = self._new_client(lazy=True)
        return client

    def clone_url(self, repo: RepoRef) -> str:
        """Where git fetches the repository from (``clone_url`` of ``GET /repos/{owner}/{name}``)."""
        with github_errors(self.api_url, f"reading {repo}"):
            url = self._github.get_repo(repo.full_name).clone_url
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                raise TypeError(f"GET /repos/{repo} answered without a clone_url")
            return url

    def changed_files(self, repo: RepoRef, number: int) -> list[str]:
        """Paths a pull request changes (``GET .../pulls/{n}/files``, paginated)."""
        with github_errors(self.api_url, f"listing the files of {repo}#{number}"):
            pull = self._github.get_repo(repo.full_name).get_pull(number)
            return [item.filename for item in pull.get_files()]


def require_private_channel(api_url: str) -> None:
    """The token goes over https only; plain http only to this machine (the sandbox, a tunnel on 127.0.0.1)."""
    url = urlsplit(api_url)
    if url.scheme == "https" and url.hostname:
        return
    if url.scheme == "http" and _is_loopback(url.hostname or ""):
        return
    raise ConfigError(
        f"Refusing to send the GitHub token to {api_url}",
        "the token travels over https only (plain http only to 127.0.0.1, ::1 or localhost); "
        "fix github.api_url, PRDECK_GITHUB_URL or --github-url",
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def head_commit_id(node: dict[str, Any]) -> str | None:
    """The node ID of a pull request node's head commit (``commits(last: 1)``), if it was asked for."""
    commits = node["commits"]["nodes"]
    return commits[0]["commit"].get("id") if commits else None


def pull_from_node(repo: RepoRef, node: dict[str, Any]) -> PullRequest:
    commits = node["commits"]["nodes"]
    rollup = commits[0]["commit"]["statusCheckRollup"] if commits else None
    author = node.get("author") or {}
    return PullRequest(
        repo=repo,
        number=node["number"],
        title=node["title"],
        author=author.get("login") or "ghost",
        branch=node["headRefName"],
        head_sha=node["headRefOid"],
        fork=node["isCrossRepository"],
        draft=node["isDraft"],
        labels=tuple(label["name"] for label in node["labels"]["nodes"]),
        ci=rollup["state"] if rollup else None,
        review=node.get("reviewDecision"),
        updated_at=datetime.fromisoformat(node["updatedAt"].replace("Z", "+00:00")),
        url=node["url"],
        association=str(node.get("authorAssociation") or ""),
    )


def _server_time(headers: dict[str, Any] | None) -> datetime | None:
    lowered = {str(key).lower(): value for key, value in (headers or {}).items()}
    try:
        return parsedate_to_datetime(str(lowered["date"])).astimezone(UTC)
    except (KeyError, TypeError, ValueError):
        return None
