"""Apply a preview's objects (server-side apply, field manager ``prdeck``) and wait for its rollout with a watch.

A rollout that fails is reported with the pod's reason, the namespace's recent events and the log tail, so the
maintainer sees why without opening another tool.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from prdeck.services.errors import PrdeckError
from prdeck.services.kube.client import CONNECT_TIMEOUT, READ_TIMEOUT, WRITE_TIMEOUT
from prdeck.services.kube.errors import CLUSTER_FAILURES, cluster_errors, status_message
from prdeck.services.kube.previews import pod_status
from prdeck.services.kube.retry import Backoff, Stopped, call_with_retries
from prdeck.services.kube.service import ClusterService
from prdeck.services.kube.state import preview_state
from prdeck.services.kube.warnings import response_warnings
from prdeck.services.naming import ANNOTATION_LAUNCH, SELECTOR

FIELD_MANAGER = "prdeck"
WORKLOAD = "preview"
APPLY_TIMEOUT = 120.0
"""Seconds the apply step may spend retrying transient failures (the objects are applied in well under one)."""
KNOWN_KINDS: dict[tuple[str, str], tuple[str, bool]] = {
    ("v1", "Namespace"): ("namespaces", False),
    ("v1", "Pod"): ("pods", True),
    ("v1", "Service"): ("services", True),
    ("v1", "Secret"): ("secrets", True),
    ("v1", "ConfigMap"): ("configmaps", True),
    ("v1", "ResourceQuota"): ("resourcequotas", True),
    ("v1", "LimitRange"): ("limitranges", True),
    ("v1", "ServiceAccount"): ("serviceaccounts", True),
    ("v1", "PersistentVolumeClaim"): ("persistentvolumeclaims", True),
    ("apps/v1", "Deployment"): ("deployments", True),
    ("apps/v1", "StatefulSet"): ("statefulsets", True),
    ("apps/v1", "DaemonSet"): ("daemonsets", True),
    ("apps/v1", "ReplicaSet"): ("replicasets", True),
    ("batch/v1", "Job"): ("jobs", True),
    ("networking.k8s.io/v1", "Ingress"): ("ingresses", True),
    ("networking.k8s.io/v1", "NetworkPolicy"): ("networkpolicies", True),
}


class DeployError(PrdeckError):
    """Applying the objects or the rollout failed."""

    def __init__(self, title: str, detail: str = "", output: tuple[str, ...] = ()) -> None:
        super().__init__(title, detail)
        self.output = output


class RolloutStopped(PrdeckError):
    """The wait was stopped (the app is quitting); the cluster goes on."""


@dataclass(frozen=True)
class RolloutStatus:
    state: str
    reason: str | None


def object_path(obj: Mapping[str, Any], kinds: Mapping[tuple[str, str], tuple[str, bool]] = KNOWN_KINDS) -> str:
    api_version, kind = str(obj["apiVersion"]), str(obj["kind"])
    found = kinds.get((api_version, kind))
    if found is None:
        raise DeployError(f"prdeck cannot apply {kind} ({api_version})", "Use a kind listed in the README.")
    plural, namespaced = found
    base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    name = obj["metadata"]["name"]
    if namespaced:
        return f"{base}/namespaces/{obj['metadata']['namespace']}/{plural}/{name}"
    return f"{base}/{plural}/{name}"


class Deployer:
    """Blocking apply and rollout calls against one cluster."""

    def __init__(self, cluster: ClusterService) -> None:
        self.cluster = cluster
        self.api_client: client.ApiClient = cluster.api_client

    def apply(
        self,
        objects: Iterable[Mapping[str, Any]],
        on_line: Callable[[str], None],
        on_warning: Callable[[str], None] | None = None,
        timeout: float = APPLY_TIMEOUT,
    ) -> None:
        """Server-side apply each object in turn. A transient failure (5xx, 429, a lost connection) is retried
        until ``timeout`` for the whole step (an apply is idempotent); a refusal (4xx) fails at once.
        ``on_warning`` gets the API server's Warning headers, as ``kind/name: text``."""
        deadline = time.monotonic() + timeout
        for obj in objects:
            path = object_path(obj)
            label = f"{str(obj['kind']).lower()}/{obj['metadata']['name']}"
            with cluster_errors(f"applying {label}"):
                try:
                    warnings = call_with_retries(f"applying {label}", functools.partial(self._apply_one, path, obj),
                                                 deadline, on_retry=on_line)
                    if on_warning is not None:
                        for warning in warnings:
                            on_warning(f"{label}: {warning}")
                except ApiException as exc:
                    raise DeployError(f"The cluster refused {label}", status_message(exc)) from exc
            on_line(f"{label} applied")

    def _apply_one(self, path: str, obj: Mapping[str, Any]) -> list[str]:
        """One server-side apply; the API server's warnings about it."""
        method, url, headers, body, _ = self.api_client.param_serialize(
            "PATCH", path,
            query_params=[("fieldManager", FIELD_MANAGER), ("force", "true")],
            header_params={"Content-Type": "application/apply-patch+yaml", "Accept": "application/json"},
            body=json.loads(json.dumps(obj)),
            auth_settings=["BearerToken"],
        )
        response = self.api_client.call_api(
            method, url, header_params=headers, body=body, _request_timeout=(CONNECT_TIMEOUT, WRITE_TIMEOUT),
        )
        response.read()
        self.api_client.response_deserialize(response, {"2XX": "object"})
        return response_warnings(response)

    def wait_rollout(
        self,
        namespace: str,
        launch_id: str,
        timeout: float,
        on_status: Callable[[RolloutStatus], None],
        stop: threading.Event | None = None,
    ) -> None:
        """Watch the namespace's pods until the pods of this launch are ready, fail, or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        pods: dict[str, Any] = {}
        resource_version = ""
        last: RolloutStatus | None = None
        backoff = Backoff(f"following the rollout in {namespace}", deadline, stop)
        while True:
            remaining = deadline - time.monotonic()
            if stop is not None and stop.is_set():
                raise RolloutStopped("The rollout wait was stopped", "the preview keeps deploying on the cluster")
            if remaining <= 0:
                waiting = not_ready_containers(pods.values(), launch_id)
                still = f": still waiting for {', '.join(waiting)}" if waiting else ""
                raise self._failure(namespace, f"Rollout timed out after {timeout:.0f} s{still}", last)
            try:
                if not resource_version:
                    listing = self.cluster.core.list_namespaced_pod(
                        namespace, label_selector=SELECTOR, _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
                    )
                    pods = {str(pod.metadata.uid): pod for pod in listing.items}  # type: ignore[union-attr]
                    resource_version = str(listing.metadata.resource_version)  # type: ignore[union-attr]
                    backoff.succeeded()
                    last = self._check(namespace, launch_id, pods, last, on_status)
                    if last is not None and last.state == "ready":
                        return
                stream = watch.Watch().stream(  # short rounds so a stop is noticed within 2 s
                    self.cluster.core.list_namespaced_pod, namespace, label_selector=SELECTOR,
                    resource_version=resource_version, timeout_seconds=max(1, min(int(remaining) + 1, 2)),
                    _request_timeout=(CONNECT_TIMEOUT, 2 + READ_TIMEOUT),
                )
                for event in stream:
                    backoff.succeeded()
                    pod = event["object"]
                    resource_version = pod.metadata.resource_version
                    if event["type"] == "DELETED":
                        pods.pop(pod.metadata.uid, None)
                    else:
                        pods[pod.metadata.uid] = pod
                    last = self._check(namespace, launch_id, pods, last, on_status)
                    if last is not None and last.state == "ready":
                        return
                    if time.monotonic() > deadline or (stop is not None and stop.is_set()):
                        break
            except CLUSTER_FAILURES as exc:
                if isinstance(exc, ApiException) and exc.status == 410:
                    resource_version = ""  # too old: list again
                    continue
                self._retry_or_raise(backoff, exc)

    @staticmethod
    def _retry_or_raise(backoff: Backoff, exc: Exception) -> None:
        """Wait to resume the watch (from the last resourceVersion) after a transient failure; a 4xx, or the
        deadline, ends the wait with the cluster's error."""
        try:
            with cluster_errors(backoff.doing):
                backoff.wait(exc)
        except Stopped as stopped:
            raise RolloutStopped("The rollout wait was stopped", "the preview keeps deploying on the cluster") \
                from stopped

    def _check(
        self,
        namespace: str,
        launch_id: str,
        pods: Mapping[str, Any],
        last: RolloutStatus | None,
        on_status: Callable[[RolloutStatus], None],
    ) -> RolloutStatus | None:
        current = [
            pod for pod in pods.values()
            if (pod.metadata.annotations or {}).get(ANNOTATION_LAUNCH) == launch_id
            and pod.metadata.deletion_timestamp is None
        ]
        if not current:
            status = RolloutStatus("deploying", "waiting for pods")
        else:
            state, reason = preview_state(pod_status(pod) for pod in current)
            status = RolloutStatus(state, reason)
        if status != last:
            on_status(status)
        if status.state == "failed":
            raise self._failure(namespace, f"The preview failed: {status.reason}", status)
        return status

    def _failure(self, namespace: str, title: str, status: RolloutStatus | None) -> DeployError:
        lines: list[str] = []
        try:
            for event in self.cluster.events(namespace, limit=8):
                lines.append(f"{event.kind} {event.reason} {event.object}: {event.message}")
        except PrdeckError as exc:
            lines.append(f"(events unavailable: {exc.title})")
        lines.extend(self._log_tail(namespace))
        reason = status.reason if status else "no pod reported"
        return DeployError(title, f"last state: {status.state if status else 'unknown'} ({reason})", tuple(lines))

    def _log_tail(self, namespace: str, lines: int = 20) -> list[str]:
        tail: list[str] = []
        try:
            pods = self.cluster.core.list_namespaced_pod(
                namespace, label_selector=SELECTOR, _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
            ).items
            for pod in list[Any](pods)[:2]:
                tail.extend(exited_cleanly_hints(pod))
                for container in [*(pod.spec.init_containers or []), *pod.spec.containers]:
                    for previous in (False, True):
                        try:
                            text = self.cluster.core.read_namespaced_pod_log(
                                pod.metadata.name, namespace, container=container.name, tail_lines=lines,
                                previous=previous, _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                            )
                        except ApiException:
                            continue
                        if text:
                            label = f"{pod.metadata.name}/{container.name}{' (previous)' if previous else ''}"
                            tail.append(f"--- log of {label}")
                            tail.extend(text.splitlines()[-lines:])
                            break
        except CLUSTER_FAILURES as exc:
            tail.append(f"(logs unavailable: {exc})")
        return tail


