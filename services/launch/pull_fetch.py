"""The fetch step's git work: a PR's head (and, for a fork, its base branch) in the repository's bare mirror.

A same-repository PR whose head commit the mirror already holds (a relaunch, a second maintainer action on the
same commit) is not fetched again: the commit is addressed by its SHA, so what the mirror holds is exactly what
GitHub serves, and the relaunch saves the round trips of a fetch (and of asking GitHub for the clone URL).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from prdeck.services.errors import UsageError
from prdeck.services.launch.git_mirror import GitError, GitMirror
from prdeck.services.models import PullDetail, RepoRef


@dataclass(frozen=True)
class Fetched:
    mirror: GitMirror
    spec_sha: str
    """The commit whose spec is read: the head for a same-repository PR, the base branch's for a fork."""


def fetch_pull(repo: RepoRef, pull: PullDetail, clone_url: Callable[[], str], token: str | None,
               root: Path | None, on_line: Callable[[str], None], api_url: str) -> Fetched:
    """Fetch what the launch needs; ``clone_url`` asks GitHub where to fetch from, once per mirror and API
    (``api_url``): the answer is kept in the mirror's config."""
    number = pull.number
    if not pull.fork:
        local = GitMirror(repo, "", None, root)
        if _has_commit(local, pull.head_sha):
            on_line(f"head {pull.head_sha[:12]} is in {local.path} already: not fetched again")
            return Fetched(local, pull.head_sha)
    local = GitMirror(repo, "", None, root)
    kept = _kept_clone_url(local, api_url)
    head_ref, base_ref = f"refs/prdeck/pr-{number}", f"refs/prdeck/base/{pull.base_branch}"
    refspecs = {f"refs/pull/{number}/head": head_ref, f"refs/heads/{pull.base_branch}": base_ref}
    mirror = GitMirror(repo, kept or _ask_clone_url(local, api_url, clone_url), token, root)
    on_line(f"git fetch refs/pull/{number}/head and {pull.base_branch} into {mirror.path}")
    try:
        fetched = mirror.fetch(refspecs)
    except GitError:
        if kept is None:
            raise
        fresh = _ask_clone_url(local, api_url, clone_url)  # renamed or moved since: git follows no redirect
        if fresh == kept:
            raise
        mirror = GitMirror(repo, fresh, token, root)
        fetched = mirror.fetch(refspecs)
    if fetched[head_ref] != pull.head_sha:
        raise UsageError(
            f"The head of {repo}#{number} moved during the fetch",
            f"GitHub said {pull.head_sha[:12]}, git fetched {fetched[head_ref][:12]}. Launch again.",
        )
    on_line(f"head {pull.head_sha[:12]}, base {pull.base_branch} at {fetched[base_ref][:12]}")
    return Fetched(mirror, fetched[base_ref] if pull.fork else pull.head_sha)


ORIGIN_KEY = "prdeck.origin"
"""The mirror's config entry ``<api url> <clone url>``: where the last fetch came from, and which API said so."""


def _kept_clone_url(local: GitMirror, api_url: str) -> str | None:
    """The clone URL GitHub gave this mirror before (one round trip less a fetch), when it is on GitHub's own host:
    the token goes wherever the clone URL points, and a cache directory can be shared (a CI cache) or written by
    someone else."""
    if not (local.path / "HEAD").exists():
        return None
    try:
        kept_api, _, kept_url = local.git("config", "--get", ORIGIN_KEY, doing="read the mirror's origin") \
            .decode().strip().partition(" ")
    except GitError:
        return None
    return kept_url if kept_api == api_url and kept_url and _same_site(api_url, kept_url) else None


def _ask_clone_url(local: GitMirror, api_url: str, ask: Callable[[], str]) -> str:
    """GitHub's answer now, kept in the mirror's config for the next fetch."""
    url = ask()
    local.ensure()
    with contextlib.suppress(GitError):  # another process writing the config at this moment: asked again next time
        local.git("config", ORIGIN_KEY, f"{api_url} {url}", doing="keep the mirror's origin")
    return url


def _same_site(api_url: str, clone_url: str) -> bool:
    """The clone URL's origin is the API's (Enterprise Server, the sandbox) or its web host (``api.github.com`` ->
    ``github.com``, ``api.X.ghe.com`` -> ``X.ghe.com``), over the same scheme."""
    api, clone = urlsplit(api_url), urlsplit(clone_url)
    if api.scheme != clone.scheme or not clone.hostname:
        return False
    return api.netloc == clone.netloc or (api.hostname or "") == f"api.{clone.hostname}"


def _has_commit(mirror: GitMirror, sha: str) -> bool:
    if not (mirror.path / "HEAD").exists():
        return False
    try:
        mirror.git("cat-file", "-e", f"{sha}^{{commit}}", doing=f"look for {sha[:12]}")
    except GitError:
        return False
    return True
