"""What the API server checks and fills in on create and update: names, required fields, defaults."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from prdeck.services.sandbox.kube.errors import KubeError, invalid, undecodable
from prdeck.services.sandbox.kube.pod_rules import bad_quantities, pod_causes
from prdeck.services.sandbox.kube.quantity import BAD_SYNTAX
from prdeck.services.sandbox.kube.resources import Resource

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
DNS_LABEL_KINDS = {"Namespace", "Service"}
LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)

Cause = tuple[str, str, str]


def check_name(kind: str, name: str, field: str = "metadata.name") -> list[Cause]:
    if kind in DNS_LABEL_KINDS:
        if len(name) > 63:
            return [("FieldValueInvalid", field, f'Invalid value: "{name}": must be no more than 63 characters')]
        if not _LABEL.match(name):
            return [("FieldValueInvalid", field, f'Invalid value: "{name}": {LABEL_MESSAGE}')]
    elif len(name) > 253 or not _SUBDOMAIN.match(name):
        return [("FieldValueInvalid", field, f'Invalid value: "{name}": {SUBDOMAIN_MESSAGE}')]
    return []


def _labels(meta: dict[str, Any], field: str) -> list[Cause]:
    causes = []
    for key, value in (meta.get("labels") or {}).items():
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
            causes.append(
                (
                    "FieldValueInvalid",
                    f"{field}.labels",
                    f'Invalid value: "{value}": a valid label must '
                    "be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
                    f"start and end with an alphanumeric character (key {key})",
                )
            )
    return causes


def _workload(obj: dict[str, Any]) -> list[Cause]:
    spec = obj.get("spec") or {}
    selector = spec.get("selector")
    if not selector:
        return [("FieldValueRequired", "spec.selector", "Required value")]
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    wanted = selector.get("matchLabels") or {}
    causes = pod_causes(template.get("spec"), "spec.template.spec")
    if any(labels.get(key) != value for key, value in wanted.items()):
        causes.append(
            (
                "FieldValueInvalid",
                "spec.template.metadata.labels",
                f"Invalid value: {labels}: `selector` does not match template `labels`",
            )
        )
    if spec.get("replicas") is not None and spec["replicas"] < 0:
        causes.append(
            (
                "FieldValueInvalid",
                "spec.replicas",
                f"Invalid value: {spec['replicas']}: must be greater than or equal to 0",
            )
        )
    return causes


def _service_ports(ports: list[Any]) -> list[Cause]:
    causes: list[Cause] = []
    for index, port in enumerate(ports):
        name = port.get("name")
        if len(ports) > 1 and not name:
            causes.append(("FieldValueRequired", f"spec.ports[{index}].name", "Required value"))
        elif name and (len(name) > 63 or not _LABEL.match(name)):
            causes.append(
                ("FieldValueInvalid", f"spec.ports[{index}].name", f'Invalid value: "{name}": {LABEL_MESSAGE}')
            )
        if not isinstance(port.get("port"), int) or not 0 < port["port"] < 65536:
            causes.append(
                (
                    "FieldValueInvalid",
                    f"spec.ports[{index}].port",
                    f"Invalid value: {port.get('port')}: must be between 1 and 65535, inclusive",
                )
            )
    return causes


def _ingress_paths(spec: dict[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    for index, rule in enumerate(spec.get("rules") or []):
        for number, path in enumerate(((rule.get("http") or {}).get("paths")) or []):
            text = path.get("path")
            if path.get("pathType") in ("Prefix", "Exact") and text is not None and not str(text).startswith("/"):
                causes.append(
                    (
                        "FieldValueInvalid",
                        f"spec.rules[{index}].http.paths[{number}].path",
                        f'Invalid value: "{text}": must be an absolute path',
                    )
                )
    return causes


def _kind_rules(obj: dict[str, Any]) -> list[Cause]:
    kind, spec = obj["kind"], obj.get("spec") or {}
    if kind == "Pod":
        return pod_causes(spec, "spec")
    if kind in ("Deployment", "ReplicaSet"):
        return _workload(obj)
    if kind == "Service":
        return _service_ports(spec.get("ports") or [])
    if kind == "Ingress":
        causes = _ingress_paths(spec)
        for index, rule in enumerate(spec.get("rules") or []):
            host = rule.get("host")
            if host and not _SUBDOMAIN.match(host.removeprefix("*.")):
                causes.append(
                    ("FieldValueInvalid", f"spec.rules[{index}].host", f'Invalid value: "{host}": {SUBDOMAIN_MESSAGE}')
                )
        return causes
    if kind == "NetworkPolicy" and "podSelector" not in spec:
        return [("FieldValueRequired", "spec.podSelector", "Required value")]
    if kind == "Secret":
        causes = []
        for key, value in (obj.get("data") or {}).items():
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, TypeError):
                causes.append(("FieldValueInvalid", f"data[{key}]", "Invalid value: illegal base64 data"))
        return causes
    return []


def validate(resource: Resource, obj: dict[str, Any], namespace: str | None,
             version: tuple[int, int] = (1, 32)) -> None:
    """Raise 400/422 as the API server would for ``obj`` sent to a URL in ``namespace``; fields that the
    server's ``version`` does not have are dropped first, as it drops them (feature gates off)."""
    _drop_disabled_fields(resource.kind, obj, version)
    if not isinstance(obj, dict) or not isinstance(obj.get("metadata", {}), dict):
        raise KubeError(400, "the object provided is unrecognized (must be of type object)")
    if obj.get("kind") not in (None, resource.kind) or obj.get("apiVersion") not in (None, resource.api_version):
        raise KubeError(
            400,
            f"the API version in the data ({obj.get('apiVersion')}) does not match the expected "
            f"API version ({resource.api_version})",
        )
    template = ((obj.get("spec") or {}).get("template") or {}) if isinstance(obj.get("spec"), dict) else {}
    if bad_quantities(obj.get("spec")) or bad_quantities(template.get("spec") if isinstance(template, dict) else None):
        raise undecodable(resource, BAD_SYNTAX)
    meta = obj.setdefault("metadata", {})
    if resource.namespaced:
        if meta.get("namespace") not in (None, namespace):
            raise KubeError(
                400, "the namespace of the provided object does not match the namespace sent on the request"
            )
        meta["namespace"] = namespace
    name = meta.get("name") or ""
    obj["kind"], obj["apiVersion"] = resource.kind, resource.api_version
    causes: list[Cause] = []
    if not name:
        causes.append(("FieldValueRequired", "metadata.name", "name or generateName is required"))
    else:
        causes.extend(check_name(resource.kind, name))
    causes.extend(_labels(meta, "metadata"))
    if not causes:
        causes.extend(_kind_rules(obj))
    if causes:
        raise invalid(resource, name, causes)


