"""A relaunch of the commit that already runs keeps its pods: found with plain JSON reads of the Deployment, so
that such a relaunch neither waits for a rollout nor loads the kubernetes client's typed API classes."""

from __future__ import annotations

from typing import Any

from prdeck.services.kube.raw import READ_FAILURES, get_json
from prdeck.services.kube.service import ClusterService
from prdeck.services.naming import ANNOTATION_EXPIRES, ANNOTATION_LAUNCH, ANNOTATION_SHA

WORKLOAD = "preview"


def _deployment(cluster: ClusterService, namespace: str) -> dict[str, Any] | None:
    try:
        return get_json(cluster, f"/apis/apps/v1/namespaces/{namespace}/deployments/{WORKLOAD}")
    except READ_FAILURES:
        return None


def deployed_expiry(cluster: ClusterService, namespace: str, head_sha: str) -> tuple[str, str] | None:
    """The expires-at and launch id of the running pods when they already run ``head_sha`` and are ready: a
    relaunch of that commit keeps the pod template unchanged, so nothing restarts and the relaunch is instant."""
    deployment = _deployment(cluster, namespace)
    if deployment is None:
        return None
    spec, status = deployment.get("spec") or {}, deployment.get("status") or {}
    annotations = ((spec.get("template") or {}).get("metadata") or {}).get("annotations") or {}
    healthy = (status.get("readyReplicas") or 0) >= spec.get("replicas", 1)
    if annotations.get(ANNOTATION_SHA) != head_sha or not healthy:
        return None  # a failed preview gets new pods
    expires, launch = annotations.get(ANNOTATION_EXPIRES), annotations.get(ANNOTATION_LAUNCH)
    return (expires, launch) if expires and launch else None


def already_rolled(cluster: ClusterService, namespace: str, launch_id: str) -> bool:
    """Whether the apply changed nothing the pods run: the Deployment's newest generation is observed, every
    replica is updated and ready, none is left from an older template, and the pods are this launch's."""
    deployment = _deployment(cluster, namespace)
    if deployment is None:
        return False
    metadata, spec, status = (deployment.get(key) or {} for key in ("metadata", "spec", "status"))
    annotations = ((spec.get("template") or {}).get("metadata") or {}).get("annotations") or {}
    replicas = spec.get("replicas", 1)
    return (annotations.get(ANNOTATION_LAUNCH) == launch_id
            and metadata.get("generation") == status.get("observedGeneration")
            and status.get("updatedReplicas") == status.get("readyReplicas") == status.get("replicas") == replicas)
