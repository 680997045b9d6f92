"""The controllers of the Kubernetes sandbox: Deployment, ReplicaSet and namespace lifecycle.

Each ``sync`` looks at one object and moves the store one step towards what it asks for: a Deployment gets a
ReplicaSet per pod template (older ones scale to 0), a ReplicaSet gets as many Pods as its replicas, and a
terminating namespace empties, then goes once no finalizer holds it. Pods themselves are the kubelet's.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import time
from typing import Any

from prdeck.services.sandbox.kube.admission import admit_pod
from prdeck.services.sandbox.kube.errors import KubeError
from prdeck.services.sandbox.kube.events import record_event
from prdeck.services.sandbox.kube.pods import delete_gracefully, is_ready
from prdeck.services.sandbox.kube.resources import BY_KIND
from prdeck.services.sandbox.kube.store import KubeStore, now_iso

NAMESPACED = [kind for kind, resource in BY_KIND.items() if resource.namespaced]


def template_hash(template: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]


def owned_by(store: KubeStore, kind: str, owner: dict[str, Any]) -> list[dict[str, Any]]:
    uid = owner["metadata"]["uid"]
    return [
        obj
        for obj in store.items(BY_KIND[kind], owner["metadata"]["namespace"])
        if any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or [])
    ]


def owner_ref(owner: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


class DeploymentController:
    def __init__(self, store: KubeStore) -> None:
        self.store = store

    def sync(self, deployment: dict[str, Any]) -> None:
        meta, spec = deployment["metadata"], deployment["spec"]
        if meta.get("deletionTimestamp"):
            return
        template = spec["template"]
        digest = template_hash(template)
        name = f"{meta['name']}-{digest}"
        owned = owned_by(self.store, "ReplicaSet", deployment)
        current = next((rs for rs in owned if rs["metadata"]["name"] == name), None)
        olds = [rs for rs in owned if rs["metadata"]["name"] != name]
        if current is None:
            current = self._create_replicaset(deployment, name, digest, len(owned) + 1, self._target(spec, olds, 0))
        else:
            target = self._target(spec, olds, current["spec"]["replicas"])
            if current["spec"]["replicas"] != target:
                self._scale(deployment, current, target)
        for old, replicas in zip(olds, self._old_targets(spec, olds, current), strict=True):
            if old["spec"]["replicas"] != replicas:
                self._scale(deployment, old, replicas)
        new_status = _deployment_status(deployment, current)
        if _changed(deployment.get("status"), new_status):
            deployment["status"] = _stamp(new_status)
            self.store.update(BY_KIND["Deployment"], deployment)

    def _target(self, spec: dict[str, Any], olds: list[dict[str, Any]], now: int) -> int:
        """The new ReplicaSet's replicas: with Recreate, none until every old pod is gone; with RollingUpdate, as
        many as maxSurge allows next to the old ones (never fewer than it already has)."""
        desired = spec.get("replicas", 1)
        if _strategy(spec)["type"] == "Recreate":
            old_pods = [p for rs in olds for p in owned_by(self.store, "Pod", rs)]
            return 0 if old_pods else desired
        surge, _ = _rolling_bounds(spec)
        return min(desired, max(now, desired + surge - sum(rs["spec"]["replicas"] for rs in olds)))

    def _old_targets(self, spec: dict[str, Any], olds: list[dict[str, Any]], current: dict[str, Any]) -> list[int]:
        """The old ReplicaSets' replicas: with Recreate, 0; with RollingUpdate, scaled down (oldest first) only as
        far as the new pods that are ready keep ``replicas - maxUnavailable`` available, as the real one does."""
        if _strategy(spec)["type"] == "Recreate":
            return [0] * len(olds)
        _, unavailable = _rolling_bounds(spec)
        new_replicas = current["spec"]["replicas"]
        new_unavailable = max(new_replicas - (current.get("status") or {}).get("readyReplicas", 0), 0)
        all_pods = new_replicas + sum(rs["spec"]["replicas"] for rs in olds)
        room = max(all_pods - (spec.get("replicas", 1) - unavailable) - new_unavailable, 0)
        targets: dict[str, int] = {}
        for rs in sorted(olds, key=lambda rs: int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"])):
            down = min(room, rs["spec"]["replicas"])
            room -= down
            targets[rs["metadata"]["name"]] = rs["spec"]["replicas"] - down
        return [targets[rs["metadata"]["name"]] for rs in olds]

    def _scale(self, deployment: dict[str, Any], replicaset: dict[str, Any], replicas: int) -> None:
        word = "up" if replicas > replicaset["spec"]["replicas"] else "down"
        replicaset["spec"]["replicas"] = replicas
        self.store.update(BY_KIND["ReplicaSet"], replicaset)
        record_event(self.store, deployment, "ScalingReplicaSet",
                     f"Scaled {word} replica set {replicaset['metadata']['name']} to {replicas}",
                     source="deployment-controller")

    def _create_replicaset(self, deployment: dict[str, Any], name: str, digest: str, revision: int,
                           replicas: int) -> dict[str, Any]:
        meta, spec = deployment["metadata"], deployment["spec"]
        template = spec["template"]
        labels = {**(template.get("metadata", {}).get("labels") or {}), "pod-template-hash": digest}
        selector = {**spec["selector"].get("matchLabels", {}), "pod-template-hash": digest}
        rs_template = json.loads(json.dumps(template))
        rs_template.setdefault("metadata", {})["labels"] = labels
        created = self.store.create(
            BY_KIND["ReplicaSet"],
            {
                "metadata": {
                    "name": name,
                    "namespace": meta["namespace"],
                    "labels": labels,
                    "annotations": {"deployment.kubernetes.io/revision": str(revision)},
                    "ownerReferences": [owner_ref(deployment)],
                    "generation": 1,
                },
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": selector},
                    "template": rs_template,
                },
                "status": {"replicas": 0},
            },
        )
        record_event(
            self.store,
            deployment,
            "ScalingReplicaSet",
            f"Scaled up replica set {name} to {replicas}",
            source="deployment-controller",
        )
        return created


def _strategy(spec: dict[str, Any]) -> dict[str, Any]:
    strategy = spec.get("strategy")
    return strategy if isinstance(strategy, dict) and strategy.get("type") else {"type": "RollingUpdate"}


def _rolling_bounds(spec: dict[str, Any]) -> tuple[int, int]:
    """maxSurge (rounded up) and maxUnavailable (rounded down) as pod counts; both 0 means 1 unavailable."""
    desired = spec.get("replicas", 1)
    rolling = _strategy(spec).get("rollingUpdate") or {}

    def count(value: Any, default: str, rounding: Any) -> int:
        value = default if value is None else value
        if isinstance(value, str) and value.endswith("%"):
            return int(rounding(desired * int(value[:-1]) / 100))
        return int(value)

    surge = count(rolling.get("maxSurge"), "25%", math.ceil)
    unavailable = count(rolling.get("maxUnavailable"), "25%", math.floor)
    return surge, unavailable if surge or unavailable else 1


def _deployment_status(deployment: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """A Deployment's status from its current ReplicaSet's: replica counts, Available and Progressing."""
    meta, spec = deployment["metadata"], deployment["spec"]
    name = current["metadata"]["name"]
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
    return new_status


def _changed(old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
    """Whether a status differs in more than its conditions' timestamps."""

    def essence(status: dict[str, Any] | None) -> dict[str, Any]:
        status = status or {}
        conditions = [{k: c[k] for k in ("type", "status", "reason")} for c in status.get("conditions", [])]
        return {**{k: v for k, v in status.items() if k != "conditions"}, "conditions": conditions}

    return essence(old) != essence(new)


