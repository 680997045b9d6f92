"""The Kubernetes API over HTTP: discovery, CRUD, list with limit/continue, watch, patch, apply and pod logs."""

from __future__ import annotations

import asyncio
import base64
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import yaml
from aiohttp import web

from prdeck.services.sandbox.kube.errors import KubeError, forbidden, not_found
from prdeck.services.sandbox.kube.logs import LogBook
from prdeck.services.sandbox.kube.patch import (
    json_patch,
    merge_patch,
    record_update,
    server_side_apply,
    strategic_merge,
)
from prdeck.services.sandbox.kube.resources import (
    BY_KIND,
    BY_PATH,
    SERVER_VERSION,
    Resource,
    api_group,
    api_group_list,
    api_versions,
    resource_list,
)
from prdeck.services.sandbox.kube.selectors import field_matcher, label_matcher
from prdeck.services.sandbox.kube.store import Change, KubeStore, now_iso
from prdeck.services.sandbox.kube.validate import apply_defaults, validate
from prdeck.services.sandbox.kube.world import KubeWorld

NAMESPACE = BY_KIND["Namespace"]

BOOKMARK_EVERY = 1.0
DEFAULT_WATCH_SECONDS = 1800


@dataclass
class Account:
    user: str
    denied: set[tuple[str, str]] = field(default_factory=set)
    """(verb, plural) pairs this token may not do: ``("delete", "namespaces")``."""


ACCOUNT = web.RequestKey("account", Account)


@dataclass
class Faults:
    unreachable: bool = False
    """Every API request is answered by dropping the connection, as a dead cluster would."""
    cut_logs_after: int | None = None
    """The next ``cut_logs_times`` log streams break after this many lines, as when a kubelet connection drops."""
    cut_logs_times: int = 0


@dataclass
class Target:
    resource: Resource
    namespace: str | None
    name: str | None
    sub: str | None


def _continue_token(revision: int, after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"rv": revision, "start": after}).encode()).decode()


