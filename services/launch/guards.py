"""The objects that fence a preview in, whatever its spec: namespace (Pod Security), quota, limits, network policy
and secret. Their names start with ``prdeck-``, which a spec may not use (:mod:`prdeck.services.launch.pod_policy`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prdeck.services import naming
from prdeck.services.config_keys import egress_rule
from prdeck.services.launch.limit_range import DEFAULT_LIMITS, DEFAULT_REQUESTS
from prdeck.services.launch.placement import ClusterOptions, Placement, metadata, preview_annotations, public_url
from prdeck.services.launch.quota import FIXED_HARD

SECRET_NAME = "prdeck-secrets"


def guard_objects(placement: Placement, options: ClusterOptions,
                  quota_hard: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Namespace, quota, limits, network policy and (when configured) the secret: the same for both spec forms.

    ``quota_hard``: the quota sized from the spec (:func:`prdeck.services.launch.quota.size`); without it, the
    configured cap (``preview.max_cpu``, ``preview.max_memory``)."""
    cap = options.quota_cap
    hard = dict(quota_hard) if quota_hard is not None else {
        "requests.cpu": cap.cpu, "requests.memory": cap.memory, "limits.cpu": cap.cpu, "limits.memory": cap.memory,
        **FIXED_HARD}
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
            "annotations": preview_annotations(placement, public_url(placement, options)),
        },
    }
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": metadata("prdeck-quota", placement),
        "spec": {"hard": hard},
    }
    limits = {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": metadata("prdeck-limits", placement),
        "spec": {"limits": [{"type": "Container", "default": dict(DEFAULT_LIMITS),
                             "defaultRequest": dict(DEFAULT_REQUESTS)}]},
    }
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata("prdeck-default-deny", placement),
        "spec": {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {"from": [{"namespaceSelector": {"matchLabels": {
                    "kubernetes.io/metadata.name": options.ingress_namespace}}}]},
                {"from": [{"podSelector": {}}]},
            ],
            "egress": egress_rules(options.egress),
        },
    }
    objects = [namespace, quota, limits, policy]
    if options.secrets:
        objects.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                        "metadata": metadata(SECRET_NAME, placement), "stringData": dict(options.secrets)})
    return objects


def is_guard(obj: Mapping[str, Any]) -> bool:
    """One of the objects above (a spec's own objects cannot take the reserved ``prdeck-`` names)."""
    return obj.get("kind") == "Namespace" or str((obj.get("metadata") or {}).get("name", "")).startswith("prdeck-")


DNS_NAMESPACE = "kube-system"
"""Where the cluster's DNS runs (CoreDNS / kube-dns on kubeadm, kind, k3s, EKS, GKE, AKS)."""


def egress_rules(egress: str | tuple[str, ...] | list[str]) -> list[dict[str, Any]]:
    """``preview.egress`` as NetworkPolicy egress rules. "dns": the cluster's DNS and the preview's own pods;
    "open": anywhere; a list of "CIDR[:port]": those too. Nothing else leaves the namespace (no API server,
    no cloud metadata, no other namespace)."""
    if egress == "open":
        return [{}]
    dns_ports = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    rules: list[dict[str, Any]] = [
        {"to": [{"podSelector": {}}]},
        {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": DNS_NAMESPACE}}}],
         "ports": dns_ports},
    ]
    for text in () if isinstance(egress, str) else egress:
        cidr, port = egress_rule(text)
        rule: dict[str, Any] = {"to": [{"ipBlock": {"cidr": cidr}}]}
        if port is not None:
            rule["ports"] = [{"protocol": "TCP", "port": port}]
        rules.append(rule)
    return rules