def _drop_disabled_fields(kind: str, obj: Any, version: tuple[int, int]) -> None:
    """Before 1.29 (SidecarContainers off by default) the server drops ``restartPolicy`` of init containers: such
    a container then runs as a plain init container, which must exit before the pod's containers start."""
    if version >= (1, 29) or not isinstance(obj, dict) or not isinstance(obj.get("spec"), dict):
        return
    spec = obj["spec"]
    pod = spec if kind == "Pod" else (spec.get("template") or {}).get("spec")
    for init in (pod or {}).get("initContainers") or [] if isinstance(pod, dict) else []:
        if isinstance(init, dict):
            init.pop("restartPolicy", None)


def apply_defaults(obj: dict[str, Any], created: bool) -> None:
    """Fields the API server fills in (only those prdeck and kubectl users look at)."""
    kind, meta = obj["kind"], obj["metadata"]
    if kind == "Namespace":
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj.setdefault("status", {}).setdefault("phase", "Active")
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
    elif kind in ("Deployment", "ReplicaSet"):
        spec = obj["spec"]
        spec.setdefault("replicas", 1)
        if kind == "Deployment":
            spec.setdefault(
                "strategy", {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
            )
            spec.setdefault("revisionHistoryLimit", 10)
            spec.setdefault("progressDeadlineSeconds", 600)
        obj.setdefault("status", {})
    elif kind == "Pod":
        spec = obj["spec"]
        spec.setdefault("restartPolicy", "Always")
        for container in spec["containers"]:
            container.setdefault("imagePullPolicy", "IfNotPresent")
        if created:
            qos = (obj.get("status") or {}).get("qosClass", "BestEffort")  # admission computed it
            obj["status"] = {"phase": "Pending", "qosClass": qos}
    elif kind == "Service":
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        for port in spec.get("ports") or []:
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
    elif kind == "Secret":
        obj.setdefault("type", "Opaque")
    if kind in ("Deployment", "ReplicaSet") and created:
        meta["generation"] = 1
