"""What each ``prdeck`` command does, returning result objects; printing is :mod:`prdeck.tui.cli.output`'s job."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlparse

from prdeck.services.config import Config
from prdeck.services.deck import Budget, Deck, Row, sign_in
from prdeck.services.errors import KeyringUnavailable, PrdeckError, UsageError
from prdeck.services.github.credentials import api_host, delete_token, read_keyring, resolve_token
from prdeck.services.models import Identity, PullRequest, RepoRef
from prdeck.tui.view.safe_text import printable


@dataclass(frozen=True)
class ListResult:
    repos: list[RepoRef]
    pulls: list[PullRequest]
    rows: tuple[Row, ...] = ()
    """The pulls joined with their previews, then orphan previews (empty when previews were not asked for)."""
    cluster_problem: PrdeckError | None = None
    """Why previews are unknown (no cluster configured, unreachable...)."""
    budget: Budget | None = None
    """GitHub's GraphQL points left after the listing, and their reset."""


@dataclass(frozen=True)
class LoginResult:
    host: str
    identity: Identity


@dataclass(frozen=True)
class LogoutResult:
    host: str
    removed: bool


@dataclass(frozen=True)
class ConfigReport:
    config: Config
    token_source: str | None
    keyring_problem: str | None


def list_with_previews(deck: Deck) -> ListResult:
    """Pull requests and previews: one GraphQL query per 100 PRs, one list call on the cluster."""
    overview = deck.overview()
    snapshot = overview.snapshot
    return ListResult(list(deck.repos), snapshot.pulls, snapshot.rows, overview.cluster_problem, deck.budget)


_PULL_URL = re.compile(r"^https?://(?P<host>[^/]+)/(?P<repo>[^/]+/[^/]+)/pull/(?P<number>[0-9]+)/?$")
_PULL_REF = re.compile(r"^(?:(?P<repo>[^/#\s]+/[^/#\s]+))?#?(?P<number>[0-9]+)$")
MAX_PULL_NUMBER = 2**31 - 1
"""GitHub's GraphQL ``Int`` is 32-bit signed: a larger number is not a pull request, it is a 400."""


class AmbiguousPull(UsageError):
    """A bare number with several repositories configured; :func:`pull_of` looks for the one that has it."""

    def __init__(self, number: int, repos: list[RepoRef]) -> None:
        names = ", ".join(str(repo) for repo in repos)
        super().__init__(f"Which repository has #{number}?",
                         f"several are configured ({names}); use owner/name#{number}")
        self.number = number


def parse_pull_ref(text: str, repos: list[RepoRef], api_url: str) -> tuple[RepoRef, int]:
    """``101``, ``#101``, ``owner/name#101`` or a PR URL; a bare number needs exactly one configured repo.

    A URL must be of the GitHub that ``api_url`` names: another host's ``o/r/pull/1`` is not this GitHub's o/r#1.
    """
    url = _PULL_URL.match(text.strip())
    if url is not None:
        _require_host(url.group("host"), api_url, text)
    match = url or _PULL_REF.match(text.strip())
    if match is None:
        raise UsageError(f"Not a pull request: {printable(text)!r}", "use 101, owner/name#101 or the PR's URL")
    number = int(match.group("number"))
    if not 1 <= number <= MAX_PULL_NUMBER:
        raise UsageError(f"Not a pull request number: {printable(text)}",
                         f"a pull request number is between 1 and {MAX_PULL_NUMBER}")
    if match.group("repo"):
        try:
            return RepoRef.parse(match.group("repo")), number
        except ValueError as exc:
            raise UsageError(f"Not a pull request: {text!r}", str(exc)) from exc
    if len(repos) != 1:
        raise AmbiguousPull(number, repos)
    return repos[0], number


def pull_of(deck: Deck, text: str) -> tuple[RepoRef, int]:
    """The pull request ``text`` names, among the deck's repositories and of its GitHub.

    A bare number with several repositories configured is resolved when exactly one of them has that open
    pull request (or, failing that, exactly one has a preview for that number); otherwise the user is asked.
    """
    try:
        return parse_pull_ref(text, list(deck.repos), deck.api_url)
    except AmbiguousPull as ambiguous:
        number = ambiguous.number
        owners = {pull.repo for pull in deck.snapshot().pulls if pull.number == number}
        if not owners and deck.has_cluster:
            try:
                owners = {preview.repo for preview in deck.list_previews() if preview.number == number}
            except PrdeckError:
                owners = set()
        if len(owners) == 1:
            return owners.pop(), number
        if not owners:
            raise UsageError(f"No open pull request #{number} in {', '.join(str(r) for r in deck.repos)}",
                             f"use owner/name#{number} for a closed one") from None
        raise ambiguous from None


def _require_host(host: str, api_url: str, text: str) -> None:
    """The web host of ``api_url``'s GitHub: the API's own (GitHub Enterprise, the sandbox) or without ``api.``."""
    api_host = (urlparse(api_url).netloc or "").lower()
    if host.lower() in (api_host, api_host.removeprefix("api.")):
        return
    raise UsageError(
        f"{printable(text)} is a pull request on {printable(host)}, not on the configured GitHub",
        f"prdeck talks to {api_url} (github.api_url or --github-url); use owner/name#number or a URL of that host",
    )


def login(config: Config, token: str) -> LoginResult:
    """Check the token against ``/user`` first, then keep it in the keyring; nothing is stored if either fails."""
    token = token.strip()
    if not token:
        raise UsageError("No token given", "paste a GitHub token, or pipe one into `prdeck login --with-token`")
    host, identity = sign_in(config, token)
    return LoginResult(host, identity)


def logout(config: Config) -> LogoutResult:
    return LogoutResult(api_host(config.api_url), delete_token(config.api_url))


def config_report(config: Config) -> ConfigReport:
    """The effective settings, and where the token would come from (never the token itself)."""
    problem = None
    try:
        read_keyring(config.api_url)
    except KeyringUnavailable as exc:
        problem = exc.title
    token = resolve_token(config.api_url)
    return ConfigReport(config, token.source if token else None, problem)
