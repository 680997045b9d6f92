"""Seeded previews: the namespace, Deployment, Service and Ingress prdeck would have created for a PR.

Seed entry: ``{"repo": "acme/storefront", "number": 101, "state": "ready", "sha": "<40 hex>",
"expires_in": "6h", "containers": ["web"], "stuck": false}`` with ``state`` one of ready, deploying, failed
(image missing), crashing (CrashLoopBackOff), unready (never passes readiness), terminating (stuck on a finalizer),
asleep (scaled to zero by ``prdeck sleep``), empty (the namespace and its guards only: an apply that failed).
Optional: ``"pinned": true``; ``"phase": "failed", "phase_reason": "apply: ..."`` (the launch record of an empty
one); ``"legacy": true`` (no ``prdeck.dev/repo-name`` annotation, as an older prdeck made it); ``"prefix": "old"``
(a namespace under another ``cluster.namespace_prefix``); ``"expires_in": "-1h"`` (already expired);
``"idle_for": "2d"`` (last launched or woken that long ago).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from prdeck.services.errors import UsageError
from prdeck.services.models import RepoRef
from prdeck.services.naming import (
    ANNOTATION_ACTIVE_AT,
    ANNOTATION_ASLEEP,
    ANNOTATION_BRANCH,
    ANNOTATION_EXPIRES,
    ANNOTATION_LAUNCHED_BY,
    ANNOTATION_PHASE,
    ANNOTATION_PHASE_AT,
    ANNOTATION_PHASE_REASON,
    ANNOTATION_PINNED,
    ANNOTATION_REPLICAS,
    ANNOTATION_REPO,
    ANNOTATION_SHA,
    ANNOTATION_URL,
    namespace_for,
    preview_labels,
)
from prdeck.services.sandbox.kube.behaviour import Behaviours, ImageBehaviour
from prdeck.services.sandbox.kube.resources import BY_KIND
from prdeck.services.sandbox.kube.store import KubeStore, now_iso
from prdeck.services.sandbox.kube.validate import apply_defaults, validate

STATES = ("ready", "deploying", "failed", "crashing", "unready", "terminating", "asleep", "empty")
SEED_IMAGE_HOST = "seed.sandbox.localhost"
STUCK_FINALIZER = "sandbox.prdeck.dev/stuck"
HeadLookup = Callable[[str, int], str | None]


WORKLOAD = "preview"
"""The name prdeck's renderer gives the Deployment, Service and Ingress: a launch then replaces a seeded preview."""


def _duration(text: str, where: str) -> timedelta:
    units = {"m": 60, "h": 3600, "d": 86400}
    try:
        return timedelta(seconds=int(text[:-1]) * units[text[-1]])  # int("-1") too: already expired
    except (KeyError, ValueError, IndexError) as exc:
        raise UsageError("Invalid seed", f"{where}: expires_in must look like 90m, 6h or 2d, got {text!r}") from exc


def preview_host(repo: RepoRef, number: int) -> str:
    """``pr-101-storefront.localhost``: a loopback name (RFC 6761) in the style of a preview ingress host."""
    name = re.sub(r"[^a-z0-9]+", "-", repo.name.lower()).strip("-")[:40] or "app"
    return f"pr-{number}-{name}.localhost"


def seed_previews(
    store: KubeStore, behaviours: Behaviours, entries: Any, head_of: HeadLookup, prefix: str = "prdeck"
) -> None:
    if not isinstance(entries, list):
        raise UsageError("Invalid seed", "previews must be a list")
    for index, raw in enumerate(entries):
        where = f"previews[{index}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("repo"), str) or not isinstance(raw.get("number"), int):
            raise UsageError("Invalid seed", f"{where}: needs repo (owner/name) and number")
        state = raw.get("state", "ready")
        if state not in STATES:
            raise UsageError("Invalid seed", f"{where}: state must be one of {', '.join(STATES)}, got {state!r}")
        owner, _, name = raw["repo"].partition("/")
        repo = RepoRef(owner, name)
        sha = raw.get("sha") or head_of(raw["repo"], raw["number"]) or "0" * 40
        _preview(store, behaviours, repo, raw, state, sha, where, str(raw.get("prefix") or prefix))


def _create(store: KubeStore, kind: str, obj: dict[str, Any], namespace: str | None) -> dict[str, Any]:
    resource = BY_KIND[kind]
    validate(resource, obj, namespace)
    apply_defaults(obj, created=True)
    return store.create(resource, obj)


