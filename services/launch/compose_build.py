"""A compose service's ``build:`` as a :class:`BuildSpec`: what prdeck builds from the commit's tree.

Honoured: ``context``, ``dockerfile``, ``dockerfile_inline``, ``args`` (a map or ``[KEY=value, KEY]``, values typed
as Compose writes them), ``target``, ``cache_from``. Refused when the spec is read, not at build time: a remote
context (prdeck builds only what the commit holds) and build ``secrets``/``ssh`` (they would hand the launcher's
files or agent to a pull request's Dockerfile). Every other key is a warning naming the service and the key.
"""

from __future__ import annotations

import posixpath
from typing import Any

from prdeck.services.launch.compose_interpolate import Lookup
from prdeck.services.launch.spec_types import BuildSpec

INLINE_DOCKERFILE = ".prdeck-inline.Dockerfile"
"""The name ``dockerfile_inline`` gets in the build context (added by the context builder)."""
HONOURED_KEYS = frozenset({"context", "dockerfile", "dockerfile_inline", "args", "target", "cache_from"})
REFUSED_KEYS = {
    "secrets": "build secrets would hand the launcher's files to the pull request's Dockerfile",
    "ssh": "build ssh would hand the launcher's SSH agent or keys to the pull request's Dockerfile",
}
REMOTE_PREFIXES = ("https://", "http://", "git://", "git@", "ssh://", "github.com/", "gitlab.com/")


def build_spec(value: Any, lookup: Lookup, warnings: list[str], label: str) -> BuildSpec | None:
    """``value`` (a ``build:``) as a BuildSpec; ValueError naming the sub-key when it cannot be built; ``label``
    (``FILE: services.NAME``) prefixes the warnings."""
    if value is None:
        return None
    if isinstance(value, str):
        value = {"context": value}
    if not isinstance(value, dict):
        raise ValueError("must be a path or a mapping with context, dockerfile, args")
    for key, reason in REFUSED_KEYS.items():
        if value.get(key):
            raise ValueError(f"{key}: {reason}; prdeck does not support it")
    ignored = sorted(str(key) for key in set(value) - HONOURED_KEYS - set(REFUSED_KEYS))
    if ignored:
        warnings.append(f"{label}.build: {', '.join(ignored)} not supported (ignored)")
    context = value.get("context", ".")
    if not isinstance(context, str) or not context:
        raise ValueError("context must be a path")
    if context.startswith(REMOTE_PREFIXES) or ".git#" in context:
        raise ValueError(f"context {context!r} is remote; prdeck builds only from the pull request's commit (use a "
                         "path inside the repository)")
    written, context = context, posixpath.normpath(context)  # ./web and web/ are web (git takes no ./)
    if context == ".." or context.startswith(("../", "/", "~")):
        raise ValueError(f"context {written!r} is outside the repository; build contexts are paths from the "
                         "repository root")
    inline = value.get("dockerfile_inline")
    if inline is not None and not isinstance(inline, str):
        raise ValueError("dockerfile_inline must be a string")
    if inline is not None and "dockerfile" in value:
        raise ValueError("dockerfile and dockerfile_inline cannot both be set")
    for key in ("dockerfile", "target"):
        if key in value and not isinstance(value[key], str):
            raise ValueError(f"{key} must be a string")
    return BuildSpec(
        context=context,
        dockerfile=INLINE_DOCKERFILE if inline is not None else value.get("dockerfile", "Dockerfile"),
        args=tuple(_args(value.get("args"), lookup).items()),
        target=value.get("target", ""),
        dockerfile_inline=inline or "",
        cache_from=_strings(value.get("cache_from"), "cache_from"),
    )


def _args(value: Any, lookup: Lookup) -> dict[str, str]:
    """Build args; a bare ``NAME`` (or ``NAME:`` with no value) takes the variable's value, or is left out as in
    Compose, so the Dockerfile's ``ARG`` default applies."""
    if value is None:
        return {}
    pairs: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        pairs = [(str(key), item) for key, item in value.items()]
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        for item in value:
            key, sep, text = item.partition("=")
            pairs.append((key, text if sep else None))
    else:
        raise ValueError("args must be a map or a list of KEY=value")
    result: dict[str, str] = {}
    for key, item in pairs:
        if item is None:
            found = lookup(key)
            if found is not None:
                result[key] = found
        elif isinstance(item, bool):
            result[key] = "true" if item else "false"
        elif isinstance(item, int | float | str):
            result[key] = str(item)
        else:
            raise ValueError(f"args.{key} must be a string or a number")
    return result


def _strings(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{key} must be a list of image references")
    return tuple(value)
