"""From pods to one preview state and reason (pure functions over plain data; no client objects).

The order of precedence is what a maintainer needs to read first: terminating, then failed with the pod's
reason, then ready, else deploying with what it is waiting for.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from prdeck.services.models import PodStatus

FAILED_REASONS = frozenset(
    {
        "ErrImagePull",
        "ImagePullBackOff",
        "CrashLoopBackOff",
        "CreateContainerConfigError",
        "CreateContainerError",
        "InvalidImageName",
        "RunContainerError",
        "OOMKilled",
        "Error",
        "Evicted",
    }
)
FAILED_REASONS = FAILED_REASONS | {f"Init:{reason}" for reason in FAILED_REASONS}
"""A failing init container fails the pod for good: nothing after it starts (kubectl's ``Init:`` reasons)."""
READY_DEADLINE = timedelta(minutes=5)
"""A pod running this long without passing readiness is reported as failed, not as still deploying."""
EXPIRING_WITHIN = timedelta(hours=1)


def preview_state(
    pods: Iterable[PodStatus], *, namespace_terminating: bool = False, now: datetime | None = None
) -> tuple[str, str | None]:
    pods = list(pods)
    now = now or datetime.now(UTC)
    if namespace_terminating or any(pod.deleting for pod in pods):
        return "terminating", None
    for pod in pods:
        if pod.reason in FAILED_REASONS or pod.phase == "Failed":
            return "failed", pod.reason or "Failed"
        if pod.restarts and not pod.ready:
            return "failed", f"restarting ({pod.restarts} restarts)"
    if not pods:
        return "deploying", "no pods yet"
    if all(pod.ready for pod in pods):
        return "ready", None
    waiting = next(pod for pod in pods if not pod.ready)
    if waiting.phase == "Running" and waiting.started_at and now - waiting.started_at > READY_DEADLINE:
        return "failed", "never became ready"
    return "deploying", waiting.reason or ("not ready" if waiting.phase == "Running" else waiting.phase)


def with_head(
    state: str, deployed_sha: str | None, head_sha: str, expires_at: datetime | None, now: datetime | None = None
) -> str:
    """The state as the PR row shows it: ``stale`` when the PR head moved, ``expiring`` close to its TTL."""
    if state != "ready":
        return state
    if deployed_sha and deployed_sha != head_sha:
        return "stale"
    if expires_at is not None and expires_at - (now or datetime.now(UTC)) < EXPIRING_WITHIN:
        return "expiring"
    return state
