"""YAML of a preview spec, read within bounds: a pull request's file must not exhaust prdeck's memory or time."""

from __future__ import annotations

from typing import Any

import yaml

MAX_SPEC_CHARACTERS = 1_048_576
"""A preview spec file larger than this is refused before it is parsed."""
MAX_SPEC_NODES = 100_000
"""Values a spec file may hold once its aliases are expanded: a few hundred bytes of nested ``*alias`` lists
(a "billion laughs") would otherwise expand to gigabytes in substitution, rendering or the API request."""
MAX_SERVICES = 100
"""Services of one compose spec (each is a container of the preview's one pod)."""


def bounded_documents(text: str) -> list[Any]:
    """The YAML documents of ``text`` (empty ones dropped); ValueError, with a reason a user can act on, when the
    text is not YAML or exceeds the bounds above."""
    if len(text) > MAX_SPEC_CHARACTERS:
        raise ValueError(f"the file has {len(text):,} characters; a preview spec may have at most "
                         f"{MAX_SPEC_CHARACTERS:,}")
    try:
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML: {exc}") from exc
    if not within(documents, MAX_SPEC_NODES):
        raise ValueError(f"with its aliases expanded it holds over {MAX_SPEC_NODES:,} values "
                         "(anchors that repeat each other, or refer to themselves)")
    return documents


def within(document: Any, limit: int) -> bool:
    """Does ``document`` hold at most ``limit`` values, counting a value again each time an alias repeats it?
    Stops counting at ``limit``: the cost is bounded whatever the aliases do (self-references included)."""
    count, stack = 0, [document]
    while stack:
        node = stack.pop()
        count += 1
        if count > limit:
            return False
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return True
