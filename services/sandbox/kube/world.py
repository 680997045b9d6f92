"""The controllers and kubelet that make the Kubernetes sandbox feel alive.

Deployments get ReplicaSets, ReplicaSets get Pods, and each Pod goes Pending -> ContainerCreating -> Running
and Ready over a few (configurable) seconds, or to ErrImagePull/ImagePullBackOff when its image is missing from
the registry, or to CrashLoopBackOff when the seed says the image crashes. Containers write log lines, every
transition is recorded as an Event, and a deleted namespace is Terminating until its objects are gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from prdeck.services.sandbox.kube.logs import LogBook
from prdeck.services.sandbox.kube.resources import BY_KIND
from prdeck.services.sandbox.kube.store import KubeStore, now_iso

LOG = logging.getLogger(__name__)
NODE = "sandbox-node"
MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    )
)
NAMESPACED = [kind for kind, resource in BY_KIND.items() if resource.namespaced]


@dataclass
class Timing:
    """Seconds between the steps of a pod's life (tests make them short, demos a little longer)."""

    schedule: float = 0.2
    create: float = 0.8
    ready: float = 1.0
    log_every: float = 2.0
    crash_after: float = 1.5
    backoff: float = 2.0
    terminate: float = 0.5


@dataclass
class ImageBehaviour:
    """What the sandbox does with an image: start after ``ready_after`` s, crash, never be ready, be missing."""

    crash: bool = False
    missing: bool = False
    never_ready: bool = False
    ready_after: float | None = None


@dataclass
class Behaviours:
    images: dict[str, ImageBehaviour] = field(default_factory=dict)
    registry: str | None = None
    """``host:port`` of a registry whose images are checked for real over its HTTP API."""

    def of(self, image: str) -> ImageBehaviour:
        return self.images.get(image, ImageBehaviour())


def image_host(image: str) -> str | None:
    first, _, rest = image.partition("/")
    return first if rest and ("." in first or ":" in first or first == "localhost") else None


def split_image(image: str) -> tuple[str, str]:
    """``host:5000/team/app:tag`` -> (``team/app``, ``tag``); a digest reference keeps its digest."""
    host = image_host(image)
    path = image[len(host) + 1 :] if host else image
    if "@" in path:
        name, _, digest = path.partition("@")
        return name, digest
    name, _, tag = path.rpartition(":") if ":" in path.rsplit("/", 1)[-1] else (path, "", "latest")
    return name, tag or "latest"


def template_hash(template: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]


