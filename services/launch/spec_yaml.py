"""YAML of a preview spec, read within bounds: a pull request's file must not exhaust prdeck's memory or time."""

from __future__ import annotations

from typing import Any

import yaml

MAX_SPEC_CHARACTERS = 1_048_576
"""A preview spec file larger than this is refused before it is parsed."""
MAX_SPEC_NODES = 100_000
"""Values a spec file may hold once its aliases are expanded: a few hundred bytes of nested ``*alias`` lists
(a "billion laughs") would otherwise expand to gigabytes in substitution, rendering or the API request."""
MAX_SPEC_DEPTH = 100
"""Nesting a spec file may have: PyYAML (and every recursive walk of the document) recurses once a level, so 500
nested ``[`` would end in a RecursionError; real specs nest fewer than 15 levels (block scalars
with many indentation widths count each width: the bound is generous)."""
MAX_SERVICES = 100
"""Services of one compose spec (each is a container of the preview's one pod)."""


def bounded_documents(text: str, loader: type[yaml.SafeLoader] = yaml.SafeLoader) -> list[Any]:
    """The YAML documents of ``text`` (empty ones dropped); ValueError, with a reason a user can act on, when the
    text is not YAML or exceeds the bounds above. Compose files pass a YAML 1.2 ``loader``."""
    if len(text) > MAX_SPEC_CHARACTERS:
        raise ValueError(f"the file has {len(text):,} characters; a preview spec may have at most "
                         f"{MAX_SPEC_CHARACTERS:,}")
    depth = _flow_depth(text)
    if depth > MAX_SPEC_DEPTH:
        raise ValueError(f"it nests {depth:,} levels deep; a preview spec may nest at most {MAX_SPEC_DEPTH}")
    try:
        documents = [doc for doc in yaml.load_all(text, Loader=loader) if doc is not None]
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML: {exc}") from exc
    except RecursionError:
        raise ValueError(f"it nests too deeply; a preview spec may nest at most {MAX_SPEC_DEPTH} levels") from None
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


def _flow_depth(text: str) -> int:
    """An upper bound of the nesting of ``text``'s flow collections and indented blocks, without parsing it
    (the parser is what would recurse): open brackets outside quotes, plus indentation steps."""
    deepest = depth = 0
    quote = ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
        elif char == "\n":
            quote = ""
    indents = {len(line) - len(line.lstrip(" -")) for line in text.splitlines() if line.strip()}
    return deepest + len(indents)
