"""Compose's ``extends`` and ``include``, resolved from the commit's tree before anything else reads the file.

``extends: {service, file}`` takes a service from the same file or another one and merges the local keys on top,
with Compose's merge rules: mappings merge, sequences append (``ports``, ``volumes``, ``secrets``, ``configs``
stay unique by their target), ``command``, ``entrypoint`` and ``healthcheck.test`` are replaced. ``include``
adds the services, volumes, configs and secrets of other compose files; one that defines a name this file also
defines is an error, as in Compose. Relative paths (``env_file``, bind mounts, ``file:`` of configs and
secrets) keep pointing where they pointed from their own file; build contexts are paths from the repository root
anyway. Only files of the repository are read: a path outside it, a remote ``include`` or a cycle is refused
naming the key.
"""

from __future__ import annotations

import copy
import posixpath
from typing import Any

from prdeck.services.launch.compose_files import project_dir, repository_path
from prdeck.services.launch.compose_yaml import CoreSchemaLoader
from prdeck.services.launch.spec_types import SpecError, TreeReader, problem
from prdeck.services.launch.spec_yaml import bounded_documents

MAX_FILES = 20
"""Compose files one spec may pull in through ``include`` and ``extends.file``."""
MAX_DEPTH = 10
REPLACED = frozenset({"command", "entrypoint"})
UNIQUE_BY = {"ports": ("target", "published", "protocol"), "volumes": ("target",), "secrets": ("target", "source"),
             "configs": ("target", "source")}
INCLUDED_SECTIONS = ("services", "volumes", "configs", "secrets", "networks")


class Resolver:
    def __init__(self, tree: TreeReader | None) -> None:
        self.tree = tree
        self.files: dict[str, dict[str, Any]] = {}

    def load(self, path: str, where: str, key: str) -> dict[str, Any]:
        """A compose file of the tree, parsed once; SpecError naming ``where``/``key`` when it cannot be."""
        if path in self.files:
            return self.files[path]
        if len(self.files) >= MAX_FILES:
            raise problem(where, key, f"more than {MAX_FILES} compose files through include/extends")
        text = self.tree.read(path) if self.tree is not None else None
        if text is None:
            raise problem(where, key, f"{path} is not in the commit")
        try:
            documents = bounded_documents(text, CoreSchemaLoader)
        except ValueError as exc:
            raise problem(path, "", str(exc)) from exc
        if len(documents) != 1 or not isinstance(documents[0], dict):
            raise problem(path, "", "a compose file is one YAML mapping")
        self.files[path] = documents[0]
        return documents[0]


def resolve(document: dict[str, Any], path: str, tree: TreeReader | None) -> dict[str, Any]:
    """``document`` (the spec at ``path``) with its ``include`` and every service's ``extends`` resolved."""
    resolver = Resolver(tree)
    resolver.files[path] = document
    return _resolve_file(resolver, copy.deepcopy(document), path, (path,))


def _resolve_file(resolver: Resolver, document: dict[str, Any], path: str, chain: tuple[str, ...]) -> dict[str, Any]:
    if len(chain) > MAX_DEPTH:
        raise problem(path, "include", f"include/extends nested deeper than {MAX_DEPTH} files")
    services = document.get("services")
    if isinstance(services, dict):
        for name in list(services):
            services[name] = _extended(resolver, document, path, str(name), services[name], (), chain)
    if "include" in document:
        _include(resolver, document, path, chain)
    return document


