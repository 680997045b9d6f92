"""The Kubernetes API over HTTP: authentication, discovery, and each request routed to the module doing its verb.

``listing`` lists, ``watch`` watches, ``writes`` creates, replaces, patches, applies and deletes, ``log_api`` and
``portforward`` serve the pod subresources.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from prdeck.services.sandbox.kube.errors import KubeError, forbidden
from prdeck.services.sandbox.kube.faults import Faults
from prdeck.services.sandbox.kube.listing import list_objects
from prdeck.services.sandbox.kube.log_api import serve_log
from prdeck.services.sandbox.kube.logs import LogBook
from prdeck.services.sandbox.kube.openapi import group_version_document, root_document, swagger_document
from prdeck.services.sandbox.kube.portforward import serve_portforward
from prdeck.services.sandbox.kube.resources import SERVER_VERSION, api_group_list, api_versions
from prdeck.services.sandbox.kube.routing import parse_target, verb_of
from prdeck.services.sandbox.kube.store import KubeStore
from prdeck.services.sandbox.kube.watch import Watches
from prdeck.services.sandbox.kube.writes import WARNINGS, Writes, read_json


@dataclass
class Account:
    user: str
    denied: set[tuple[str, str]] = field(default_factory=set)
    """(verb, plural) pairs this token may not do: ``("delete", "namespaces")``."""


ACCOUNT = web.RequestKey("account", Account)
PUBLIC = {"/version", "/healthz", "/livez", "/readyz"}
"""Paths a default API server answers without credentials (anonymous auth, system:public-info-viewer)."""


class KubeApi:
    def __init__(self, store: KubeStore, logs: LogBook, accounts: dict[str, Account]) -> None:
        self.store = store
        self.logs = logs
        self.accounts = accounts
        self.faults = Faults()
        self.stats: Counter[str] = Counter()
        self.watches = Watches(store)
        self.writes = Writes(store)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/version", self.version),
            web.get("/version/", self.version),
            web.get("/api", self.api),
            web.get("/api/", self.api),
            web.get("/apis", self.apis),
            web.get("/openapi/v2", self.openapi_v2),
            web.get("/openapi/v3", self.openapi_v3),
            web.get("/openapi/v3/{path:.+}", self.openapi_v3),
            *[web.get(path, self.healthy) for path in ("/healthz", "/livez", "/readyz")],
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
        if not token and request.path.rstrip("/") in PUBLIC:
            return await handler(request)  # system:public-info-viewer: anyone may read these
        account = self.accounts.get(token)
        if account is None:
            return _status(KubeError(401, "Unauthorized"))
        request[ACCOUNT] = account
        try:
            response = await handler(request)
        except KubeError as error:
            return _status(error)
        for warning in request.get(WARNINGS) or []:
            escaped = warning.replace("\\", "\\\\").replace('"', '\\"')
            response.headers.add("Warning", f'299 - "{escaped}"')
        return response

    # discovery ----------------------------------------------------------------------------------------
    async def version(self, request: web.Request) -> web.Response:
        major, minor = self.store.version
        return web.json_response({**SERVER_VERSION, "major": str(major), "minor": str(minor),
                                  "gitVersion": f"v{major}.{minor}.0-prdeck-sandbox"})

    async def healthy(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def openapi_v2(self, request: web.Request) -> web.Response:
        """JSON only: client-go asks protobuf first and, told 406, falls back as it does for old servers."""
        accept = request.headers.get("Accept", "application/json")
        if "json" not in accept and "*/*" not in accept:
            raise KubeError(406, "only application/json is served here", reason="NotAcceptable")
        return web.Response(body=swagger_document(), content_type="application/json")

    async def openapi_v3(self, request: web.Request) -> web.Response:
        path = request.match_info.get("path")
        if path is None:
            return web.json_response(root_document())
        document = group_version_document(path)
        if document is None:
            raise KubeError(404, "the server could not find the requested resource", reason="NotFound")
        return web.Response(body=document, content_type="application/json")

    async def api(self, request: web.Request) -> web.Response:
        return web.json_response(api_versions(f"{request.host}"))

    async def apis(self, request: web.Request) -> web.Response:
        return web.json_response(api_group_list())

    # routing ------------------------------------------------------------------------------------------
    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        target = parse_target(request.path)
        if isinstance(target, dict):
            return web.json_response(target)
        verb = verb_of(request, target)
        account: Account = request[ACCOUNT]
        resource = target.resource
        self.stats[f"{verb} {resource.plural}"] += 1
        permission = {"log": "get", "portforward": "create"}.get(target.sub or "", verb)
        if (permission, resource.plural) in account.denied or (permission, "*") in account.denied:
            raise forbidden(resource, account.user, permission, target.namespace)
        namespace = target.namespace or ""
        if target.sub == "log":
            return await serve_log(self.store, self.logs, self.faults, request, namespace, target.name or "")
        if target.sub == "portforward" and resource.plural == "pods" and request.method in ("GET", "POST"):
            self.stats["portforward"] += 1
            return await serve_portforward(request, self.store.get(resource, namespace, target.name or ""))
        if target.sub not in (None, "status"):
            raise KubeError(404, "the server could not find the requested resource", reason="NotFound")
        if verb == "get":
            return web.json_response(self.store.get(resource, namespace, target.name or ""))
        if verb == "list":
            return web.json_response(list_objects(self.store, request, target))
        if verb == "watch":
            return await self.watches.serve(request, target)
        if verb == "create":
            created = self.writes.create(resource, target.namespace, await read_json(request), request)
            return web.json_response(created, status=201)
        if verb == "update":
            return web.json_response(self.writes.replace(target, await read_json(request), request))
        if verb == "patch":
            return await self.writes.patch(request, target)
        if verb == "delete":
            dry_run = request.query.get("dryRun") == "All"
            return web.json_response(self.writes.delete(resource, namespace, target.name or "", dry_run))
        raise KubeError(405, "the server does not allow this method on the requested resource")


def _status(error: KubeError) -> web.Response:
    return web.json_response(error.status(), status=error.code)
