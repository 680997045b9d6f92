"""Which repository prdeck works on: ``owner/name`` strings and the ``origin`` remote of a git checkout."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import urlparse

from services.errors import UsageError
from services.models import RepoRef

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def parse_repo(text: str) -> RepoRef:
    """Parse ``owner/name``; raise ValueError with a readable reason otherwise."""
    if not isinstance(text, str):
        raise TypeError("a repository is a string")
    owner, sep, name = text.strip().partition("/")
    if not sep or not _NAME.match(owner) or not _NAME.match(name) or name in (".", ".."):
        raise ValueError(f"{text!r} is not a repository (expected owner/name)")
    return RepoRef(owner, name.removesuffix(".git"))


def repo_from_remote_url(url: str) -> RepoRef | None:
    """``owner/name`` from a GitHub remote URL in https, ssh (``git@host:o/n``) or ``ssh://`` form."""
    url = url.strip()
    scp = re.match(r"^[\w.-]+@[\w.-]+:(?P<path>[^/].*)$", url)
    path = scp.group("path") if scp else urlparse(url).path
    parts = [part for part in path.strip("/").split("/") if part]
    if len(parts) < 2:
        return None
    try:
        return parse_repo(f"{parts[-2]}/{parts[-1]}")
    except ValueError:
        return None


def repo_from_checkout(directory: Path | None = None) -> RepoRef | None:
    """The repository of ``origin`` in the git checkout at ``directory`` (default: the current one)."""
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
    if result.returncode != 0:
        return None
    return repo_from_remote_url(result.stdout)


def resolve_repos(cli_repo: str | None, configured: list[str], directory: Path | None = None) -> list[RepoRef]:
    """``--repo`` first, then the config's ``repos``, then the current checkout's ``origin``."""
    if cli_repo:
        try:
            return [parse_repo(cli_repo)]
        except ValueError as exc:
            raise UsageError("Invalid --repo", f"{exc}") from exc
    if configured:
        return [parse_repo(item) for item in configured]
    found = repo_from_checkout(directory)
    if found is None:
        raise UsageError(
            "No repository given",
            "pass --repo owner/name, set `repos` in the config file, or run prdeck inside a git checkout "
            "whose `origin` is a GitHub repository",
        )
    return [found]
