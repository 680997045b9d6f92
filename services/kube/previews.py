"""From the kubernetes client's pod and namespace objects to prdeck's previews: one preview per namespace that
carries prdeck's labels, with its pods or without (README, "On the cluster").

A namespace without pods is still a preview: ``empty`` (its pods are gone, or its apply failed), ``failed`` with
the launch's reason when its record says so, ``asleep`` when ``prdeck sleep`` scaled it to zero. Its repository is
the ``prdeck.dev/repo-name`` annotation, else the ``prdeck.dev/repo`` label when that reads one way only, else it is
unknown (an orphan of an unknown PR, which only reap and destroy act on).
"""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime
from typing import Any

from prdeck.services import naming
from prdeck.services.kube.state import READY_DEADLINE, preview_state
from prdeck.services.models import PodStatus, Preview, RepoRef
from prdeck.services.naming import ANNOTATION_EXPIRES, ANNOTATION_REPO, ANNOTATION_SHA, ANNOTATION_URL, LABEL_PR

UNKNOWN_OWNER = "?"
ACTIVE_PHASES = frozenset({"building", "pushing", "deploying"})


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


def previews_from_pods(pods: list[Any], namespaces: list[Any] | None = None) -> list[Preview]:
    """Group prdeck's pods by namespace into previews; with ``namespaces`` (prdeck's, from one list call), those
    without pods are previews too."""
    return PreviewIndex(pods, namespaces).previews()


class PreviewIndex:
    """Pods and prdeck's namespaces, and the preview of each namespace, updated one namespace per watch event
    (two watches may feed it: it takes a lock)."""

    def __init__(self, pods: list[Any], namespaces: list[Any] | None = None) -> None:
        self._pods: dict[str, dict[str, Any]] = {}
        self._namespaces: dict[str, Any] = {ns.metadata.name: ns for ns in namespaces or ()}
        self._previews: dict[str, Preview] = {}
        self._lock = threading.Lock()
        for pod in pods:
            self._pods.setdefault(pod.metadata.namespace, {})[pod.metadata.uid] = pod
        for namespace in set(self._pods) | set(self._namespaces):
            self._refresh(namespace)

    def apply(self, kind: str, pod: Any) -> None:
        namespace = pod.metadata.namespace
        with self._lock:
            members = self._pods.setdefault(namespace, {})
            if kind == "DELETED":
                members.pop(pod.metadata.uid, None)
            else:
                members[pod.metadata.uid] = pod
            self._refresh(namespace)

    def apply_namespace(self, kind: str, ns: Any) -> None:
        name = ns.metadata.name
        with self._lock:
            if kind == "DELETED":
                self._namespaces.pop(name, None)
            else:
                self._namespaces[name] = ns
            self._refresh(name)

    def _refresh(self, namespace: str) -> None:
        members = list(self._pods.get(namespace, {}).values())
        ns = self._namespaces.get(namespace)
        preview = _preview_of(namespace, members, ns) if members or ns is not None else None
        if not members:
            self._pods.pop(namespace, None)
        if preview is None:
            self._previews.pop(namespace, None)
        else:
            self._previews[namespace] = preview

    def previews(self) -> list[Preview]:
        with self._lock:
            return [self._previews[namespace] for namespace in sorted(self._previews)]


def repo_of(labels: dict[str, str], annotations: dict[str, str]) -> RepoRef | None:
    """The exact repository: the annotation, else the label when it reads one way only; None when unknown."""
    with contextlib.suppress(ValueError):
        return RepoRef.parse(annotations.get(ANNOTATION_REPO) or "")
    return naming.repo_from_label(labels.get(naming.LABEL_REPO, ""))


def _preview_of(namespace: str, members: list[Any], ns: Any = None) -> Preview | None:
    """The preview a namespace and its pods make up (None when neither carries prdeck's labels)."""
    if ns is not None and (ns.metadata.labels or {}).get(naming.MANAGED_BY) != naming.MANAGER:
        ns = None  # not prdeck's namespace (made by hand?): its pods alone may still be a preview
    if ns is None and not members:
        return None
    meta = ns.metadata if ns is not None else members[0].metadata
    labels, annotations = dict(meta.labels or {}), dict(meta.annotations or {})
    if ns is not None and members:  # what runs is the pods' commit; the rest is the namespace's (extend, pin)
        pod_annotations = members[0].metadata.annotations or {}
        annotations = {**pod_annotations, **annotations, ANNOTATION_SHA: pod_annotations.get(ANNOTATION_SHA, "")}
        labels = {**(members[0].metadata.labels or {}), **labels}
    number_text = labels.get(LABEL_PR, "")
    repo = repo_of(labels, annotations)
    if ns is None and (repo is None or not number_text.isdigit()):
        return None  # pods alone must say whose they are
    known = repo is not None and number_text.isdigit()
    if repo is None:
        repo = RepoRef(UNKNOWN_OWNER, labels.get(naming.LABEL_REPO) or namespace)
    statuses = tuple(sorted((pod_status(pod) for pod in members), key=lambda p: p.name))
    terminating = ns is not None and (ns.metadata.deletion_timestamp is not None
                                      or (ns.status is not None and ns.status.phase == "Terminating"))
    state, reason = preview_state(statuses, namespace_terminating=terminating)
    if not terminating and naming.ANNOTATION_ASLEEP in annotations:
        state, reason = "asleep", ("pods stopping" if statuses else "scaled to zero")
    elif not statuses and not terminating:
        state, reason = _without_pods(annotations)
    return Preview(
        repo=repo,
        number=int(number_text) if number_text.isdigit() else 0,
        namespace=namespace,
        state=state,
        reason=reason,
        url=annotations.get(ANNOTATION_URL),
        deployed_sha=annotations.get(ANNOTATION_SHA) or None,
        expires_at=_parse_time(annotations.get(ANNOTATION_EXPIRES)),
        pods=statuses,
        pinned=annotations.get(naming.ANNOTATION_PINNED) == "true",
        known=known,
        created_at=ns.metadata.creation_timestamp if ns is not None else None,
        approved_sha=annotations.get(naming.ANNOTATION_APPROVED_SHA) or None,
        active_at=max((moment for moment in (_parse_time(annotations.get(naming.ANNOTATION_PHASE_AT)),
                                             _parse_time(annotations.get(naming.ANNOTATION_ACTIVE_AT))) if moment),
                      default=None),
    )


def _without_pods(annotations: dict[str, str]) -> tuple[str, str | None]:
    """A namespace without pods, from its launch record: a launch under way, a failed one, else ``empty``."""
    phase = annotations.get(naming.ANNOTATION_PHASE, "")
    since = _parse_time(annotations.get(naming.ANNOTATION_PHASE_AT))
    if phase == "deploying" and since is not None and datetime.now(UTC) - since < READY_DEADLINE:
        return "deploying", "no pods yet"
    if phase in ACTIVE_PHASES - {"deploying"}:
        return phase, f"launch {annotations.get(naming.ANNOTATION_LAUNCH, '')}: {phase}".rstrip(": ")
    if phase == "failed":
        return "failed", annotations.get(naming.ANNOTATION_PHASE_REASON) or "the last launch failed"
    if phase == "interrupted":
        return "interrupted", "launch stopped; press l to launch again"
    return "empty", "no pods"
