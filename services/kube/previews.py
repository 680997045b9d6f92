"""From the kubernetes client's pod objects to prdeck's previews: one preview per namespace of prdeck's pods."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from prdeck.services.kube.state import preview_state
from prdeck.services.models import PodStatus, Preview, RepoRef
from prdeck.services.naming import ANNOTATION_EXPIRES, ANNOTATION_REPO, ANNOTATION_SHA, ANNOTATION_URL, LABEL_PR


def pod_status(pod: Any) -> PodStatus:
    status = pod.status
    containers = tuple(c.name for c in pod.spec.containers)
    reason = status.reason
    restarts = 0
    ready = False
    for condition in status.conditions or []:
        if condition.type == "Ready":
            ready = condition.status == "True"
    for init in status.init_container_statuses or []:  # kubectl's Init:CrashLoopBackOff, Init:Error
        restarts += init.restart_count or 0
        state = init.state
        if state is not None and state.waiting is not None and reason is None \
                and state.waiting.reason not in (None, "PodInitializing"):
            reason = f"Init:{state.waiting.reason}"
        elif state is not None and state.terminated is not None and reason is None and state.terminated.exit_code:
            reason = f"Init:{state.terminated.reason or 'Error'}"
    for container in status.container_statuses or []:
        restarts += container.restart_count or 0
        state = container.state
        if state is not None and state.waiting is not None and reason is None:
            reason = state.waiting.reason
        elif state is not None and state.terminated is not None and reason is None and state.terminated.exit_code:
            reason = state.terminated.reason or "Error"
    if reason is None and not status.container_statuses and status.phase == "Pending":
        reason = "Pending"
    return PodStatus(
        name=pod.metadata.name,
        phase=status.phase or "Unknown",
        ready=ready,
        reason=reason,
        restarts=restarts,
        containers=containers,
        deleting=pod.metadata.deletion_timestamp is not None,
        started_at=status.start_time,
    )


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    with contextlib.suppress(ValueError):
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def previews_from_pods(pods: list[Any]) -> list[Preview]:
    """Group prdeck's pods by namespace into previews."""
    grouped: dict[str, list[Any]] = {}
    for pod in pods:
        grouped.setdefault(pod.metadata.namespace, []).append(pod)
    previews = [_preview_of(namespace, members) for namespace, members in sorted(grouped.items())]
    return [preview for preview in previews if preview is not None]


class PreviewIndex:
    """Pods by namespace and the preview of each, updated one namespace per watch event."""

    def __init__(self, pods: list[Any]) -> None:
        self._pods: dict[str, dict[str, Any]] = {}
        self._previews: dict[str, Preview] = {}
        for pod in pods:
            self._pods.setdefault(pod.metadata.namespace, {})[pod.metadata.uid] = pod
        for namespace in self._pods:
            self._refresh(namespace)

    def apply(self, kind: str, pod: Any) -> None:
        namespace = pod.metadata.namespace
        members = self._pods.setdefault(namespace, {})
        if kind == "DELETED":
            members.pop(pod.metadata.uid, None)
        else:
            members[pod.metadata.uid] = pod
        self._refresh(namespace)

    def _refresh(self, namespace: str) -> None:
        members = list(self._pods.get(namespace, {}).values())
        preview = _preview_of(namespace, members) if members else None
        if preview is None:
            self._previews.pop(namespace, None)
            self._pods.pop(namespace, None)
        else:
            self._previews[namespace] = preview

    def previews(self) -> list[Preview]:
        return [self._previews[namespace] for namespace in sorted(self._previews)]


def _preview_of(namespace: str, members: list[Any]) -> Preview | None:
    """The preview a namespace's pods make up (None when they lack prdeck's labels)."""
    first = members[0].metadata
    labels, annotations = first.labels or {}, first.annotations or {}
    number = labels.get(LABEL_PR, "")
    try:
        repo = RepoRef.parse(annotations.get(ANNOTATION_REPO) or "")
    except ValueError:
        return None
    if not number.isdigit():
        return None
    statuses = tuple(sorted((pod_status(pod) for pod in members), key=lambda p: p.name))
    state, reason = preview_state(statuses)
    return Preview(
        repo=repo,
        number=int(number),
        namespace=namespace,
        state=state,
        reason=reason,
        url=annotations.get(ANNOTATION_URL),
        deployed_sha=annotations.get(ANNOTATION_SHA),
        expires_at=_parse_time(annotations.get(ANNOTATION_EXPIRES)),
        pods=statuses,
    )
