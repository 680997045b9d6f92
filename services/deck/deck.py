"""The facade the CLI and the screens call: pull requests joined with their previews, and what to do with them.

Nothing above this layer talks to PyGithub, kubernetes or Docker: the deck reads the PR list from GitHub page
by page, keeps the latest state of every preview from one cluster watch, and runs launches and destroys. Its
collaborators are private; :func:`prdeck.services.deck.wiring.open_deck` is the one place that builds them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from prdeck.services.deck.caps import Caps
from prdeck.services.deck.launching import LaunchActions
from prdeck.services.deck.lifecycle import LifecycleActions
from prdeck.services.deck.parallel import side_by_side
from prdeck.services.deck.prefetch import Prefetch
from prdeck.services.deck.queue import LaunchQueue
from prdeck.services.deck.reap import ReapPolicy
from prdeck.services.deck.reconcile import ReconcileActions
from prdeck.services.deck.rows import Overview, PreviewDetail, Snapshot, join
from prdeck.services.errors import NotFound, PrdeckError
from prdeck.services.github.budget import Budget, Pace, Pacer
from prdeck.services.github.changes import PullTracker
from prdeck.services.github.service import GitHubService
from prdeck.services.models import LogLine, Preview, PullDetail, PullRequest, RepoRef

CLOSE_GRACE_SECONDS = 5.0  # how long closing waits for stopped launches to report (milliseconds, usually)

if TYPE_CHECKING:  # the kubernetes client loads only when a cluster is used (it costs ~0.4 s at start-up)
    from prdeck.services.deck.reports import PendingReports
    from prdeck.services.kube.service import ClusterService
    from prdeck.services.launch.launches import Launches
    from prdeck.services.launch.results import Rendered
    from prdeck.services.models import LaunchCheck, LogRequest


@dataclass(frozen=True)
class ClusterParts:
    """A deck's cluster side: the service (or why there is none) and the launch bookkeeping (None: not set up)."""

    cluster: ClusterService | None = None
    problem: PrdeckError | None = None
    launches: Launches | None = None
    reap: ReapPolicy = field(default_factory=ReapPolicy)
    caps: Caps = field(default_factory=Caps)


ClusterConnector = Callable[[], ClusterParts]
"""Connects to the configured cluster (blocking); see :meth:`Deck.connect_cluster`."""


