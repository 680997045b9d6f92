"""Every kind of object the Kubernetes sandbox serves validates against the Kubernetes OpenAPI schemas
(PyPI ``kubernetes-validate``, strict: no field the real API does not have)."""

from __future__ import annotations

import json
import urllib.request

import kubernetes_validate
import pytest

from prdeck.services.sandbox.kube.resources import RESOURCES
from tests.kube_support import eventually, kube_admin

SCHEMA_VERSION = "1.31"
SEED = {
    "previews": [
        {"repo": "acme/storefront", "number": 101, "state": "ready", "containers": ["web", "worker"]},
        {"repo": "acme/storefront", "number": 102, "state": "failed"},
        {"repo": "acme/storefront", "number": 103, "state": "crashing"},
        {"repo": "acme/docs", "number": 7, "state": "terminating"},
    ]
}


def _get(box, path: str) -> dict:
    request = urllib.request.Request(f"{box.url}{path}", headers={"Authorization": f"Bearer {box.token}"})
    with urllib.request.urlopen(request, timeout=10, context=box.client_ssl_context()) as response:
        return json.load(response)


def _list_path(resource) -> str:
    prefix = f"/apis/{resource.group}/{resource.version}" if resource.group else "/api/v1"
    return f"{prefix}/{resource.plural}"


def test_served_objects_match_the_kubernetes_openapi_schemas(make_kube):
    box = make_kube(SEED)
    box_core_extra(box)
    eventually(lambda: "CrashLoopBackOff" in json.dumps(_get(box, "/api/v1/pods")))
    checked = set()
    for resource in RESOURCES:
        listing = _get(box, _list_path(resource))
        kubernetes_validate.validate(
            {k: v for k, v in listing.items()}, SCHEMA_VERSION, strict=True
        )
        for item in listing["items"]:
            obj = {"apiVersion": resource.api_version, "kind": resource.kind, **item}
            try:
                kubernetes_validate.validate(obj, SCHEMA_VERSION, strict=True)
            except kubernetes_validate.ValidationError as error:
                pytest.fail(f"{resource.kind} {item['metadata']['name']}: {error.message} at {list(error.path)}")
            checked.add(resource.kind)
    assert {"Namespace", "Pod", "Service", "Event", "Deployment", "ReplicaSet", "Ingress", "Secret", "ConfigMap",
            "ResourceQuota", "LimitRange", "NetworkPolicy"} <= checked


def box_core_extra(box) -> None:
    """Objects of the kinds no seeded preview has, created the way the launcher will."""
    kube_admin(box, "reset-stats")
    namespace = "prdeck-acme-storefront-pr-101"
    bodies = {
        "secrets": {"metadata": {"name": "db"}, "data": {"password": "c2VjcmV0"}},
        "configmaps": {"metadata": {"name": "settings"}, "data": {"MODE": "preview"}},
        "resourcequotas": {"metadata": {"name": "quota"}, "spec": {"hard": {"pods": "10", "limits.memory": "2Gi"}}},
        "limitranges": {"metadata": {"name": "limits"}, "spec": {"limits": [
            {"type": "Container", "default": {"memory": "256Mi"}, "defaultRequest": {"memory": "64Mi"}}]}},
    }
    for plural, body in bodies.items():
        _post(box, f"/api/v1/namespaces/{namespace}/{plural}", body)
    _post(box, f"/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies", {
        "metadata": {"name": "default-deny"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})


def _post(box, path: str, body: dict) -> None:
    request = urllib.request.Request(f"{box.url}{path}", data=json.dumps(body).encode(), method="POST", headers={
        "Authorization": f"Bearer {box.token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10, context=box.client_ssl_context()):
        pass
