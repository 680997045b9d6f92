"""Where one preview runs and how the cluster options shape it: names, URL, prdeck's labels and annotations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prdeck.services import naming
from prdeck.services.launch.pod_policy import PodPolicy
from prdeck.services.launch.quota import QuotaCap
from prdeck.services.models import RepoRef


@dataclass(frozen=True)
class Placement:
    """Where and for what one preview runs."""

    repo: RepoRef
    number: int
    namespace: str
    head_sha: str
    branch: str
    expires_at: datetime
    launched_by: str
    approved_sha: str | None = None
    launch_id: str = ""
    pod_expires_at: datetime | None = None
    """The expiry in the pod template when the pods of this commit already run (kept, so nothing restarts); the
    namespace's ``expires_at`` is the one that counts, and every launch resets it."""


@dataclass(frozen=True)
class ClusterOptions:
    """Config ``cluster.*`` and ``preview.*`` keys that shape the objects."""

    domain: str = ""
    ingress_class: str = ""
    tls_secret: str = ""
    ingress_namespace: str = "ingress-nginx"
    secrets: Mapping[str, str] = field(default_factory=dict)
    """Secret values by name (already read from the environment); empty for forks unless allowed."""
    egress: str | tuple[str, ...] = "dns"
    """``preview.egress`` (or ``preview.fork_egress`` for a fork): "dns", "open" or CIDR[:port] rules."""
    policy: PodPolicy = field(default_factory=PodPolicy)
    quota_cap: QuotaCap = field(default_factory=QuotaCap)
    """``preview.max_cpu`` / ``preview.max_memory``: the most one preview's pods may use."""
    server_version: tuple[int, int] | None = None
    """The cluster's Kubernetes version when known (a launch asks; ``render`` alone assumes a current one)."""


def preview_host(placement: Placement, options: ClusterOptions) -> str | None:
    if not options.domain:
        return None
    return f"{naming.preview_host_label(placement.repo, placement.number)}.{options.domain}"[:253]


def public_url(placement: Placement, options: ClusterOptions) -> str | None:
    """The preview's URL for everyone: its Ingress. None without ``cluster.domain``: then there is no shared URL
    (each maintainer reaches the preview through a port-forward relay on their own machine: ``o``, ``prdeck open``),
    and none goes into the annotations, GitHub's deployment or the launch's output."""
    host = preview_host(placement, options)
    return f"{'https' if options.tls_secret else 'http'}://{host}/" if host else None


def preview_url(placement: Placement, options: ClusterOptions, port: int | None) -> str:
    """What the pods get as PRDECK_URL: the public URL, else the address the relay prefers on the maintainer's
    machine (``http://localhost:<port>/``, right when ``o`` gets that port)."""
    return public_url(placement, options) or f"http://localhost:{port or 80}/"


def metadata(name: str, placement: Placement, extra_labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    labels = {**(extra_labels or {}), **naming.preview_labels(placement.repo, placement.number)}
    return {"name": name, "namespace": placement.namespace, "labels": labels}


def preview_annotations(placement: Placement, url: str | None) -> dict[str, str]:
    """prdeck's annotations; ``url`` is the public URL (none without a domain)."""
    values = {
        naming.ANNOTATION_REPO: placement.repo.full_name,
        naming.ANNOTATION_SHA: placement.head_sha,
        naming.ANNOTATION_BRANCH: placement.branch,
        naming.ANNOTATION_EXPIRES: placement.expires_at.isoformat().replace("+00:00", "Z"),
        naming.ANNOTATION_LAUNCHED_BY: placement.launched_by,
    }
    if url:
        values[naming.ANNOTATION_URL] = url
    if placement.approved_sha:
        values[naming.ANNOTATION_APPROVED_SHA] = placement.approved_sha
    return values


def pod_annotations(placement: Placement, url: str | None) -> dict[str, str]:
    launch = {naming.ANNOTATION_LAUNCH: placement.launch_id} if placement.launch_id else {}
    kept = {naming.ANNOTATION_EXPIRES: placement.pod_expires_at.isoformat().replace("+00:00", "Z")} \
        if placement.pod_expires_at is not None else {}
    return {**preview_annotations(placement, url), **launch, **kept}


