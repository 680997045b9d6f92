"""Pod objects as the kubelet writes them: status shapes (conditions, waiting and running containers),
readiness, and graceful deletion."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from prdeck.services.sandbox.kube.resources import BY_KIND
from prdeck.services.sandbox.kube.store import KubeStore, now_iso

NODE = "sandbox-node"
"""The one node every pod is scheduled on."""


def delete_gracefully(store: KubeStore, pod: dict[str, Any]) -> None:
    """Graceful deletion: the pod is marked, its kubelet stops the containers, then the pod goes."""
    current = store.find(BY_KIND["Pod"], pod["metadata"]["namespace"], pod["metadata"]["name"])
    if current is None or current["metadata"].get("deletionTimestamp"):
        return
    current["metadata"]["deletionTimestamp"] = now_iso()
    current["metadata"]["deletionGracePeriodSeconds"] = 30
    store.update(BY_KIND["Pod"], current)


def is_ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in (pod.get("status") or {}).get("conditions", []))


def condition(kind: str, status: str) -> dict[str, Any]:
    return {"type": kind, "status": status, "lastProbeTime": None, "lastTransitionTime": now_iso()}


def conditions(ready: bool) -> list[dict[str, Any]]:
    """The four conditions of a scheduled pod; Ready and ContainersReady follow ``ready``."""
    value = "True" if ready else "False"
    return [
        condition("Initialized", "True"),
        condition("Ready", value),
        condition("ContainersReady", value),
        condition("PodScheduled", "True"),
    ]


def waiting(container: dict[str, Any], reason: str, message: str | None = None) -> dict[str, Any]:
    """A container status waiting for ``reason`` (ContainerCreating, ErrImagePull, CrashLoopBackOff...)."""
    state = {"reason": reason, **({"message": message} if message else {})}
    return {
        "name": container["name"],
        "image": container["image"],
        "imageID": "",
        "ready": False,
        "restartCount": 0,
        "started": False,
        "state": {"waiting": state},
    }


def running(container: dict[str, Any], started: str, restarts: int, pod: dict[str, Any]) -> dict[str, Any]:
    """A running container status; it keeps the ``lastState`` of a previous crash, as ``kubectl`` shows it."""
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
