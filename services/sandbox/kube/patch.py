"""PATCH bodies: JSON Patch (RFC 6902), JSON merge patch (RFC 7386), strategic merge, and server-side apply.

Strategic merge is approximated the way it behaves for the fields prdeck touches: lists of objects with a
``name`` (containers, ports, env, volumes) merge by name, other lists are replaced. Server-side apply keeps
``metadata.managedFields`` in the ``FieldsV1`` format and reports conflicts with another manager's fields.
"""

from __future__ import annotations

import copy
from typing import Any

from prdeck.services.sandbox.kube.errors import KubeError

Path = tuple[str, ...]


def merge_patch(target: Any, patch: Any, *, strategic: bool = False) -> Any:
    """RFC 7386 merge; with ``strategic``, lists of named objects merge by name as strategic merge does."""
    named = isinstance(patch, list) and all(isinstance(item, dict) and "name" in item for item in patch)
    if strategic and named and isinstance(target, list):
        return _merge_by_name(target, patch)
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value, strategic=strategic)
    return result


def strategic_merge(target: Any, patch: Any) -> Any:
    return merge_patch(target, patch, strategic=True)


def _merge_by_name(target: list[Any], patch: list[dict[str, Any]]) -> list[Any]:
    merged = {item.get("name"): item for item in target if isinstance(item, dict)}
    order = [item.get("name") for item in target if isinstance(item, dict)]
    for item in patch:
        if item.get("$patch") == "delete":
            merged.pop(item["name"], None)
            continue
        if item["name"] not in merged:
            order.append(item["name"])
        merged[item["name"]] = strategic_merge(merged.get(item["name"]), item)
    return [merged[name] for name in order if name in merged]


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise KubeError(422, f'the server rejected our request due to an error in our request: invalid path "{path}"')
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _walk(doc: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(doc, list):
            doc = doc[int(part)]
        elif isinstance(doc, dict):
            doc = doc[part]
        else:
            raise KeyError(part)
    return doc


def json_patch(document: Any, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise KubeError(400, "json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(document)
    for operation in operations:
        op, parts = operation.get("op"), _pointer(operation.get("path", ""))
        try:
            if op == "test":
                if _walk(doc, parts) != operation.get("value"):
                    raise KubeError(
                        422,
                        f"the server rejected our request due to an error in our request: testing "
                        f"value {operation.get('path')} failed",
                    )
                continue
            if op in ("move", "copy"):
                value = copy.deepcopy(_walk(doc, _pointer(operation["from"])))
                if op == "move":
                    _remove(doc, _pointer(operation["from"]))
                doc = _add(doc, parts, value)
            elif op == "add":
                doc = _add(doc, parts, copy.deepcopy(operation.get("value")))
            elif op == "remove":
                _remove(doc, parts)
            elif op == "replace":
                _walk(doc, parts)
                _remove(doc, parts)
                doc = _add(doc, parts, copy.deepcopy(operation.get("value")))
            else:
                raise KubeError(
                    422, f"the server rejected our request due to an error in our request: Unexpected kind: {op}"
                )
        except (KeyError, IndexError, ValueError) as exc:
            raise KubeError(
                422,
                "the server rejected our request due to an error in our request: "
                f'doc is missing path: "{operation.get("path")}"',
            ) from exc
    return doc


def _add(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        parent.insert(len(parent) if last == "-" else int(last), value)
    else:
        parent[last] = value
    return doc


def _remove(doc: Any, parts: list[str]) -> None:
    parent = _walk(doc, parts[:-1])
    if isinstance(parent, list):
        parent.pop(int(parts[-1]))
    else:
        del parent[parts[-1]]


# server-side apply --------------------------------------------------------------------------------------
IGNORED = {("apiVersion",), ("kind",), ("status",)}


def leaf_paths(doc: Any, prefix: Path = ()) -> dict[Path, Any]:
    """Every leaf of ``doc`` (lists count as one value) with its value."""
    if isinstance(doc, dict) and doc:
        leaves: dict[Path, Any] = {}
        for key, value in doc.items():
            leaves.update(leaf_paths(value, (*prefix, key)))
        return leaves
    return {prefix: doc}


def _owned(doc: dict[str, Any]) -> dict[Path, Any]:
    """The leaves a field manager can own: everything but status and the server-kept metadata."""
    owned = {}
    for path, value in leaf_paths(doc).items():
        if path[:1] in IGNORED or (path[:1] == ("metadata",) and path[1:2] not in (("labels",), ("annotations",))):
            continue
        owned[path] = value
    return owned


def fields_v1(paths: list[Path]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        for part in path:
            node = node.setdefault(f"f:{part}", {})
    return tree


def paths_of(fields: dict[str, Any], prefix: Path = ()) -> list[Path]:
    if not fields:
        return [prefix] if prefix else []
    paths: list[Path] = []
    for key, sub in fields.items():
        paths.extend(paths_of(sub, (*prefix, key.removeprefix("f:"))))
    return paths


def _managers(obj: dict[str, Any]) -> dict[tuple[str, str], list[Path]]:
    entries = obj.get("metadata", {}).get("managedFields") or []
    return {(e["manager"], e.get("operation", "Apply")): paths_of(e.get("fieldsV1") or {}) for e in entries}


def _set_managers(obj: dict[str, Any], managers: dict[tuple[str, str], list[Path]], api_version: str, now: str) -> None:
    obj["metadata"]["managedFields"] = [
        {
            "manager": manager,
            "operation": operation,
            "apiVersion": api_version,
            "time": now,
            "fieldsType": "FieldsV1",
            "fieldsV1": fields_v1(paths),
        }
        for (manager, operation), paths in managers.items()
        if paths
    ]


def _get(doc: Any, path: Path) -> Any:
    for part in path:
        if not isinstance(doc, dict) or part not in doc:
            return None
        doc = doc[part]
    return doc


def _delete(doc: dict[str, Any], path: Path) -> None:
    parent = _get(doc, path[:-1])
    if isinstance(parent, dict):
        parent.pop(path[-1], None)


def server_side_apply(
    current: dict[str, Any] | None, applied: dict[str, Any], manager: str, force: bool, api_version: str, now: str
) -> dict[str, Any]:
    """Merge ``applied`` into ``current`` for ``manager``; raise 409 Conflict on another manager's fields."""
    base = copy.deepcopy(current) if current is not None else {"metadata": {}}
    managers = _managers(base)
    wanted = _owned(applied)
    conflicts = []
    for (other, operation), paths in managers.items():
        if other == manager and operation == "Apply":
            continue
        for path in paths:
            if path in wanted and _get(base, path) != wanted[path]:
                conflicts.append((other, path))
    if conflicts and not force:
        causes = [
            {"reason": "FieldManagerConflict", "message": f'conflict with "{other}"', "field": "." + ".".join(p)}
            for other, p in conflicts
        ]
        described = "\n".join(f'- conflict with "{other}": .{".".join(p)}' for other, p in conflicts)
        raise KubeError(
            409,
            f"Apply failed with {len(conflicts)} conflict{'s' if len(conflicts) > 1 else ''}: {described}",
            reason="Conflict",
            details={"causes": causes},
        )
    previous = set(managers.get((manager, "Apply"), []))
    others = {path for key, paths in managers.items() if key != (manager, "Apply") for path in paths}
    merged = merge_patch(base, {k: v for k, v in applied.items() if k != "status"})
    for path in previous - set(wanted) - others:
        _delete(merged, path)
    for key in list(managers):
        if key != (manager, "Apply"):
            managers[key] = [path for path in managers[key] if path not in wanted]
    managers[(manager, "Apply")] = sorted(wanted)
    _set_managers(merged, managers, api_version, now)
    return merged


def record_update(
    before: dict[str, Any] | None, after: dict[str, Any], manager: str, api_version: str, now: str
) -> None:
    """A non-apply write by ``manager``: it now owns every leaf it changed (and loses nothing else)."""
    old = _owned(before) if before else {}
    changed = [path for path, value in _owned(after).items() if old.get(path, object()) != value]
    if not changed:
        return
    managers = _managers(after if "managedFields" in after.get("metadata", {}) else (before or {}))
    for key in list(managers):
        managers[key] = [path for path in managers[key] if path not in changed]
    managers[(manager, "Update")] = sorted(set(managers.get((manager, "Update"), [])) | set(changed))
    _set_managers(after, managers, api_version, now)