def _preview(
    store: KubeStore,
    behaviours: Behaviours,
    repo: RepoRef,
    raw: dict[str, Any],
    state: str,
    sha: str,
    where: str,
    prefix: str,
) -> None:
    number = raw["number"]
    namespace = namespace_for(repo, number, prefix)
    labels = preview_labels(repo, number)
    host = preview_host(repo, number)
    expires = datetime.now(UTC) + _duration(str(raw.get("expires_in", "2d")), where)
    annotations = {
        ANNOTATION_REPO: repo.full_name,
        ANNOTATION_SHA: sha,
        ANNOTATION_BRANCH: str(raw.get("branch", f"pr-{number}")),
        ANNOTATION_URL: f"http://{host}/",
        ANNOTATION_EXPIRES: expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        ANNOTATION_LAUNCHED_BY: str(raw.get("launched_by", "sandbox-seed")),
    }
    if raw.get("legacy"):
        del annotations[ANNOTATION_REPO]
    ns_annotations = dict(annotations)
    if raw.get("pinned"):
        ns_annotations[ANNOTATION_PINNED] = "true"
    if raw.get("phase"):
        ns_annotations[ANNOTATION_PHASE] = str(raw["phase"])
        ns_annotations[ANNOTATION_PHASE_AT] = now_iso()
        ns_annotations[ANNOTATION_PHASE_REASON] = str(raw.get("phase_reason", ""))
    if state == "asleep":
        ns_annotations[ANNOTATION_ASLEEP] = now_iso()
    if raw.get("idle_for"):  # last launched or woken that long ago (reap's idle sleep)
        last = datetime.now(UTC) - _duration(str(raw["idle_for"]), where)
        ns_annotations[ANNOTATION_ACTIVE_AT] = ns_annotations[ANNOTATION_PHASE_AT] = last.strftime("%Y-%m-%dT%H:%M:%SZ")
    ns_meta: dict[str, Any] = {"name": namespace, "labels": dict(labels), "annotations": ns_annotations}
    if state == "terminating":
        ns_meta["finalizers"] = [STUCK_FINALIZER]
    _create(store, "Namespace", {"metadata": ns_meta}, None)
    if state == "empty":
        return
    containers = raw.get("containers") or ["web"]
    behaviour = {
        "ready": ImageBehaviour(ready_after=0),
        "deploying": ImageBehaviour(ready_after=float(raw.get("ready_after", 8))),
        "failed": ImageBehaviour(missing=True),
        "crashing": ImageBehaviour(crash=True),
        "unready": ImageBehaviour(never_ready=True),
        "terminating": ImageBehaviour(ready_after=0),
        "asleep": ImageBehaviour(ready_after=0),
    }[state]
    specs = []
    for index, container in enumerate(containers):
        image = f"{SEED_IMAGE_HOST}/{repo.owner}/{repo.name}-{container}:pr-{number}-{sha[:7]}"
        behaviours.images[image] = behaviour
        # one port each: two containers of a pod binding one port is a crash loop (the kubelet emulates it)
        port = {"containerPort": 8080 + index, "name": "http" if index == 0 else f"http-{index}"}
        specs.append({"name": container, "image": image, "ports": [port]})
    selector = {**labels, "app.kubernetes.io/name": WORKLOAD}
    _create(
        store,
        "Deployment",
        {
            "metadata": {
                "name": WORKLOAD,
                "namespace": namespace,
                "labels": dict(labels),
                "annotations": {**annotations, **({ANNOTATION_REPLICAS: "1"} if state == "asleep" else {})},
            },
            "spec": {
                "replicas": 0 if state == "asleep" else 1,
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {"labels": selector, "annotations": dict(annotations)},
                    "spec": {"containers": specs},
                },
            },
        },
        namespace,
    )
    _create(
        store,
        "Service",
        {
            "metadata": {"name": WORKLOAD, "namespace": namespace, "labels": dict(labels)},
            "spec": {"selector": selector, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
        },
        namespace,
    )
    _create(
        store,
        "Ingress",
        {
            "metadata": {"name": WORKLOAD, "namespace": namespace, "labels": dict(labels)},
            "spec": {
                "rules": [
                    {
                        "host": host,
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": WORKLOAD, "port": {"number": 80}}},
                                }
                            ]
                        },
                    }
                ]
            },
        },
        namespace,
    )
    if state == "terminating":
        current = store.get(BY_KIND["Namespace"], "", namespace)
        current["metadata"]["deletionTimestamp"] = now_iso()
        current["status"] = {"phase": "Terminating"}
        store.update(BY_KIND["Namespace"], current)


SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")


def seed_system_namespaces(store: KubeStore) -> None:
    """The namespaces every cluster starts with (kubectl's context points at ``default``)."""
    for name in SYSTEM_NAMESPACES:
        namespace: dict[str, Any] = {"metadata": {"name": name}}
        validate(BY_KIND["Namespace"], namespace, None)
        apply_defaults(namespace, created=True)
        store.create(BY_KIND["Namespace"], namespace)
