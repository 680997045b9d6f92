"""What a pull request's objects may ask of the cluster, and the settings prdeck gives every preview pod.

A preview runs code from a pull request: nothing in its spec may replace or widen the namespace's guards (quota,
limit range, network policy, Pod Security), reach the node, or get API credentials. :func:`object_problem` refuses
such an object (before anything is built); :func:`harden_pod` gives every pod prdeck applies the ``restricted``
profile's container settings (README, "Security model").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

RESERVED_PREFIX = "prdeck-"
"""prdeck's own objects (quota, limits, network policy, secret) are named so; a spec may not use the prefix."""

BASELINE_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP",
    "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})
"""The capabilities Pod Security ``baseline`` lets a container add (the rest of Docker's defaults)."""

ALLOWED_KINDS: Mapping[str, frozenset[str]] = {
    "Deployment": frozenset({"apps/v1"}), "StatefulSet": frozenset({"apps/v1"}),
    "ReplicaSet": frozenset({"apps/v1"}), "Job": frozenset({"batch/v1"}), "CronJob": frozenset({"batch/v1"}),
    "Pod": frozenset({"v1"}), "Service": frozenset({"v1"}), "ConfigMap": frozenset({"v1"}),
    "Secret": frozenset({"v1"}), "PersistentVolumeClaim": frozenset({"v1"}), "ServiceAccount": frozenset({"v1"}),
    "PodDisruptionBudget": frozenset({"policy/v1"}),
    "HorizontalPodAutoscaler": frozenset({"autoscaling/v1", "autoscaling/v2"}),
}
"""Kinds a manifests spec may hold: workloads and what they read. Anything else could reach past the preview."""

_KIND_REASONS = {
    "NetworkPolicy": "it could open the preview's network; prdeck makes the one network policy (preview.egress)",
    "ResourceQuota": "it could widen the preview's quota; prdeck makes the quota",
    "LimitRange": "it could widen the preview's limits; prdeck makes the limit range",
    "Role": "it grants API rights", "RoleBinding": "it grants API rights",
    "Ingress": "prdeck makes the preview's Ingress from its config (cluster.domain), in front of the first Service",
    "DaemonSet": "it runs on every node", "Endpoints": "it can point a Service at any address",
    "EndpointSlice": "it can point a Service at any address",
}
_SECRET_TYPES = frozenset({"Opaque", "kubernetes.io/tls", "kubernetes.io/basic-auth", "kubernetes.io/ssh-auth",
                           "kubernetes.io/dockerconfigjson", "kubernetes.io/dockercfg"})
_VOLUME_SOURCES = frozenset({"configMap", "secret", "emptyDir", "persistentVolumeClaim", "projected", "downwardAPI",
                             "ephemeral", "name"})
_TEMPLATE_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "Job"})


@dataclass(frozen=True)
class PodPolicy:
    """Config ``preview.container_security`` and ``preview.service_account_token``."""

    security: str = "restricted"
    """"restricted" or "baseline"."""
    service_account_token: bool = False


def pod_specs(obj: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The pod specs inside an object: a Pod's, a workload template's, a CronJob's job template's."""
    kind, spec = obj.get("kind"), obj.get("spec")
    if not isinstance(spec, dict):
        return
    if kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template", {}).get("spec")
    elif kind in _TEMPLATE_KINDS:
        spec = (spec.get("template") or {}).get("spec")
    elif kind != "Pod":
        return
    if isinstance(spec, dict):
        yield spec


def pod_templates(obj: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The objects whose ``metadata`` labels a pod: the Pod itself, or a workload's template."""
    kind, spec = obj.get("kind"), obj.get("spec")
    if kind == "Pod":
        yield obj  # type: ignore[misc]
    elif isinstance(spec, dict) and kind == "CronJob":
        template = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template")
        if isinstance(template, dict):
            yield template
    elif isinstance(spec, dict) and kind in _TEMPLATE_KINDS and isinstance(spec.get("template"), dict):
        yield spec["template"]


def object_problem(obj: Mapping[str, Any], policy: PodPolicy) -> str | None:
    """Why a spec's object may not be applied, or None. Checks the shape too: a bad value is refused, not skipped."""
    kind, api_version = str(obj.get("kind")), str(obj.get("apiVersion"))
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return "metadata must be a mapping"
    if str(metadata.get("name", "")).startswith(RESERVED_PREFIX):
        return f"names starting with {RESERVED_PREFIX!r} are reserved for prdeck's own objects"
    if metadata.get("finalizers"):
        return "finalizers would keep the preview's namespace from being deleted"
    if kind in _KIND_REASONS:
        return f"{kind} is not allowed in a preview: {_KIND_REASONS[kind]}"
    if kind not in ALLOWED_KINDS or api_version not in ALLOWED_KINDS[kind]:
        allowed = ", ".join(sorted(ALLOWED_KINDS))
        return f"{api_version} {kind} is not allowed in a preview (allowed: {allowed})"
    spec = obj.get("spec") or {}
    if kind == "Service":
        return _service_problem(spec)
    if kind == "Secret" and obj.get("type", "Opaque") not in _SECRET_TYPES:
        return f"a Secret of type {obj.get('type')!r} is not allowed (service-account and bootstrap tokens)"
    for pod in pod_specs(obj):
        reason = _pod_problem(pod, policy)
        if reason:
            return reason
    return None


def _service_problem(spec: Any) -> str | None:
    if not isinstance(spec, dict):
        return "spec must be a mapping"
    if spec.get("type", "ClusterIP") != "ClusterIP":
        return f"a Service of type {spec.get('type')} is not allowed: previews get ClusterIP Services only"
    for key in ("externalIPs", "loadBalancerIP", "loadBalancerSourceRanges", "externalName"):
        if spec.get(key):
            return f"spec.{key} is not allowed: previews get ClusterIP Services only"
    return None


def _pod_problem(pod: Mapping[str, Any], policy: PodPolicy) -> str | None:
    if pod.get("nodeName"):
        return "spec.nodeName is not allowed: it puts the pod on a node of the PR's choosing"
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key):
            return f"spec.{key} is not allowed: it shares the node's namespaces"
    if pod.get("tolerations"):
        return "spec.tolerations are not allowed: they let the pod onto tainted (control-plane) nodes"
    if pod.get("priorityClassName"):
        return "spec.priorityClassName is not allowed: it could preempt other workloads"
    if _unconfined(pod.get("securityContext")):
        return "an Unconfined seccomp or AppArmor profile is not allowed"
    for volume in pod.get("volumes") or []:
        reason = _volume_problem(volume, policy)
        if reason:
            return reason
    for container in _containers(pod):
        reason = _container_problem(container, policy)
        if reason:
            return f"container {str(container.get('name'))[:63]!r}: {reason}"
    return None