def _include(resolver: Resolver, document: dict[str, Any], path: str, chain: tuple[str, ...]) -> None:
    entries = document.pop("include")
    for index, entry in enumerate(entries if isinstance(entries, list) else [entries]):
        key = f"include[{index}]"
        paths = entry.get("path") if isinstance(entry, dict) else entry
        for relative in paths if isinstance(paths, list) else [paths]:
            if not isinstance(relative, str) or not relative:
                raise problem(path, key, "needs a path (a string or {path: ...})")
            if "://" in relative or relative.startswith("oci:") or relative.startswith("git@"):
                raise problem(path, key, f"{relative!r}: prdeck includes files of the repository only")
            target = repository_path(path, relative)
            if target is None:
                raise problem(path, key, f"{relative!r} is outside the repository")
            if target in chain:
                raise problem(path, key, f"{target} includes itself ({' -> '.join((*chain, target))})")
            included = _resolve_file(resolver, copy.deepcopy(resolver.load(target, path, key)), target,
                                     (*chain, target))
            moved = _relocate_file(included, project_dir(target), project_dir(path))
            for section in INCLUDED_SECTIONS:
                _add_section(document, moved, section, path, key, target)


def _add_section(document: dict[str, Any], included: dict[str, Any], section: str, path: str, key: str,
                 target: str) -> None:
    items = included.get(section)
    if not isinstance(items, dict):
        return
    own = document.setdefault(section, {})
    if not isinstance(own, dict):
        raise problem(path, section, "must be a mapping")
    for name, value in items.items():
        if name in own:
            raise problem(path, key, f"{target} defines {section}.{name}, which this file defines too")
        own[name] = value


def _extended(resolver: Resolver, document: dict[str, Any], path: str, name: str, service: Any,
              seen: tuple[tuple[str, str], ...], chain: tuple[str, ...]) -> Any:
    """The service with its ``extends`` chain merged in (the base first, this service's keys on top)."""
    if not isinstance(service, dict) or "extends" not in service:
        return service
    where = f"services.{name}.extends"
    spec = service["extends"]
    base_name, base_file = (spec, None) if isinstance(spec, str) else (
        (spec.get("service"), spec.get("file")) if isinstance(spec, dict) else (None, None))
    if not isinstance(base_name, str) or (base_file is not None and not isinstance(base_file, str)):
        raise problem(path, where, "needs a service name (extends: NAME or {service: NAME, file: PATH})")
    base_path = path
    base_document = document
    if base_file:
        found = repository_path(path, base_file)
        if found is None:
            raise problem(path, where, f"{base_file!r} is outside the repository")
        base_path = found
        base_document = resolver.load(found, path, where)
    if (base_path, base_name) in seen or len(seen) >= MAX_DEPTH:
        raise problem(path, where, f"extends loops back to {base_name}")
    base_services = base_document.get("services") or {}
    base = base_services.get(base_name) if isinstance(base_services, dict) else None
    if not isinstance(base, dict):
        raise problem(path, where, f"no service {base_name!r} in {base_path}")
    base = _extended(resolver, base_document, base_path, base_name, copy.deepcopy(base),
                     (*seen, (path, name), (base_path, base_name)), chain)
    base = _relocate_service(base, project_dir(base_path), project_dir(path))
    local = {key: value for key, value in service.items() if key != "extends"}
    try:
        return merge_service(base, local)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"{path}: cannot merge {where}", str(exc)) from exc


