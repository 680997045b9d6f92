"""Events: every step the controllers and the kubelet take is recorded, as ``kubectl describe`` shows them."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from prdeck.services.sandbox.kube.pods import NODE
from prdeck.services.sandbox.kube.resources import BY_KIND
from prdeck.services.sandbox.kube.store import KubeStore, now_iso

NEW_API_REPORTERS = {"default-scheduler": "Binding"}
"""Components that write events through ``events.k8s.io/v1``: read as core Events, these have no first/last
timestamp but an ``eventTime`` with microseconds (``2026-01-01T10:00:00.123456Z``), next to the kubelet's and the
controllers' second-precision times. Clients must read both forms."""


def micro_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _about(obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    """An event's own name and the object it is about."""
    meta = obj["metadata"]
    return {
        "metadata": {"name": f"{meta['name']}.{time.time_ns():x}", "namespace": namespace},
        "involvedObject": {"kind": obj["kind"], "name": meta["name"], "namespace": namespace,
                           "uid": meta.get("uid"), "apiVersion": obj["apiVersion"]},
    }


def _new_api_event(
    obj: dict[str, Any], namespace: str, reason: str, message: str, kind: str, source: str
) -> dict[str, Any]:
    return {
        **_about(obj, namespace),
        "reason": reason,
        "message": message,
        "type": kind,
        "source": {},
        "firstTimestamp": None,
        "lastTimestamp": None,
        "eventTime": micro_now(),
        "action": NEW_API_REPORTERS[source],
        "reportingComponent": source,
        "reportingInstance": f"{source}-{NODE}",
    }


def record_event(
    store: KubeStore, obj: dict[str, Any], reason: str, message: str, kind: str = "Normal", source: str = ""
) -> None:
    """Record an Event about ``obj``; ``source`` is a controller's name, or empty for the kubelet on the node.

    Nothing is recorded in a namespace that is gone or terminating: its events would keep it from ending.
    """
    meta = obj["metadata"]
    namespace = meta.get("namespace") or "default"
    ns = store.find(BY_KIND["Namespace"], "", namespace)
    if ns is None or ns["metadata"].get("deletionTimestamp"):
        return
    moment = now_iso()
    if source in NEW_API_REPORTERS:
        store.create(BY_KIND["Event"], _new_api_event(obj, namespace, reason, message, kind, source))
        return
    store.create(
        BY_KIND["Event"],
        {
            **_about(obj, namespace),
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
