"""How prdeck names and labels what it creates on a cluster (README, "On the cluster").

Pure functions shared by the cluster service, the launcher and the Kubernetes sandbox's seeding.
"""

from __future__ import annotations

import hashlib
import re

from prdeck.services.models import RepoRef

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "prdeck"
LABEL_REPO = "prdeck.dev/repo"
LABEL_PR = "prdeck.dev/pr"
SELECTOR = f"{MANAGED_BY}={MANAGER}"
"""The label selector that finds everything prdeck made, in one list call."""

ANNOTATION_SHA = "prdeck.dev/head-sha"
ANNOTATION_BRANCH = "prdeck.dev/branch"
ANNOTATION_EXPIRES = "prdeck.dev/expires-at"
ANNOTATION_PINNED = "prdeck.dev/pinned"
ANNOTATION_URL = "prdeck.dev/url"
ANNOTATION_LAUNCHED_BY = "prdeck.dev/launched-by"
ANNOTATION_APPROVED_SHA = "prdeck.dev/approved-sha"
ANNOTATION_LAUNCH = "prdeck.dev/launch-id"
"""On the pod template: which launch made these pods (the rollout wait follows only them)."""
ANNOTATION_PHASE = "prdeck.dev/phase"
"""On the namespace: where the newest launch is (building, pushing, deploying, ready, failed, interrupted)."""
ANNOTATION_PHASE_AT = "prdeck.dev/phase-at"
ANNOTATION_PHASE_REASON = "prdeck.dev/phase-reason"
"""On the namespace: why the newest launch failed (``apply: Deployment refused``), shown on a preview without pods."""
ANNOTATION_ASLEEP = "prdeck.dev/asleep"
ANNOTATION_ACTIVE_AT = "prdeck.dev/active-at"
"""When the preview was last woken (a launch records ``phase-at``): reap's idle sleep counts from the later one."""
"""On the namespace: when ``prdeck sleep`` scaled its workloads to zero."""
ANNOTATION_REPLICAS = "prdeck.dev/replicas-before-sleep"
"""On a Deployment or StatefulSet that ``prdeck sleep`` scaled to zero: its replicas before (``wake`` restores them)."""
ANNOTATION_DEPLOYMENT = "prdeck.dev/github-deployment"
"""On the namespace: the GitHub deployment id of the newest launch, so whoever sees it end can report it."""
ANNOTATION_REPORTED = "prdeck.dev/reported"
"""On the namespace: the launch id whose final GitHub status was sent (exactly once, by whoever saw it first)."""
ANNOTATION_SHOWN = "prdeck.dev/github-shown"
"""On the namespace: ``<launch id> <deployment id>`` once GitHub acknowledged every report of that launch ending
ready (the deployment's success and the commit status): what a relaunch that changes nothing may stand on."""
ANNOTATION_CANCEL = "prdeck.dev/cancel"
"""On the namespace: a destroy asks the launch with this id (on any machine) to stop at its next step."""
ANNOTATION_REPO = "prdeck.dev/repo-name"
"""The exact ``owner/name``: the label holds a DNS-safe form that may be shortened."""

DNS_LABEL_MAX = 63
DEFAULT_PREFIX = "prdeck"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


HASH_LENGTH = 10
"""Hex digits of the SHA-256 of the lower-cased ``owner/name`` that tell apart repositories with the same slug."""
_PLAIN = re.compile(r"[a-z0-9]+")


def _digest(text: str, length: int = HASH_LENGTH) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def is_dns_label(name: str) -> bool:
    return len(name) <= DNS_LABEL_MAX and bool(_DNS_LABEL.match(name))


DNS_SUBDOMAIN_MAX = 253


def is_dns_subdomain(name: str) -> bool:
    """A valid object name for most kinds (RFC 1123 subdomain): nothing that could change an API URL's path."""
    return (isinstance(name, str) and len(name) <= DNS_SUBDOMAIN_MAX
            and all(is_dns_label(part) for part in name.split(".")))


