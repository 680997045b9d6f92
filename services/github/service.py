"""GitHub through PyGithub: GraphQL for the pull request list, REST for identity (and, later, writes).

Every PyGithub or network exception leaves this module as one of :mod:`prdeck.services.errors`, through
:func:`github_errors`, so callers handle a single hierarchy.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from github import Auth, Github, GithubException, GithubRetry
from github.GithubException import (
    BadCredentialsException,
    RateLimitExceededException,
    UnknownObjectException,
)

from prdeck.services import __version__
from prdeck.services.errors import (
    AuthError,
    ConfigError,
    NotFound,
    PrdeckError,
    RateLimited,
    RemoteError,
    Unavailable,
)
from prdeck.services.github.graphql import load_query
from prdeck.services.github.quiet_logs import quiet_library_logs
from prdeck.services.models import Identity, PullDetail, PullRequest, RepoRef

PAGE_SIZE = 100
class GitHubService:
    """A signed-in connection to one GitHub (or GitHub Enterprise) API."""

    def __init__(self, api_url: str, token: str, *, timeout: int = 10, retries: int = 3) -> None:
        require_private_channel(api_url)
        quiet_library_logs()
        self.api_url = api_url.rstrip("/")
        self.token = token
        # raise_on_status=False: after the last retry PyGithub sees the final 5xx answer, not a RetryError.
        retry = GithubRetry(total=retries, backoff_factor=0.5, max_rate_limit_wait=0, raise_on_status=False)
        self._github = Github(
            auth=Auth.Token(token),
            base_url=self.api_url,
            timeout=timeout,
            retry=retry,
            per_page=PAGE_SIZE,
            user_agent=f"prdeck/{__version__}",
            # PyGithub otherwise sleeps 0.25 s before every request and 1 s before every POST, GraphQL
            # queries included: 10 s for 1,000 pull requests. prdeck sends requests one at a time, and
            # secondary rate limits are still honoured through GithubRetry (Retry-After).
            seconds_between_requests=None,
            seconds_between_writes=None,
        )

    def close(self) -> None:
        self._github.close()

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

    def open_pull_pages(self, repo: RepoRef) -> Iterator[list[PullRequest]]:
        """The open pull requests of one repository page by page (100 each), as each GraphQL response arrives."""
        query = load_query("open_pull_requests")
        cursor: str | None = None
        while True:
            variables = {"owner": repo.owner, "name": repo.name, "after": cursor}
            with github_errors(self.api_url, f"listing pull requests of {repo}"):
                _, payload = self._github.requester.graphql_query(query, variables)
                repository = payload["data"]["repository"]
                connection = repository["pullRequests"]
                page = [_pull_from_node(RepoRef.parse(repository["nameWithOwner"]), node)
                        for node in connection["nodes"]]
            yield page
            if not connection["pageInfo"]["hasNextPage"]:
                return
            cursor = connection["pageInfo"]["endCursor"]

    def pull_detail(self, repo: RepoRef, number: int) -> PullDetail:
        """Description, base and head of one pull request (the detail pane)."""
        variables = {"owner": repo.owner, "name": repo.name, "number": number}
        with github_errors(self.api_url, f"reading {repo}#{number}"):
            _, payload = self._github.requester.graphql_query(load_query("pull_request_detail"), variables)
            node = payload["data"]["repository"]["pullRequest"]
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


def _pull_from_node(repo: RepoRef, node: dict[str, Any]) -> PullRequest:
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
    )


def _reset_time(headers: dict[str, Any] | None) -> datetime | None:
    lowered = {key.lower(): value for key, value in (headers or {}).items()}
    value = lowered.get("x-ratelimit-reset")
    if value is None or not str(value).isdigit():
        return None
    return datetime.fromtimestamp(int(value), UTC)


def _rate_limited(headers: dict[str, Any] | None) -> RateLimited:
    reset_at = _reset_time(headers)
    when = f"it resets at {reset_at.astimezone():%H:%M:%S} ({_from_now(reset_at)})" if reset_at else "wait a while"
    return RateLimited("GitHub rate limit exhausted", f"{when}, then try again", reset_at=reset_at)


def _from_now(when: datetime) -> str:
    """``in 12 min``, ``in 40 s``: a bare clock time does not say how long to wait (nor in which time zone)."""
    seconds = max(int((when - datetime.now(UTC)).total_seconds()), 0)
    return f"in {seconds} s" if seconds < 60 else f"in {(seconds + 59) // 60} min"


def _message(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message", ""))
    return str(data.get("message") or exc.message or "")


def translate(exc: BaseException, api_url: str, doing: str) -> PrdeckError:
    """Map a PyGithub / requests exception to prdeck's error hierarchy."""
    if isinstance(exc, BadCredentialsException) or (isinstance(exc, GithubException) and exc.status == 401):
        return AuthError(
            "GitHub rejected the token (401 Bad credentials)", "run `prdeck login` again or set a valid GH_TOKEN"
        )
    if isinstance(exc, RateLimitExceededException):
        return _rate_limited(exc.headers)
    if isinstance(exc, GithubException):
        data = exc.data if isinstance(exc.data, dict) else {}
        errors = data.get("errors")
        errors = errors if isinstance(errors, list) else []
        if any(isinstance(err, dict) and err.get("type") == "RATE_LIMITED" for err in errors):
            return _rate_limited(exc.headers)
        if isinstance(exc, UnknownObjectException) or exc.status == 404:
            return NotFound(
                f"Not found while {doing}",
                f"{(_message(exc) or 'GitHub answered 404').rstrip('.')}; "
                "check the name and that your token can see the repository",
            )
        if exc.status >= 500:
            return Unavailable(
                f"GitHub failed while {doing} (HTTP {exc.status})", "GitHub is having trouble; try again in a moment"
            )
        return RemoteError(f"GitHub refused {doing} (HTTP {exc.status})", _message(exc))
    if _is_timeout(exc):
        return Unavailable(f"GitHub at {api_url} timed out while {doing}", "check your network or raise github.timeout")
    if isinstance(exc, requests.exceptions.RequestException):
        return Unavailable(
            f"Cannot reach GitHub at {api_url}", f"{_short_network_reason(exc)}; check your network or github.api_url"
        )
    raise exc