def exited_cleanly_hints(pod: Any) -> list[str]:
    """A container that keeps ending with status 0 is a one-shot job run as a service (Compose's default restart
    is "no"; a pod restarts its containers): say how to make it run once, first."""
    hints = []
    for status in pod.status.container_statuses or []:
        last = status.last_state.terminated if status.last_state is not None else None
        if last is not None and last.exit_code == 0 and status.restart_count:
            hints.append(f"hint: {status.name} ended with status 0 and was restarted {status.restart_count} times: "
                         "if it is meant to run once (a migration, a setup step), give the service restart: \"no\" "
                         "in the compose file; it then runs to completion before the others start")
    return hints


def not_ready_containers(pods: Iterable[Any], launch_id: str) -> list[str]:
    """The containers of this launch's pods that are not ready yet (init containers not finished first), as
    ``container web`` / ``init container migrate``: what a rollout timeout was waiting for."""
    names: list[str] = []
    for pod in pods:
        if launch_id and ((pod.metadata.annotations or {}).get(ANNOTATION_LAUNCH) != launch_id):
            continue
        for status in pod.status.init_container_statuses or []:
            ended = status.state.terminated if status.state is not None else None
            if not (ended is not None and not ended.exit_code) and not status.ready:
                names.append(f"init container {status.name}")
        statuses = {status.name: status for status in pod.status.container_statuses or []}
        for container in pod.spec.containers:
            status = statuses.get(container.name)
            if status is None or not status.ready:
                names.append(f"container {container.name}")
    return list(dict.fromkeys(names))
