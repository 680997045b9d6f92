"""From a preview spec to the Kubernetes objects a launch applies (pure: no cluster, no Docker).

Every object carries prdeck's labels and lands in the preview namespace, behind the guards of
:mod:`prdeck.services.launch.guards`; every pod gets the settings of :mod:`prdeck.services.launch.pod_policy`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from prdeck.services import naming
from prdeck.services.launch import compose_pod, quota
from prdeck.services.launch.guards import SECRET_NAME, guard_objects
from prdeck.services.launch.placement import (
    ClusterOptions,
    Placement,
    metadata,
    pod_annotations,
    preview_annotations,
    preview_host,
    preview_url,
    public_url,
)
from prdeck.services.launch.pod_policy import container_security, harden_pod, pod_specs, pod_templates
from prdeck.services.launch.spec import URL_VARIABLES, ContainerSpec, PreviewSpec, SpecError

WORKLOAD_NAME = "preview"
_OWN = "|".join(URL_VARIABLES)
_EXPANDED = re.compile(rf"\$(?=\$|\((?!(?:{_OWN})\)))")
__all__ = ["ClusterOptions", "Placement", "render", "spec_url"]


def render(
    spec: PreviewSpec, placement: Placement, options: ClusterOptions, images: Mapping[str, str],
    in_use: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """All objects of one preview, in apply order. ``images``: built image refs by service / image name;
    ``in_use``: what the namespace's pods use now (its quota's ``status.used``; a relaunch rolls next to them).

    SpecError when the pods do not fit under ``preview.max_cpu``/``preview.max_memory``
    (:mod:`prdeck.services.launch.quota`)."""
    url = spec_url(spec, placement, options)
    if spec.form == "compose":
        workload = _compose_workload(spec, placement, options, images, url)
    else:
        workload = _manifest_workload(spec, placement, options, images, url)
    sizing = quota.size(workload, options.quota_cap, in_use)
    if sizing.recreate:
        quota.use_recreate(workload)
    return [*guard_objects(placement, options, sizing.hard), *workload]


def spec_url(spec: PreviewSpec, placement: Placement, options: ClusterOptions) -> str:
    """The preview's URL: the port is the compose ingress port, or the first Service's port of manifests."""
    port = compose_pod.service_port(spec)[0] if spec.form == "compose" else _first_service_port(spec)
    return preview_url(placement, options, port)


def _url_values(url: str) -> dict[str, str]:
    """``PRDECK_URL`` as documented (ends in ``/``); ``UFFIZZI_URL`` as Uffizzi set it, without the slash."""
    return {"PRDECK_URL": url, "UFFIZZI_URL": url.rstrip("/")}


def _literal(text: str) -> str:
    """A compose value for a field Kubernetes expands: a ``$`` before ``$`` or ``(`` doubled (Kubernetes reads
    ``$$`` as ``$``, and leaves any other ``$`` as is), except prdeck's own ``$(PRDECK_URL)``/``$(UFFIZZI_URL)``
    references, which must expand."""
    return _EXPANDED.sub("$$", text)


def _env(container: ContainerSpec, url: str, extra: Mapping[str, str]) -> list[dict[str, str]]:
    """prdeck's variables first, so the ``$(PRDECK_URL)`` that ``${PRDECK_URL}`` became in the spec expands."""
    ours = _url_values(url)
    values = {**ours, **extra, **{name: _literal(value) for name, value in container.environment
                                  if name not in ours}}
    return [{"name": name, "value": value} for name, value in values.items()]


def _container(
    container: ContainerSpec, images: Mapping[str, str], url: str, options: ClusterOptions,
    extra: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    secrets = bool(options.secrets)
    image = images.get(container.name) if container.build is not None else container.image
    if not image:
        raise SpecError(f"No image for service {container.name}", "Its build did not produce an image.")
    result: dict[str, Any] = {"name": container.name, "image": image, "env": _env(container, url, extra or {})}
    if container.entrypoint is not None:
        result["command"] = [_literal(item) for item in container.entrypoint]
    if container.command is not None:
        result["args"] = [_literal(item) for item in container.command]
    bindings = container.port_bindings or tuple((0, port, "TCP") for port in container.ports)
    ports = dict.fromkeys((target, protocol) for _, target, protocol in bindings)
    if ports:
        result["ports"] = [{"containerPort": port, "protocol": protocol} for port, protocol in ports]
    resources = _resources(container)
    if resources:
        result["resources"] = resources
    if secrets:
        result["envFrom"] = [{"secretRef": {"name": SECRET_NAME}}]
    if container.volume_mounts:
        result["volumeMounts"] = copy.deepcopy([dict(mount) for mount in container.volume_mounts])
    security = result["securityContext"] = container_security(container.capabilities, options.policy)
    for field, value in (("runAsUser", container.run_as_user), ("runAsGroup", container.run_as_group)):
        if value is not None:  # compose `user`
            security[field] = value
    return result


def _resources(container: ContainerSpec) -> dict[str, Any]:
    """``limits`` and ``reservations`` (requests); a limit without a reservation is also the request."""
    limits = {key: value for key, value in (("memory", container.memory), ("cpu", container.cpus)) if value}
    requests = {**limits, **{key: value for key, value in (("memory", container.memory_request),
                                                           ("cpu", container.cpu_request)) if value}}
    return {key: value for key, value in (("limits", limits), ("requests", requests)) if value}


def _pod_containers(spec: PreviewSpec, images: Mapping[str, str], url: str,
                    options: ClusterOptions) -> dict[str, Any]:
    """``initContainers`` (one-shots, sidecars), ``containers`` and ``hostAliases`` (:mod:`.compose_pod`)."""
    ingress = next(c for c in spec.containers if compose_pod.original(c) in _ingress_names(spec))
    port = compose_pod.service_port(spec)[1]
    extra = {"UFFIZZI_DOMAIN": urlsplit(url).hostname or "localhost", "PORT": str(port)}
    arrangement = compose_pod.arrange(spec.containers)
    if not compose_pod.has_native_sidecars(options.server_version):
        arrangement = compose_pod.without_native_sidecars(arrangement, ".".join(map(str, options.server_version or ())))

    def rendered(container: ContainerSpec, role: str) -> dict[str, Any]:
        result = _container(container, images, url, options, extra if container is ingress else None)
        result.update(copy.deepcopy(compose_pod.probes(container, role, container is ingress)))
        if role == "sidecar":
            result["restartPolicy"] = "Always"
        return result

    pod: dict[str, Any] = {"containers": [rendered(c, "app") for c in arrangement.main]}
    if arrangement.init:
        pod["initContainers"] = [rendered(c, role) for c, role in arrangement.init]
    if spec.volumes:
        pod["volumes"] = copy.deepcopy([dict(volume) for volume in spec.volumes])
    aliases = compose_pod.host_aliases(spec.containers)
    if aliases:
        pod["hostAliases"] = aliases
    return pod


def _ingress_names(spec: PreviewSpec) -> set[str]:
    return {spec.ingress_service} if spec.ingress_service else {compose_pod.original(spec.containers[0])}


def _compose_workload(
    spec: PreviewSpec, placement: Placement, options: ClusterOptions, images: Mapping[str, str], url: str
) -> list[dict[str, Any]]:
    labels = naming.preview_labels(placement.repo, placement.number)
    selector = {**labels, "app.kubernetes.io/name": WORKLOAD_NAME}
    containers = _pod_containers(spec, images, url, options)
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {**metadata(WORKLOAD_NAME, placement, selector),
                     "annotations": preview_annotations(placement, public_url(placement, options))},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": selector, "annotations": pod_annotations(placement, public_url(placement,
                                                                                                      options))},
                "spec": _pod_spec({**containers, "enableServiceLinks": False}, options),
            },
        },
    }
    port, target = compose_pod.service_port(spec)
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(WORKLOAD_NAME, placement),
        "spec": {"selector": selector, "ports": [{"name": "http", "port": port, "targetPort": target}]},
    }
    files = [{**copy.deepcopy(dict(obj)), "metadata": metadata(str(obj["metadata"]["name"]), placement)}
             for obj in spec.files]
    objects = [*files, deployment, service]
    ingress = _ingress(placement, options, WORKLOAD_NAME, port)
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
            "metadata": metadata(WORKLOAD_NAME, placement), "spec": spec}


