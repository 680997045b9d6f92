"""What changes a preview's life without a launch: its expiry and pin (annotations on its namespace) and its
sleep (workloads scaled to zero, their replicas kept in an annotation so that waking restores them).

All writes are JSON merge patches (RFC 7386): they never create an object (a preview destroyed meanwhile stays
gone: 404), and an annotation set to None is removed. A launch's server-side apply owns other fields than these.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from kubernetes.client.rest import ApiException

from prdeck.services import naming
from prdeck.services.errors import NotFound
from prdeck.services.kube.client import CONNECT_TIMEOUT, READ_TIMEOUT, WRITE_TIMEOUT
from prdeck.services.kube.errors import cluster_errors
from prdeck.services.kube.service import ClusterService

WORKLOADS = (("deployments", "Deployment"), ("statefulsets", "StatefulSet"))
"""What sleep scales, as ``apps/v1`` resources: a cluster that does not serve one (404) has none to scale."""


def time_text(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def merge_patch(cluster: ClusterService, path: str, body: Mapping[str, Any], doing: str) -> None:
    """PATCH ``path`` with a JSON merge patch; NotFound when the object is gone."""
    api = cluster.api_client
    with cluster_errors(doing):
        try:
            method, url, headers, payload, _ = api.param_serialize(
                "PATCH", path, header_params={"Content-Type": "application/merge-patch+json",
                                              "Accept": "application/json"},
                body=json.loads(json.dumps(body)), auth_settings=["BearerToken"])
            response = api.call_api(method, url, header_params=headers, body=payload,
                                    _request_timeout=(CONNECT_TIMEOUT, WRITE_TIMEOUT))
            response.read()
            api.response_deserialize(response, {"2XX": "object"})
        except ApiException as exc:
            if exc.status == 404:
                raise NotFound(f"{path.rsplit('/', 1)[-1]} is gone", "the preview was destroyed meanwhile") from exc
            raise


def annotate(cluster: ClusterService, namespace: str, annotations: Mapping[str, str | None]) -> None:
    """Set (or, with None, remove) annotations of a preview's namespace."""
    merge_patch(cluster, f"/api/v1/namespaces/{namespace}", {"metadata": {"annotations": dict(annotations)}},
                f"updating {namespace}")


def _workloads(cluster: ClusterService, namespace: str) -> list[tuple[str, dict[str, Any]]]:
    """prdeck's Deployments and StatefulSets in the namespace, as plain objects (one list per kind)."""
    found: list[tuple[str, dict[str, Any]]] = []
    api = cluster.api_client
    for plural, _kind in WORKLOADS:
        with cluster_errors(f"listing the {plural} of {namespace}"):
            try:
                method, url, headers = _get(cluster, f"/apis/apps/v1/namespaces/{namespace}/{plural}")
                response = api.call_api(method, url, header_params=headers,
                                        _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
                response.read()
                data = api.response_deserialize(response, {"2XX": "object"}).data
                items: list[dict[str, Any]] = (data.get("items") or []) if isinstance(data, dict) else []
            except ApiException as exc:
                if exc.status == 404:
                    continue
                raise
        found.extend((plural, item) for item in items)
    return found


def _get(cluster: ClusterService, path: str) -> tuple[Any, ...]:
    method, url, headers, _body, _ = cluster.api_client.param_serialize(
        "GET", path, query_params=[("labelSelector", naming.SELECTOR)],
        header_params={"Accept": "application/json"}, auth_settings=["BearerToken"])
    return method, url, headers


def sleep(cluster: ClusterService, namespace: str) -> int:
    """Scale every workload to zero (its replicas kept on it); the namespace, Services, Ingress and URL stay.
    Returns how many workloads were scaled. The namespace is marked first, so the list reads ``asleep`` while the
    pods stop, and a second sleep changes nothing."""
    annotate(cluster, namespace, {naming.ANNOTATION_ASLEEP: time_text(datetime.now(UTC))})
    scaled = 0
    for plural, item in _workloads(cluster, namespace):
        replicas = (item.get("spec") or {}).get("replicas", 1)
        if not replicas:
            continue
        merge_patch(cluster, f"/apis/apps/v1/namespaces/{namespace}/{plural}/{item['metadata']['name']}",
                    {"metadata": {"annotations": {naming.ANNOTATION_REPLICAS: str(replicas)}}, "spec": {"replicas": 0}},
                    f"scaling {item['metadata']['name']} to zero")
        scaled += 1
    return scaled


def wake(cluster: ClusterService, namespace: str) -> int:
    """Give every workload scaled to zero its replicas back (no rebuild, same images); returns how many."""
    woken = 0
    for plural, item in _workloads(cluster, namespace):
        meta, spec = item["metadata"], item.get("spec") or {}
        before = (meta.get("annotations") or {}).get(naming.ANNOTATION_REPLICAS)
        if spec.get("replicas", 1) and before is None:
            continue
        replicas = int(before) if before and before.isdigit() and int(before) > 0 else 1
        merge_patch(cluster, f"/apis/apps/v1/namespaces/{namespace}/{plural}/{meta['name']}",
                    {"metadata": {"annotations": {naming.ANNOTATION_REPLICAS: None}}, "spec": {"replicas": replicas}},
                    f"scaling {meta['name']} back to {replicas}")
        woken += 1
    annotate(cluster, namespace, {naming.ANNOTATION_ASLEEP: None,
                                  naming.ANNOTATION_ACTIVE_AT: time_text(datetime.now(UTC))})
    return woken


def delete_namespace(cluster: ClusterService, namespace: str) -> None:
    """Delete a preview's namespace without waiting; gone (404) or already being deleted (409) count as done."""
    with cluster_errors(f"deleting {namespace}"):
        try:
            cluster.core.delete_namespace(namespace, _request_timeout=(CONNECT_TIMEOUT, WRITE_TIMEOUT))
        except ApiException as exc:
            if exc.status not in (404, 409):
                raise
