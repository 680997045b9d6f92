"""A bare mirror per repository in the user cache dir: fetch a PR head, read its files, export its tree.

The token travels to git in ``GIT_CONFIG_*`` environment variables, never on a command line where ``ps`` would
show it, and never in the mirror's config: an ``http.<origin>.extraHeader`` scoped to the clone URL's scheme, host
and port, with redirects refused (``http.followRedirects=false``), so no other host ever receives it.
"""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

from prdeck.services.errors import PrdeckError
from prdeck.services.models import RepoRef

GIT_TIMEOUT = 300


class GitError(PrdeckError):
    """A git command failed."""


def mirror_root() -> Path:
    return Path(platformdirs.user_cache_dir("prdeck")) / "mirrors"


def _auth_environment(token: str | None, clone_url: str) -> dict[str, str]:
    env = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "LC_ALL": "C",
           "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.followRedirects", "GIT_CONFIG_VALUE_0": "false"}
    if token:
        url = urlsplit(clone_url)
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        env.update(
            {"GIT_CONFIG_COUNT": "2", "GIT_CONFIG_KEY_1": f"http.{url.scheme}://{url.netloc}/.extraHeader",
             "GIT_CONFIG_VALUE_1": f"Authorization: Basic {basic}"}
        )
    return env


class GitMirror:
    """One repository's bare mirror; every method blocks (run it in a worker thread)."""

    def __init__(self, repo: RepoRef, clone_url: str, token: str | None, root: Path | None = None) -> None:
        self.repo = repo
        self.clone_url = clone_url
        owner, name = repo.identity  # one mirror per repository, however it is spelled
        self.path = (root or mirror_root()) / owner / f"{name}.git"
        self._env = {**os.environ, **_auth_environment(token, clone_url)}

    def git(self, *args: str, input_bytes: bytes | None = None, doing: str = "run git") -> bytes:
        try:
            done = subprocess.run(
                ["git", "--git-dir", str(self.path), *args],
                input=input_bytes, capture_output=True, env=self._env, timeout=GIT_TIMEOUT, check=False,
            )
        except FileNotFoundError as exc:
            raise GitError("git is not installed", "Install git (Debian: apt-get install git).") from exc
        except subprocess.TimeoutExpired as exc:
            raise GitError(
                f"git timed out trying to {doing}", f"No answer from {self.clone_url} in {GIT_TIMEOUT} s."
            ) from exc
        if done.returncode != 0:
            detail = done.stderr.decode(errors="replace").strip().splitlines()
            raise GitError(f"git could not {doing}", "\n".join(detail[-5:]) or f"exit status {done.returncode}")
        return done.stdout

    def ensure(self) -> None:
        if not (self.path / "HEAD").exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["git", "init", "-q", "--bare", str(self.path)], check=True, capture_output=True)

    def fetch(self, refspecs: Mapping[str, str]) -> dict[str, str]:
        """Fetch ``{remote_ref: local_ref}`` from the repository; returns ``{local_ref: sha}``."""
        self.ensure()
        specs = [f"+{remote}:{local}" for remote, local in refspecs.items()]
        self.git("fetch", "--quiet", "--no-tags", "--depth=50", self.clone_url, *specs,
                 doing=f"fetch {', '.join(refspecs)} of {self.repo}")
        return {local: self.rev_parse(local) for local in refspecs.values()}

    def rev_parse(self, ref: str) -> str:
        return self.git("rev-parse", "--verify", f"{ref}^{{commit}}", doing=f"resolve {ref}").decode().strip()

    def archive(self, sha: str, folder: str = ".") -> bytes:
        """The tar of ``folder`` at commit ``sha``, paths relative to that folder."""
        treeish = sha if folder in ("", ".") else f"{sha}:{folder.strip('/')}"
        return self.git("archive", "--format=tar", treeish, doing=f"export {folder} at {sha[:12]}")

    def tree(self, sha: str) -> GitTree:
        return GitTree(self, sha)


class GitTree:
    """The files of one commit, for :func:`prdeck.services.launch.spec.load_spec`."""

    def __init__(self, mirror: GitMirror, sha: str) -> None:
        self.mirror, self.sha = mirror, sha

    def read(self, path: str) -> str | None:
        path = path.strip("/")
        try:
            kind = self.mirror.git("cat-file", "-t", f"{self.sha}:{path}", doing=f"find {path}").decode().strip()
        except GitError:
            return None
        if kind != "blob":
            return None
        return self.mirror.git("cat-file", "blob", f"{self.sha}:{path}", doing=f"read {path}").decode(errors="replace")

    def list(self, folder: str) -> list[str]:
        folder = folder.strip("/")
        try:
            output = self.mirror.git("ls-tree", "--name-only", f"{self.sha}:{folder}", doing=f"list {folder}")
        except GitError:
            return []
        return [f"{folder}/{name}" if folder else name for name in output.decode().splitlines()]


class LocalTree:
    """A folder on disk read like a commit (``prdeck render --spec FILE``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, path: str) -> str | None:
        target = self.root / path
        return target.read_text(encoding="utf-8") if target.is_file() else None

    def list(self, folder: str) -> list[str]:
        target = self.root / folder
        if not target.is_dir():
            return []
        return sorted(str(child.relative_to(self.root)) for child in target.iterdir())
