"""Real git repositories behind the GitHub sandbox, written with one ``git fast-import`` per batch.

fast-import turns a thousand synthetic pull requests into commits and refs in one process, which keeps
seeding a large sandbox fast; the repositories are ordinary bare repos that ``git http-backend`` serves.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ZERO_TIME = 1_700_000_000


@dataclass
class CommitSpec:
    """One commit to write: its files are applied on top of ``parent`` (a SHA, or None for a root commit)."""

    refs: Sequence[str]
    files: Mapping[str, str]
    message: str
    parent: str | None = None
    author: str = "sandbox"
    timestamp: int = ZERO_TIME
    merge: Sequence[str] = field(default_factory=tuple)


class GitStore:
    """Bare repositories under ``root``, one per ``owner/name``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path(self, full_name: str) -> Path:
        return self.root / f"{full_name}.git"

    def create(self, full_name: str, default_branch: str) -> Path:
        path = self.path(full_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        _git(None, "init", "--quiet", "--bare", f"--initial-branch={default_branch}", str(path))
        _git(path, "config", "http.receivepack", "false")
        _git(path, "config", "uploadpack.allowAnySHA1InWant", "true")
        return path

    def write(self, full_name: str, commits: Sequence[CommitSpec]) -> list[str]:
        """Write the commits in order and point their refs at them; return their SHAs."""
        if not commits:
            return []
        stream = bytearray()
        for index, commit in enumerate(commits, start=1):
            stream += _commit_block(index, commit)
        with tempfile.TemporaryDirectory() as tmp:
            marks = Path(tmp) / "marks"
            result = subprocess.run(
                ["git", "fast-import", "--quiet", "--force", f"--export-marks={marks}"],
                cwd=self.path(full_name),
                input=bytes(stream),
                check=False,
                capture_output=True,
            )
            if result.returncode != 0:
                raise ValueError(f"git fast-import failed: {result.stderr.decode(errors='replace').strip()}")
            by_mark = dict(line.split() for line in marks.read_text().splitlines())
        return [by_mark[f":{index}"] for index in range(1, len(commits) + 1)]

    def diff(self, full_name: str, base: str, head: str) -> list[dict[str, Any]]:
        """Per-file changes between two commits, shaped like GitHub's ``pulls/N/files`` items."""
        repo = self.path(full_name)
        numstat = _git(repo, "diff", "--no-renames", "--numstat", base, head)
        statuses = _git(repo, "diff", "--no-renames", "--name-status", base, head)
        status_by_path = {}
        for line in statuses.splitlines():
            code, _, path = line.partition("\t")
            status_by_path[path] = {"A": "added", "D": "removed", "M": "modified"}.get(code[:1], "changed")
        files = []
        for line in numstat.splitlines():
            added, removed, path = line.split("\t", 2)
            patch = _git(repo, "diff", "--no-renames", "--no-color", base, head, "--", path)
            hunk_start = patch.find("@@")
            blob = _git(repo, "rev-parse", f"{head}:{path}").strip() if status_by_path.get(path) != "removed" else ""
            additions = int(added) if added.isdigit() else 0
            deletions = int(removed) if removed.isdigit() else 0
            files.append(
                {
                    "sha": blob or None,
                    "filename": path,
                    "status": status_by_path.get(path, "modified"),
                    "additions": additions,
                    "deletions": deletions,
                    "changes": additions + deletions,
                    "patch": patch[hunk_start:].rstrip("\n") if hunk_start >= 0 else "",
                }
            )
        return files

    def read_file(self, full_name: str, ref: str, path: str) -> str | None:
        result = subprocess.run(
            ["git", "show", f"{ref}:{path}"],
            cwd=self.path(full_name),
            capture_output=True,
            check=False,
        )
        return result.stdout.decode("utf-8", "replace") if result.returncode == 0 else None


def _data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def _commit_block(mark: int, commit: CommitSpec) -> bytes:
    ident = f"{commit.author} <{commit.author}@users.noreply.sandbox> {commit.timestamp} +0000".encode()
    first_ref, *other_refs = commit.refs
    block = bytearray(f"commit {first_ref}\nmark :{mark}\n".encode())
    block += b"author " + ident + b"\ncommitter " + ident + b"\n"
    block += _data(commit.message.encode())
    if commit.parent:
        block += f"from {commit.parent}\n".encode()
    for other in commit.merge:
        block += f"merge {other}\n".encode()
    for path, content in commit.files.items():
        block += f"M 100644 inline {path}\n".encode() + _data(content.encode())
    block += b"\n"
    for ref in other_refs:
        block += f"reset {ref}\nfrom :{mark}\n\n".encode()
    return bytes(block)


def _git(cwd: Path | None, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return result.stdout