class Deck(LaunchActions, LifecycleActions, ReconcileActions):
    """Pull requests of a fixed set of repositories, and (when a cluster is configured) their previews."""

    def __init__(
        self,
        github: GitHubService,
        repos: Sequence[RepoRef],
        cluster: ClusterParts | None = None,
        *,
        connect_later: ClusterConnector | None = None,
    ) -> None:
        self.repos = tuple(repos)
        self._github = github
        parts = cluster or ClusterParts()
        self._cluster, self._problem, self._launches = parts.cluster, parts.problem, parts.launches
        self._reap_policy, self.caps = parts.reap, parts.caps
        self._connector = connect_later
        self.previews: tuple[Preview, ...] = ()
        """The newest state of every preview (with launches in flight overlaid)."""
        self._prefetch: Prefetch | None = None
        self._cluster_previews: list[Preview] = []
        self._on_previews: Callable[[tuple[Preview, ...]], None] | None = None
        self._pending: PendingReports | None = None
        self._tracker = PullTracker(github, self.repos)
        self._pacer = Pacer()
        self._queue = LaunchQueue(self.caps.max_parallel_launches)

    # pull requests ------------------------------------------------------------------------------------
    def prefetch(self) -> None:
        """Start the first fetch now, in a background thread, so it overlaps the UI's own start-up; the next
        :meth:`snapshots` call takes over the fetch in flight instead of starting another."""
        self._prefetch = Prefetch(self._fetch())

    def snapshot(self) -> Snapshot:
        """One fetch of every repository's open pull requests (blocking: call it from a worker)."""
        *_, last = self.snapshots()
        return last

    def snapshots(self, *, full: bool = True) -> Iterator[Snapshot]:
        """The same fetch, yielding a growing partial snapshot as each page arrives (a first screen shows the first
        hundred rows while the rest are on the wire); the last one is complete.

        ``full=False``: an incremental refresh (:mod:`prdeck.services.github.changes`), one snapshot, unless
        nothing was loaded yet or the last full load is older than its interval."""
        prefetch, self._prefetch = self._prefetch, None
        if prefetch is not None:
            return prefetch
        if full or self._tracker.due_for_full(datetime.now(UTC)):
            return self._fetch()
        return self._refresh()

    def _fetch(self) -> Iterator[Snapshot]:
        pulls: list[PullRequest] = []
        for page in self._tracker.full_pages():
            pulls.extend(page)
            rows = join(pulls, self.previews, self.repos, orphans=False)
            yield Snapshot(self.repos, rows, datetime.now(UTC), complete=False)
        yield self._refreshed(self._tracker.pulls())

    def _refresh(self) -> Iterator[Snapshot]:
        yield self._refreshed(self._tracker.refresh())

    def _refreshed(self, pulls: list[PullRequest]) -> Snapshot:
        self._pacer.record(self._github.budget)
        snapshot = Snapshot(self.repos, join(pulls, self.previews, self.repos), datetime.now(UTC))
        self._finish_reports(self._cluster_previews)  # each refresh also finishes reports nobody sent
        return snapshot

    @property
    def budget(self) -> Budget | None:
        """GitHub's GraphQL points left and their reset, as of the newest answer (None: no answer yet)."""
        return self._github.budget

    def next_refresh(self, base: float) -> Pace:
        """When to refresh next: ``base`` seconds, or longer so that the points left last until the reset."""
        return self._pacer.next_wait(base)

    @property
    def api_url(self) -> str:
        """The GitHub API this deck talks to (a PR URL of another host is not one of its pull requests)."""
        return self._github.api_url

    def overview(self) -> Overview:
        """Pull requests and previews at once, side by side (a slow cluster delays the list by what it takes beyond
        GitHub's time): one GraphQL query per 100 PRs, one list call on the cluster."""
        if self._cluster is None:
            return Overview(self.snapshot(), self._problem)
        snapshot, error = side_by_side(self.snapshot, self.list_previews)
        return Overview(snapshot.with_previews(self.previews), error)

    def detail(self, pull: PullRequest) -> PullDetail:
        return self._github.pull_detail(pull.repo, pull.number)

    # the cluster --------------------------------------------------------------------------------------
    @property
    def has_cluster(self) -> bool:
        """Connected to a cluster (previews can be listed, launched, destroyed)."""
        return self._cluster is not None

    @property
    def cluster_pending(self) -> bool:
        """A cluster connection is set up but not made yet (see :meth:`connect_cluster`)."""
        return self._connector is not None

    @property
    def cluster_problem(self) -> PrdeckError | None:
        """Why there is no cluster (no kubeconfig, unreachable...), once known."""
        return self._problem

    def connect_cluster(self) -> None:
        """Make the connection left for later (blocking). The TUI calls it in a worker after its first frame:
        loading the kubernetes client and the kubeconfig costs about 0.3 s of CPU."""
        connect, self._connector = self._connector, None
        if connect is not None:
            parts = connect()
            self._cluster, self._problem, self._launches = parts.cluster, parts.problem, parts.launches
            self._reap_policy, self.caps = parts.reap, parts.caps
            self._queue = LaunchQueue(self.caps.max_parallel_launches)

    def _require_cluster(self) -> ClusterService:
        if self._cluster is None:
            raise self._problem or NotFound("No Kubernetes cluster configured", "set KUBECONFIG")
        return self._cluster

    # previews -----------------------------------------------------------------------------------------
    def follow_previews(
        self,
        on_change: Callable[[tuple[Preview, ...]], None],
        on_error: Callable[[PrdeckError], None],
        stop: threading.Event,
    ) -> None:
        """Keep :attr:`previews` current from the cluster watch until ``stop`` (blocking: run it in a thread)."""
        cluster = self._require_cluster()

        def changed(previews: list[Preview]) -> None:
            self._cluster_previews = previews
            self.previews = self._overlay(previews)
            on_change(self.previews)

        self._on_previews = on_change
        cluster.follow(changed, on_error, stop)

    def _overlay(self, previews: list[Preview]) -> tuple[Preview, ...]:
        return self._launches.overlay(previews) if self._launches is not None else tuple(previews)

    def _launch_state_changed(self) -> None:
        self.previews = self._overlay(self._cluster_previews)
        if self._on_previews is not None:
            self._on_previews(self.previews)

    def list_previews(self) -> tuple[Preview, ...]:
        self._cluster_previews = self._require_cluster().previews()
        self.previews = self._overlay(self._cluster_previews)
        self._finish_reports(self._cluster_previews)
        return self.previews

    def _finish_reports(self, previews: Sequence[Preview]) -> None:
        """Send the GitHub reports of launches that ended unreported (:mod:`prdeck.services.deck.reports`)."""
        if self._cluster is not None:
            from prdeck.services.deck.reports import PendingReports

            self._pending = self._pending or PendingReports(self._github, self._cluster)
            self._pending.finish(previews, self._launches.namespaces() if self._launches is not None else ())

    def preview_detail(self, preview: Preview) -> PreviewDetail:
        cluster = self._require_cluster()
        return PreviewDetail(cluster.preview(preview.namespace), tuple(cluster.events(preview.namespace)))

    def logs(self, preview: Preview, request: LogRequest, stop: threading.Event) -> Generator[LogLine, None, None]:
        """The preview's log lines (all containers, interleaved); close the generator to end the read."""
        from prdeck.services.kube.logs import preview_logs

        return preview_logs(self._require_cluster(), preview.namespace, request, stop)

    def log_batches(self, preview: Preview, request: LogRequest, stop: threading.Event) -> Iterator[list[LogLine]]:
        """:meth:`logs` in batches, for a screen that draws many lines at a time."""
        from prdeck.services.kube.logs import preview_log_batches

        return preview_log_batches(self._require_cluster(), preview.namespace, request, stop)

    def destroy(self, preview: Preview) -> Iterator[str]:
        """Stop a launch of the preview (here, or ask one elsewhere to), delete its namespace and wait until it is
        gone, then mark its GitHub deployments inactive; yields a line of progress at a time."""
        from prdeck.services.deck.destroying import destroy_preview

        yield from destroy_preview(self._github, self._require_cluster(), self._launches, preview)

    # launches -----------------------------------------------------------------------------------------
    def _require_launches(self) -> Launches:
        self._require_cluster()
        if self._launches is None:
            raise NotFound("Launching is not set up", "prdeck needs a cluster and a registry (registry.url).")
        return self._launches

    def launch_check(self, repo: RepoRef, number: int) -> LaunchCheck:
        """What a maintainer must see before launching: for a fork, the files that run code at build time."""
        return self._require_launches().launcher.check(repo, number)

    def render(self, repo: RepoRef, number: int, spec_file: Path | None = None) -> Rendered:
        """The objects a launch of ``repo#number`` would apply (no side effects); ``spec_file``: a local spec."""
        return self._require_launches().launcher.render(repo, number, spec_file)

    def lasting_url(self, preview: Preview) -> str | None:
        """The preview's Ingress URL on a real domain (it works without prdeck running); None without one."""
        url = preview.url or ""
        host = (preview.host or "").split(":", 1)[0]
        if url and host != "localhost" and not host.endswith(".localhost") and host != "127.0.0.1":
            return url
        return None

    def open_url(self, preview: Preview) -> str:
        """The preview's URL: its Ingress, or a port-forward relay on 127.0.0.1 kept until the deck closes."""
        lasting = self.lasting_url(preview)
        if lasting is not None:
            return lasting
        return self._require_launches().relay_url(self._require_cluster(), preview.namespace)

    def interrupt(self) -> None:
        """Stop every launch at once (Ctrl+C, SIGTERM, quit, a closed pipe); each is recorded as interrupted."""
        if self._launches is not None:
            self._launches.close()

    def close(self) -> None:
        """Stop launches, give them a moment to record how they ended (GitHub, cluster), then close."""
        self.interrupt()
        if self._launches is not None:
            self._launches.wait_idle(CLOSE_GRACE_SECONDS)
        self._github.close()
        if self._cluster is not None:
            self._cluster.close()
