"""Where the kube sandbox once differed from a real API server (issue 13, item 12): each test runs unchanged
against the sandbox and, with PRDECK_TEST_KUBECONFIG, against a real cluster (Kubernetes 1.36 with Pod Security
admission; no nodes needed: pods may stay Pending)."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC
from typing import Any

import pytest
import yaml

from prdeck.services.kube.client import load_api_client
from prdeck.services.kube.warnings import response_warnings
from tests.kube_support import eventually

REAL = os.environ.get("PRDECK_TEST_KUBECONFIG")
TIMEOUT = 60 if REAL else 10
RESTRICTED_WEB = (
    'would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "web" must set '
    'securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "web" must set '
    'securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "web" must set '
    'securityContext.runAsNonRoot=true), seccompProfile (pod or container "web" must set '
    'securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")'
)


class Api:
    """Raw requests (status, Warning headers, body) to one cluster, in a namespace of this test's own."""

    def __init__(self, kubeconfig: str, context: str | None) -> None:
        self.client = load_api_client(kubeconfig, context)
        self.namespace = f"fidelity-{uuid.uuid4().hex[:8]}"

    def call(self, method: str, path: str, body: Any = None, content_type: str = "application/json",
             query: list[tuple[str, str]] | None = None) -> tuple[int, list[str], dict[str, Any]]:
        data = yaml.safe_dump(body) if content_type.endswith("yaml") else body
        method, url, headers, serialized, _ = self.client.param_serialize(
            method, path, query_params=query or [], body=data, auth_settings=["BearerToken"],
            header_params={"Content-Type": content_type, "Accept": "application/json"})
        response = self.client.call_api(method, url, header_params=headers, body=serialized,
                                        _request_timeout=(5, 30))
        text = response.read()
        return response.status, response_warnings(response), json.loads(text or b"{}")

    def namespace_with(self, labels: dict[str, str]) -> str:
        status, _, body = self.call("POST", "/api/v1/namespaces", {"metadata": {"name": self.namespace,
                                                                              "labels": labels}})
        assert status == 201, body
        return self.namespace

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.call("DELETE", f"/api/v1/namespaces/{self.namespace}")
        self.client.close()


@pytest.fixture
def api(kube: Any) -> Iterator[Api]:
    chosen = Api(REAL, os.environ.get("PRDECK_TEST_KUBE_CONTEXT")) if REAL else Api(str(kube.kubeconfig), None)
    try:
        yield chosen
    finally:
        chosen.close()


def deployment(name: str = "web", container: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    container = {**(container or {}), **fields}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "web", "image": "busybox:1.36", **container}]}}}}


def deployments(ns: str) -> str:
    return f"/apis/apps/v1/namespaces/{ns}/deployments"


def test_system_namespaces_exist_and_version_answers(api):
    for name in ("default", "kube-system", "kube-public"):
        assert api.call("GET", f"/api/v1/namespaces/{name}")[0] == 200
    status, _, version = api.call("GET", "/version")
    assert status == 200 and version["major"] == "1"
    status, _, root = api.call("GET", "/openapi/v3")
    assert status == 200 and "apis/apps/v1" in root["paths"] and "api/v1" in root["paths"]


def test_restricted_warnings_and_duplicate_ports_come_as_warning_headers(api):
    ns = api.namespace_with({"pod-security.kubernetes.io/warn": "restricted"})
    status, warnings, _ = api.call("POST", deployments(ns), deployment(ports=[{"containerPort": 80},
                                                                              {"containerPort": 80}]))
    assert status == 201
    assert warnings == [
        "spec.template.spec.containers[0].ports[1]: duplicate port definition with "
        "spec.template.spec.containers[0].ports[0]",
        RESTRICTED_WEB,
    ]


