"""Files of the pull request's commit as the payload of one ConfigMap or Secret.

A compose bind mount (``- ./nginx/default.conf:/etc/nginx/conf.d/default.conf``), a top-level ``configs:`` or
``secrets:`` entry with ``file:`` names a file or a folder of the repository; in a preview its content travels in
a ConfigMap or Secret mounted at the target. Kubernetes holds at most 1 MiB in one such object, so more is
refused here, naming the service and the path, before anything is built.
"""

from __future__ import annotations

import base64
import hashlib
import posixpath
import re
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from prdeck.services.errors import PrdeckError
from prdeck.services.launch.spec_types import SpecError, TreeReader, problem

MAX_OBJECT_BYTES = 1024 * 1024
"""The API server's limit on the data of one ConfigMap or Secret (the sum of its values)."""
MAX_FILES = 500
"""Files in one mounted folder: each is one read of the commit, and one key of the object."""
MAX_DEPTH = 8
_KEY_CHARACTERS = re.compile(r"[^-._a-zA-Z0-9]")


@runtime_checkable
class BinaryTreeReader(Protocol):
    """A tree that can hand over a file's bytes as they are (binary files go to ``binaryData``)."""

    def read_bytes(self, path: str) -> bytes | None: ...


@runtime_checkable
class ModeTreeReader(Protocol):
    """A tree that knows which files are executable (git mode 100755)."""

    def executable(self, path: str) -> bool: ...


@dataclass(frozen=True)
class FileData:
    """What a mount source holds: ``(key, path under the mount, content)`` per file. ``folder``: the source is a
    folder, mounted as a directory (nested files through ``items``); else one file, mounted with ``subPath``."""

    entries: tuple[tuple[str, str, bytes], ...]
    folder: bool
    executable: frozenset[str] = frozenset()
    """Keys of the files that are executable in the commit: they are projected with mode 0755, not 0644."""

    @property
    def size(self) -> int:
        return sum(len(content) for _, _, content in self.entries)


class TooLarge(SpecError):
    """A file or folder that no ConfigMap or Secret can hold."""


def too_large(path: str, key: str, reason: str) -> TooLarge:
    error = problem(path, key, reason)
    return TooLarge(error.title, error.detail)


def is_too_large(error: SpecError) -> bool:
    return isinstance(error, TooLarge)


def read_source(tree: TreeReader, compose_path: str, where: str, source: str) -> FileData | None:
    """The file or folder at ``source`` (a path from the repository root) in the commit; None when the commit has
    neither. A folder over :data:`MAX_FILES` or a payload over 1 MiB is a SpecError naming ``where`` and the
    path."""
    content = _read(tree, compose_path, where, source)
    if content is not None:
        name = posixpath.basename(source)
        key = _key(name, set())
        result = FileData(((key, name, content),), folder=False,
                          executable=frozenset({key} if _executable(tree, source) else ()))
    else:
        files: list[tuple[str, bytes]] = []
        _walk(tree, compose_path, where, source, "", 0, files)
        if not files:
            return None
        keys: set[str] = set()
        entries = tuple((_key(relative, keys), relative, data) for relative, data in files)
        result = FileData(entries, folder=True, executable=frozenset(
            key for key, relative, _ in entries if _executable(tree, posixpath.join(source, relative))))
    if result.size > MAX_OBJECT_BYTES:
        raise too_large(compose_path, where, f"{source} holds {result.size:,} bytes; Kubernetes keeps at most "
                      f"{MAX_OBJECT_BYTES:,} (1 MiB) in the ConfigMap or Secret that brings it into the preview. "
                      "Mount a smaller file or folder (the image built from the pull request already has the files "
                      "its Dockerfile copies)")
    return result


def single(name: str, content: bytes) -> FileData:
    """One file that is not in the tree (a config's ``content:``, a secret's ``environment:``)."""
    return FileData(((_key(name, set()), name, content),), folder=False)


def config_map_data(files: FileData) -> dict[str, Any]:
    """``data`` (UTF-8 text) and ``binaryData`` (anything else, base64) of a ConfigMap."""
    text: dict[str, str] = {}
    binary: dict[str, str] = {}
    for key, _, content in files.entries:
        try:
            text[key] = content.decode("utf-8")
        except UnicodeDecodeError:
            binary[key] = base64.b64encode(content).decode("ascii")
    return {name: value for name, value in (("data", text), ("binaryData", binary)) if value}


def secret_data(files: FileData) -> dict[str, Any]:
    """``data`` of a Secret: every value base64 (text or not)."""
    return {"data": {key: base64.b64encode(content).decode("ascii") for key, _, content in files.entries}}


EXECUTABLE_MODE = 0o755


def items(files: FileData) -> list[dict[str, Any]]:
    """A folder's ``items``: each key at its path under the mount (sub-folders recreated); executable files keep
    their executable bit (a mounted ``entrypoint.sh`` must still run)."""
    return [{"key": key, "path": relative, **({"mode": EXECUTABLE_MODE} if key in files.executable else {})}
            for key, relative, _ in files.entries]


def _executable(tree: TreeReader, path: str) -> bool:
    return isinstance(tree, ModeTreeReader) and tree.executable(path)


def _walk(tree: TreeReader, compose_path: str, where: str, folder: str, relative: str, depth: int,
          files: list[tuple[str, bytes]]) -> None:
    for entry in sorted(tree.list(folder)):
        name = posixpath.basename(entry)
        inner = f"{relative}/{name}" if relative else name
        content = _read(tree, compose_path, where, entry)
        if content is None:
            if depth + 1 >= MAX_DEPTH:
                raise problem(compose_path, where, f"{folder} nests folders more than {MAX_DEPTH} deep; mount a "
                              "flatter folder")
            _walk(tree, compose_path, where, entry, inner, depth + 1, files)
            continue
        if name.startswith(".."):
            raise problem(compose_path, where, f"{entry}: Kubernetes cannot project a file whose name starts with "
                          "'..' into a volume; rename it or mount another folder")
        files.append((inner, content))
        total = sum(len(data) for _, data in files)
        if total > MAX_OBJECT_BYTES:
            raise too_large(compose_path, where, f"{folder} holds more than {total:,} bytes; Kubernetes keeps at most "
                          f"{MAX_OBJECT_BYTES:,} (1 MiB) in the ConfigMap or Secret that brings it into the preview. "
                          "Mount a smaller folder")
        if len(files) > MAX_FILES:
            raise too_large(compose_path, where, f"{folder} holds more than {MAX_FILES} files; a preview mounts at "
                          f"most {MAX_FILES} from one folder (mount a smaller one)")


def _read(tree: TreeReader, compose_path: str, where: str, path: str) -> bytes | None:
    try:
        if isinstance(tree, BinaryTreeReader):
            return tree.read_bytes(path)
        text = tree.read(path)
    except SpecError:
        raise
    except PrdeckError as exc:
        raise problem(compose_path, where, f"{path}: {exc.title}. {exc.detail}".strip()) from exc
    return None if text is None else text.encode("utf-8")


def _key(path: str, taken: set[str]) -> str:
    """A ConfigMap/Secret key for a file (``[-._a-zA-Z0-9]``, not starting with ``..``, at most 253 characters),
    different from those ``taken``."""
    key = _KEY_CHARACTERS.sub("_", path.replace("/", "__"))
    if key.startswith(".."):
        key = f"_{key}"
    if len(key) > 253:
        key = f"{key[:240]}-{hashlib.sha256(path.encode()).hexdigest()[:8]}"
    base, number = key, 2
    while key in taken:
        key, number = f"{base[:245]}-{number}", number + 1
    taken.add(key)
    return key
