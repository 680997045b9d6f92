"""``preview.max_previews``: how many live previews a cluster holds, counted from the cluster itself.

The count is the namespaces with prdeck's labels that are not being deleted and not asleep, so every maintainer's
prdeck (and CI's) shares it. A launch checks it right after it created its namespace and before it builds: the
namespaces are ordered by creation time (then name), and a new one past the cap is deleted again and the launch
refused. Two launches racing for the last place both see both namespaces in the same order, so exactly one goes
on, and neither has built anything.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prdeck.services import naming
from prdeck.services.errors import UsageError
from prdeck.services.kube.client import CONNECT_TIMEOUT, READ_TIMEOUT
from prdeck.services.kube.errors import cluster_errors
from prdeck.services.kube.service import ClusterService

SHOWN = 10
"""Live previews named in the refusal; more are counted."""


class CapReached(UsageError):
    """A launch past ``preview.max_previews``, refused before anything was built."""

    exit_code = 1

    def __init__(self, title: str, detail: str, live: tuple[str, ...]) -> None:
        super().__init__(title, detail)
        self.live = live
        """The other live previews' namespaces, oldest first: what could be reaped or slept."""


def live_namespaces(cluster: ClusterService) -> list[Any]:
    """The live preview namespaces (one list call), oldest first."""
    with cluster_errors("listing preview namespaces"):
        listing: Any = cluster.core.list_namespace(label_selector=naming.SELECTOR,
                                                   _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
    live = [ns for ns in listing.items if not ns.metadata.deletion_timestamp
            and naming.ANNOTATION_ASLEEP not in (ns.metadata.annotations or {})
            and (ns.status is None or ns.status.phase != "Terminating")]
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(live, key=lambda ns: (ns.metadata.creation_timestamp or oldest, ns.metadata.name))


def check_cap(cluster: ClusterService, namespace: str, cap: int) -> None:
    """CapReached when ``namespace`` is not among the first ``cap`` live previews (``cap`` 0: no cap)."""
    if cap <= 0:
        return
    live = live_namespaces(cluster)
    if namespace in [ns.metadata.name for ns in live][:cap]:
        return
    raise _reached([ns for ns in live if ns.metadata.name != namespace], cap, "", "nothing was built; ")


def check_wake(cluster: ClusterService, namespace: str, cap: int) -> None:
    """CapReached when waking the asleep ``namespace`` would make more live previews than ``cap`` (0: no cap)."""
    if cap <= 0:
        return
    live = [ns for ns in live_namespaces(cluster) if ns.metadata.name != namespace]
    if len(live) >= cap:
        raise _reached(live, cap, f": waking {namespace} would pass it", "")


def _reached(others: list[Any], cap: int, why: str, lead: str) -> CapReached:
    """The refusal naming the ``others`` live previews, what could be reaped or slept first."""
    return CapReached(
        f"The cluster already has {len(others)} live preview{'s' if len(others) != 1 else ''} "
        f"(preview.max_previews is {cap}){why}",
        f"{lead}reap or sleep one first (prdeck reap --dry-run, prdeck sleep PR): "
        + ", ".join(_described(ns) for ns in others[:SHOWN])
        + (f" and {len(others) - SHOWN} more" if len(others) > SHOWN else ""),
        tuple(ns.metadata.name for ns in others))


def _described(ns: Any) -> str:
    annotations = ns.metadata.annotations or {}
    repo, pr = annotations.get(naming.ANNOTATION_REPO), (ns.metadata.labels or {}).get(naming.LABEL_PR)
    what = f"{repo}#{pr}" if repo and pr else ns.metadata.name
    expires = annotations.get(naming.ANNOTATION_EXPIRES, "")
    pinned = annotations.get(naming.ANNOTATION_PINNED) == "true"
    try:
        expired = not pinned and datetime.fromisoformat(expires.replace("Z", "+00:00")) <= datetime.now(UTC)
    except ValueError:
        expired = False
    return what + (" (expired)" if expired else " (pinned)" if pinned else "")


def refuse_past_cap(cluster: ClusterService, namespace: str, cap: int) -> None:
    """:func:`check_cap` for a namespace this launch just created: past the cap, it is deleted again (not waited
    for) and CapReached raised."""
    try:
        check_cap(cluster, namespace, cap)
    except CapReached:
        from prdeck.services.kube.lifecycle import delete_namespace

        delete_namespace(cluster, namespace)
        raise
