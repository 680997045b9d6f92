"""A launch's phase, recorded on its namespace, so every prdeck — this one, another terminal, another
maintainer's — sees the same launch: where it is, whether it was cut off or destroyed, and whether GitHub has been
told how it ended (README, "Launching").

The namespace is created (with its guards) right after the spec is read; later steps only *patch* it, which can
never create it again: a launch whose namespace was destroyed meanwhile stops instead of bringing it back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubernetes.client.rest import ApiException

from prdeck.services import naming
from prdeck.services.kube.client import CONNECT_TIMEOUT, READ_TIMEOUT
from prdeck.services.kube.errors import cluster_errors
from prdeck.services.kube.raw import READ_FAILURES, get_json
from prdeck.services.kube.service import ClusterService
from prdeck.services.launch.results import LaunchCancelled, LaunchDestroyed

ACTIVE_PHASES = frozenset({"building", "pushing", "deploying"})


@dataclass(frozen=True)
class NamespaceRecord:
    """What one namespace says about its newest launch."""

    namespace: str
    resource_version: str
    annotations: Mapping[str, str]
    terminating: bool = False

    @property
    def launch_id(self) -> str:
        return self.annotations.get(naming.ANNOTATION_LAUNCH, "")

    @property
    def phase(self) -> str:
        return self.annotations.get(naming.ANNOTATION_PHASE, "")

    @property
    def unreported(self) -> bool:
        """A launch that ended (or may have) without its final GitHub status."""
        return bool(self.launch_id and self.annotations.get(naming.ANNOTATION_DEPLOYMENT)
                    and self.annotations.get(naming.ANNOTATION_REPORTED) != self.launch_id)


def now_text() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class ClusterRecord:
    """Reads and patches the launch annotations of preview namespaces (blocking)."""

    def __init__(self, cluster: ClusterService) -> None:
        self.cluster = cluster

    def read(self, namespace: str) -> NamespaceRecord | None:
        """The namespace's record, or None when it does not exist."""
        with cluster_errors(f"reading {namespace}"):
            ns = get_json(self.cluster, f"/api/v1/namespaces/{namespace}")
        if ns is None:
            return None
        metadata, status = ns.get("metadata") or {}, ns.get("status") or {}
        terminating = bool(metadata.get("deletionTimestamp")) or status.get("phase") == "Terminating"
        return NamespaceRecord(metadata.get("name", namespace), metadata.get("resourceVersion", ""),
                               dict(metadata.get("annotations") or {}), terminating)

    def list(self) -> list[NamespaceRecord]:
        """Every preview namespace's record: one list call by prdeck's label."""
        with cluster_errors("listing preview namespaces"):
            listing: Any = self.cluster.core.list_namespace(label_selector=naming.SELECTOR,
                                                            _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
        return [_record(ns) for ns in listing.items]

    def quota_used(self, namespace: str) -> dict[str, Any] | None:
        """``status.used`` of the namespace's ``prdeck-quota``: what its pods use now (a relaunch rolls next to
        them). None when there is no quota or it cannot be read: the new one is sized from the spec alone."""
        try:
            quota = get_json(self.cluster, f"/api/v1/namespaces/{namespace}/resourcequotas/prdeck-quota")
        except READ_FAILURES:  # no known quota: the launch goes on, its quota sized from the spec alone
            return None
        used = ((quota or {}).get("status") or {}).get("used")
        return dict(used) if isinstance(used, dict) else None

    def mark(self, namespace: str, annotations: Mapping[str, str | None], resource_version: str | None = None) -> bool:
        """Merge ``annotations`` into the namespace's (a PATCH never creates it; None removes one). False when the
        namespace is gone or, with ``resource_version``, when someone changed it first (409: they won)."""
        metadata: dict[str, Any] = {"annotations": dict(annotations)}
        if resource_version:
            metadata["resourceVersion"] = resource_version
        with cluster_errors(f"recording the launch on {namespace}"):
            try:
                api = self.cluster.api_client
                method, url, headers, payload = self._patch(namespace, {"metadata": metadata})
                response = api.call_api(method, url, header_params=headers, body=payload,
                                        _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
                response.read()
                api.response_deserialize(response, {"2XX": "object"})
            except ApiException as exc:
                if exc.status in (404, 409):
                    return False
                raise
        return True

    def _patch(self, namespace: str, body: Mapping[str, Any]) -> tuple[Any, ...]:
        method, url, headers, payload, _ = self.cluster.api_client.param_serialize(
            "PATCH", f"/api/v1/namespaces/{namespace}",
            header_params={"Content-Type": "application/merge-patch+json", "Accept": "application/json"},
            body=json.loads(json.dumps(body)), auth_settings=["BearerToken"],
        )
        return method, url, headers, payload

    def phase(self, namespace: str, phase: str, **extra: str) -> bool:
        return self.mark(namespace, {naming.ANNOTATION_PHASE: phase, naming.ANNOTATION_PHASE_AT: now_text(), **extra})

    def require_ours(self, namespace: str, launch_id: str) -> NamespaceRecord:
        """The launch goes on only while its namespace is there, not terminating, still its own and not asked to
        stop; else LaunchCancelled (a destroy, here or on another machine, won)."""
        record = self.read(namespace)
        if record is None or record.terminating:
            raise LaunchDestroyed("The preview was destroyed during the launch",
                                  f"{namespace} is {'gone' if record is None else 'being deleted'}; the launch stops "
                                  "and does not bring it back. Launch again to make a new preview.")
        if record.annotations.get(naming.ANNOTATION_CANCEL) == launch_id:
            raise LaunchDestroyed("The launch was cancelled by a destroy", f"{namespace} is being destroyed.")
        if record.launch_id and record.launch_id != launch_id:
            raise LaunchCancelled("Another launch of this pull request took over",
                                  f"{namespace} now belongs to launch {record.launch_id}.")
        return record


def _record(ns: Any) -> NamespaceRecord:
    terminating = ns.metadata.deletion_timestamp is not None or (ns.status is not None and ns.status.phase ==
                                                                   "Terminating")
    return NamespaceRecord(ns.metadata.name, ns.metadata.resource_version or "",
                           dict(ns.metadata.annotations or {}), terminating)
