"""Which launches are running or were cut off, across processes on this machine.

Each launch holds an exclusive ``flock`` on ``<namespace>.lock`` (a second launch of the same PR is refused at
once, in this process or another; the file is removed when the launch ends) and keeps ``<namespace>.json``
current with the step it is on. A record whose process is gone is an *interrupted* launch: the row says so until
the next launch or a destroy clears it. The lock dies with its process, so a killed launch never blocks the next one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import platformdirs

from prdeck.services.errors import PrdeckError
from prdeck.services.models import RepoRef


class LaunchBusy(PrdeckError):
    """Another launch of the same pull request is running."""


def journal_root() -> Path:
    return Path(platformdirs.user_state_dir("prdeck")) / "launches"


@dataclass(frozen=True)
class LaunchRecord:
    """What the journal file holds, as JSON (so ``repo`` is the ``owner/name`` text)."""

    repo: str
    number: int
    namespace: str
    sha: str
    step: str
    pid: int
    host: str
    started_at: str

    def alive(self) -> bool:
        if self.host != socket.gethostname():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


class LaunchJournal:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or journal_root()

    @contextlib.contextmanager
    def hold(self, repo: RepoRef, number: int, namespace: str, sha: str) -> Iterator[JournalEntry]:
        """Take the PR's launch lock for the duration; raises LaunchBusy when another launch holds it."""
        self.root.mkdir(parents=True, exist_ok=True)
        lock_path = self.root / f"{namespace}.lock"
        handle = _lock(lock_path)
        if handle is None:
            running = self.read(namespace)
            since = f" (pid {running.pid}, step {running.step}, since {running.started_at})" if running else ""
            raise LaunchBusy(
                f"A launch of {repo}#{number} is already running{since}",
                "Wait for it to finish, or watch its progress in the app that started it.",
            ) from None
        entry = JournalEntry(self.root / f"{namespace}.json", handle, LaunchRecord(
            repo.full_name, number, namespace, sha, "fetch", os.getpid(), socket.gethostname(),
            datetime.now(UTC).isoformat(timespec="seconds"),
        ))
        entry.write()
        try:
            yield entry
        finally:
            if not entry.keep:
                entry.path.unlink(missing_ok=True)
            lock_path.unlink(missing_ok=True)  # while still held: see _lock
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def read(self, namespace: str) -> LaunchRecord | None:
        path = self.root / f"{namespace}.json"
        try:
            raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            record = LaunchRecord(**raw)
            RepoRef.parse(record.repo)  # a record that names no repository is no record
            return record
        except (OSError, ValueError, TypeError):
            return None

    def interrupted(self) -> list[LaunchRecord]:
        """Launches whose process died before they finished (this machine only)."""
        if not self.root.is_dir():
            return []
        records = (self.read(path.stem) for path in sorted(self.root.glob("*.json")))
        return [record for record in records if record is not None and not record.alive()]

    def clear(self, namespace: str) -> None:
        (self.root / f"{namespace}.json").unlink(missing_ok=True)

    def clear_stopped(self, namespace: str) -> None:
        """Clear the record unless its launch is still running (a destroy must not erase a live launch's state)."""
        record = self.read(namespace)
        if record is None or not record.alive():
            self.clear(namespace)


def _lock(path: Path) -> IO[str] | None:
    """An exclusive ``flock`` on ``path``, or None when another launch holds it.

    The holder deletes the file before it lets go, so lock files do not pile up (one per namespace ever). A
    launch that opened the file just before it was deleted would then lock a file nobody else can find: so
    after locking, the file must still be the one at ``path``, else the lock is taken again on the new file.
    """
    while True:
        handle = path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        if current is not None and current.st_ino == os.fstat(handle.fileno()).st_ino:
            return handle
        handle.close()


@dataclass
class JournalEntry:
    path: Path
    handle: IO[str]
    record: LaunchRecord
    keep: bool = False
    """Leave the record behind (a cancelled launch shows as interrupted once this process is gone)."""

    def write(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.record.__dict__), encoding="utf-8")
        tmp.replace(self.path)

    def step(self, name: str) -> None:
        self.record = LaunchRecord(**{**self.record.__dict__, "step": name})
        self.write()
