"""The sandbox's kubelet: one task per pod walks it through its life on the one node.

Pending -> scheduled -> ContainerCreating -> image pull (ErrImagePull / ImagePullBackOff while the image is
missing) -> Running -> Ready after the image's delay, or CrashLoopBackOff with growing back-off when the image
crashes. Containers write log lines while they run; every step is an Event. A pod marked for deletion has its
containers stopped and is removed after ``Timing.terminate``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

from prdeck.services.sandbox.kube import pods
from prdeck.services.sandbox.kube.app_logs import CRASH_LINES, request_line, startup_lines
from prdeck.services.sandbox.kube.behaviour import Behaviours, ImageBehaviour, Timing
from prdeck.services.sandbox.kube.events import record_event
from prdeck.services.sandbox.kube.init_run import BIND_FAILURE, port_conflicts, run_init
from prdeck.services.sandbox.kube.logs import LogBook
from prdeck.services.sandbox.kube.registry import ImageRegistry
from prdeck.services.sandbox.kube.resources import BY_KIND
from prdeck.services.sandbox.kube.store import KubeStore, now_iso

LOG = logging.getLogger(__name__)
PodKey = tuple[str, str]
"""(namespace, name)."""


class Kubelet:
    def __init__(
        self, store: KubeStore, logs: LogBook, timing: Timing, behaviours: Behaviours, registry: ImageRegistry
    ) -> None:
        self.store = store
        self.logs = logs
        self.timing = timing
        self.behaviours = behaviours
        self.registry = registry
        self._tasks: dict[PodKey, asyncio.Task[None]] = {}

    def adopt(self, pod: dict[str, Any]) -> None:
        """Start the task that runs ``pod``, unless one already does."""
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        if key not in self._tasks:
            self._tasks[key] = asyncio.create_task(self._run(key))

    def cancel_all(self) -> None:
        for task in self._tasks.values():
            task.cancel()

    # store access ---------------------------------------------------------------------------------------
    def _pod(self, key: PodKey) -> dict[str, Any] | None:
        return self.store.find(BY_KIND["Pod"], *key)

    def _set_status(self, key: PodKey, change: dict[str, Any]) -> dict[str, Any] | None:
        pod = self._pod(key)
        if pod is None:
            return None
        pod["status"] = {**(pod.get("status") or {}), **change}
        return self.store.update(BY_KIND["Pod"], pod)

    def _event(self, pod: dict[str, Any], reason: str, message: str, kind: str = "Normal", source: str = "") -> None:
        record_event(self.store, pod, reason, message, kind, source)

    async def _sleep_or_deleted(self, key: PodKey, seconds: float) -> bool:
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

    # a pod's life ---------------------------------------------------------------------------------------
    async def _run(self, key: PodKey) -> None:
        try:
            await self._live(key)
        except Exception:  # nobody awaits this task: log whatever went wrong here; the pod still stops
            LOG.exception("kubelet of %s/%s failed", *key)
        finally:
            await self._stop(key)

    async def _stop(self, key: PodKey) -> None:
        pod = self._pod(key)
        if pod is not None:
            for container in pod["spec"]["containers"]:
                self._event(pod, "Killing", f"Stopping container {container['name']}")
            await asyncio.sleep(self.timing.terminate)
            if self._pod(key) is not None:
                self.store.remove(BY_KIND["Pod"], *key)
        await self.logs.drop(*key)
        self._tasks.pop(key, None)

    async def _live(self, key: PodKey) -> None:
        pod = self._pod(key)
        if pod is None:
            return
        containers = pod["spec"]["containers"]
        behaviours = [self.behaviours.of(c["image"]) for c in containers]
        fast = all(b.ready_after == 0 for b in behaviours)
        if not fast and await self._sleep_or_deleted(key, self.timing.schedule):
            return
        pod = self._set_status(key, {"conditions": [pods.condition("PodScheduled", "True")], "startTime": now_iso()})
        if pod is None:
            return
        pod["spec"]["nodeName"] = pods.NODE
        pod = self.store.update(BY_KIND["Pod"], pod)
        self._event(
            pod, "Scheduled", f"Successfully assigned {key[0]}/{key[1]} to {pods.NODE}", source="default-scheduler"
        )
        creating = [pods.waiting(c, "ContainerCreating") for c in containers]
        self._set_status(key, {"containerStatuses": creating, "conditions": pods.conditions(ready=False)})
        if not fast and await self._sleep_or_deleted(key, self.timing.create):
            return
        while not self._mounted(key):
            if await self._sleep_or_deleted(key, self.timing.backoff):
                return
        while not await self._pull_all(key, [*(pod["spec"].get("initContainers") or []), *containers]):
            if await self._sleep_or_deleted(key, self.timing.backoff):
                return
        if not await run_init(self, key):
            return
        await self._run_containers(key, containers, behaviours, fast)

    def _mounted(self, key: PodKey) -> bool:
        """Whether the ConfigMaps and Secrets the pod's volumes name exist (unless marked optional); for each one
        missing, a FailedMount event as the kubelet writes it, and the pod stays ContainerCreating."""
        pod = self._pod(key)
        if pod is None:
            return True
        missing = list(missing_volume_sources(self.store, pod))
        for volume, kind, name in missing:
            self._event(pod, "FailedMount", f'MountVolume.SetUp failed for volume "{volume}" : {kind} "{name}" not '
                        "found", kind="Warning")
        return not missing

    async def _pull_all(self, key: PodKey, containers: list[dict[str, Any]]) -> bool:
        """Pull every image; when one is missing, ErrImagePull then (shortly after) ImagePullBackOff."""
        pod = self._pod(key)
        if pod is None:
            return True
        statuses = []
        pulled = True
        for container in containers:
            image = container["image"]
            self._event(pod, "Pulling", f'Pulling image "{image}"')
            found = await self.registry.has(image)
            if found:
                self._event(pod, "Pulled", f'Successfully pulled image "{image}"')
                statuses.append(pods.waiting(container, "ContainerCreating"))
                continue
            pulled = False
            message = (
                f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and unpack '
                f'image "{image}": not found'
            )
            self._event(pod, "Failed", message, kind="Warning")
            self._event(pod, "Failed", "Error: ErrImagePull", kind="Warning")
            statuses.append(pods.waiting(container, "ErrImagePull", message))
        self._set_status(key, {"containerStatuses": statuses})
        if not pulled:
            await asyncio.sleep(min(self.timing.backoff / 2, 1.0))
            back_off = [
                s
                if s["state"]["waiting"]["reason"] != "ErrImagePull"
                else pods.waiting(
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
                        self._event(pod, "BackOff", f'Back-off pulling image "{status["image"]}"', kind="Warning")
                        self._event(pod, "Failed", "Error: ImagePullBackOff", kind="Warning")
        return pulled

    async def _run_containers(
        self, key: PodKey, containers: list[dict[str, Any]], behaviours: list[ImageBehaviour], fast: bool
    ) -> None:
        """Start the containers (again after each crash), make them ready, then write request lines until the
        pod is deleted."""
        logs = self.logs.pod(*key)
        restarts = [0] * len(containers)
        while True:
            pod = self._pod(key)
            if pod is None:
                return
            started = now_iso()
            running = [pods.running(c, started, restarts[i], pod) for i, c in enumerate(containers)]
            self._set_status(key, {"phase": "Running", "containerStatuses": running})
            for container in containers:
                self._event(pod, "Created", f"Created container {container['name']}")
                self._event(pod, "Started", f"Started container {container['name']}")
                for line in startup_lines(pod, container):
                    await logs.write(container["name"], line)
            conflicts = port_conflicts(pod, containers)
            crashing = [i for i, b in enumerate(behaviours) if b.crash or i in conflicts]
            for index, port in conflicts.items():
                await logs.write(containers[index]["name"], BIND_FAILURE.format(port=port))
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
            self._set_status(key, {"containerStatuses": ready, "conditions": pods.conditions(ready=True)})
        else:
            pod = self._pod(key)
            if pod is not None:
                self._event(
                    pod, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", kind="Warning"
                )
        tick = 0
        while not await self._sleep_or_deleted(key, self.timing.log_every):
            tick += 1
            for container in containers:
                await logs.write(container["name"], request_line(tick))

    async def _crash(
        self,
        key: PodKey,
        containers: list[dict[str, Any]],
        crashing: list[int],
        restarts: list[int],
        running: list[dict[str, Any]],
    ) -> None:
        """The crashing containers end their run with an error and wait in CrashLoopBackOff; the pod is unready."""
        logs = self.logs.pod(*key)
        statuses = list(running)
        pod = self._pod(key)
        for index in crashing:
            name = containers[index]["name"]
            for line in CRASH_LINES:
                await logs.write(name, line)
            await logs.finish(name)
            restarts[index] += 1
            statuses[index] = {
                **pods.waiting(
                    containers[index],
                    "CrashLoopBackOff",
                    f"back-off {int(self.timing.backoff)}s restarting failed container={name} pod={key[1]}",
                ),
                "restartCount": restarts[index],
                "lastState": {
                    "terminated": {
                        "exitCode": (code := self.behaviours.of(containers[index]["image"]).exit_code),
                        "reason": "Completed" if code == 0 else "Error",
                        "startedAt": running[index]["state"]["running"]["startedAt"],
                        "finishedAt": now_iso(),
                    }
                },
            }
            if pod is not None:
                self._event(pod, "BackOff", "Back-off restarting failed container", kind="Warning")
        self._set_status(key, {"containerStatuses": statuses, "conditions": pods.conditions(ready=False)})


def missing_volume_sources(store: KubeStore, pod: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """``(volume, "configmap" | "secret", name)`` for each source a pod's volumes need that is not there."""
    namespace = pod["metadata"]["namespace"]
    for volume in pod["spec"].get("volumes") or []:
        sources = [volume, *((volume.get("projected") or {}).get("sources") or [])]
        for source in sources:
            for field, kind, key in (("configMap", "configmap", "name"), ("secret", "secret", "secretName")):
                wanted = source.get(field) if isinstance(source.get(field), dict) else None
                if wanted is None or wanted.get("optional"):
                    continue
                name = wanted.get(key if source is volume else "name") or ""
                if store.find(BY_KIND["ConfigMap" if kind == "configmap" else "Secret"], namespace, name) is None:
                    yield volume["name"], kind, name
