"""One entry of a compose service's ``volumes:`` (short or long syntax) or ``tmpfs:``, read as Compose reads it.

Short syntax is ``[SOURCE:]TARGET[:MODE]``; a SOURCE starting with ``.``, ``/`` or ``~`` (or a Windows drive) is a
bind mount, any other SOURCE names a volume, and no SOURCE is an anonymous volume (Compose's ``isFilePath``).
Nothing here decides what a preview makes of it: :mod:`prdeck.services.launch.compose_mounts` does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

VOLUME_TYPES = frozenset({"bind", "volume", "tmpfs", "npipe", "cluster", "image"})
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


@dataclass(frozen=True)
class Volume:
    """``kind``: "bind", "volume" (named, or anonymous without ``source``), "tmpfs", or a type a preview lacks."""

    kind: str
    target: str
    source: str = ""
    read_only: bool = False
    subpath: str = ""
    size: Any = None


def parse_volume(entry: Any) -> Volume:
    """One ``volumes:`` entry; ValueError (the reason) when it cannot be read."""
    if isinstance(entry, dict):
        return _long(entry)
    if not isinstance(entry, str) or not entry:
        raise ValueError("entries are \"[SOURCE:]TARGET[:MODE]\" strings or {type, source, target} mappings")
    parts = _split(entry)
    if len(parts) == 1:
        return Volume("volume", parts[0])
    if len(parts) > 3:
        raise ValueError(f"{entry!r} is not [SOURCE:]TARGET[:MODE]")
    source, target = parts[0], parts[1]
    options = parts[2].split(",") if len(parts) == 3 else []
    kind = "bind" if is_file_path(source) else "volume"
    return Volume(kind, target, source, read_only="ro" in options)


def parse_tmpfs(entry: Any) -> Volume:
    """One ``tmpfs:`` entry: ``/path[:options]`` (``size=64m`` among them)."""
    if not isinstance(entry, str) or not entry.startswith("/"):
        raise ValueError(f"{str(entry)[:80]!r}: tmpfs entries are absolute container paths")
    target, _, options = entry.partition(":")
    size = next((item.split("=", 1)[1] for item in options.split(",") if item.startswith("size=")), None)
    return Volume("tmpfs", target, size=size)


def is_file_path(source: str) -> bool:
    """Compose's rule: a path (a bind mount), not a volume's name."""
    return source[:1] in (".", "/", "~") or source.startswith("\\\\") or bool(_WINDOWS_DRIVE.match(source))


def _split(entry: str) -> list[str]:
    """``SOURCE:TARGET:MODE`` split on ``:``, keeping a Windows drive (``C:\\data``) in one piece."""
    if _WINDOWS_DRIVE.match(entry):
        rest = _split(entry[2:])
        return [entry[:2] + rest[0], *rest[1:]]
    return entry.split(":")


def _long(entry: dict[str, Any]) -> Volume:
    kind = entry.get("type", "volume")
    if kind not in VOLUME_TYPES:
        raise ValueError(f"type must be one of {', '.join(sorted(VOLUME_TYPES))}, got {str(kind)[:40]!r}")
    target, source = entry.get("target"), entry.get("source", "")
    if not isinstance(target, str) or not target:
        raise ValueError("a volume needs a target (the path in the container)")
    if not isinstance(source, str):
        raise ValueError("source must be a string")
    read_only = entry.get("read_only", False)
    if not isinstance(read_only, bool):
        raise ValueError("read_only must be true or false")
    options = entry.get(kind)
    options = options if isinstance(options, dict) else {}
    subpath = options.get("subpath", "") if kind == "volume" else ""
    return Volume(str(kind), target, source, read_only, str(subpath or ""), options.get("size") if kind == "tmpfs"
                  else None)