class KubeApi:
    def __init__(self, store: KubeStore, world: KubeWorld, logs: LogBook, accounts: dict[str, Account]) -> None:
        self.store = store
        self.world = world
        self.logs = logs
        self.accounts = accounts
        self.faults = Faults()
        self.stats: Counter[str] = Counter()
        self.watch_epoch = 0
        """Bumped to end every open watch (as an API server restart or watch timeout does)."""

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/version", self.version),
            web.get("/version/", self.version),
            web.get("/api", self.api),
            web.get("/api/", self.api),
            web.get("/apis", self.apis),
            web.get("/apis/", self.apis),
            web.route("*", "/api/{rest:.*}", self.dispatch),
            web.route("*", "/apis/{rest:.*}", self.dispatch),
        ]

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith("/_sandbox"):
            return await handler(request)
        if self.faults.unreachable:
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPServiceUnavailable()
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        account = self.accounts.get(token)
        if account is None:
            return _status(KubeError(401, "Unauthorized"))
        request[ACCOUNT] = account
        try:
            return await handler(request)
        except KubeError as error:
            return _status(error)

    # discovery ----------------------------------------------------------------------------------------
    async def version(self, request: web.Request) -> web.Response:
        return web.json_response(SERVER_VERSION)

    async def api(self, request: web.Request) -> web.Response:
        return web.json_response(api_versions(f"{request.host}"))

    async def apis(self, request: web.Request) -> web.Response:
        return web.json_response(api_group_list())

    # routing ------------------------------------------------------------------------------------------
    def _target(self, path: str) -> Target | dict[str, Any]:
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

    @staticmethod
    def _verb(request: web.Request, target: Target) -> str:
        method = request.method
        if method == "GET":
            if target.name is None:
                return "watch" if request.query.get("watch") in ("true", "1") else "list"
            return "get"
        return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(
            method, "delete" if target.name else "deletecollection"
        )

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        target = self._target(request.path)
        if isinstance(target, dict):
            return web.json_response(target)
        verb = self._verb(request, target)
        account: Account = request[ACCOUNT]
        resource = target.resource
        self.stats[f"{verb} {resource.plural}"] += 1
        permission = {"log": "get", "portforward": "create"}.get(target.sub or "", verb)
        if (permission, resource.plural) in account.denied or (permission, "*") in account.denied:
            raise forbidden(resource, account.user, permission, target.namespace)
        if target.sub == "log":
            return await self.pod_log(request, target)
        if target.sub == "portforward" and resource.plural == "pods" and request.method in ("GET", "POST"):
            from prdeck.services.sandbox.kube.portforward import serve_portforward

            self.stats["portforward"] += 1
            return await serve_portforward(request, self.store.get(resource, target.namespace or "", target.name or ""))
        if target.sub not in (None, "status"):
            raise KubeError(404, "the server could not find the requested resource", reason="NotFound")
        namespace = target.namespace or ""
        if verb == "get":
            return web.json_response(self.store.get(resource, namespace, target.name or ""))
        if verb == "list":
            return web.json_response(self.list(request, target))
        if verb == "watch":
            return await self.watch(request, target)
        if verb == "create":
            return web.json_response(self.create(resource, target.namespace, await _json(request), request), status=201)
        if verb == "update":
            return web.json_response(self.replace(target, await _json(request), request))
        if verb == "patch":
            return await self.patch(request, target)
        if verb == "delete":
            return web.json_response(self.delete(resource, namespace, target.name or ""))
        raise KubeError(405, "the server does not allow this method on the requested resource")

    # reading ------------------------------------------------------------------------------------------
    def _matching(self, request: web.Request, target: Target) -> list[dict[str, Any]]:
        labels = label_matcher(request.query.get("labelSelector"))
        fields = field_matcher(request.query.get("fieldSelector"))
        return [
            obj
            for obj in self.store.items(target.resource, target.namespace)
            if labels(obj["metadata"].get("labels") or {}) and fields(obj)
        ]

    def list(self, request: web.Request, target: Target) -> dict[str, Any]:
        resource = target.resource
        revision = self.store.revision
        items = self._matching(request, target)
        token = request.query.get("continue")
        if token:
            try:
                state = json.loads(base64.urlsafe_b64decode(token.encode()))
                revision, start = int(state["rv"]), str(state["start"])
            except (ValueError, KeyError, TypeError) as exc:
                raise KubeError(400, "continue key is not valid: incorrect encoded start resourceVersion") from exc
            if revision < self.store.revision:
                try:
                    self.store.changes_since(revision)
                except KubeError as exc:
                    raise KubeError(
                        410,
                        "The provided continue parameter is too old to display a consistent list result. You "
                        "can start a new list without the continue parameter, or use the continue token in this "
                        "response to retrieve the remainder of the results.",
                        reason="Expired",
                    ) from exc
            items = [obj for obj in items if _sort_key(obj) > start]
        meta: dict[str, Any] = {"resourceVersion": str(revision)}
        limit = int(request.query.get("limit") or 0)
        if limit and len(items) > limit:
            meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
            meta["continue"] = _continue_token(revision, _sort_key(items[-1]))
        for obj in items:
            obj.pop("apiVersion", None)
            obj.pop("kind", None)
        return {"kind": f"{resource.kind}List", "apiVersion": resource.api_version, "metadata": meta, "items": items}

    async def watch(self, request: web.Request, target: Target) -> web.StreamResponse:
        labels = label_matcher(request.query.get("labelSelector"))
        fields = field_matcher(request.query.get("fieldSelector"))
        bookmarks = request.query.get("allowWatchBookmarks") in ("true", "1")
        seconds = float(request.query.get("timeoutSeconds") or DEFAULT_WATCH_SECONDS)
        since = request.query.get("resourceVersion") or ""

        def matches(obj: dict[str, Any]) -> bool:
            in_scope = target.namespace is None or obj["metadata"].get("namespace") == target.namespace
            return in_scope and labels(obj["metadata"].get("labels") or {}) and fields(obj)

        current = self._matching(request, target)
        matching = {_key(obj) for obj in current}
        queue = self.store.subscribe()
        caught_up = self.store.revision  # the queue holds every change after this one
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        try:
            if since in ("", "0"):
                backlog = [Change(caught_up, "ADDED", target.resource, obj) for obj in current]
            else:
                try:
                    backlog = [c for c in self.store.changes_since(int(since)) if c.resource == target.resource]
                except ValueError as exc:
                    raise KubeError(400, f'invalid resource version "{since}"') from exc
                except KubeError as error:
                    await response.prepare(request)
                    await _send(response, {"type": "ERROR", "object": error.status()})
                    return response
            await response.prepare(request)
            for change in backlog:
                if (event := _watch_event(change, matches, matching)) is not None:
                    await _send(response, event)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + seconds
            epoch = self.watch_epoch
            next_bookmark = loop.time() + BOOKMARK_EVERY
            while (remaining := deadline - loop.time()) > 0 and epoch == self.watch_epoch:
                try:
                    change = await asyncio.wait_for(queue.get(), timeout=min(remaining, BOOKMARK_EVERY / 4))
                except TimeoutError:
                    if bookmarks and loop.time() >= next_bookmark:
                        next_bookmark = loop.time() + BOOKMARK_EVERY
                        mark = {"resourceVersion": str(self.store.revision)}
                        kind = {"kind": target.resource.kind, "apiVersion": target.resource.api_version}
                        await _send(response, {"type": "BOOKMARK", "object": {**kind, "metadata": mark}})
                    continue
                if change.revision <= caught_up or change.resource != target.resource:
                    continue
                if (event := _watch_event(change, matches, matching)) is not None:
                    await _send(response, event)
            return response
        except (ConnectionResetError, asyncio.CancelledError):
            return response
        finally:
            self.store.unsubscribe(queue)

    # writing ------------------------------------------------------------------------------------------
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

    def create(self, resource: Resource, namespace: str | None, obj: Any, request: web.Request) -> dict[str, Any]:
        validate(resource, obj, namespace)
        self._require_namespace(namespace if resource.namespaced else None)
        if request.query.get("dryRun") == "All":
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
        validate(resource, obj, target.namespace)
        if obj["metadata"]["name"] != target.name:
            raise KubeError(400, "the name of the object does not match the name on the URL")
        current = self.store.get(resource, namespace, target.name or "")
        if target.sub == "status":
            merged = {**current, "status": obj.get("status", {})}
            return self.store.update(resource, merged, expect_version=obj["metadata"].get("resourceVersion"))
        obj.setdefault("status", current.get("status"))
        apply_defaults(obj, created=False)
        self._bump_generation(current, obj)
        record_update(current, obj, _manager(request), resource.api_version, now_iso())
        return self.store.update(resource, obj, expect_version=obj["metadata"].get("resourceVersion"))

    @staticmethod
    def _bump_generation(current: dict[str, Any], obj: dict[str, Any]) -> None:
        if "generation" in current["metadata"]:
            changed = current.get("spec") != obj.get("spec")
            obj["metadata"]["generation"] = current["metadata"]["generation"] + int(changed)

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
        validate(resource, patched, target.namespace)
        if target.sub != "status":
            patched["status"] = current.get("status", patched.get("status"))
            apply_defaults(patched, created=False)
            self._bump_generation(current, patched)
            record_update(current, patched, _manager(request), resource.api_version, now_iso())
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
        validate(resource, json.loads(json.dumps(applied)), target.namespace)
        force = request.query.get("force") in ("true", "1")
        current = self.store.find(resource, namespace, name)
        merged = server_side_apply(current, applied, manager, force, resource.api_version, now_iso())
        if target.namespace is not None:
            merged["metadata"]["namespace"] = target.namespace
        validate(resource, merged, target.namespace)
        if current is None:
            self._require_namespace(target.namespace if resource.namespaced else None)
            apply_defaults(merged, created=True)
            return web.json_response(self.store.create(resource, merged), status=201)
        merged["status"] = current.get("status", {})
        apply_defaults(merged, created=False)
        self._bump_generation(current, merged)
        return web.json_response(self.store.update(resource, merged))

    def delete(self, resource: Resource, namespace: str, name: str) -> dict[str, Any]:
        current = self.store.get(resource, namespace, name)
        if resource.kind == "Namespace":
            if not current["metadata"].get("deletionTimestamp"):
                current["metadata"]["deletionTimestamp"] = now_iso()
                current["status"] = {"phase": "Terminating"}
                current = self.store.update(resource, current)
                self.store.changed.set()
            return current
        if resource.kind == "Pod":
            self.world.delete_pod(current)
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
                        self.world.delete_pod(obj)
                    else:
                        self._collect_garbage(self.store.remove(BY_KIND[kind], namespace, obj["metadata"]["name"]))

    # logs ---------------------------------------------------------------------------------------------
    async def pod_log(self, request: web.Request, target: Target) -> web.StreamResponse:
        from prdeck.services.sandbox.kube.log_api import serve_log  # one job per module: the log reader lives there

        return await serve_log(self, request, target.namespace or "", target.name or "")