def test_baseline_refuses_a_pod_adding_net_admin_and_the_replicaset_says_failed_create(api):
    ns = api.namespace_with({"pod-security.kubernetes.io/enforce": "baseline"})
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "web", "image": "busybox:1.36", "securityContext": {
               "privileged": True, "capabilities": {"add": ["NET_ADMIN"]}}}],
               "volumes": [{"name": "h", "hostPath": {"path": "/etc"}}]}}
    status, _, body = api.call("POST", f"/api/v1/namespaces/{ns}/pods", pod)
    assert (status, body["reason"], body["details"]) == (403, "Forbidden", {"name": "p", "kind": "pods"})
    assert body["message"] == (
        'pods "p" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities (container "web" '
        'must not include "NET_ADMIN" in securityContext.capabilities.add), hostPath volumes (volume "h"), '
        'privileged (container "web" must not set securityContext.privileged=true)'
    )
    bad = deployment("bad", securityContext={"capabilities": {"add": ["NET_ADMIN"]}})
    assert api.call("POST", deployments(ns), bad)[0] == 201

    def failed_create() -> str | None:
        events = api.call("GET", f"/api/v1/namespaces/{ns}/events")[2]["items"]
        return next((e["message"] for e in events if e["reason"] == "FailedCreate"), None)

    message = eventually(failed_create, timeout=TIMEOUT)
    assert message.startswith('Error creating: pods "bad-') and message.endswith(
        'is forbidden: violates PodSecurity "baseline:latest": non-default capabilities (container "web" must '
        'not include "NET_ADMIN" in securityContext.capabilities.add)')


def test_resource_quota_refuses_the_pod_over_it_and_limit_range_fills_defaults(api):
    ns = api.namespace_with({})
    assert api.call("POST", f"/api/v1/namespaces/{ns}/limitranges", {"metadata": {"name": "limits"}, "spec": {
        "limits": [{"type": "Container", "default": {"cpu": "500m", "memory": "512Mi"},
                    "defaultRequest": {"cpu": "50m", "memory": "64Mi"}}]}})[0] == 201
    assert api.call("POST", f"/api/v1/namespaces/{ns}/resourcequotas", {"metadata": {"name": "quota"}, "spec": {
        "hard": {"pods": "2", "limits.memory": "1Gi"}}})[0] == 201
    time.sleep(1 if REAL else 0)  # the real quota controller fills in status.hard before the quota admits pods

    def pod(name: str, **resources: Any) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                "spec": {"containers": [{"name": "web", "image": "busybox:1.36", "resources": resources}]}}

    status, _, first = eventually(lambda: (r := api.call("POST", f"/api/v1/namespaces/{ns}/pods", pod("a")))
                                  [0] == 201 and r, timeout=TIMEOUT)
    resources = first["spec"]["containers"][0]["resources"]
    assert resources == {"limits": {"cpu": "500m", "memory": "512Mi"}, "requests": {"cpu": "50m", "memory": "64Mi"}}
    assert first["status"]["qosClass"] == "Burstable"
    status, _, body = api.call("POST", f"/api/v1/namespaces/{ns}/pods", pod("b", limits={"memory": "768Mi"}))
    assert status == 403 and body["reason"] == "Forbidden"
    assert body["message"] == ('pods "b" is forbidden: exceeded quota: quota, requested: limits.memory=768Mi, '
                               "used: limits.memory=512Mi, limited: limits.memory=1Gi")


