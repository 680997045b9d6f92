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
ANNOTATION_REPO = "prdeck.dev/repo-name"
"""The exact ``owner/name``: the label holds a DNS-safe form that may be shortened."""

DNS_LABEL_MAX = 63
DEFAULT_PREFIX = "prdeck"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _digest(text: str, length: int = 6) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def is_dns_label(name: str) -> bool:
    return len(name) <= DNS_LABEL_MAX and bool(_DNS_LABEL.match(name))


DNS_SUBDOMAIN_MAX = 253


def is_dns_subdomain(name: str) -> bool:
    """A valid object name for most kinds (RFC 1123 subdomain): nothing that could change an API URL's path."""
    return (isinstance(name, str) and len(name) <= DNS_SUBDOMAIN_MAX
            and all(is_dns_label(part) for part in name.split(".")))


def repo_slug(repo: RepoRef) -> str:
    """``Acme/Store.Front`` -> ``acme-store-front``: lower case, every other character a dash."""
    slug = re.sub(r"[^a-z0-9]+", "-", repo.full_name.lower()).strip("-")
    return slug or "repo"


def namespace_for(repo: RepoRef, number: int, prefix: str = DEFAULT_PREFIX) -> str:
    """``<prefix>-<repo-slug>-pr-<number>``, shortened with a hash of the repository when over 63 characters.

    The hash is of the exact ``owner/name``, so two long names that share a prefix never collide.
    """
    tail = f"-pr-{number}"
    name = f"{prefix}-{repo_slug(repo)}{tail}"
    if len(name) <= DNS_LABEL_MAX:
        return name
    digest = _digest(repo.full_name)
    room = DNS_LABEL_MAX - len(prefix) - len(tail) - len(digest) - 2
    head = repo_slug(repo)[: max(room, 0)].rstrip("-")
    return f"{prefix}-{head}-{digest}{tail}" if head else f"{prefix}-{digest}{tail}"


def repo_label(repo: RepoRef) -> str:
    """``owner.name`` as a label value (at most 63 characters, shortened with a hash when longer)."""
    value = f"{repo.owner}.{repo.name}"
    if len(value) <= DNS_LABEL_MAX and _LABEL_VALUE.match(value):
        return value
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", value)[: DNS_LABEL_MAX - 7].strip("-_.")
    return f"{cleaned}-{_digest(repo.full_name)}"


def preview_labels(repo: RepoRef, number: int) -> dict[str, str]:
    """The labels on everything prdeck creates for one preview."""
    return {MANAGED_BY: MANAGER, LABEL_REPO: repo_label(repo), LABEL_PR: str(number)}