def repo_identity(repo: RepoRef) -> str:
    """``Octo/App`` -> ``octo/app``: GitHub compares repository names case-insensitively, so prdeck does too."""
    return repo.full_name.lower()


def repo_slug(repo: RepoRef) -> str:
    """``Acme/Store.Front`` -> ``acme-store-front``: lower case, every other character a dash (not unique)."""
    slug = re.sub(r"[^a-z0-9]+", "-", repo_identity(repo)).strip("-")
    return slug or "repo"


def _is_plain(part: str) -> bool:
    return _PLAIN.fullmatch(part) is not None


def repo_key(repo: RepoRef) -> str:
    """The repository as one DNS-label-safe word that no other repository shares.

    ``octo/app`` -> ``octo-app``: readable when owner and name are only letters and digits (then the one dash
    between them cannot be read two ways). Anything else gets a hash of the lower-cased ``owner/name`` after a
    double dash, which a readable key never contains: ``acme/store-front`` -> ``acme-store-front--<hash>`` and
    ``acme-store/front`` -> ``acme-store-front--<other hash>``.
    """
    owner, name = repo.owner.lower(), repo.name.lower()
    if _is_plain(owner) and _is_plain(name):
        return f"{owner}-{name}"
    return f"{repo_slug(repo)}--{_digest(repo_identity(repo))}"


def _fitted(before: str, repo: RepoRef, after: str) -> str:
    """``<before><repo key><after>`` as a DNS label: when over 63 characters, the slug is cut and the hash kept."""
    name = f"{before}{repo_key(repo)}{after}"
    if len(name) <= DNS_LABEL_MAX:
        return name
    digest = _digest(repo_identity(repo))
    room = DNS_LABEL_MAX - len(before) - len(after) - len(digest) - 2
    head = repo_slug(repo)[: max(room, 0)].rstrip("-")
    return f"{before}{head}--{digest}{after}" if head else f"{before}-{digest}{after}"


def namespace_for(repo: RepoRef, number: int, prefix: str = DEFAULT_PREFIX) -> str:
    """``<prefix>-<owner>-<name>-pr-<number>``, or with a hash when the names could be read two ways (README,
    "On the cluster"). A pure function of the repository, whatever its spelling: every maintainer's prdeck
    computes the same namespace, and two repositories never share one.
    """
    return _fitted(f"{prefix}-", repo, f"-pr-{number}")


def preview_host_label(repo: RepoRef, number: int) -> str:
    """The first label of a preview's Ingress host, ``pr-<number>-<repo key>`` (unique like the namespace)."""
    return _fitted(f"pr-{number}-", repo, "")


def repo_from_label(value: str) -> RepoRef | None:
    """The repository a ``prdeck.dev/repo`` label value names, when it can be read one way only: ``owner.name``
    that :func:`repo_label` gives back unchanged (a hashed or shortened value names no repository)."""
    owner, dot, name = value.partition(".")
    if not dot or not owner or not name:
        return None
    try:
        repo = RepoRef.parse(f"{owner}/{name}")
    except ValueError:
        return None
    return repo if repo_label(repo) == value else None


def repo_label(repo: RepoRef) -> str:
    """``owner.name``, lower-cased, as a label value; with a hash when that could be read two ways or is too long.

    The owner has no dot on GitHub, so the first dot splits the value; a hashed value has no dot at all.
    """
    owner, name = repo.owner.lower(), repo.name.lower()
    value = f"{owner}.{name}"
    if "." not in owner and len(value) <= DNS_LABEL_MAX and _LABEL_VALUE.fullmatch(value):
        return value
    digest = _digest(repo_identity(repo))
    cleaned = re.sub(r"[^a-z0-9]+", "-", value)[: DNS_LABEL_MAX - len(digest) - 1].strip("-")
    return f"{cleaned}-{digest}" if cleaned else digest


def preview_labels(repo: RepoRef, number: int) -> dict[str, str]:
    """The labels on everything prdeck creates for one preview."""
    return {MANAGED_BY: MANAGER, LABEL_REPO: repo_label(repo), LABEL_PR: str(number)}