def test_quota_counts_init_containers_and_sidecars_as_the_api_server_does(api):
    """The pod's amount is its containers plus sidecars, or its largest init container with the sidecars started
    before it, whichever is larger; LimitRange defaults reach init containers too (prdeck sizes quotas so)."""
    ns = api.namespace_with({})
    assert api.call("POST", f"/api/v1/namespaces/{ns}/limitranges", {"metadata": {"name": "limits"}, "spec": {
        "limits": [{"type": "Container", "default": {"cpu": "500m", "memory": "512Mi"},
                    "defaultRequest": {"cpu": "50m", "memory": "64Mi"}}]}})[0] == 201
    assert api.call("POST", f"/api/v1/namespaces/{ns}/resourcequotas", {"metadata": {"name": "quota"}, "spec": {
        "hard": {"limits.cpu": "2", "limits.memory": "2Gi"}}})[0] == 201
    time.sleep(1 if REAL else 0)

    def pod(name: str, one_shot_cpu: str) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
            "initContainers": [
                {"name": "side", "image": "busybox:1.36", "restartPolicy": "Always",
                 "resources": {"limits": {"cpu": "200m"}}},
                {"name": "one", "image": "busybox:1.36", "resources": {"limits": {"cpu": one_shot_cpu}}}],
            "containers": [{"name": "main", "image": "busybox:1.36", "resources": {"limits": {"cpu": "300m"}}},
                           {"name": "m2", "image": "busybox:1.36"}]}}

    status, _, body = eventually(lambda: (r := api.call("POST", f"/api/v1/namespaces/{ns}/pods", pod("a", "2")))
                                 [0] == 403 and r, timeout=TIMEOUT)
    assert body["message"] == ('pods "a" is forbidden: exceeded quota: quota, requested: limits.cpu=2200m, '
                               "used: limits.cpu=0, limited: limits.cpu=2")
    status, _, created = api.call("POST", f"/api/v1/namespaces/{ns}/pods", pod("b", "1"))
    assert status == 201, created
    assert created["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: memory request for container main; memory limit for container main; cpu, memory "
        "request for container m2; cpu, memory limit for container m2; memory request for init container side; "
        "memory limit for init container side; memory request for init container one; memory limit for init "
        "container one")
    assert created["spec"]["initContainers"][1]["resources"] == {"limits": {"cpu": "1", "memory": "512Mi"},
                                                                 "requests": {"cpu": "1", "memory": "64Mi"}}

    def used() -> dict[str, str]:
        return api.call("GET", f"/api/v1/namespaces/{ns}/resourcequotas/quota")[2].get("status", {}).get("used", {})

    assert eventually(lambda: used().get("limits.cpu") == "1200m", timeout=TIMEOUT)
    assert used()["limits.memory"] == "1536Mi"


def test_server_side_apply_dry_run_saves_nothing_and_codes_are_201_then_200(api):
    ns = api.namespace_with({})
    path = f"{deployments(ns)}/web"
    apply = [("fieldManager", "fidelity")]
    status, _, body = api.call("PATCH", path, deployment(), "application/apply-patch+yaml", [*apply, ("dryRun", "All")])
    assert status == 201 and body["metadata"]["name"] == "web"
    assert api.call("GET", path)[0] == 404, "a dry run saved the object"
    assert api.call("PATCH", path, deployment(), "application/apply-patch+yaml", apply)[0] == 201
    changed = deployment(env=[{"name": "A", "value": "1"}])
    assert api.call("PATCH", path, changed, "application/apply-patch+yaml", apply)[0] == 200
    dry = deployment(env=[{"name": "A", "value": "2"}])
    assert api.call("PATCH", path, dry, "application/apply-patch+yaml", [*apply, ("dryRun", "All")])[0] == 200
    kept = api.call("GET", path)[2]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert kept == [{"name": "A", "value": "1"}]


