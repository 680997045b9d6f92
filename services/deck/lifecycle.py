"""The deck's actions on one preview's life: find it where it is, show its status, extend, pin, sleep and wake it.

A preview is found by prdeck's labels (``prdeck.dev/pr`` and the repository), not by the namespace the current
``cluster.namespace_prefix`` would give it: one made under another prefix, or by an older prdeck, is reached too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from prdeck.services import naming
from prdeck.services.deck.rows import PreviewStatus, at_head
from prdeck.services.errors import NotFound, PrdeckError, UsageError
from prdeck.services.models import Preview, RepoRef

if TYPE_CHECKING:
    from prdeck.services.deck.caps import Caps
    from prdeck.services.deck.reap import ReapPlan, ReapPolicy, ReapResult
    from prdeck.services.github.service import GitHubService
    from prdeck.services.kube.service import ClusterService
    from prdeck.services.launch.launches import Launches


class LifecycleActions:
    """Mixed into :class:`prdeck.services.deck.deck.Deck` (which provides the attributes declared here)."""

    _github: GitHubService
    _launches: Launches | None
    _reap_policy: ReapPolicy
    repos: tuple[RepoRef, ...]
    caps: Caps

    def _require_cluster(self) -> ClusterService:
        raise NotImplementedError

    def _finish_reports(self, previews: Sequence[Preview]) -> None:
        raise NotImplementedError

    # finding ------------------------------------------------------------------------------------------
    def _discover(self, repo: RepoRef, number: int) -> tuple[str, Any]:
        """The namespace of ``repo#number``'s preview, found by its labels (one list call), preferring the one the
        current prefix names, with the namespace object; that name and None when none is labelled."""
        from prdeck.services.kube.previews import repo_of

        cluster = self._require_cluster()
        computed = naming.namespace_for(repo, number, cluster.prefix)
        found = {ns.metadata.name: ns for ns in cluster.namespaces_of_pr(number)
                 if repo_of(ns.metadata.labels or {}, ns.metadata.annotations or {}) == repo}
        if not found:
            return computed, None
        name = computed if computed in found else sorted(found)[0]
        return name, found[name]

    def find_preview(self, repo: RepoRef, number: int) -> Preview:
        """The preview of ``repo#number`` (with pods or without), or NotFound naming the namespace looked at."""
        namespace, ns = self._discover(repo, number)
        try:
            return self._require_cluster().preview(namespace, ns)
        except NotFound as exc:
            self._pull_exists(repo, number)
            raise NotFound(f"{repo}#{number} has no preview", f"no namespace {namespace}") from exc

    def _pull_exists(self, repo: RepoRef, number: int) -> None:
        """NotFound "#n does not exist" for a PR GitHub does not know (rather than "has no preview"); when GitHub
        cannot be asked, nothing: the caller says what it knows."""
        try:
            self._github.pull_detail(repo, number)
        except NotFound:
            raise
        except PrdeckError:
            return

    def status(self, repo: RepoRef, number: int) -> PreviewStatus:
        """The PR's head and its preview (pods, recent events); GitHub and the cluster are both asked."""
        cluster = self._require_cluster()
        namespace, ns = self._discover(repo, number)
        detail = self._github.pull_detail(repo, number)
        try:
            preview = cluster.preview(namespace, ns)
        except NotFound:
            return PreviewStatus(repo, number, namespace, detail, None, ())
        self._finish_reports([preview])
        preview = at_head(preview, detail.head_sha)
        return PreviewStatus(repo, number, namespace, detail, preview, tuple(cluster.events(namespace)))

    # expiry -------------------------------------------------------------------------------------------
    @property
    def ttl(self) -> timedelta:
        """``preview.ttl_hours``: how long a launch gives a preview, and what extend adds by default."""
        return timedelta(hours=self._require_cluster().ttl_hours)

    def extend(self, preview: Preview, by: timedelta | None = None) -> datetime:
        """Push the preview's expiry back by ``by`` (default: the TTL) from now or its current expiry, whichever
        is later; returns the new expiry."""
        from prdeck.services.kube.lifecycle import annotate, time_text

        if by is not None and by <= timedelta(0):
            raise UsageError("Cannot extend by a negative time", "use a duration like 24h or 3d")
        now = datetime.now(UTC).replace(microsecond=0)
        start = max(now, preview.expires_at) if preview.expires_at is not None else now
        expires = start + (by or self.ttl)
        annotate(self._require_cluster(), preview.namespace, {naming.ANNOTATION_EXPIRES: time_text(expires)})
        return expires

    def pin(self, preview: Preview) -> None:
        """Never expire (reap leaves a pinned preview alone)."""
        from prdeck.services.kube.lifecycle import annotate

        annotate(self._require_cluster(), preview.namespace, {naming.ANNOTATION_PINNED: "true"})

    def unpin(self, preview: Preview) -> datetime:
        """Expire again: a TTL from now at the earliest (a preview pinned for weeks is not reaped the minute after).
        Returns its expiry."""
        from prdeck.services.kube.lifecycle import annotate, time_text

        floor = datetime.now(UTC).replace(microsecond=0) + self.ttl
        expires = max(floor, preview.expires_at) if preview.expires_at is not None else floor
        annotate(self._require_cluster(), preview.namespace,
                 {naming.ANNOTATION_PINNED: None, naming.ANNOTATION_EXPIRES: time_text(expires)})
        return expires

    # sleep --------------------------------------------------------------------------------------------
    def sleep(self, preview: Preview) -> int:
        """Scale the preview's workloads to zero, keeping its namespace, objects and URL (state ``asleep``);
        returns how many workloads were scaled."""
        from prdeck.services.kube.lifecycle import sleep

        if preview.state == "terminating":
            raise UsageError(f"{preview.key} is being destroyed", "there is nothing to put to sleep")
        return sleep(self._require_cluster(), preview.namespace)

    def wake(self, preview: Preview) -> int:
        """Scale an asleep preview's workloads back (no build, the same images); returns how many. CapReached when
        that would pass ``preview.max_previews``."""
        from prdeck.services.kube.lifecycle import wake
        from prdeck.services.launch.caps import check_wake

        cluster = self._require_cluster()
        if preview.state == "asleep":
            check_wake(cluster, preview.namespace, self.caps.max_previews)
        return wake(cluster, preview.namespace)

    # reap ---------------------------------------------------------------------------------------------
    def reap_plan(self, older_than: timedelta | None = None, idle: timedelta | None = None) -> ReapPlan:
        """What reap would remove, and put to sleep (README, "Reaping"): two list calls on the cluster, one GraphQL
        query per 100 open pull requests; nothing changes. ``idle`` overrides ``preview.idle_sleep_hours``."""
        from dataclasses import replace

        from prdeck.services.deck.reap import plan_reap

        previews = self._require_cluster().previews()
        open_pulls = {(pull.repo, pull.number) for repo in self.repos
                      for page in self._github.open_pull_pages(repo) for pull in page}
        policy = replace(self._reap_policy, idle=idle) if idle is not None else self._reap_policy
        return plan_reap(previews, self.repos, open_pulls, datetime.now(UTC), policy, older_than)

    def reap(self, plan: ReapPlan, on_line: Callable[[str], None] = lambda _line: None) -> ReapResult:
        """Remove what ``plan`` lists: namespaces (in parallel, not waiting for them to be gone), GitHub
        deployments marked inactive, registry tags ``pr-<n>-*``, launch journal entries."""
        from prdeck.services.deck.reap import carry_out
        from prdeck.services.github.report import mark_inactive
        from prdeck.services.kube.lifecycle import delete_namespace, sleep
        from prdeck.services.launch.registry_tags import RegistryTags

        cluster, registry = self._require_cluster(), self._reap_policy.registry

        def delete_tags(pulls: list[tuple[RepoRef, int]], warn: Callable[[str], None]) -> list[str]:
            if registry is None:
                warn("registry.url is not set: the previews' image tags were not deleted")
                return []
            return RegistryTags(registry, warn).delete_pulls(pulls)

        def forget(namespace: str) -> None:
            if self._launches is not None:
                self._launches.forget(namespace)

        return carry_out(plan, lambda namespace: delete_namespace(cluster, namespace),
                         lambda repo, number, warn: mark_inactive(self._github, repo, number, warn),
                         delete_tags, forget, on_line, lambda namespace: sleep(cluster, namespace))


def duration(text: str) -> timedelta:
    """``90m``, ``24h``, ``3d``, ``1w`` -> a timedelta; UsageError otherwise."""
    units: dict[str, Any] = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    text = text.strip()
    try:
        amount, unit = int(text[:-1]), units[text[-1]]
    except (ValueError, KeyError, IndexError) as exc:
        raise UsageError(f"Not a duration: {text!r}", "use 90m, 24h, 3d or 1w") from exc
    if amount <= 0:
        raise UsageError(f"Not a duration: {text!r}", "use a positive one: 90m, 24h, 3d or 1w")
    return timedelta(seconds=amount * unit)
