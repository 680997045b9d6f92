"""``GET`` of a collection: label and field selectors, ``limit`` and ``continue`` tokens (``410 Expired`` once the
token's revision has left the history)."""

from __future__ import annotations

import base64
import json
from typing import Any

from aiohttp import web

from prdeck.services.sandbox.kube.errors import KubeError
from prdeck.services.sandbox.kube.routing import Target
from prdeck.services.sandbox.kube.selectors import field_matcher, label_matcher
from prdeck.services.sandbox.kube.store import KubeStore


def object_key(obj: dict[str, Any]) -> tuple[str, str]:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def sort_key(obj: dict[str, Any]) -> str:
    return "/".join(object_key(obj))


def _continue_token(revision: int, after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"rv": revision, "start": after}).encode()).decode()


def matching(store: KubeStore, request: web.Request, target: Target) -> list[dict[str, Any]]:
    """The objects the request's ``labelSelector`` and ``fieldSelector`` select."""
    labels = label_matcher(request.query.get("labelSelector"))
    fields = field_matcher(request.query.get("fieldSelector"))
    return [
        obj
        for obj in store.items(target.resource, target.namespace)
        if labels(obj["metadata"].get("labels") or {}) and fields(obj)
    ]


def list_objects(store: KubeStore, request: web.Request, target: Target) -> dict[str, Any]:
    resource = target.resource
    revision = store.revision
    items = matching(store, request, target)
    token = request.query.get("continue")
    if token:
        try:
            state = json.loads(base64.urlsafe_b64decode(token.encode()))
            revision, start = int(state["rv"]), str(state["start"])
        except (ValueError, KeyError, TypeError) as exc:
            raise KubeError(400, "continue key is not valid: incorrect encoded start resourceVersion") from exc
        if revision < store.revision:
            try:
                store.changes_since(revision)
            except KubeError as exc:
                raise KubeError(
                    410,
                    "The provided continue parameter is too old to display a consistent list result. You "
                    "can start a new list without the continue parameter, or use the continue token in this "
                    "response to retrieve the remainder of the results.",
                    reason="Expired",
                ) from exc
        items = [obj for obj in items if sort_key(obj) > start]
    meta: dict[str, Any] = {"resourceVersion": str(revision)}
    limit = int(request.query.get("limit") or 0)
    if limit and len(items) > limit:
        meta["remainingItemCount"] = len(items) - limit
        items = items[:limit]
        meta["continue"] = _continue_token(revision, sort_key(items[-1]))
    for obj in items:
        obj.pop("apiVersion", None)
        obj.pop("kind", None)
    return {"kind": f"{resource.kind}List", "apiVersion": resource.api_version, "metadata": meta, "items": items}