# merging ------------------------------------------------------------------------------------------------------
def merge_service(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Compose's merge of one service onto another."""
    result = _normalised(base)
    for key, value in _normalised(override).items():
        if key in REPLACED or key not in result:
            result[key] = copy.deepcopy(value)
        elif key == "healthcheck" and isinstance(value, dict) and isinstance(result[key], dict):
            result[key] = {**result[key], **value}
        elif key in UNIQUE_BY and isinstance(value, list) and isinstance(result[key], list):
            result[key] = _unique(key, [*result[key], *value])
        else:
            result[key] = _merge(result[key], value)
    return result


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(merged[key], value) if key in merged else copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(override, list):
        return [*base, *(item for item in override if item not in base)]
    return copy.deepcopy(override)


def _normalised(service: dict[str, Any]) -> dict[str, Any]:
    """Merges apply to the long forms: lists of ``KEY=value`` as mappings, ``build: .`` as ``{context: .}``,
    ``depends_on: [a]`` as ``{a: {condition: service_started}}``."""
    result = dict(service)
    for key in ("environment", "labels", "annotations"):
        if isinstance(result.get(key), list):
            result[key] = dict(_pair(str(item)) for item in result[key])
    if isinstance(result.get("build"), str):
        result["build"] = {"context": result["build"]}
    if isinstance(result.get("build"), dict) and isinstance(result["build"].get("args"), list):
        result["build"] = {**result["build"], "args": dict(_pair(str(item)) for item in result["build"]["args"])}
    if isinstance(result.get("depends_on"), list):
        result["depends_on"] = {str(name): {"condition": "service_started"} for name in result["depends_on"]}
    return result


def _pair(item: str) -> tuple[str, str | None]:
    key, sep, value = item.partition("=")
    return key, value if sep else None


def _unique(key: str, items: list[Any]) -> list[Any]:
    """Later entries win over earlier ones with the same target (the overriding file's)."""
    by_identity: dict[Any, Any] = {}
    for item in items:
        by_identity[_identity(key, item)] = item
    return list(by_identity.values())


def _identity(key: str, item: Any) -> Any:
    if isinstance(item, dict):
        return tuple(str(item.get(field)) for field in UNIQUE_BY[key])
    text = str(item)
    if key == "volumes":
        parts = text.split(":")
        return (parts[1] if len(parts) > 1 else parts[0],)
    if key in ("secrets", "configs"):
        return (text, text)
    return (text,)


# relative paths -----------------------------------------------------------------------------------------------
def _relocate_file(document: dict[str, Any], source_dir: str, target_dir: str) -> dict[str, Any]:
    if source_dir == target_dir:
        return document
    services = document.get("services")
    if isinstance(services, dict):
        for name, service in services.items():
            services[name] = _relocate_service(service, source_dir, target_dir)
    for section in ("configs", "secrets"):
        items = document.get(section)
        for item in items.values() if isinstance(items, dict) else []:
            if isinstance(item, dict) and isinstance(item.get("file"), str):
                item["file"] = _moved(item["file"], source_dir, target_dir)
    return document


def _relocate_service(service: Any, source_dir: str, target_dir: str) -> Any:
    """A service written in ``source_dir``, with its relative paths rewritten for a file in ``target_dir``."""
    if source_dir == target_dir or not isinstance(service, dict):
        return service
    result = dict(service)  # build contexts are paths from the repository root already: they stay as they are
    env_file = result.get("env_file")
    if env_file is not None:
        entries = env_file if isinstance(env_file, list) else [env_file]
        result["env_file"] = [
            _moved(entry, source_dir, target_dir) if isinstance(entry, str) else
            {**entry, "path": _moved(entry["path"], source_dir, target_dir)}
            if isinstance(entry, dict) and isinstance(entry.get("path"), str) else entry
            for entry in entries]
    if isinstance(result.get("volumes"), list):
        result["volumes"] = [_moved_volume(item, source_dir, target_dir) for item in result["volumes"]]
    return result


def _moved_volume(item: Any, source_dir: str, target_dir: str) -> Any:
    if isinstance(item, str):
        source, sep, rest = item.partition(":")
        if sep and source.startswith("."):
            return f"{_moved(source, source_dir, target_dir)}:{rest}"
        return item
    if isinstance(item, dict) and item.get("type") == "bind" and isinstance(item.get("source"), str) \
            and not item["source"].startswith(("/", "~")):
        return {**item, "source": _moved(item["source"], source_dir, target_dir)}
    return item


def _moved(relative: str, source_dir: str, target_dir: str) -> str:
    """``relative`` (from ``source_dir``) as a path from ``target_dir`` (both from the repository root)."""
    if relative.startswith(("/", "~")) or "://" in relative:
        return relative
    absolute = posixpath.normpath(posixpath.join(source_dir or ".", relative))
    moved = posixpath.relpath(absolute, target_dir or ".")
    return moved if moved.startswith(".") else f"./{moved}"