class KubeWorld:
    def __init__(self, store: KubeStore, logs: LogBook, timing: Timing, behaviours: Behaviours) -> None:
        self.store = store
        self.logs = logs
        self.timing = timing
        self.behaviours = behaviours
        self._kubelets: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._http: aiohttp.ClientSession | None = None

    # the loop -----------------------------------------------------------------------------------------
    async def run(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.store.changed.wait(), timeout=0.5)
                self.store.changed.clear()
                try:
                    await self.reconcile()
                except Exception:  # a bug in one pass must not stop the cluster: log it, try again
                    LOG.exception("reconcile failed")
        finally:
            for task in self._kubelets.values():
                task.cancel()
            await self._http.close()

    async def reconcile(self) -> None:
        for deployment in self.store.items(BY_KIND["Deployment"]):
            self._deployment(deployment)
        for replicaset in self.store.items(BY_KIND["ReplicaSet"]):
            self._replicaset(replicaset)
        for pod in self.store.items(BY_KIND["Pod"]):
            key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
            if key not in self._kubelets:
                self._kubelets[key] = asyncio.create_task(self._kubelet(key))
        for namespace in self.store.items(BY_KIND["Namespace"]):
            if namespace["metadata"].get("deletionTimestamp"):
                await self._terminate(namespace)

    # events -------------------------------------------------------------------------------------------
    def event(self, obj: dict[str, Any], reason: str, message: str, kind: str = "Normal", source: str = "") -> None:
        meta = obj["metadata"]
        namespace = meta.get("namespace") or "default"
        ns = self.store.find(BY_KIND["Namespace"], "", namespace)
        if ns is None or ns["metadata"].get("deletionTimestamp"):
            return
        moment = now_iso()
        self.store.create(
            BY_KIND["Event"],
            {
                "metadata": {"name": f"{meta['name']}.{time.time_ns():x}", "namespace": namespace},
                "involvedObject": {
                    "kind": obj["kind"],
                    "name": meta["name"],
                    "namespace": namespace,
                    "uid": meta.get("uid"),
                    "apiVersion": obj["apiVersion"],
                },
                "reason": reason,
                "message": message,
                "type": kind,
                "count": 1,
                "firstTimestamp": moment,
                "lastTimestamp": moment,
                "source": {"component": source or "kubelet", **({"host": NODE} if not source else {})},
                "reportingComponent": source or "kubelet",
                "reportingInstance": NODE if not source else "",
            },
        )

    # deployments and replica sets ---------------------------------------------------------------------
    def _owned_by(self, kind: str, owner: dict[str, Any]) -> list[dict[str, Any]]:
        uid = owner["metadata"]["uid"]
        return [
            obj
            for obj in self.store.items(BY_KIND[kind], owner["metadata"]["namespace"])
            if any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or [])
        ]

    @staticmethod
    def _owner_ref(owner: dict[str, Any]) -> dict[str, Any]:
        return {
            "apiVersion": owner["apiVersion"],
            "kind": owner["kind"],
            "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }

    def _deployment(self, deployment: dict[str, Any]) -> None:
        meta, spec = deployment["metadata"], deployment["spec"]
        if meta.get("deletionTimestamp"):
            return
        template = spec["template"]
        digest = template_hash(template)
        name = f"{meta['name']}-{digest}"
        owned = self._owned_by("ReplicaSet", deployment)
        current = next((rs for rs in owned if rs["metadata"]["name"] == name), None)
        if current is None:
            labels = {**(template.get("metadata", {}).get("labels") or {}), "pod-template-hash": digest}
            rs_template = json.loads(json.dumps(template))
            rs_template.setdefault("metadata", {})["labels"] = labels
            current = self.store.create(
                BY_KIND["ReplicaSet"],
                {
                    "metadata": {
                        "name": name,
                        "namespace": meta["namespace"],
                        "labels": labels,
                        "annotations": {"deployment.kubernetes.io/revision": str(len(owned) + 1)},
                        "ownerReferences": [self._owner_ref(deployment)],
                        "generation": 1,
                    },
                    "spec": {
                        "replicas": spec.get("replicas", 1),
                        "selector": {
                            "matchLabels": {**spec["selector"].get("matchLabels", {}), "pod-template-hash": digest}
                        },
                        "template": rs_template,
                    },
                    "status": {"replicas": 0},
                },
            )
            self.event(
                deployment,
                "ScalingReplicaSet",
                f"Scaled up replica set {name} to {spec.get('replicas', 1)}",
                source="deployment-controller",
            )
        elif current["spec"]["replicas"] != spec.get("replicas", 1):
            current["spec"]["replicas"] = spec.get("replicas", 1)
            current = self.store.update(BY_KIND["ReplicaSet"], current)
        for old in owned:
            if old["metadata"]["name"] != name and old["spec"]["replicas"] != 0:
                old["spec"]["replicas"] = 0
                self.store.update(BY_KIND["ReplicaSet"], old)
                self.event(
                    deployment,
                    "ScalingReplicaSet",
                    f"Scaled down replica set {old['metadata']['name']} to 0",
                    source="deployment-controller",
                )
        status = current.get("status") or {}
        wanted, ready = spec.get("replicas", 1), status.get("readyReplicas", 0)
        available = ready >= wanted
        new_status = {
            "observedGeneration": meta.get("generation", 1),
            "replicas": status.get("replicas", 0),
            "updatedReplicas": status.get("replicas", 0),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "unavailableReplicas": max(wanted - ready, 0),
            "conditions": [
                {
                    "type": "Available",
                    "status": "True" if available else "False",
                    "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                    "message": "Deployment has minimum availability."
                    if available
                    else "Deployment does not have minimum availability.",
                },
                {
                    "type": "Progressing",
                    "status": "True",
                    "reason": "NewReplicaSetAvailable" if available else "ReplicaSetUpdated",
                    "message": f'ReplicaSet "{name}" has successfully progressed.'
                    if available
                    else f'ReplicaSet "{name}" is progressing.',
                },
            ],
        }
        if not ready:
            for key in ("readyReplicas", "availableReplicas"):
                new_status.pop(key)
        if self._changed(deployment.get("status"), new_status):
            deployment["status"] = self._stamp(deployment.get("status"), new_status)
            self.store.update(BY_KIND["Deployment"], deployment)

    @staticmethod
    def _changed(old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
        """Whether a status differs in more than its conditions' timestamps."""

        def essence(status: dict[str, Any] | None) -> dict[str, Any]:
            status = status or {}
            conditions = [{k: c[k] for k in ("type", "status", "reason")} for c in status.get("conditions", [])]
            return {**{k: v for k, v in status.items() if k != "conditions"}, "conditions": conditions}

        return essence(old) != essence(new)

    @staticmethod
    def _stamp(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
        moment = now_iso()
        for condition in new.get("conditions", []):
            condition.setdefault("lastUpdateTime", moment)
            condition.setdefault("lastTransitionTime", moment)
        return new

    def _replicaset(self, replicaset: dict[str, Any]) -> None:
        meta, spec = replicaset["metadata"], replicaset["spec"]
        if meta.get("deletionTimestamp"):
            return
        pods = [p for p in self._owned_by("Pod", replicaset) if not p["metadata"].get("deletionTimestamp")]
        wanted = spec.get("replicas", 1)
        for _ in range(wanted - len(pods)):
            template = json.loads(json.dumps(spec["template"]))
            pod_meta = template.get("metadata") or {}
            pod = self.store.create(
                BY_KIND["Pod"],
                {
                    "metadata": {
                        **pod_meta,
                        "name": f"{meta['name']}-{secrets.token_hex(3)[:5]}",
                        "namespace": meta["namespace"],
                        "ownerReferences": [self._owner_ref(replicaset)],
                    },
                    "spec": {**template["spec"], "restartPolicy": template["spec"].get("restartPolicy", "Always")},
                    "status": {"phase": "Pending", "qosClass": "BestEffort"},
                },
            )
            pods.append(pod)
            self.event(
                replicaset,
                "SuccessfulCreate",
                f"Created pod: {pod['metadata']['name']}",
                source="replicaset-controller",
            )
        for pod in pods[wanted:]:
            self.delete_pod(pod)
            pods.remove(pod)
        ready = sum(1 for pod in pods if _pod_ready(pod))
        status = {
            "replicas": len(pods),
            "fullyLabeledReplicas": len(pods),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": meta.get("generation", 1),
        }
        if not ready:
            status.pop("readyReplicas")
            status.pop("availableReplicas")
        if replicaset.get("status") != status:
            replicaset["status"] = status
            self.store.update(BY_KIND["ReplicaSet"], replicaset)

    # pods ---------------------------------------------------------------------------------------------
    def delete_pod(self, pod: dict[str, Any]) -> None:
        """Graceful deletion: the pod is marked, its kubelet stops the containers, then the pod goes."""
        current = self.store.find(BY_KIND["Pod"], pod["metadata"]["namespace"], pod["metadata"]["name"])
        if current is None or current["metadata"].get("deletionTimestamp"):
            return
        current["metadata"]["deletionTimestamp"] = now_iso()
        current["metadata"]["deletionGracePeriodSeconds"] = 30
        self.store.update(BY_KIND["Pod"], current)

    def _pod(self, key: tuple[str, str]) -> dict[str, Any] | None:
        return self.store.find(BY_KIND["Pod"], *key)

    def _set_status(self, key: tuple[str, str], change: dict[str, Any]) -> dict[str, Any] | None:
        pod = self._pod(key)
        if pod is None:
            return None
        pod["status"] = {**(pod.get("status") or {}), **change}
        return self.store.update(BY_KIND["Pod"], pod)

    async def _sleep_or_deleted(self, key: tuple[str, str], seconds: float) -> bool:
        """Sleep; True when the pod is gone or being deleted (the kubelet then stops it)."""
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            pod = self._pod(key)
            if pod is None or pod["metadata"].get("deletionTimestamp"):
                return True
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return False
            await asyncio.sleep(min(remaining, 0.1))

    async def _kubelet(self, key: tuple[str, str]) -> None:
        try:
            await self._live(key)
        except Exception:
            LOG.exception("kubelet of %s/%s failed", *key)
        finally:
            await self._stop(key)

    async def _stop(self, key: tuple[str, str]) -> None:
        pod = self._pod(key)
        if pod is not None:
            for container in pod["spec"]["containers"]:
                self.event(pod, "Killing", f"Stopping container {container['name']}")
            await asyncio.sleep(self.timing.terminate)
            if self._pod(key) is not None:
                self.store.remove(BY_KIND["Pod"], *key)
        await self.logs.drop(*key)
        self._kubelets.pop(key, None)

    async def _live(self, key: tuple[str, str]) -> None:
        pod = self._pod(key)
        if pod is None:
            return
        containers = pod["spec"]["containers"]
        behaviours = [self.behaviours.of(c["image"]) for c in containers]
        fast = all(b.ready_after == 0 for b in behaviours)
        if not fast and await self._sleep_or_deleted(key, self.timing.schedule):
            return
        pod = self._set_status(key, {"conditions": [_condition("PodScheduled", "True")], "startTime": now_iso()})
        if pod is None:
            return
        pod["spec"]["nodeName"] = NODE
        pod = self.store.update(BY_KIND["Pod"], pod)
        self.event(pod, "Scheduled", f"Successfully assigned {key[0]}/{key[1]} to {NODE}", source="default-scheduler")
        waiting = [_waiting(c, "ContainerCreating") for c in containers]
        self._set_status(key, {"containerStatuses": waiting, "conditions": _conditions(ready=False)})
        if not fast and await self._sleep_or_deleted(key, self.timing.create):
            return
        while not await self._pull_all(key, containers):
            if await self._sleep_or_deleted(key, self.timing.backoff):
                return
        await self._run_containers(key, containers, behaviours, fast)

    async def _pull_all(self, key: tuple[str, str], containers: list[dict[str, Any]]) -> bool:
        pod = self._pod(key)
        if pod is None:
            return True
        statuses = []
        pulled = True
        for container in containers:
            image = container["image"]
            self.event(pod, "Pulling", f'Pulling image "{image}"')
            found = await self._image_exists(image)
            if found:
                self.event(pod, "Pulled", f'Successfully pulled image "{image}"')
                statuses.append(_waiting(container, "ContainerCreating"))
                continue
            pulled = False
            message = (
                f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and unpack '
                f'image "{image}": not found'
            )
            self.event(pod, "Failed", message, kind="Warning")
            self.event(pod, "Failed", "Error: ErrImagePull", kind="Warning")
            statuses.append(_waiting(container, "ErrImagePull", message))
        self._set_status(key, {"containerStatuses": statuses})
        if not pulled:
            await asyncio.sleep(min(self.timing.backoff / 2, 1.0))
            back_off = [
                s
                if s["state"]["waiting"]["reason"] != "ErrImagePull"
                else _waiting(
                    {"name": s["name"], "image": s["image"]},
                    "ImagePullBackOff",
                    f'Back-off pulling image "{s["image"]}"',
                )
                for s in statuses
            ]
            pod = self._set_status(key, {"containerStatuses": back_off})
            if pod is not None:
                for status in back_off:
                    if status["state"]["waiting"]["reason"] == "ImagePullBackOff":
                        self.event(pod, "BackOff", f'Back-off pulling image "{status["image"]}"', kind="Warning")
                        self.event(pod, "Failed", "Error: ImagePullBackOff", kind="Warning")
        return pulled

    async def _image_exists(self, image: str) -> bool:
        if self.behaviours.of(image).missing:
            return False
        registry = self.behaviours.registry
        if registry is None or image_host(image) != registry or self._http is None:
            return True
        name, reference = split_image(image)
        try:
            async with self._http.head(
                f"http://{registry}/v2/{name}/manifests/{reference}", headers={"Accept": MANIFEST_TYPES}
            ) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def _run_containers(
        self, key: tuple[str, str], containers: list[dict[str, Any]], behaviours: list[Any], fast: bool
    ) -> None:
        logs = self.logs.pod(*key)
        restarts = [0] * len(containers)
        while True:
            pod = self._pod(key)
            if pod is None:
                return
            started = now_iso()
            running = [_running(c, started, restarts[i], pod) for i, c in enumerate(containers)]
            self._set_status(key, {"phase": "Running", "containerStatuses": running})
            for container in containers:
                self.event(pod, "Created", f"Created container {container['name']}")
                self.event(pod, "Started", f"Started container {container['name']}")
                for line in _startup_lines(pod, container):
                    await logs.write(container["name"], line)
            crashing = [i for i, b in enumerate(behaviours) if b.crash]
            if crashing:
                if await self._sleep_or_deleted(key, self.timing.crash_after):
                    return
                await self._crash(key, containers, crashing, restarts, running)
                backoff = min(self.timing.backoff * 2 ** (max(restarts) - 1), self.timing.backoff * 8)
                if await self._sleep_or_deleted(key, backoff):
                    return
                for index in crashing:
                    await logs.restart(containers[index]["name"])
                continue
            break
        if not all(b.never_ready for b in behaviours):
            delay = (
                0
                if fast
                else min((b.ready_after if b.ready_after is not None else self.timing.ready) for b in behaviours)
            )
            if await self._sleep_or_deleted(key, delay):
                return
            ready = [
                {**status, "ready": not behaviours[i].never_ready, "started": True} for i, status in enumerate(running)
            ]
            self._set_status(key, {"containerStatuses": ready, "conditions": _conditions(ready=True)})
        else:
            pod = self._pod(key)
            if pod is not None:
                self.event(
                    pod, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", kind="Warning"
                )
        tick = 0
        while not await self._sleep_or_deleted(key, self.timing.log_every):
            tick += 1
            for container in containers:
                await logs.write(container["name"], _request_line(tick))

    async def _crash(
        self,
        key: tuple[str, str],
        containers: list[dict[str, Any]],
        crashing: list[int],
        restarts: list[int],
        running: list[dict[str, Any]],
    ) -> None:
        logs = self.logs.pod(*key)
        statuses = list(running)
        pod = self._pod(key)
        for index in crashing:
            name = containers[index]["name"]
            await logs.write(name, "panic: cannot connect to database: connection refused")
            await logs.write(name, "exit status 1")
            await logs.finish(name)
            restarts[index] += 1
            statuses[index] = {
                **_waiting(
                    containers[index],
                    "CrashLoopBackOff",
                    f"back-off {int(self.timing.backoff)}s restarting failed container={name} pod={key[1]}",
                ),
                "restartCount": restarts[index],
                "lastState": {
                    "terminated": {
                        "exitCode": 1,
                        "reason": "Error",
                        "startedAt": running[index]["state"]["running"]["startedAt"],
                        "finishedAt": now_iso(),
                    }
                },
            }
            if pod is not None:
                self.event(pod, "BackOff", "Back-off restarting failed container", kind="Warning")
        self._set_status(key, {"containerStatuses": statuses, "conditions": _conditions(ready=False)})

    # namespaces ---------------------------------------------------------------------------------------
    async def _terminate(self, namespace: dict[str, Any]) -> None:
        name = namespace["metadata"]["name"]
        remaining = 0
        for kind in NAMESPACED:
            for obj in self.store.items(BY_KIND[kind], name):
                remaining += 1
                if kind == "Pod":
                    self.delete_pod(obj)
                elif self.store.find(BY_KIND[kind], name, obj["metadata"]["name"]) is not None:
                    self.store.remove(BY_KIND[kind], name, obj["metadata"]["name"])
        if remaining:
            return
        finalizers = namespace["metadata"].get("finalizers") or []
        if finalizers:
            conditions = [
                {
                    "type": "NamespaceFinalizersRemaining",
                    "status": "True",
                    "reason": "SomeFinalizersRemain",
                    "message": f"Some content in the namespace has finalizers remaining: "
                    f"{', '.join(finalizers)} in 1 resource instances",
                }
            ]
            if namespace["status"].get("conditions") != conditions:
                namespace["status"]["conditions"] = conditions
                self.store.update(BY_KIND["Namespace"], namespace)
            return
        self.store.remove(BY_KIND["Namespace"], "", name)


def _condition(kind: str, status: str) -> dict[str, Any]:
    return {"type": kind, "status": status, "lastProbeTime": None, "lastTransitionTime": now_iso()}


def _conditions(ready: bool) -> list[dict[str, Any]]:
    value = "True" if ready else "False"
    return [
        _condition("Initialized", "True"),
        _condition("Ready", value),
        _condition("ContainersReady", value),
        _condition("PodScheduled", "True"),
    ]


def _waiting(container: dict[str, Any], reason: str, message: str | None = None) -> dict[str, Any]:
    waiting = {"reason": reason, **({"message": message} if message else {})}
    return {
        "name": container["name"],
        "image": container["image"],
        "imageID": "",
        "ready": False,
        "restartCount": 0,
        "started": False,
        "state": {"waiting": waiting},
    }


def _running(container: dict[str, Any], started: str, restarts: int, pod: dict[str, Any]) -> dict[str, Any]:
    status = {
        "name": container["name"],
        "image": container["image"],
        "imageID": f"{container['image']}@sha256:{hashlib.sha256(container['image'].encode()).hexdigest()}",
        "containerID": f"containerd://{secrets.token_hex(32)}",
        "ready": False,
        "restartCount": restarts,
        "started": True,
        "state": {"running": {"startedAt": started}},
    }
    previous = next(
        (
            s
            for s in (pod.get("status") or {}).get("containerStatuses") or []
            if s["name"] == container["name"] and s.get("lastState")
        ),
        None,
    )
    if previous:
        status["lastState"] = previous["lastState"]
    return status


def _pod_ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in (pod.get("status") or {}).get("conditions", []))


def _startup_lines(pod: dict[str, Any], container: dict[str, Any]) -> list[str]:
    sha = (pod["metadata"].get("annotations") or {}).get("prdeck.dev/head-sha", "")[:7]
    return [
        f"starting {container['name']} from {container['image']}" + (f" (commit {sha})" if sha else ""),
        "loading configuration from environment",
        "listening on :8080",
        "GET /healthz 200 1ms",
    ]


PATHS = ("/", "/products", "/products?page=2", "/cart", "/healthz", "/api/search?q=lamp", "/static/app.js")


def _request_line(tick: int) -> str:
    path = PATHS[tick % len(PATHS)]
    status = 200 if tick % 11 else 404
    return f"GET {path} {status} {3 + (tick * 7) % 40}ms"
