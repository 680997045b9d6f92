"""Where a Dockerfile copies its whole build context (``COPY . /app``, ``ADD ./ .`` after ``WORKDIR /srv``).

A compose service that mounts its own build context (``build: .`` with ``- .:/app``) needs no mount in a preview
when the image has the same files at the same place; when the Dockerfile puts them elsewhere, the mount is what
puts them where the service looks.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex

from prdeck.services.launch.spec_types import TreeReader

_INSTRUCTION = re.compile(r"^\s*(WORKDIR|COPY|ADD|FROM)\s+(.*)$", re.IGNORECASE)
MAX_DOCKERFILE = 256 * 1024


def context_destinations(tree: TreeReader, context: str, dockerfile: str) -> set[str]:
    """The absolute folders the Dockerfile at ``context``/``dockerfile`` copies the whole context into."""
    path = posixpath.normpath(posixpath.join(context or ".", dockerfile))
    text = tree.read(path)
    if text is None or len(text) > MAX_DOCKERFILE:
        return set()
    destinations: set[str] = set()
    workdir = "/"
    for line in _logical_lines(text):
        match = _INSTRUCTION.match(line)
        if not match:
            continue
        word, rest = match.group(1).upper(), match.group(2).strip()
        if word == "FROM":
            workdir = "/"
        elif word == "WORKDIR":
            workdir = posixpath.normpath(posixpath.join(workdir, rest.strip("\"'")))
        else:
            try:
                listed = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
            except ValueError:
                continue
            parts = [str(part) for part in listed if not str(part).startswith("--")]
            if len(parts) >= 2 and any(source.rstrip("/") in (".", "") for source in parts[:-1]):
                destinations.add(posixpath.normpath(posixpath.join(workdir, parts[-1])))
    return destinations


def _logical_lines(text: str) -> list[str]:
    lines, current = [], ""
    for raw in text.splitlines():
        if raw.lstrip().startswith("#"):
            continue
        if raw.rstrip().endswith("\\"):
            current += raw.rstrip()[:-1] + " "
            continue
        lines.append(current + raw)
        current = ""
    return [*lines, current] if current else lines
