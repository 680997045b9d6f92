"""The Kubernetes sandbox: an API server emulator on 127.0.0.1 that the real ``kubernetes`` client and kubectl use.

It serves discovery, the core/apps/networking resources prdeck uses, list/watch/patch/apply and pod logs, and
runs controllers that move Deployments, ReplicaSets and Pods through their lives (``world.py`` runs
``controllers.py`` and ``kubelet.py``). Admin endpoints under ``/_sandbox``:

- ``GET /_sandbox/stats``: request counts by verb and resource (``{"list pods": 1, "watch pods": 1}``);
  ``POST /_sandbox/reset-stats``;
- ``POST /_sandbox/faults``: ``{"unreachable": true}`` drops every API connection, ``{"cut_logs_after": N, "times": 1}``
  breaks the next log streams after N lines; ``DELETE /_sandbox/faults`` clears them;
- ``POST /_sandbox/deny``: ``{"verb": "delete", "resource": "namespaces"}`` makes the token get 403 for that;
  ``DELETE /_sandbox/deny`` restores full rights;
- ``POST /_sandbox/log-burst``: ``{"namespace": "...", "container": "web", "lines": 100000, "per_second": 0}``
  makes a pod chatty (as fast as possible, or at a steady rate);
- ``POST /_sandbox/compact``: forget the watch history (older resourceVersions get 410 Gone);
  ``{"end_watches": true}`` also ends every open watch in the same step;
- ``POST /_sandbox/end-watches``: end every open watch, as a restarting API server does;
- ``POST /_sandbox/images``: ``{"image": "...", "crash": false, "exit_code": 1, "missing": false, "never_ready": false,
  "ready_after": 1.0}`` sets how pods running that image behave.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import ssl
import tempfile
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from prdeck.services.sandbox.kube.api import Account, KubeApi
from prdeck.services.sandbox.kube.behaviour import Behaviours, ImageBehaviour, Timing
from prdeck.services.sandbox.kube.logs import LogBook
from prdeck.services.sandbox.kube.seed import HeadLookup, seed_previews, seed_system_namespaces
from prdeck.services.sandbox.kube.store import KubeStore
from prdeck.services.sandbox.kube.tls import Certificates, make_certificates
from prdeck.services.sandbox.kube.world import KubeWorld
from prdeck.services.sandbox.server import LoopbackServer

CONTEXT = "prdeck-sandbox"
WORLD = web.AppKey("world", asyncio.Task)
USER = "system:serviceaccount:prdeck:maintainer"


class KubeSandbox:
    def __init__(
        self,
        seed: dict[str, Any] | None = None,
        root: Path | None = None,
        port: int = 0,
        *,
        registry: str | None = None,
        head_of: HeadLookup | None = None,
        tls: bool = True,
    ) -> None:
        """``tls=False`` serves plain http (for tools that must see the bytes, like a fault proxy): the Python
        client still works, kubectl does not (client-go sends a token only over https)."""
        seed = seed or {}
        kube = seed.get("kube") or {}
        self._tmp = None if root else tempfile.TemporaryDirectory(prefix="prdeck-kube-")
        self.root = root or Path(self._tmp.name)  # type: ignore[union-attr]
        self.token = secrets.token_hex(20)
        self.store = KubeStore()
        if kube.get("version"):  # "1.28": an older API server (what it drops, what /version says)
            major, minor = (int(part) for part in str(kube["version"]).split(".")[:2])
            self.store.version = (major, minor)
        self.logs = LogBook()
        known = {f.name for f in fields(Timing)}
        self.timing = Timing(**{k: float(v) for k, v in (kube.get("timing") or {}).items() if k in known})
        self.behaviours = Behaviours(registry=registry)
        for image, behaviour in (kube.get("images") or {}).items():
            self.behaviours.images[image] = ImageBehaviour(**behaviour)
        self.world = KubeWorld(self.store, self.logs, self.timing, self.behaviours)
        self.account = Account(USER)
        self.api = KubeApi(self.store, self.logs, {self.token: self.account})
        seed_system_namespaces(self.store)
        seed_previews(self.store, self.behaviours, seed.get("previews") or [], head_of or (lambda repo, n: None))
        self.certificates: Certificates | None = make_certificates() if tls else None
        context = self.certificates.server_context() if self.certificates else None
        self._server = LoopbackServer(self._make_app, port=port, ssl_context=context)
        self.url = self._server.url
        self.kubeconfig = self.root / "kubeconfig"
        self.ca_file = self.root / "ca.crt"
        """The CA of the sandbox's https certificate (admin calls with curl --cacert, urllib's cafile)."""

    def _make_app(self, base_url: str) -> web.Application:
        app = web.Application(middlewares=[self.api.middleware], client_max_size=16 * 1024 * 1024)
        app.add_routes(self._admin_routes())
        app.add_routes(self.api.routes())
        app.on_startup.append(self._start_world)
        app.on_cleanup.append(self._stop_world)
        return app

    async def _start_world(self, app: web.Application) -> None:
        app[WORLD] = asyncio.create_task(self.world.run())

    async def _stop_world(self, app: web.Application) -> None:
        app[WORLD].cancel()
        await asyncio.gather(app[WORLD], return_exceptions=True)

    # admin --------------------------------------------------------------------------------------------
    def _admin_routes(self) -> list[web.RouteDef]:
        async def body(request: web.Request) -> dict[str, Any]:
            data = await request.json() if request.can_read_body else {}
            if not isinstance(data, dict):
                raise web.HTTPBadRequest(text="body must be a JSON object")
            return data

        async def stats(request: web.Request) -> web.Response:
            return web.json_response(dict(self.api.stats))

        async def reset_stats(request: web.Request) -> web.Response:
            self.api.stats.clear()
            return web.json_response({})

        async def faults(request: web.Request) -> web.Response:
            data = await body(request)
            self.api.faults.unreachable = bool(data.get("unreachable", self.api.faults.unreachable))
            if "cut_logs_after" in data:
                self.api.faults.cut_logs_after = data["cut_logs_after"]
                self.api.faults.cut_logs_times = int(data.get("times", 1))
            return web.json_response(
                {"unreachable": self.api.faults.unreachable, "cut_logs_after": self.api.faults.cut_logs_after}
            )

        async def clear_faults(request: web.Request) -> web.Response:
            self.api.faults.unreachable, self.api.faults.cut_logs_after = False, None
            self.api.faults.cut_logs_times = 0
            return web.json_response({})

        async def deny(request: web.Request) -> web.Response:
            data = await body(request)
            self.account.denied.add((str(data["verb"]), str(data.get("resource", "*"))))
            return web.json_response(sorted(map(list, self.account.denied)))

        async def allow(request: web.Request) -> web.Response:
            self.account.denied.clear()
            return web.json_response([])

        async def end_watches(request: web.Request) -> web.Response:
            self.api.watches.end_all()
            return web.json_response({})

        async def burst(request: web.Request) -> web.Response:
            """A chatty container: ``{"namespace", "container", "lines": N}`` appends N lines to its first pod."""
            data = await body(request)
            namespace, container = str(data["namespace"]), str(data.get("container", "web"))
            pods = [name for ns, name in self.logs.pods if ns == namespace]
            if not pods:
                raise web.HTTPNotFound(text=f"no running pod in {namespace}")
            logs = self.logs.pod(namespace, pods[0])
            total, rate = int(data.get("lines", 1000)), float(data.get("per_second") or 0)
            size = 2000 if not rate else max(int(rate / 20), 1)
            for start in range(0, total, size):
                count = min(size, total - start)
                await logs.write_many(container, [f"GET /items/{start + i} 200 3ms" for i in range(count)])
                await asyncio.sleep(size / rate if rate else 0)
            return web.json_response({"pod": pods[0], "lines": total})

        async def compact(request: web.Request) -> web.Response:
            self.store.compact()
            if (await body(request)).get("end_watches"):
                self.api.watches.end_all()
            return web.json_response({"resourceVersion": str(self.store.revision)})

        async def images(request: web.Request) -> web.Response:
            data = await body(request)
            image = str(data.pop("image"))
            self.behaviours.images[image] = ImageBehaviour(**data)
            self.store.changed.set()
            return web.json_response({"image": image})

        return [
            web.get("/_sandbox/stats", stats),
            web.post("/_sandbox/reset-stats", reset_stats),
            web.post("/_sandbox/faults", faults),
            web.delete("/_sandbox/faults", clear_faults),
            web.post("/_sandbox/deny", deny),
            web.delete("/_sandbox/deny", allow),
            web.post("/_sandbox/compact", compact),
            web.post("/_sandbox/log-burst", burst),
            web.post("/_sandbox/end-watches", end_watches),
            web.post("/_sandbox/images", images),
        ]

    # lifecycle ----------------------------------------------------------------------------------------
    def client_ssl_context(self) -> ssl.SSLContext | None:
        """An SSL context trusting the sandbox's CA, for admin calls with urllib; None over plain http."""
        return self.certificates.client_context() if self.certificates else None

    def write_kubeconfig(self) -> Path:
        cluster: dict[str, Any] = {"server": self.url}
        if self.certificates is not None:
            cluster["certificate-authority-data"] = base64.b64encode(self.certificates.ca_pem).decode("ascii")
            self.ca_file.write_bytes(self.certificates.ca_pem)
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": CONTEXT, "cluster": cluster}],
            "users": [{"name": CONTEXT, "user": {"token": self.token}}],
            "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": "default"}}],
            "current-context": CONTEXT,
            "preferences": {},
        }
        self.kubeconfig.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        self.kubeconfig.chmod(0o600)
        return self.kubeconfig

    def start(self) -> KubeSandbox:
        self.write_kubeconfig()
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> KubeSandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def submit(self, coroutine: Any) -> Any:
        """Schedule ``coroutine`` on the sandbox's loop; returns a concurrent future."""
        return self._server.submit(coroutine)

    def info(self) -> dict[str, Any]:
        return {
            "kube_url": self.url,
            "kubeconfig": str(self.kubeconfig),
            "kube_admin_url": f"{self.url}/_sandbox",
            "kube_context": CONTEXT,
            **({"kube_ca": str(self.ca_file)} if self.certificates else {}),
            "env": {"KUBECONFIG": str(self.kubeconfig)},
        }