def _volume_problem(volume: Any, policy: PodPolicy) -> str | None:
    if not isinstance(volume, dict):
        return "spec.volumes entries must be mappings"
    sources = set(volume) - _VOLUME_SOURCES
    if sources:
        return f"volume {str(volume.get('name'))[:63]!r}: {', '.join(sorted(sources))} volumes are not allowed " \
               "(allowed: configMap, secret, emptyDir, persistentVolumeClaim, projected, downwardAPI, ephemeral)"
    for source in (volume.get("projected") or {}).get("sources") or []:
        if isinstance(source, dict) and "serviceAccountToken" in source and not policy.service_account_token:
            return f"volume {str(volume.get('name'))[:63]!r}: a service-account token is not allowed " \
                   "(preview.service_account_token)"
    return None


def _container_problem(container: Mapping[str, Any], policy: PodPolicy) -> str | None:
    context = container.get("securityContext") or {}
    if not isinstance(context, dict):
        return "securityContext must be a mapping"
    if context.get("privileged"):
        return "privileged containers are not allowed"
    added = set((context.get("capabilities") or {}).get("add") or []) - BASELINE_CAPABILITIES
    if added:
        return f"capabilities {', '.join(sorted(map(str, added)))} cannot be added (Pod Security baseline)"
    if context.get("allowPrivilegeEscalation") and policy.security == "restricted":
        return "allowPrivilegeEscalation is not allowed (preview.container_security is restricted)"
    if context.get("procMount", "Default") != "Default" or (context.get("windowsOptions") or {}).get("hostProcess"):
        return "procMount and hostProcess are not allowed"
    if _unconfined(context):
        return "an Unconfined seccomp or AppArmor profile is not allowed"
    if any(isinstance(port, dict) and port.get("hostPort") for port in container.get("ports") or []):
        return "hostPort is not allowed: it opens a port on the node"
    return None


def _unconfined(context: Any) -> bool:
    if not isinstance(context, dict):
        return False
    profiles = (context.get("seccompProfile") or {}, context.get("appArmorProfile") or {})
    return any(isinstance(profile, dict) and profile.get("type") == "Unconfined" for profile in profiles)


def _containers(pod: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for container in pod.get(key) or []:
            if isinstance(container, dict):
                yield container


def harden_pod(pod: dict[str, Any], policy: PodPolicy) -> None:
    """Give one pod spec prdeck's settings: no API token unless allowed, seccomp RuntimeDefault, no privilege
    escalation, and (restricted) every capability dropped except those the spec adds from baseline's list."""
    if not policy.service_account_token:
        pod["automountServiceAccountToken"] = False
    context = pod.setdefault("securityContext", {})
    context.setdefault("seccompProfile", {"type": "RuntimeDefault"})
    for container in _containers(pod):
        harden_container(container, policy)


def harden_container(container: dict[str, Any], policy: PodPolicy) -> None:
    context = container.setdefault("securityContext", {})
    context["allowPrivilegeEscalation"] = False
    if policy.security == "restricted":
        capabilities = context.setdefault("capabilities", {})
        capabilities["drop"] = ["ALL"]


def container_security(added: tuple[str, ...], policy: PodPolicy) -> dict[str, Any]:
    """The securityContext of a compose service's container (``cap_add`` already checked against baseline)."""
    container: dict[str, Any] = {}
    harden_container(container, policy)
    if added:
        container["securityContext"].setdefault("capabilities", {})["add"] = list(added)
    return dict(container["securityContext"])
