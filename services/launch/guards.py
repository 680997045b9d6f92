"""The objects that fence a preview in, whatever its spec: namespace (Pod Security), quota, limits, network policy
and secret. Their names start with ``prdeck-``, which a spec may not use (:mod:`prdeck.services.launch.pod_policy`).
"""

from __future__ import annotations

from typing import Any

from prdeck.services import naming
from prdeck.services.config_keys import egress_rule
from prdeck.services.launch.placement import ClusterOptions, Placement, metadata, preview_annotations, public_url

SECRET_NAME = "prdeck-secrets"
CONTAINER_DEFAULTS = {"cpu": "500m", "memory": "512Mi"}
"""The LimitRange's default limits: a container without a limit gets these (so its requests must stay below)."""


def guard_objects(placement: Placement, options: ClusterOptions) -> list[dict[str, Any]]:
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
            "annotations": preview_annotations(placement, public_url(placement, options)),
        },
    }
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": metadata("prdeck-quota", placement),
        "spec": {"hard": {"pods": "20", "requests.cpu": "4", "requests.memory": "8Gi",
                          "limits.cpu": "8", "limits.memory": "16Gi", "persistentvolumeclaims": "5",
                          "requests.storage": "20Gi", "services.loadbalancers": "0", "services.nodeports": "0"}},
    }
    limits = {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": metadata("prdeck-limits", placement),
        "spec": {"limits": [{"type": "Container", "default": dict(CONTAINER_DEFAULTS),
                             "defaultRequest": {"cpu": "50m", "memory": "64Mi"}}]},
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
