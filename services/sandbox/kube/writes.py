"""The writing verbs: create, replace (with the resourceVersion check), JSON / merge / strategic merge patch,
server-side apply, and delete with background cascading deletion."""

from __future__ import annotations

import json
from typing import Any

import yaml
from aiohttp import web

from prdeck.services.sandbox.kube.admission import admit_pod, warnings_for
from prdeck.services.sandbox.kube.errors import KubeError, not_found
from prdeck.services.sandbox.kube.patch import (
    json_patch,
    merge_patch,
    record_update,
    server_side_apply,
    strategic_merge,
)
from prdeck.services.sandbox.kube.pods import delete_gracefully
from prdeck.services.sandbox.kube.resources import BY_KIND, Resource
from prdeck.services.sandbox.kube.routing import Target
from prdeck.services.sandbox.kube.store import KubeStore, now_iso
from prdeck.services.sandbox.kube.validate import apply_defaults, validate

NAMESPACE = BY_KIND["Namespace"]
WARNINGS = web.RequestKey("warnings", list)
"""What the API server warns about for this request; the HTTP layer sends them as ``Warning: 299`` headers."""


def _dry_run(request: web.Request) -> bool:
    dry_run = request.query.getall("dryRun", [])
    if any(value != "All" for value in dry_run):
        raise KubeError(400, f"Invalid dryRun: {dry_run}, supported values: [All]")
    return bool(dry_run)


async def read_json(request: web.Request) -> Any:
    text = await request.text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise KubeError(400, f"error decoding body: {exc}") from exc


def _manager(request: web.Request) -> str:
    agent = request.headers.get("User-Agent", "unknown")
    return request.query.get("fieldManager") or agent.split("/")[0] or "unknown"


def _bump_generation(current: dict[str, Any], obj: dict[str, Any]) -> None:
    if "generation" in current["metadata"]:
        changed = current.get("spec") != obj.get("spec")
        obj["metadata"]["generation"] = current["metadata"]["generation"] + int(changed)


