"""Init containers as the kubelet runs them, and the one-port-per-pod rule of a shared network namespace.

In order, each to completion before the next starts: a regular init container runs and exits 0
(``Completed``), or, when its image crashes, exits 1 and is restarted with growing back-off
(``Init:Error``, then ``Init:CrashLoopBackOff`` in ``kubectl get``), holding back every later container for
good. A native sidecar (``restartPolicy: Always``) starts, passes its startup probe after the image's delay
and keeps running next to the app containers. The pod stays ``Pending`` with ``Initialized=False`` until
the last one is done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prdeck.services.sandbox.kube import pods
from prdeck.services.sandbox.kube.app_logs import CRASH_LINES, startup_lines
from prdeck.services.sandbox.kube.store import now_iso

if TYPE_CHECKING:
    from prdeck.services.sandbox.kube.kubelet import Kubelet, PodKey

BIND_FAILURE = "listen tcp :{port}: bind: address already in use"


def is_sidecar(container: dict[str, Any]) -> bool:
    return container.get("restartPolicy") == "Always"


def port_conflicts(pod: dict[str, Any], containers: list[dict[str, Any]]) -> dict[int, int]:
    """``{index in containers: port}`` of the app containers whose port a sidecar or an earlier container of the
    pod already binds: in one network namespace the second bind fails."""
    bound: set[tuple[int, str]] = set()
    for sidecar in (c for c in pod["spec"].get("initContainers") or [] if is_sidecar(c)):
        bound.update((p.get("containerPort"), p.get("protocol", "TCP")) for p in sidecar.get("ports") or [])
    conflicts: dict[int, int] = {}
    for index, container in enumerate(containers):
        for port in container.get("ports") or []:
            key = (port.get("containerPort"), port.get("protocol", "TCP"))
            if key in bound:
                conflicts.setdefault(index, int(key[0]))
            bound.add(key)
    return conflicts


def _terminated(container: dict[str, Any], started: str, code: int, restarts: int) -> dict[str, Any]:
    return {
        "name": container["name"], "image": container["image"], "imageID": "", "ready": False,
        "restartCount": restarts, "started": False,
        "state": {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                                 "startedAt": started, "finishedAt": now_iso()}},
    }


async def run_init(kubelet: Kubelet, key: PodKey) -> bool:
    """Run the pod's init containers in order; True once all are done (sidecars running), False when the pod
    went away first (a failing one keeps restarting until then)."""
    pod = kubelet._pod(key)
    init = list((pod or {}).get("spec", {}).get("initContainers") or [])
    if pod is None or not init:
        return pod is not None
    logs = kubelet.logs.pod(*key)
    statuses = [pods.waiting(c, "PodInitializing") for c in init]
    apps = [pods.waiting(c, "PodInitializing") for c in pod["spec"]["containers"]]
    initializing = [pods.condition("Initialized", "False"), *pods.conditions(ready=False)[1:]]
    kubelet._set_status(key, {"phase": "Pending", "initContainerStatuses": statuses, "containerStatuses": apps,
                              "conditions": initializing})
    for index, container in enumerate(init):
        behaviour = kubelet.behaviours.of(container["image"])
        restarts = 0
        while True:
            pod = kubelet._pod(key)
            if pod is None:
                return False
            started = now_iso()
            statuses[index] = {**pods.running(container, started, restarts, pod), "started": False}
            kubelet._set_status(key, {"initContainerStatuses": statuses})
            kubelet._event(pod, "Created", f"Created container {container['name']}")
            kubelet._event(pod, "Started", f"Started container {container['name']}")
            for line in startup_lines(pod, container):
                await logs.write(container["name"], line)
            if is_sidecar(container) and not behaviour.crash:
                delay = behaviour.ready_after if behaviour.ready_after is not None else kubelet.timing.ready
                if await kubelet._sleep_or_deleted(key, min(delay, kubelet.timing.ready)):
                    return False
                statuses[index] = {**statuses[index], "started": True, "ready": True}
                break
            if await kubelet._sleep_or_deleted(key, kubelet.timing.crash_after if behaviour.crash else 0.1):
                return False
            if not behaviour.crash:
                await logs.write(container["name"], "done")
                await logs.finish(container["name"])
                statuses[index] = _terminated(container, started, 0, restarts)
                break
            for line in CRASH_LINES:
                await logs.write(container["name"], line)
            await logs.finish(container["name"])
            restarts += 1
            failed = _terminated(container, started, 1, restarts)
            statuses[index] = failed
            kubelet._set_status(key, {"initContainerStatuses": statuses})
            kubelet._event(pod, "BackOff", "Back-off restarting failed container", kind="Warning")
            statuses[index] = {
                **pods.waiting(container, "CrashLoopBackOff",
                               f"back-off {int(kubelet.timing.backoff)}s restarting failed container="
                               f"{container['name']} pod={key[1]}"),
                "restartCount": restarts, "lastState": failed["state"],
            }
            kubelet._set_status(key, {"initContainerStatuses": statuses})
            backoff = min(kubelet.timing.backoff * 2 ** (restarts - 1), kubelet.timing.backoff * 8)
            if await kubelet._sleep_or_deleted(key, backoff):
                return False
            await logs.restart(container["name"])
        kubelet._set_status(key, {"initContainerStatuses": statuses})
    return True


__all__ = ["BIND_FAILURE", "is_sidecar", "port_conflicts", "run_init"]