def _is_timeout(exc: BaseException) -> bool:
    """True for a timeout, also when urllib3's retries wrapped it in a ConnectionError/MaxRetryError."""
    if isinstance(exc, requests.exceptions.Timeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    # NewConnectionError (e.g. connection refused) subclasses urllib3's TimeoutError for history's sake.
    return isinstance(reason, urllib3.exceptions.TimeoutError) and not isinstance(
        reason, urllib3.exceptions.NewConnectionError
    )


def _short_network_reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out", "Max retries exceeded"):
        if marker in text:
            return marker.lower()
    return type(exc).__name__


@contextlib.contextmanager
def github_errors(api_url: str, doing: str) -> Iterator[None]:
    """Re-raise anything PyGithub or requests throws as a :class:`PrdeckError`."""
    try:
        yield
    except PrdeckError:
        raise
    except (GithubException, requests.exceptions.RequestException) as exc:
        raise translate(exc, api_url, doing) from exc
    except RuntimeError as exc:  # PyGithub refuses a 301 to another host or scheme (with the token: rightly)
        raise Unavailable(
            f"GitHub at {api_url} redirected elsewhere while {doing}",
            "prdeck sends the token to the configured API only and follows no redirect to another host; "
            "set github.api_url (or --github-url) to the API's own address (GitHub Enterprise: https://HOST/api/v3)",
        ) from exc
    except (TypeError, KeyError, AttributeError, ValueError) as exc:  # an answer that is not GitHub's JSON
        raise RemoteError(
            f"{api_url} did not answer like GitHub's API while {doing}",
            "it sent a redirect or a page that is not the API's JSON (a proxy or login page?); check github.api_url "
            "or --github-url (GitHub Enterprise: https://HOST/api/v3)",
        ) from exc
