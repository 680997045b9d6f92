"""The build context of one image: the commit's tree from ``git archive``, .dockerignore applied, within a size cap.

The tar is read as git writes it (tarfile's stream mode) and the filtered copy goes to a spooled temporary file, so
a repository of a few packed megabytes that expands to gigabytes (files of zeros) costs at most
SPOOL_MEMORY_BYTES of memory and the configured cap of disk: past ``build.max_context_mb`` the copy stops, git is
killed, and the build fails naming the key. The .dockerignore and the Dockerfile are looked up in the tree first,
so a missing Dockerfile fails before anything is streamed.
"""

from __future__ import annotations

import io
import tarfile
import tempfile
from pathlib import PurePosixPath
from typing import IO

from prdeck.services.launch.builder import BuildError
from prdeck.services.launch.dockerignore import DockerIgnore, parse
from prdeck.services.launch.git_mirror import GitMirror
from prdeck.services.launch.spec import BuildSpec

LIMIT_KEY = "build.max_context_mb"
MIB = 1024 * 1024

SPOOL_MEMORY_BYTES = 16 * MIB
"""A context up to this size stays in memory; a larger one spills to a temporary file on disk."""

MAX_DOCKERIGNORE_BYTES = 64 * 1024
"""A larger .dockerignore is refused: it is read whole, and every pattern is tried on every path of the tree."""


def build_context(mirror: GitMirror, sha: str, build: BuildSpec, service: str, max_bytes: int) -> IO[bytes]:
    """The context tar of ``service`` (Dockerfile and .dockerignore always kept), at most ``max_bytes`` long.

    The caller closes the returned file (it may live on disk).
    """
    dockerfile = build.dockerfile.removeprefix("./")
    found = None if build.dockerfile_inline else mirror.entry(sha, build.context, dockerfile)
    if not build.dockerfile_inline and (found is None or not found.is_file):
        raise BuildError(
            f"No {build.dockerfile} in the build context",
            f"The spec builds from {build.context!r} with dockerfile {build.dockerfile!r}, which this commit lacks.",
        )
    try:
        ignore = DockerIgnore(parse(_dockerignore(mirror, sha, build, service)))
    except ValueError as exc:
        raise BuildError(f"The .dockerignore of {service} is not usable", str(exc)) from exc
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115 (returned to the caller)
    try:
        with mirror.archive(sha, build.context) as stream, \
                tarfile.open(fileobj=stream, mode="r|") as source, \
                tarfile.open(fileobj=spooled, mode="w:") as target:
            while (member := source.next()) is not None:
                # Both TarFiles remember every member; a tree of a million files would make that list the leak.
                source.members.clear()  # type: ignore[attr-defined]
                target.members.clear()  # type: ignore[attr-defined]
                name = _checked_name(member, service)
                if name and name not in (dockerfile, ".dockerignore") and ignore.excludes(name):
                    continue
                if build.dockerfile_inline and name == dockerfile:
                    continue
                if member.name != (name or "."):
                    # else the old name's pax header would win over the new name
                    member.pax_headers = {key: value for key, value in member.pax_headers.items() if key != "path"}
                    member.name = name or "."
                data = member.size if member.isfile() else 0
                if spooled.tell() + 2 * tarfile.BLOCKSIZE + data > max_bytes:
                    raise _too_large(service, build, sha, max_bytes)
                target.addfile(member, source.extractfile(member) if member.isfile() else None)
                if spooled.tell() > max_bytes:
                    raise _too_large(service, build, sha, max_bytes)
            if build.dockerfile_inline:
                _add_inline(target, dockerfile, build.dockerfile_inline)
    except tarfile.TarError as exc:
        spooled.close()
        raise BuildError(f"The build context of {service} could not be read", f"git archive gave: {exc}") from exc
    except BaseException:
        spooled.close()
        raise
    spooled.seek(0)
    return spooled


def _add_inline(target: tarfile.TarFile, name: str, text: str) -> None:
    """Compose's ``dockerfile_inline``: the Dockerfile the spec holds, added to the context under ``name``."""
    data = text.encode()
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    target.addfile(info, io.BytesIO(data))


def _dockerignore(mirror: GitMirror, sha: str, build: BuildSpec, service: str) -> str:
    entry = mirror.entry(sha, build.context, ".dockerignore")
    if entry is None:
        return ""
    if not entry.is_file:
        raise BuildError(f"The .dockerignore of {service} is not a regular file",
                         "prdeck reads .dockerignore from the commit's tree; make it a file, not a link.")
    if entry.size > MAX_DOCKERIGNORE_BYTES:
        raise BuildError(f"The .dockerignore of {service} is over {MAX_DOCKERIGNORE_BYTES // 1024} KB",
                         f"It has {entry.size:,} bytes; prdeck reads at most {MAX_DOCKERIGNORE_BYTES:,}.")
    return mirror.blob(sha, build.context, ".dockerignore").decode(errors="replace")


def _checked_name(member: tarfile.TarInfo, service: str) -> str:
    """The member's path in the context; anything git cannot store (devices, hard links, ``..``) is refused."""
    if not (member.isfile() or member.isdir() or member.issym()):
        raise BuildError(f"The build context of {service} has {member.name[:200]!r}, which is not a file, a "
                         "folder or a symlink", "git archive gave an entry that a commit cannot hold.")
    name = member.name.removeprefix("./")
    if name.startswith("/") or ".." in PurePosixPath(name).parts:
        raise BuildError(f"The build context of {service} has the path {name[:200]!r}",
                         "A path in the context must stay inside it.")
    return name


def _too_large(service: str, build: BuildSpec, sha: str, max_bytes: int) -> BuildError:
    limit = f"{max_bytes // MIB} MB" if max_bytes % MIB == 0 else f"{max_bytes:,} bytes"
    return BuildError(
        f"The build context of {service} is over {limit} ({LIMIT_KEY})",
        f"The files under {build.context!r} at {sha[:12]}, after .dockerignore, make a build context over {limit}. "
        f"Exclude large files in .dockerignore, or raise {LIMIT_KEY} in the config.",
    )
