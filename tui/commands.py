"""What each ``prdeck`` command does, returning result objects; printing is :mod:`tui.render`'s job."""

from __future__ import annotations

from dataclasses import dataclass

from services.config import Config
from services.credentials import api_host, delete_token, read_keyring, resolve_token, store_token
from services.errors import KeyringUnavailable, UsageError
from services.github import GitHubService
from services.models import Identity, PullRequest, RepoRef


@dataclass(frozen=True)
class ListResult:
    repos: list[RepoRef]
    pulls: list[PullRequest]


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


def list_pulls(github: GitHubService, repos: list[RepoRef]) -> ListResult:
    return ListResult(repos, github.open_pulls_of(repos))


def login(config: Config, token: str) -> LoginResult:
    """Check the token against ``/user`` first, then keep it in the keyring; nothing is stored if either fails."""
    token = token.strip()
    if not token:
        raise UsageError("No token given", "paste a GitHub token, or pipe one into `prdeck login --with-token`")
    with GitHubService(
        config.api_url, token, timeout=config["github.timeout"], retries=config["github.retries"]
    ) as github:
        identity = github.whoami()
    store_token(config.api_url, token)
    return LoginResult(api_host(config.api_url), identity)


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
