"""Which repository prdeck works on: ``owner/name`` strings and the ``origin`` remote of a git checkout."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import urlparse

from prdeck.services.errors import UsageError
from prdeck.services.models import RepoRef


def repo_from_remote_url(url: str) -> RepoRef | None:
    """``owner/name`` from a GitHub remote URL in https, ssh (``git@host:o/n``) or ``ssh://`` form."""
    url = url.strip()
    scp = re.match(r"^[\w.-]+@[\w.-]+:(?P<path>[^/].*)$", url)
    path = scp.group("path") if scp else urlparse(url).path
    parts = [part for part in path.strip("/").split("/") if part]
    if len(parts) < 2:
        return None
    try:
        return RepoRef.parse(f"{parts[-2]}/{parts[-1]}")
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
            return [RepoRef.parse(cli_repo)]
        except ValueError as exc:
            raise UsageError("Invalid --repo", f"{exc}") from exc
    if configured:
        # dict.fromkeys: one entry per repository, as GitHub counts them (``Octo/App`` is ``octo/app``)
        return list(dict.fromkeys(RepoRef.parse(item) for item in configured))
    found = repo_from_checkout(directory)
    if found is None:
        raise UsageError(
            "No repository given",
            "pass --repo owner/name, set `repos` in the config file, or run prdeck inside a git checkout "
            "whose `origin` is a GitHub repository",
        )
    return [found]
