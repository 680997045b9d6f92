"""GraphQL query documents, one per ``.graphql`` file, validated against GitHub's schema by the tests.

A file whose name starts with ``_`` holds a fragment that queries share (``...PullFields``): :func:`load_query`
appends it to every query that spreads it.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files


@cache
def load_query(name: str) -> str:
    """The text of ``services/graphql/<name>.graphql``, with the shared fragments it spreads."""
    text = _read(name)
    for fragment_name, fragment in _fragments().items():
        if f"...{fragment_name}" in text:
            text += "\n" + fragment
    return text


def _read(name: str) -> str:
    return files(__package__).joinpath(f"{name}.graphql").read_text(encoding="utf-8")


@cache
def _fragments() -> dict[str, str]:
    found = {}
    for entry in files(__package__).iterdir():
        if entry.name.startswith("_") and entry.name.endswith(".graphql"):
            text = entry.read_text(encoding="utf-8")
            match = re.search(r"^fragment (\w+) on ", text, re.MULTILINE)
            if match:
                found[match.group(1)] = text
    return found


def query_names() -> list[str]:
    """Every query document shipped with prdeck."""
    return sorted(
        entry.name.removesuffix(".graphql") for entry in files(__package__).iterdir()
        if entry.name.endswith(".graphql") and not entry.name.startswith("_")
    )