class Writes:
    """Pods are deleted gracefully (marked; their kubelet stops them, then removes them); everything else at once."""

    def __init__(self, store: KubeStore) -> None:
        self.store = store

    def _require_namespace(self, namespace: str | None) -> None:
        if namespace is None:
            return
        ns = self.store.find(NAMESPACE, "", namespace)
        if ns is None:
            raise not_found(NAMESPACE, namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise KubeError(
                403,
                f"unable to create new content in namespace {namespace} because it is being terminated",
                reason="Forbidden",
                details={
                    "name": namespace,
                    "kind": "namespaces",
                    "causes": [
                        {
                            "reason": "NamespaceTerminating",
                            "message": f"namespace {namespace} is being terminated",
                            "field": "metadata.namespace",
                        }
                    ],
                },
            )

    def _admit(self, request: web.Request, resource: Resource, obj: dict[str, Any], created: bool) -> None:
        """Admission: warnings for every write of a pod or workload; the pod plugins when a pod is created."""
        request[WARNINGS] = warnings_for(self.store, obj, obj["metadata"].get("namespace"))
        if created and resource.kind == "Pod":
            admit_pod(self.store, obj)

    def create(self, resource: Resource, namespace: str | None, obj: Any, request: web.Request) -> dict[str, Any]:
        validate(resource, obj, namespace, self.store.version)
        self._require_namespace(namespace if resource.namespaced else None)
        self._admit(request, resource, obj, created=True)
        if _dry_run(request):
            apply_defaults(obj, created=True)
            return obj
        meta = obj["metadata"]
        for server_kept in ("resourceVersion", "uid", "creationTimestamp", "deletionTimestamp", "managedFields"):
            meta.pop(server_kept, None)
        apply_defaults(obj, created=True)
        record_update(None, obj, _manager(request), resource.api_version, now_iso())
        return self.store.create(resource, obj)

    def replace(self, target: Target, obj: Any, request: web.Request) -> dict[str, Any]:
        resource, namespace = target.resource, target.namespace or ""
        validate(resource, obj, target.namespace, self.store.version)
        if obj["metadata"]["name"] != target.name:
            raise KubeError(400, "the name of the object does not match the name on the URL")
        current = self.store.get(resource, namespace, target.name or "")
        if target.sub == "status":
            merged = {**current, "status": obj.get("status", {})}
            return self.store.update(resource, merged, expect_version=obj["metadata"].get("resourceVersion"))
        obj.setdefault("status", current.get("status"))
        self._admit(request, resource, obj, created=False)
        apply_defaults(obj, created=False)
        if _dry_run(request):
            return obj
        _bump_generation(current, obj)
        record_update(current, obj, _manager(request), resource.api_version, now_iso())
        return self.store.update(resource, obj, expect_version=obj["metadata"].get("resourceVersion"))

    async def patch(self, request: web.Request, target: Target) -> web.Response:
        resource, namespace, name = target.resource, target.namespace or "", target.name or ""
        kind = request.content_type
        text = await request.text()
        if kind == "application/apply-patch+yaml":
            return await self._apply(request, target, text)
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise KubeError(400, f"error decoding patch: {exc}") from exc
        current = self.store.get(resource, namespace, name)
        if kind == "application/json-patch+json":
            patched = json_patch(current, body)
        elif kind == "application/merge-patch+json":
            patched = merge_patch(current, body)
        elif kind == "application/strategic-merge-patch+json":
            patched = strategic_merge(current, body)
        else:
            raise KubeError(
                415,
                f"the body of the request was in an unknown format - accepted media types include: "
                f"application/json-patch+json, application/merge-patch+json, "
                f"application/apply-patch+yaml (got {kind})",
            )
        patched.setdefault("metadata", {})["name"] = name
        validate(resource, patched, target.namespace, self.store.version)
        if target.sub != "status":
            patched["status"] = current.get("status", patched.get("status"))
            self._admit(request, resource, patched, created=False)
            apply_defaults(patched, created=False)
            _bump_generation(current, patched)
            record_update(current, patched, _manager(request), resource.api_version, now_iso())
        if _dry_run(request):
            return web.json_response(patched)
        return web.json_response(
            self.store.update(
                resource,
                patched,
                expect_version=body.get("metadata", {}).get("resourceVersion") if isinstance(body, dict) else None,
            )
        )

    async def _apply(self, request: web.Request, target: Target, text: str) -> web.Response:
        resource, namespace, name = target.resource, target.namespace or "", target.name or ""
        manager = request.query.get("fieldManager")
        if not manager:
            raise KubeError(
                400, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'
            )
        try:
            applied = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise KubeError(400, f"error decoding YAML: {exc}") from exc
        if not isinstance(applied, dict):
            raise KubeError(400, "error decoding YAML: the apply body must be an object")
        if (applied.get("metadata") or {}).get("name") not in (None, name):
            raise KubeError(400, "the name of the object does not match the name on the URL")
        applied.setdefault("metadata", {})["name"] = name
        validate(resource, json.loads(json.dumps(applied)), target.namespace, self.store.version)
        force = request.query.get("force") in ("true", "1")
        current = self.store.find(resource, namespace, name)
        merged = server_side_apply(current, applied, manager, force, resource.api_version, now_iso())
        if target.namespace is not None:
            merged["metadata"]["namespace"] = target.namespace
        validate(resource, merged, target.namespace, self.store.version)
        dry_run = _dry_run(request)
        if current is None:
            self._require_namespace(target.namespace if resource.namespaced else None)
            self._admit(request, resource, merged, created=True)
            apply_defaults(merged, created=True)
            if dry_run:  # answered as if created, never stored (a real server runs the same steps, then stops)
                merged["metadata"].setdefault("creationTimestamp", now_iso())
                return web.json_response(merged, status=201)
            return web.json_response(self.store.create(resource, merged), status=201)
        merged["status"] = current.get("status", {})
        self._admit(request, resource, merged, created=False)
        apply_defaults(merged, created=False)
        _bump_generation(current, merged)
        if dry_run:
            return web.json_response(merged)
        return web.json_response(self.store.update(resource, merged))

    def delete(self, resource: Resource, namespace: str, name: str, dry_run: bool = False) -> dict[str, Any]:
        current = self.store.get(resource, namespace, name)
        if dry_run:
            return current
        if resource.kind == "Namespace":
            if not current["metadata"].get("deletionTimestamp"):
                current["metadata"]["deletionTimestamp"] = now_iso()
                current["status"] = {"phase": "Terminating"}
                current = self.store.update(resource, current)
                self.store.changed.set()
            return current
        if resource.kind == "Pod":
            delete_gracefully(self.store, current)
            return self.store.get(resource, namespace, name)
        removed = self.store.remove(resource, namespace, name)
        self._collect_garbage(removed)
        return removed

    def _collect_garbage(self, owner: dict[str, Any]) -> None:
        """Background cascading deletion: whatever the removed object owned goes too."""
        uid = owner["metadata"]["uid"]
        namespace = owner["metadata"].get("namespace", "")
        for kind in ("ReplicaSet", "Pod"):
            for obj in self.store.items(BY_KIND[kind], namespace):
                if any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or []):
                    if kind == "Pod":
                        delete_gracefully(self.store, obj)
                    else:
                        self._collect_garbage(self.store.remove(BY_KIND[kind], namespace, obj["metadata"]["name"]))