INVALID = [
    ({"name": "x" * 64}, "spec.template.spec.containers[0].name",
     f'Invalid value: "{"x" * 64}": must be no more than 63 characters', "FieldValueInvalid"),
    ({"env": [{"name": "A=B", "value": "1"}]}, "spec.template.spec.containers[0].env[0].name",
     "Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters "
     "other than '='", "FieldValueInvalid"),
    ({"ports": [{"containerPort": 70000}]}, "spec.template.spec.containers[0].ports[0].containerPort",
     "Invalid value: 70000: must be between 1 and 65535, inclusive", "FieldValueInvalid"),
    ({"readinessProbe": {"periodSeconds": 5}}, "spec.template.spec.containers[0].readinessProbe",
     "Required value: must specify a handler type", "FieldValueRequired"),
    ({"resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}},
     "spec.template.spec.containers[0].resources.requests",
     'Invalid value: "2": must be less than or equal to cpu limit of 1', "FieldValueInvalid"),
]


@pytest.mark.parametrize(("container", "field", "message", "reason"), INVALID,
                         ids=["long-name", "env-equals", "port", "probe", "cpu-request"])
def test_invalid_pod_templates_are_422_in_the_real_servers_words(api, container, field, message, reason):
    ns = api.namespace_with({})
    status, _, body = api.call("POST", deployments(ns), deployment("v", container), query=[("dryRun", "All")])
    assert (status, body["reason"]) == (422, "Invalid"), body
    assert body["message"] == f'Deployment.apps "v" is invalid: {field}: {message}'
    assert body["details"] == {"name": "v", "group": "apps", "kind": "Deployment",
                               "causes": [{"reason": reason, "message": message, "field": field}]}


def test_duplicates_quantities_services_and_ingress_paths(api):
    ns = api.namespace_with({})
    doubled = deployment("v")
    doubled["spec"]["template"]["spec"]["containers"].append({"name": "web", "image": "busybox:1.36"})
    status, _, body = api.call("POST", deployments(ns), doubled, query=[("dryRun", "All")])
    assert status == 422 and body["details"]["causes"] == [{"reason": "FieldValueDuplicate", "message":
                                                            'Duplicate value: "web"', "field":
                                                            "spec.template.spec.containers[1].name"}]
    env = deployment("v", env=[{"name": "A", "value": "1"}, {"name": "A", "value": "2"}])
    status, warnings, _ = api.call("POST", deployments(ns), env, query=[("dryRun", "All")])
    assert status == 201 and warnings[0] == ('spec.template.spec.containers[0].env[1]: hides previous definition '
                                             'of "A", which may be dropped when using apply')
    status, _, body = api.call("POST", deployments(ns), deployment("v", resources={"limits": {"memory": "1GB"}}),
                               query=[("dryRun", "All")])
    assert (status, body["reason"]) == (400, "BadRequest") and body["message"] == (
        'Deployment in version "v1" cannot be handled as a Deployment: quantities must match the regular '
        "expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")

    def service(ports: list[dict[str, Any]]) -> tuple[int, list[str], dict[str, Any]]:
        return api.call("POST", f"/api/v1/namespaces/{ns}/services", {"metadata": {"name": "s"}, "spec": {
            "selector": {"a": "b"}, "ports": ports}}, query=[("dryRun", "All")])

    status, _, body = service([{"name": "HTTP", "port": 80}])
    assert status == 422 and body["details"]["causes"][0]["field"] == "spec.ports[0].name"
    assert body["details"]["kind"] == "Service" and "a lowercase RFC 1123 label" in body["message"]
    status, _, body = service([{"port": 80}, {"port": 81}])
    assert status == 422 and body["message"] == (
        'Service "s" is invalid: [spec.ports[0].name: Required value, spec.ports[1].name: Required value]')
    ingress = {"metadata": {"name": "i"}, "spec": {"rules": [{"host": "a.example.com", "http": {"paths": [{
        "path": "api", "pathType": "Prefix", "backend": {"service": {"name": "s", "port": {"number": 80}}}}]}}]}}
    status, _, body = api.call("POST", f"/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses", ingress,
                               query=[("dryRun", "All")])
    assert status == 422 and body["message"] == (
        'Ingress.networking.k8s.io "i" is invalid: spec.rules[0].http.paths[0].path: Invalid value: "api": '
        "must be an absolute path")


def test_prdeck_reads_event_times_with_and_without_fractions(api):
    from prdeck.services.kube.service import ClusterService

    ns = api.namespace_with({})
    for name, stamps in (("whole", {"firstTimestamp": "2026-01-02T03:04:05Z", "lastTimestamp": "2026-01-02T03:04:05Z"}),
                         ("micro", {"eventTime": "2026-01-02T03:04:06.123456Z", "reportingComponent": "fidelity",
                                    "reportingInstance": "fidelity-1", "action": "Testing"})):
        event = {"metadata": {"name": name}, "involvedObject": {"kind": "Namespace", "name": ns, "namespace": ns},
                 "reason": "Tested", "message": name, "type": "Normal", **stamps}
        status, _, body = api.call("POST", f"/api/v1/namespaces/{ns}/events", copy.deepcopy(event))
        assert status == 201, body
        assert {k: body.get(k) for k in stamps} == stamps
    cluster = ClusterService(api.client, prefix="fidelity")
    events = cluster.events(ns)
    assert [e.message for e in events] == ["whole", "micro"]
    assert events[1].time.microsecond == 123456 and events[0].time.tzinfo is not None
    assert events[1].time.astimezone(UTC).second == 6
