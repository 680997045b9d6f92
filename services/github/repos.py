"""Which repository prdeck works on: ``owner/name`` strings and the ``origin`` remote of a git checkout."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import urlparse

from prdeck.services.config import Config
from prdeck.services.config_keys import DEFAULT_API_URL
from prdeck.services.errors import ConfigError, UsageError
from prdeck.services.models import RepoRef


def remote_host(url: str) -> str | None:
    """The host of a git remote URL (https, ``ssh://``, ``[user@]host:path``); None for a local path."""
    url = url.strip()
    scp = re.match(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>[^/].*)$", url)
    if scp and "://" not in url:
        return scp.group("host").lower()
    parsed = urlparse(url)
    return parsed.hostname.lower() if parsed.scheme not in ("", "file") and parsed.hostname else None


def github_hosts(api_url: str) -> frozenset[str]:
    """The hosts a remote of the configured GitHub may name: ``github.com`` (and its ssh host) for
    api.github.com; the API's own host for GitHub Enterprise (``https://HOST/api/v3``) and the sandbox."""
    host = (urlparse(api_url).hostname or "").lower()
    if host == "api.github.com":
        return frozenset({"github.com", "ssh.github.com", "www.github.com"})
    return frozenset({host, host.removeprefix("api.")})


def repo_from_remote_url(url: str, api_url: str = DEFAULT_API_URL) -> RepoRef | None:
    """``owner/name`` from a remote URL of the GitHub at ``api_url`` (https, ``git@host:o/n`` or ``ssh://``);
    None for another host (GitLab, another GitHub) or a local path."""
    url = url.strip()
    if remote_host(url) not in github_hosts(api_url):
        return None
    scp = re.match(r"^(?:[\w.-]+@)?[\w.-]+:(?P<path>[^/].*)$", url)
    path = scp.group("path") if scp and "://" not in url else urlparse(url).path
    parts = [part for part in path.strip("/").split("/") if part]
    if len(parts) != 2:
        return None
    try:
        return RepoRef.parse(f"{parts[0]}/{parts[1]}")
    except ValueError:
        return None


def origin_url(directory: Path | None = None) -> str | None:
    """The ``origin`` remote of the git checkout at ``directory`` (default: the current one)."""
    try:
        result = subprocess.run(
            ["git", "remote", "get-url", "origin"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def repo_from_checkout(directory: Path | None = None, api_url: str = DEFAULT_API_URL) -> RepoRef | None:
    """The repository of ``origin`` in the git checkout at ``directory``, when it is on the GitHub at ``api_url``."""
    url = origin_url(directory)
    return repo_from_remote_url(url, api_url) if url else None


def resolve_repos(cli_repo: str | None, configured: list[str], directory: Path | None = None,
                  api_url: str = DEFAULT_API_URL, source: str = "the config file") -> list[RepoRef]:
    """``--repo`` first, then the config's ``repos``, then the current checkout's ``origin`` — only when that
    remote is on the configured GitHub (a GitLab checkout or a local path must not name a GitHub repository)."""
    if cli_repo:
        try:
            return [RepoRef.parse(cli_repo)]
        except ValueError as exc:
            raise UsageError("Invalid --repo", f"{exc}") from exc
    if configured:
        # dict.fromkeys: one entry per repository, as GitHub counts them (``Octo/App`` is ``octo/app``)
        return list(dict.fromkeys(_configured_repo(item, source) for item in configured))
    found = repo_from_checkout(directory, api_url)
    if found is None:
        hosts = " or ".join(sorted(github_hosts(api_url) - {"ssh.github.com", "www.github.com"}))
        url = origin_url(directory)
        why = f" (this checkout's origin, {url[:200]}, is not a repository on {hosts})" if url else ""
        raise UsageError(
            "No repository given",
            "pass --repo owner/name, set `repos` in the config file, or run prdeck inside a git checkout "
            f"whose `origin` is a repository on {hosts}{why}",
        )
    return [found]


def _configured_repo(item: str, source: str) -> RepoRef:
    try:
        return RepoRef.parse(item)
    except ValueError as exc:
        raise ConfigError(
            f"Invalid repository {item[:200]!r} in {source}",
            f"{exc}; fix it, or pass --repo owner/name to use another repository",
        ) from exc


def repos_for(config: Config, cli_repo: str | None) -> list[RepoRef]:
    """:func:`resolve_repos` with the config's ``repos`` (named by where they came from) and GitHub."""
    origin = config.sources.get("repos", "file")
    source = str(config.path) if origin in ("file", "default") else f"${origin}"
    return resolve_repos(cli_repo, config["repos"], api_url=config.api_url, source=source)
