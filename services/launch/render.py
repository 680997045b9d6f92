"""From a preview spec to the Kubernetes objects a launch applies (pure: no cluster, no Docker).

Every object carries prdeck's labels and lands in the preview namespace. The namespace gets a ResourceQuota, a
LimitRange and a default-deny NetworkPolicy that admits only the ingress controller (README, "Launching").
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prdeck.services import naming
from prdeck.services.launch.spec import ContainerSpec, PreviewSpec, SpecError
from prdeck.services.models import RepoRef

WORKLOAD_NAME = "preview"
SECRET_NAME = "prdeck-secrets"
POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume",
                  "StorageClass", "PriorityClass", "IngressClass", "MutatingWebhookConfiguration",
                  "ValidatingWebhookConfiguration"}


@dataclass(frozen=True)
class Placement:
    """Where and for what one preview runs."""

    repo: RepoRef
    number: int
    namespace: str
    head_sha: str
    branch: str
    expires_at: datetime
    launched_by: str
    approved_sha: str | None = None
    launch_id: str = ""


@dataclass(frozen=True)
class ClusterOptions:
    """Config ``cluster.*`` and ``preview.*`` keys that shape the objects."""

    domain: str = ""
    ingress_class: str = ""
    tls_secret: str = ""
    ingress_namespace: str = "ingress-nginx"
    secrets: Mapping[str, str] = field(default_factory=dict)
    """Secret values by name (already read from the environment); empty for forks unless allowed."""


def preview_host(placement: Placement, options: ClusterOptions) -> str | None:
    if not options.domain:
        return None
    return f"{naming.preview_host_label(placement.repo, placement.number)}.{options.domain}"[:253]


def preview_url(placement: Placement, options: ClusterOptions, port: int | None) -> str:
    """The Ingress URL with a domain; else the address the port-forward relay prefers on this machine."""
    host = preview_host(placement, options)
    if host:
        return f"{'https' if options.tls_secret else 'http'}://{host}/"
    return f"http://localhost:{port or 80}/"


def _metadata(name: str, placement: Placement, extra_labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    labels = {**(extra_labels or {}), **naming.preview_labels(placement.repo, placement.number)}
    return {"name": name, "namespace": placement.namespace, "labels": labels}


def _annotations(placement: Placement, url: str) -> dict[str, str]:
    annotations = {
        naming.ANNOTATION_REPO: placement.repo.full_name,
        naming.ANNOTATION_SHA: placement.head_sha,
        naming.ANNOTATION_BRANCH: placement.branch,
        naming.ANNOTATION_EXPIRES: placement.expires_at.isoformat().replace("+00:00", "Z"),
        naming.ANNOTATION_URL: url,
        naming.ANNOTATION_LAUNCHED_BY: placement.launched_by,
    }
    if placement.approved_sha:
        annotations[naming.ANNOTATION_APPROVED_SHA] = placement.approved_sha
    return annotations


def _pod_annotations(placement: Placement, url: str) -> dict[str, str]:
    launch = {naming.ANNOTATION_LAUNCH: placement.launch_id} if placement.launch_id else {}
    return {**_annotations(placement, url), **launch}


def guard_objects(placement: Placement, options: ClusterOptions, url: str) -> list[dict[str, Any]]:
    """Namespace, quota, limits, network policy and (when configured) the secret: the same for both spec forms."""
    labels = naming.preview_labels(placement.repo, placement.number)
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": placement.namespace,
            "labels": {
                **labels,
                "pod-security.kubernetes.io/enforce": "baseline",
                "pod-security.kubernetes.io/warn": "restricted",
            },
            "annotations": _annotations(placement, url),
        },
    }
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": _metadata("prdeck-quota", placement),
        "spec": {"hard": {"pods": "20", "requests.cpu": "4", "requests.memory": "8Gi",
                          "limits.cpu": "8", "limits.memory": "16Gi"}},
    }
    limits = {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": _metadata("prdeck-limits", placement),
        "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m", "memory": "512Mi"},
                             "defaultRequest": {"cpu": "50m", "memory": "64Mi"}}]},
    }
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _metadata("prdeck-default-deny", placement),
        "spec": {
            "podSelector": {},
            "policyTypes": ["Ingress"],
            "ingress": [
                {"from": [{"namespaceSelector": {"matchLabels": {
                    "kubernetes.io/metadata.name": options.ingress_namespace}}}]},
                {"from": [{"podSelector": {}}]},
            ],
        },
    }
    objects = [namespace, quota, limits, policy]
    if options.secrets:
        objects.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                        "metadata": _metadata(SECRET_NAME, placement), "stringData": dict(options.secrets)})
    return objects


def render(
    spec: PreviewSpec, placement: Placement, options: ClusterOptions, images: Mapping[str, str]
) -> list[dict[str, Any]]:
    """All objects of one preview, in apply order. ``images``: built image refs by service / image name."""
    url = spec_url(spec, placement, options)
    if spec.form == "compose":
        workload = _compose_workload(spec, placement, options, images, url)
    else:
        workload = _manifest_workload(spec, placement, options, images, url)
    return [*guard_objects(placement, options, url), *workload]


def spec_url(spec: PreviewSpec, placement: Placement, options: ClusterOptions) -> str:
    """The preview's URL: the port is the compose ingress port, or the first Service's port of manifests."""
    port = spec.ingress_port if spec.form == "compose" else _first_service_port(spec)
    return preview_url(placement, options, port)


def _env(container: ContainerSpec, url: str) -> list[dict[str, str]]:
    values = {**dict(container.environment), "PRDECK_URL": url, "UFFIZZI_URL": url}
    return [{"name": name, "value": value} for name, value in values.items()]


def _container(container: ContainerSpec, images: Mapping[str, str], url: str, secrets: bool) -> dict[str, Any]:
    image = images.get(container.name) if container.build is not None else container.image
    if not image:
        raise SpecError(f"No image for service {container.name}", "Its build did not produce an image.")
    result: dict[str, Any] = {"name": container.name, "image": image, "env": _env(container, url)}
    if container.entrypoint is not None:
        result["command"] = list(container.entrypoint)
    if container.command is not None:
        result["args"] = list(container.command)
    if container.ports:
        result["ports"] = [{"containerPort": port, "protocol": "TCP"} for port in container.ports]
    limits = {key: value for key, value in (("memory", container.memory), ("cpu", container.cpus)) if value}
    if limits:
        result["resources"] = {"limits": limits}
    if container.readiness is not None:
        result["readinessProbe"] = copy.deepcopy(dict(container.readiness))
    if secrets:
        result["envFrom"] = [{"secretRef": {"name": SECRET_NAME}}]
    return result


def _compose_workload(
    spec: PreviewSpec, placement: Placement, options: ClusterOptions, images: Mapping[str, str], url: str
) -> list[dict[str, Any]]:
    labels = naming.preview_labels(placement.repo, placement.number)
    selector = {**labels, "app.kubernetes.io/name": WORKLOAD_NAME}
    containers = [_container(c, images, url, bool(options.secrets)) for c in spec.containers]
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {**_metadata(WORKLOAD_NAME, placement, selector), "annotations": _annotations(placement, url)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": selector, "annotations": _pod_annotations(placement, url)},
                "spec": {"containers": containers, "enableServiceLinks": False,
                         "automountServiceAccountToken": False},
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(WORKLOAD_NAME, placement),
        "spec": {"selector": selector,
                 "ports": [{"name": "http", "port": spec.ingress_port, "targetPort": spec.ingress_port}]},
    }
    objects = [deployment, service]
    ingress = _ingress(placement, options, WORKLOAD_NAME, spec.ingress_port or 80)
    return [*objects, ingress] if ingress else objects


def _ingress(placement: Placement, options: ClusterOptions, service: str, port: int) -> dict[str, Any] | None:
    host = preview_host(placement, options)
    if host is None:
        return None
    spec: dict[str, Any] = {
        "rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
            "service": {"name": service, "port": {"number": port}}}}]}}],
    }
    if options.ingress_class:
        spec["ingressClassName"] = options.ingress_class
    if options.tls_secret:
        spec["tls"] = [{"hosts": [host], "secretName": options.tls_secret}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": _metadata(WORKLOAD_NAME, placement), "spec": spec}


def _first_service(spec: PreviewSpec) -> Mapping[str, Any] | None:
    return next((obj for obj in spec.manifests if obj.get("kind") == "Service"), None)


def _first_service_port(spec: PreviewSpec) -> int | None:
    service = _first_service(spec)
    ports = ((service or {}).get("spec") or {}).get("ports") or []
    return int(ports[0]["port"]) if ports and isinstance(ports[0].get("port"), int) else None


def _manifest_workload(
    spec: PreviewSpec, placement: Placement, options: ClusterOptions, images: Mapping[str, str], url: str
) -> list[dict[str, Any]]:
    objects = []
    labels = naming.preview_labels(placement.repo, placement.number)
    for original in spec.manifests:
        obj = copy.deepcopy(dict(original))
        kind = obj["kind"]
        if kind in CLUSTER_SCOPED:
            raise SpecError(f"Invalid preview spec {spec.source}",
                            f"{kind} {obj['metadata']['name']}: cluster-scoped objects are not allowed in a preview")
        metadata = obj.setdefault("metadata", {})
        metadata["namespace"] = placement.namespace
        metadata["labels"] = {**(metadata.get("labels") or {}), **labels}
        template = obj if kind == "Pod" else (obj.get("spec") or {}).get("template")
        if kind != "Pod" and kind not in POD_TEMPLATE_KINDS:
            template = None
        if isinstance(template, dict):
            _stamp_pod(template, placement, images, url)
        objects.append(obj)
    service, port = _first_service(spec), _first_service_port(spec)
    if service is not None and port is not None:
        ingress = _ingress(placement, options, str(service["metadata"]["name"]), port)
        if ingress is not None and not any(obj["kind"] == "Ingress" for obj in objects):
            objects.append(ingress)
    return objects


def _stamp_pod(template: dict[str, Any], placement: Placement, images: Mapping[str, str], url: str) -> None:
    metadata = template.setdefault("metadata", {})
    metadata["labels"] = {**(metadata.get("labels") or {}), **naming.preview_labels(placement.repo, placement.number)}
    metadata["annotations"] = {**(metadata.get("annotations") or {}), **_pod_annotations(placement, url)}
    for container in (template.get("spec") or {}).get("containers") or []:
        name = str(container.get("image", "")).rsplit("@", 1)[0]
        base = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
        if base in images:
            container["image"] = images[base]
        env = [item for item in container.get("env") or [] if item.get("name") not in ("PRDECK_URL", "UFFIZZI_URL")]
        container["env"] = [*env, {"name": "PRDECK_URL", "value": url}, {"name": "UFFIZZI_URL", "value": url}]
