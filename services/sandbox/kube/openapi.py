"""``/openapi/v3`` (and a JSON ``/openapi/v2``) for the kinds the sandbox serves, as kubectl reads them.

kubectl 1.27+ asks ``/openapi/v3`` which group versions exist, fetches a group version's document, and sends
``fieldValidation=Strict`` only when that document has a PATCH operation for the object's kind with that query
parameter (else it refuses to apply, or validates on the client). ``kubectl explain`` reads the schemas there
too. The schemas come from the ``kubernetes`` client's own models (pydantic), so they follow its API version;
with an older client that has no JSON schemas, the kinds are plain objects and only the paths are exact.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from kubernetes.client import models

from prdeck.services.sandbox.kube.resources import RESOURCES, Resource

TITLE = {"title": "Kubernetes", "version": "1.36"}
PATCH_PARAMETERS = ("dryRun", "fieldManager", "fieldValidation", "force")
WRITE_PARAMETERS = ("dryRun", "fieldManager", "fieldValidation")


def _group_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _schema_name(resource: Resource) -> str:
    package = {"": "core", "networking.k8s.io": "networking"}.get(resource.group, resource.group)
    return f"io.k8s.api.{package}.{resource.version}.{resource.kind}"


def _clean(node: Any) -> Any:
    """pydantic's JSON schema -> OpenAPI's: ``anyOf [X, null]`` is X, no titles, no ``default: null``."""
    if isinstance(node, list):
        return [_clean(item) for item in node]
    if not isinstance(node, dict):
        return node
    options = node.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        kept = next(option for option in options if option != {"type": "null"})
        node = {**{k: v for k, v in node.items() if k != "anyOf"}, **kept}
    cleaned = {key: _clean(value) for key, value in node.items() if key not in ("title", "$defs")}
    if cleaned.get("default", 0) is None:
        del cleaned["default"]
    cleaned.pop("additionalProperties", None) if cleaned.get("additionalProperties") is False else None
    return cleaned


def _kind_schemas(resource: Resource) -> dict[str, Any]:
    model = getattr(models, f"V1{resource.kind}", None)
    gvk = [{"group": resource.group, "version": resource.version, "kind": resource.kind}]
    if model is None or not hasattr(model, "model_json_schema"):
        return {_schema_name(resource): {"type": "object", "x-kubernetes-group-version-kind": gvk}}
    raw = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas = {name: _clean(schema) for name, schema in raw.get("$defs", {}).items()}
    root = _clean(raw)
    root["x-kubernetes-group-version-kind"] = gvk
    schemas[_schema_name(resource)] = root
    return schemas


def _parameters(names: tuple[str, ...]) -> list[dict[str, Any]]:
    kinds = {"force": "boolean"}
    return [
        {"name": name, "in": "query", "schema": {"type": kinds.get(name, "string"), "uniqueItems": True}}
        for name in names
    ]


def _operation(resource: Resource, verb: str, names: tuple[str, ...] = ()) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{_schema_name(resource)}"}
    operation: dict[str, Any] = {
        "operationId": f"{verb}{resource.kind}",
        "parameters": _parameters(names),
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}},
        "x-kubernetes-action": verb,
        "x-kubernetes-group-version-kind": {
            "group": resource.group,
            "version": resource.version,
            "kind": resource.kind,
        },
    }
    if verb in ("post", "put", "patch"):
        kinds = (
            ["application/json"]
            if verb != "patch"
            else [
                "application/apply-patch+yaml",
                "application/json-patch+json",
                "application/merge-patch+json",
                "application/strategic-merge-patch+json",
            ]
        )
        operation["requestBody"] = {"content": {kind: {"schema": ref} for kind in kinds}, "required": True}
    return operation


def _paths(resource: Resource) -> dict[str, Any]:
    base = "/" + _group_path(resource.group, resource.version)
    scope = f"{base}/namespaces/{{namespace}}" if resource.namespaced else base
    collection, item = f"{scope}/{resource.plural}", f"{scope}/{resource.plural}/{{name}}"
    return {
        collection: {
            "get": _operation(resource, "list"),
            "post": _operation(resource, "post", WRITE_PARAMETERS),
        },
        item: {
            "get": _operation(resource, "get"),
            "put": _operation(resource, "put", WRITE_PARAMETERS),
            "patch": _operation(resource, "patch", PATCH_PARAMETERS),
            "delete": _operation(resource, "delete", ("dryRun",)),
        },
    }


@functools.cache
def group_version_document(path: str) -> bytes | None:
    """The OpenAPI v3 document of ``api/v1`` or ``apis/<group>/<version>``, as JSON bytes; None if unknown."""
    members = [r for r in RESOURCES if _group_path(r.group, r.version) == path]
    if not members:
        return None
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for resource in members:
        paths.update(_paths(resource))
        schemas.update(_kind_schemas(resource))
    document = {"openapi": "3.0.0", "info": TITLE, "paths": paths, "components": {"schemas": schemas}}
    return json.dumps(document).encode()


def _hash(path: str) -> str:
    return hashlib.sha512(group_version_document(path) or b"").hexdigest().upper()


def root_document() -> dict[str, Any]:
    """``GET /openapi/v3``: where each group version's document is, with the hash kubectl caches it by."""
    paths = sorted({_group_path(r.group, r.version) for r in RESOURCES})
    return {"paths": {path: {"serverRelativeURL": f"/openapi/v3/{path}?hash={_hash(path)}"} for path in paths}}


@functools.cache
def swagger_document() -> bytes:
    """``GET /openapi/v2`` as JSON (a real server prefers protobuf; clients asking JSON get this)."""
    definitions: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for resource in RESOURCES:
        for name, schema in _kind_schemas(resource).items():
            definitions[name] = schema
        for path, operations in _paths(resource).items():
            paths[path] = {
                verb: {
                    "operationId": op["operationId"],
                    "parameters": [
                        {"name": p["name"], "in": "query", "type": p["schema"]["type"]} for p in op["parameters"]
                    ],
                    "responses": {"200": {"description": "OK"}},
                    "x-kubernetes-group-version-kind": op["x-kubernetes-group-version-kind"],
                }
                for verb, op in operations.items()
            }
    text = json.dumps({"swagger": "2.0", "info": TITLE, "paths": paths, "definitions": definitions})
    return text.replace("#/components/schemas/", "#/definitions/").encode()