def _stamp(new: dict[str, Any]) -> dict[str, Any]:
    moment = now_iso()
    for condition in new.get("conditions", []):
        condition.setdefault("lastUpdateTime", moment)
        condition.setdefault("lastTransitionTime", moment)
    return new


class ReplicaSetController:
    RETRY_AFTER = 2.0
    """Seconds between attempts to create a pod that admission refused (a real controller backs off too)."""

    def __init__(self, store: KubeStore) -> None:
        self.store = store
        self._refused_at: dict[str, float] = {}

    def sync(self, replicaset: dict[str, Any]) -> None:
        meta, spec = replicaset["metadata"], replicaset["spec"]
        if meta.get("deletionTimestamp"):
            return
        pods = [p for p in owned_by(self.store, "Pod", replicaset) if not p["metadata"].get("deletionTimestamp")]
        wanted = spec.get("replicas", 1)
        for _ in range(wanted - len(pods)):
            pod = self._create_pod(replicaset)
            if pod is None:
                break
            pods.append(pod)
        for pod in pods[wanted:]:
            delete_gracefully(self.store, pod)
            pods.remove(pod)
        ready = sum(1 for pod in pods if is_ready(pod))
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

    def _create_pod(self, replicaset: dict[str, Any]) -> dict[str, Any] | None:
        """A pod from the template, through admission; None (and a FailedCreate event) when it is refused."""
        meta, spec = replicaset["metadata"], replicaset["spec"]
        uid = meta["uid"]
        if time.monotonic() - self._refused_at.get(uid, -self.RETRY_AFTER) < self.RETRY_AFTER:
            return None
        template = json.loads(json.dumps(spec["template"]))
        pod_meta = template.get("metadata") or {}
        pod: dict[str, Any] = {
            "metadata": {
                **pod_meta,
                "name": f"{meta['name']}-{secrets.token_hex(3)[:5]}",
                "namespace": meta["namespace"],
                "ownerReferences": [owner_ref(replicaset)],
            },
            "spec": {**template["spec"], "restartPolicy": template["spec"].get("restartPolicy", "Always")},
            "status": {"phase": "Pending", "qosClass": "BestEffort"},
        }
        try:
            admit_pod(self.store, pod)
        except KubeError as refused:
            self._refused_at[uid] = time.monotonic()
            record_event(
                self.store,
                replicaset,
                "FailedCreate",
                f"Error creating: {refused.message}",
                "Warning",
                source="replicaset-controller",
            )
            return None
        self._refused_at.pop(uid, None)
        pod = self.store.create(BY_KIND["Pod"], pod)
        record_event(
            self.store,
            replicaset,
            "SuccessfulCreate",
            f"Created pod: {pod['metadata']['name']}",
            source="replicaset-controller",
        )
        return pod


class NamespaceController:
    """A deleted namespace is Terminating: its objects go (pods gracefully), then the namespace itself, unless a
    finalizer holds it (then it says so in its conditions, as the real namespace controller does)."""

    def __init__(self, store: KubeStore) -> None:
        self.store = store

    def sync(self, namespace: dict[str, Any]) -> None:
        if not namespace["metadata"].get("deletionTimestamp"):
            return
        name = namespace["metadata"]["name"]
        remaining = 0
        for kind in NAMESPACED:
            for obj in self.store.items(BY_KIND[kind], name):
                remaining += 1
                if kind == "Pod":
                    delete_gracefully(self.store, obj)
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