def _first_service(spec: PreviewSpec) -> Mapping[str, Any] | None:
    return next((obj for obj in spec.manifests if obj.get("kind") == "Service"), None)


def _first_service_port(spec: PreviewSpec) -> int | None:
    service = _first_service(spec)
    ports = ((service or {}).get("spec") or {}).get("ports") or []
    return int(ports[0]["port"]) if ports and isinstance(ports[0].get("port"), int) else None


def _manifest_workload(
    spec: PreviewSpec, placement: Placement, options: ClusterOptions, images: Mapping[str, str], url: str
) -> list[dict[str, Any]]:
    """The spec's objects (already checked by pod_policy when read), in the namespace, with prdeck's labels,
    pod settings and images; then prdeck's Ingress in front of the first Service."""
    objects = []
    labels = naming.preview_labels(placement.repo, placement.number)
    for original in spec.manifests:
        obj = copy.deepcopy(dict(original))
        meta = obj.setdefault("metadata", {})
        meta["namespace"] = placement.namespace
        meta["labels"] = {**(meta.get("labels") or {}), **labels}
        for template in pod_templates(obj):
            _stamp_pod(template, placement, images, url, public_url(placement, options))
        for pod in pod_specs(obj):
            harden_pod(pod, options.policy)
        if obj["kind"] == "ServiceAccount" and not options.policy.service_account_token:
            obj["automountServiceAccountToken"] = False
        objects.append(obj)
    service, port = _first_service(spec), _first_service_port(spec)
    if service is not None and port is not None:
        ingress = _ingress(placement, options, str(service["metadata"]["name"]), port)
        if ingress is not None:
            objects.append(ingress)
    return objects


def _pod_spec(pod: dict[str, Any], options: ClusterOptions) -> dict[str, Any]:
    harden_pod(pod, options.policy)
    return pod


def _stamp_pod(template: dict[str, Any], placement: Placement, images: Mapping[str, str], url: str,
               public: str | None) -> None:
    meta = template.setdefault("metadata", {})
    meta["labels"] = {**(meta.get("labels") or {}), **naming.preview_labels(placement.repo, placement.number)}
    meta["annotations"] = {**(meta.get("annotations") or {}), **pod_annotations(placement, public)}
    for container in (template.get("spec") or {}).get("containers") or []:
        name = str(container.get("image", "")).rsplit("@", 1)[0]
        base = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
        if base in images:
            container["image"] = images[base]
        env = [item for item in container.get("env") or [] if item.get("name") not in URL_VARIABLES]
        container["env"] = [*env, *({"name": name, "value": value} for name, value in _url_values(url).items())]
