"""A bare mirror per repository in the user cache dir: fetch a PR head, read its files, export its tree.

The token travels to git in ``GIT_CONFIG_*`` environment variables, never on a command line where ``ps`` would
show it, and never in the mirror's config: an ``http.<origin>.extraHeader`` scoped to the clone URL's scheme, host
and port, with redirects refused (``http.followRedirects=false``), so no other host ever receives it.
"""

from __future__ import annotations

import base64
import os
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import platformdirs

from prdeck.services.errors import PrdeckError
from prdeck.services.launch.spec_types import SpecError
from prdeck.services.models import RepoRef

GIT_TIMEOUT = 300
MAX_READ_BYTES = 4 * 1024 * 1024
"""Largest file :class:`GitTree` reads (spec files; the spec's own bound, 1 MiB of text, is checked after)."""


class GitError(PrdeckError):
    """A git command failed."""


@dataclass(frozen=True)
class TreeEntry:
    """One entry of a commit's tree, as ``git ls-tree -l`` lists it (mode 120000 is a symlink)."""

    mode: str
    kind: str
    size: int

    @property
    def is_file(self) -> bool:
        return self.kind == "blob" and self.mode in ("100644", "100755")


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


_FETCHING = threading.Lock()


@contextmanager
def _fetch_lock(path: Path) -> Iterator[None]:
    """Held while one fetch runs into the mirror at ``path``: a thread lock, and an flock on a file beside the
    mirror for other processes (where there is no flock, Windows, the thread lock alone)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _FETCHING, open(path.with_name(f"{path.name}.lock"), "a+b") as lock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            yield
            return
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


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
        """Fetch ``{remote_ref: local_ref}`` from the repository; returns ``{local_ref: sha}``.

        One fetch at a time in this process, and per mirror across processes (an flock beside it): git refuses a second
        shallow fetch into a repository while one runs ("Another git process seems to be running"), and several
        launches of one repository fetch at once (``prdeck launch 1 2``, two maintainers' CI jobs)."""
        with _fetch_lock(self.path):
            self.ensure()
            specs = [f"+{remote}:{local}" for remote, local in refspecs.items()]
            self.git("fetch", "--quiet", "--no-tags", "--depth=50", self.clone_url, *specs,
                     doing=f"fetch {', '.join(refspecs)} of {self.repo}")
            return {local: self.rev_parse(local) for local in refspecs.values()}

    def rev_parse(self, ref: str) -> str:
        return self.git("rev-parse", "--verify", f"{ref}^{{commit}}", doing=f"resolve {ref}").decode().strip()

    @contextmanager
    def archive(self, sha: str, folder: str = ".") -> Iterator[IO[bytes]]:
        """``git archive`` of ``folder`` at ``sha`` as a stream, paths relative to that folder.

        Nothing is buffered: the reader takes the tar as git writes it. When the reader stops early (an exception
        inside the ``with``), git is killed rather than left blocked on a full pipe; after GIT_TIMEOUT seconds it
        is killed too. A git failure is raised as :class:`GitError` with git's own message.
        """
        doing = f"export {folder} at {sha[:12]}"
        command = ["git", "--git-dir", str(self.path), "archive", "--format=tar", self._treeish(sha, folder)]
        with tempfile.TemporaryFile() as errors:
            try:
                process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors,
                                           env=self._env)
            except FileNotFoundError as exc:
                raise GitError("git is not installed", "Install git (Debian: apt-get install git).") from exc
            timed_out = threading.Event()

            def expire() -> None:
                timed_out.set()
                process.kill()

            watchdog = threading.Timer(GIT_TIMEOUT, expire)
            watchdog.daemon = True
            watchdog.start()
            assert process.stdout is not None
            try:
                yield process.stdout
                while process.stdout.read(1 << 16):  # the end-of-archive padding the tar reader leaves
                    pass
                process.wait()
            except BaseException as exc:
                process.kill()
                process.wait()
                if timed_out.is_set() or process.returncode > 0:
                    raise self._archive_error(doing, errors, process.returncode, timed_out.is_set()) from exc
                raise
            finally:
                watchdog.cancel()
                process.stdout.close()
            if process.returncode != 0:
                raise self._archive_error(doing, errors, process.returncode, timed_out.is_set())

    def _archive_error(self, doing: str, errors: IO[bytes], status: int, timed_out: bool) -> GitError:
        if timed_out:
            return GitError(f"git timed out trying to {doing}", f"git archive ran over {GIT_TIMEOUT} s.")
        errors.seek(0)
        detail = errors.read(64 * 1024).decode(errors="replace").strip().splitlines()
        return GitError(f"git could not {doing}", "\n".join(detail[-5:]) or f"exit status {status}")

    def entry(self, sha: str, folder: str, name: str) -> TreeEntry | None:
        """The tree entry ``name`` in ``folder`` at ``sha`` (mode, type, size), or None when there is none."""
        listing = self.git("ls-tree", "-l", "-z", self._treeish(sha, folder), "--", name,
                           doing=f"list {name} in {folder} at {sha[:12]}")
        for record in listing.split(b"\0"):
            fields, _, path = record.decode(errors="replace").partition("\t")
            parts = fields.split()
            if path == name and len(parts) == 4:
                return TreeEntry(parts[0], parts[1], int(parts[3]) if parts[3].isdigit() else 0)
        return None

    def blob(self, sha: str, folder: str, name: str) -> bytes:
        """The content of the file ``name`` in ``folder`` at ``sha`` (check its size with :meth:`entry` first)."""
        folder = folder.strip("/")
        path = name if folder in ("", ".") else f"{folder}/{name}"
        return self.git("cat-file", "blob", f"{sha}:{path}", doing=f"read {path}")

    @staticmethod
    def _treeish(sha: str, folder: str) -> str:
        folder = folder.strip("/")
        return sha if folder in ("", ".") else f"{sha}:{folder}"

    def tree(self, sha: str) -> GitTree:
        return GitTree(self, sha)