def _key(obj: dict[str, Any]) -> tuple[str, str]:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def _sort_key(obj: dict[str, Any]) -> str:
    return "/".join(_key(obj))


def _watch_event(change: Change, matches: Any, matching: set[tuple[str, str]]) -> dict[str, Any] | None:
    """The event a selector-filtered watch sends: an object that starts matching is ADDED for this watcher,
    one that stops matching is DELETED, as the API server's watch cache does."""
    key = _key(change.obj)
    if change.type == "DELETED":
        was = key in matching or matches(change.obj)
        matching.discard(key)
        return {"type": "DELETED", "object": change.obj} if was else None
    if matches(change.obj):
        kind = "ADDED" if change.type == "ADDED" or key not in matching else "MODIFIED"
        matching.add(key)
        return {"type": kind, "object": change.obj}
    if key in matching:
        matching.discard(key)
        return {"type": "DELETED", "object": change.obj}
    return None


async def _send(response: web.StreamResponse, event: dict[str, Any]) -> None:
    await response.write(json.dumps(event, separators=(",", ":")).encode() + b"\n")


async def _json(request: web.Request) -> Any:
    text = await request.text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise KubeError(400, f"error decoding body: {exc}") from exc


def _manager(request: web.Request) -> str:
    agent = request.headers.get("User-Agent", "unknown")
    return request.query.get("fieldManager") or agent.split("/")[0] or "unknown"


def _status(error: KubeError) -> web.Response:
    return web.json_response(error.status(), status=error.code)
