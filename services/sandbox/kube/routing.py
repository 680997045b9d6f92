"""What an API path names: a discovery document, or a resource (with namespace, name and subresource), and the
verb a request is, as RBAC sees it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from prdeck.services.sandbox.kube.errors import KubeError
from prdeck.services.sandbox.kube.resources import BY_PATH, Resource, api_group, resource_list


@dataclass
class Target:
    resource: Resource
    namespace: str | None
    name: str | None
    sub: str | None


def parse_target(path: str) -> Target | dict[str, Any]:
    """``/api/v1/namespaces/ns/pods/name/log`` -> a Target; a group or group-version path -> its discovery document."""
    parts = [part for part in path.split("/") if part]
    if parts[0] == "api":
        group, version, rest = "", parts[1] if len(parts) > 1 else "", parts[2:]
    else:
        if len(parts) == 2:
            document = api_group(parts[1])
            if document is None:
                raise KubeError(404, "the server could not find the requested resource", reason="NotFound")
            return document
        group, version, rest = (parts[1] if len(parts) > 1 else ""), (parts[2] if len(parts) > 2 else ""), parts[3:]
    if not rest:
        document = resource_list(group, version)
        if document is None:
            raise KubeError(404, "the server could not find the requested resource", reason="NotFound")
        return document
    namespace = None
    if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
        namespace, rest = rest[1], rest[2:]
    resource = BY_PATH.get((group, version, rest[0]))
    if resource is None or (namespace is not None and not resource.namespaced):
        raise KubeError(404, "the server could not find the requested resource", reason="NotFound")
    return Target(resource, namespace, rest[1] if len(rest) > 1 else None, rest[2] if len(rest) > 2 else None)


def verb_of(request: web.Request, target: Target) -> str:
    method = request.method
    if method == "GET":
        if target.name is None:
            return "watch" if request.query.get("watch") in ("true", "1") else "list"
        return "get"
    return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(
        method, "delete" if target.name else "deletecollection"
    )