class GitTree:
    """The files of one commit, for :func:`prdeck.services.launch.spec.load_spec`."""

    def __init__(self, mirror: GitMirror, sha: str) -> None:
        self.mirror, self.sha = mirror, sha
        self._modes: dict[str, str] = {}

    def read(self, path: str) -> str | None:
        content = self._blob(path, " to be a preview spec")
        return None if content is None else content.decode(errors="replace")

    def read_bytes(self, path: str) -> bytes | None:
        """A file as it is (a mounted file may be binary); None when the commit has no file there."""
        return self._blob(path, "")

    def _blob(self, path: str, purpose: str) -> bytes | None:
        path = path.strip("/")
        try:
            kind = self.mirror.git("cat-file", "-t", f"{self.sha}:{path}", doing=f"find {path}").decode().strip()
        except GitError:
            return None
        if kind != "blob":
            return None
        size = int(self.mirror.git("cat-file", "-s", f"{self.sha}:{path}", doing=f"size {path}").decode().strip() or 0)
        if size > MAX_READ_BYTES:
            # a PR's 1 GB "compose file" (a few KB packed) must not be read into memory to be refused
            raise GitError(f"{path} is too large{purpose}",
                           f"It has {size:,} bytes at {self.sha[:12]}; prdeck reads at most {MAX_READ_BYTES:,}.")
        return self.mirror.git("cat-file", "blob", f"{self.sha}:{path}", doing=f"read {path}")

    def list(self, folder: str) -> list[str]:
        folder = folder.strip("/")
        try:
            output = self.mirror.git("ls-tree", "-z", f"{self.sha}:{folder}", doing=f"list {folder}")
        except GitError:
            return []
        paths = []
        for record in output.decode(errors="replace").split("\0"):
            fields, _, name = record.partition("\t")
            if name:
                path = f"{folder}/{name}" if folder else name
                self._modes[path] = fields.split(" ", 1)[0]
                paths.append(path)
        return paths

    def executable(self, path: str) -> bool:
        """Whether git has the file as executable (mode 100755); listed folders answer from memory."""
        path = path.strip("/")
        if path not in self._modes:
            folder, _, name = path.rpartition("/")
            found = self.mirror.entry(self.sha, folder, name)
            self._modes[path] = found.mode if found is not None else ""
        return self._modes[path] == "100755"


class LocalTree:
    """A folder on disk read like a commit (``prdeck render --spec FILE``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, path: str) -> str | None:
        target = self.root / path
        if not target.is_file():
            return None
        try:
            if target.stat().st_size > MAX_READ_BYTES:
                raise SpecError(f"{target} is too large to be a preview spec",
                                f"It has {target.stat().st_size:,} bytes; prdeck reads at most {MAX_READ_BYTES:,}.")
            return target.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SpecError(f"{target} is not UTF-8 text",
                            f"byte {exc.start:,} cannot be decoded; a preview spec is YAML in UTF-8") from None
        except OSError as exc:
            raise SpecError(f"Cannot read {target}", exc.strerror or str(exc)) from None

    def read_bytes(self, path: str) -> bytes | None:
        """A file as it is (a mounted file may be binary); None when there is no file there."""
        target = self.root / path
        if not target.is_file():
            return None
        try:
            if target.stat().st_size > MAX_READ_BYTES:
                raise SpecError(f"{target} is too large",
                                f"It has {target.stat().st_size:,} bytes; prdeck reads at most {MAX_READ_BYTES:,}.")
            return target.read_bytes()
        except OSError as exc:
            raise SpecError(f"Cannot read {target}", exc.strerror or str(exc)) from None

    def list(self, folder: str) -> list[str]:
        target = self.root / folder
        if not target.is_dir():
            return []
        return sorted(str(child.relative_to(self.root)) for child in target.iterdir())

    def executable(self, path: str) -> bool:
        target = self.root / path
        return target.is_file() and bool(target.stat().st_mode & 0o100)
