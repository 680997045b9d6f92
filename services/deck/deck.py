"""The facade the screens call: pull requests joined with their previews.

Screens never talk to PyGithub or kubernetes directly; they call a :class:`Deck`. The deck reads the PR list
from GitHub page by page and keeps the latest state of every preview from one cluster watch; :func:`join`
puts the two together, marks stale and expiring previews, and lists previews whose PR is not open (orphans).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from prdeck.services.errors import NotFound, PrdeckError
from prdeck.services.github.service import GitHubService
from prdeck.services.kube.state import with_head
from prdeck.services.models import ClusterEvent, LogLine, Preview, PullDetail, PullRequest, RepoRef
from prdeck.services.naming import namespace_for

if TYPE_CHECKING:  # the kubernetes client loads only when a cluster is used (it costs ~0.4 s at start-up)
    from prdeck.services.kube.service import ClusterService
    from prdeck.services.launch.launches import Launches
    from prdeck.services.launch.pipeline import LaunchResult
    from prdeck.services.models import LaunchCheck, LaunchEvent, LogRequest

ORPHAN_TITLE = "(PR closed or gone: orphaned preview)"

ClusterConnector = Callable[[], "tuple[ClusterService | None, PrdeckError | None, Launches | None]"]
"""Connects to the configured cluster: the service (or why there is none) and the launch bookkeeping."""


@dataclass(frozen=True)
class Row:
    """One line of the main table: a pull request and its preview (None: no preview)."""

    pull: PullRequest
    preview: Preview | None = None
    orphan: bool = False
    """A preview whose pull request is closed or gone; ``pull`` then only carries the repo and number."""

    @property
    def key(self) -> str:
        return f"{self.pull.repo}#{self.pull.number}"


@dataclass(frozen=True)
class Snapshot:
    """Everything the list view shows, as of ``fetched_at``."""

    repos: tuple[RepoRef, ...]
    rows: tuple[Row, ...]
    fetched_at: datetime
    complete: bool = True

    @property
    def pulls(self) -> list[PullRequest]:
        return [row.pull for row in self.rows if not row.orphan]

    @property
    def orphans(self) -> list[Preview]:
        return [row.preview for row in self.rows if row.orphan and row.preview is not None]

    def with_previews(self, previews: Iterable[Preview]) -> Snapshot:
        """The same pull requests joined with a newer state of the previews."""
        return replace(self, rows=join(self.pulls, previews, self.repos, orphans=self.complete))


@dataclass(frozen=True)
class PreviewDetail:
    preview: Preview
    events: tuple[ClusterEvent, ...]


def _repo_ref(full_name: str) -> RepoRef:
    owner, _, name = full_name.partition("/")
    return RepoRef(owner, name)


def _orphan_pull(preview: Preview) -> PullRequest:
    return PullRequest(
        repo=preview.repo,
        number=preview.number,
        title=ORPHAN_TITLE,
        author="",
        branch="",
        head_sha=preview.deployed_sha or "",
        fork=False,
        draft=False,
        labels=(),
        ci=None,
        review=None,
        updated_at=datetime.fromtimestamp(0, UTC),
        url="",
    )


def at_head(preview: Preview, head_sha: str) -> Preview:
    """The preview as a PR row shows it: stale when the PR head moved since it was deployed, or expiring."""
    state = with_head(preview.state, preview.deployed_sha, head_sha, preview.expires_at)
    if state == preview.state:
        return preview
    reason = f"PR head moved to {head_sha[:7]}" if state == "stale" else preview.reason
    return replace(preview, state=state, reason=reason)


def join(
    pulls: Iterable[PullRequest], previews: Iterable[Preview], repos: Iterable[RepoRef], *, orphans: bool = True
) -> tuple[Row, ...]:
    """Rows for ``pulls`` with their previews (stale/expiring marked), then orphan previews of ``repos``."""
    wanted = {repo.full_name for repo in repos}
    by_key = {(p.repo, p.number): p for p in previews if p.repo in wanted}
    rows = []
    for pull in pulls:
        preview = by_key.pop((pull.repo, pull.number), None)
        rows.append(Row(pull, at_head(preview, pull.head_sha) if preview is not None else None))
    if orphans:
        rows.extend(Row(_orphan_pull(p), p, orphan=True) for _, p in sorted(by_key.items()))
    return tuple(rows)


class Deck:
    """Pull requests of a fixed set of repositories, and (when a cluster is configured) their previews."""

    def __init__(
        self,
        github: GitHubService,
        repos: list[RepoRef],
        cluster: ClusterService | None = None,
        cluster_problem: PrdeckError | None = None,
        launches: Launches | None = None,
    ) -> None:
        self.github = github
        self.repos = tuple(repos)
        self.cluster = cluster
        self.cluster_problem = cluster_problem
        self.launches = launches
        """Set when launching is configured (see :func:`prdeck.services.deck.wiring.launches_for`)."""
        self.previews: tuple[Preview, ...] = ()
        self._connector: ClusterConnector | None = None
        self._prefetch: Prefetch | None = None
        self._cluster_previews: list[Preview] = []
        self._on_previews: Callable[[tuple[Preview, ...]], None] | None = None

    # pull requests ------------------------------------------------------------------------------------
    def prefetch(self) -> None:
        """Start the first fetch now, in a background thread, so it overlaps the UI's own start-up.

        The next :meth:`snapshots` call takes over the fetch in flight instead of starting another.
        """
        self._prefetch = Prefetch(self._fetch())

    def snapshot(self) -> Snapshot:
        """One fetch of every repository's open pull requests (blocking: call it from a worker)."""
        *_, last = self.snapshots()
        return last

    def snapshots(self) -> Iterator[Snapshot]:
        """The same fetch, yielding a growing partial snapshot as each page arrives; the last one is complete.

        A first screen can show the first hundred rows while the rest are still on the wire.
        """
        prefetch, self._prefetch = self._prefetch, None
        return prefetch if prefetch is not None else self._fetch()

    def _fetch(self) -> Iterator[Snapshot]:
        pulls: list[PullRequest] = []
        for repo in self.repos:
            for page in self.github.open_pull_pages(repo):
                pulls.extend(page)
                rows = join(pulls, self.previews, self.repos, orphans=False)
                yield Snapshot(self.repos, rows, datetime.now(UTC), complete=False)
        yield Snapshot(self.repos, join(pulls, self.previews, self.repos), datetime.now(UTC))

    def detail(self, pull: PullRequest) -> PullDetail:
        owner, _, name = pull.repo.partition("/")
        return self.github.pull_detail(RepoRef(owner, name), pull.number)

    # previews -----------------------------------------------------------------------------------------
    def connect_cluster_later(self, connect: ClusterConnector) -> None:
        """Leave connecting to the cluster to :meth:`connect_cluster`, which the TUI calls in a worker after its
        first frame: loading the kubernetes client and the kubeconfig costs about 0.3 s of CPU."""
        self._connector = connect

    @property
    def has_cluster(self) -> bool:
        """Connected to a cluster (previews can be listed, launched, destroyed)."""
        return self.cluster is not None

    @property
    def cluster_pending(self) -> bool:
        """A cluster connection is set up but not made yet (see :meth:`connect_cluster_later`)."""
        return self._connector is not None

    def connect_cluster(self) -> None:
        """Make the connection left for later (blocking); afterwards ``cluster`` or ``cluster_problem`` is set."""
        connect, self._connector = self._connector, None
        if connect is not None:
            self.cluster, self.cluster_problem, self.launches = connect()

    def require_cluster(self) -> ClusterService:
        if self.cluster is None:
            raise self.cluster_problem or NotFound("No Kubernetes cluster configured", "set KUBECONFIG")
        return self.cluster

    def follow_previews(
        self,
        on_change: Callable[[tuple[Preview, ...]], None],
        on_error: Callable[[PrdeckError], None],
        stop: threading.Event,
    ) -> None:
        """Keep :attr:`previews` current from the cluster watch until ``stop`` (blocking: run it in a thread)."""
        cluster = self.require_cluster()

        def changed(previews: list[Preview]) -> None:
            self._cluster_previews = previews
            self.previews = self._overlay(previews)
            on_change(self.previews)

        self._on_previews = on_change
        cluster.follow(changed, on_error, stop)

    def _overlay(self, previews: list[Preview]) -> tuple[Preview, ...]:
        return self.launches.overlay(previews) if self.launches is not None else tuple(previews)

    def _launch_state_changed(self) -> None:
        self.previews = self._overlay(self._cluster_previews)
        if self._on_previews is not None:
            self._on_previews(self.previews)

    def list_previews(self) -> tuple[Preview, ...]:
        self._cluster_previews = self.require_cluster().previews()
        self.previews = self._overlay(self._cluster_previews)
        return self.previews

    def namespace_of(self, repo: str, number: int) -> str:
        owner, _, name = repo.partition("/")
        return namespace_for(RepoRef(owner, name), number, self.require_cluster().prefix)

    def preview_detail(self, preview: Preview) -> PreviewDetail:
        cluster = self.require_cluster()
        return PreviewDetail(cluster.preview(preview.namespace), tuple(cluster.events(preview.namespace)))

    def logs(self, preview: Preview, request: LogRequest, stop: threading.Event) -> Iterator[LogLine]:
        from prdeck.services.kube.logs import preview_logs

        return preview_logs(self.require_cluster(), preview.namespace, request, stop)

    def log_batches(self, preview: Preview, request: LogRequest, stop: threading.Event) -> Iterator[list[LogLine]]:
        """:meth:`logs` in batches, for a screen that draws many lines at a time."""
        from prdeck.services.kube.logs import preview_log_batches

        return preview_log_batches(self.require_cluster(), preview.namespace, request, stop)

    def destroy(self, preview: Preview) -> Iterator[str]:
        from prdeck.services.github.report import mark_inactive

        yield from self.require_cluster().destroy(preview.namespace)
        if self.launches is not None:
            self.launches.journal.clear(preview.namespace)
            relay = self.launches.relays.pop(preview.namespace, None)
            if relay is not None:
                relay.stop()
        warnings: list[str] = []
        count = mark_inactive(self.github, _repo_ref(preview.repo), preview.number, warnings.append)
        yield from warnings
        if count:
            yield f"GitHub: {count} deployment{'s' if count > 1 else ''} of preview/pr-{preview.number} marked inactive"

    # launches -----------------------------------------------------------------------------------------
    def require_launches(self) -> Launches:
        self.require_cluster()
        if self.launches is None:
            raise NotFound("Launching is not set up", "prdeck needs a cluster and a registry (registry.url).")
        return self.launches

    def launch_check(self, repo: str, number: int) -> LaunchCheck:
        return self.require_launches().launcher.check(_repo_ref(repo), number)

    def launch(
        self,
        repo: str,
        number: int,
        emit: Callable[[LaunchEvent], None],
        *,
        expected_sha: str | None = None,
        approved_sha: str | None = None,
        wait: bool = True,
    ) -> LaunchResult:
        """Run one launch (blocking); the row follows its steps through the preview watch's callback."""
        launches = self.require_launches()
        ref = _repo_ref(repo)
        namespace = self.namespace_of(repo, number)

        def relay(event: LaunchEvent) -> None:
            if launches.track(ref, number, namespace, event):
                self._launch_state_changed()
            emit(event)

        try:
            return launches.launcher.launch(ref, number, relay, expected_sha=expected_sha,
                                            approved_sha=approved_sha, stop=launches.stop, wait=wait)
        finally:
            launches.finish(ref, number)
            self._launch_state_changed()

    def open_url(self, preview: Preview) -> str:
        """The preview's URL: its Ingress, or a port-forward relay on 127.0.0.1 kept until the deck closes."""
        from prdeck.services.kube.forward import PortForwardRelay, service_port

        url = preview.url or ""
        host = (preview.host or "").split(":", 1)[0]
        if url and host != "localhost" and not host.endswith(".localhost") and host != "127.0.0.1":
            return url  # an Ingress on a real domain
        launches = self.require_launches()
        relay = launches.relays.get(preview.namespace)
        if relay is None:
            cluster = self.require_cluster()
            port = service_port(cluster, preview.namespace, fallback=80)
            relay = PortForwardRelay(cluster, preview.namespace, port, preferred_local_port=port).start()
            launches.relays[preview.namespace] = relay
        return relay.url

    def close(self) -> None:
        if self.launches is not None:
            self.launches.close()
        self.github.close()
        if self.cluster is not None:
            self.cluster.close()


_DONE = object()


class Prefetch(Iterator[Snapshot]):
    """Runs an iterator of snapshots in a daemon thread; iterating blocks for the next item or re-raises."""

    def __init__(self, source: Iterator[Snapshot]) -> None:
        self._items: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._source = source
        threading.Thread(target=self._run, name="prdeck-prefetch", daemon=True).start()

    def _run(self) -> None:
        try:
            for item in self._source:
                self._items.put(item)
        except BaseException as exc:  # handed to the consumer, which owns error reporting
            self._items.put(exc)
        self._items.put(_DONE)

    def __next__(self) -> Snapshot:
        item = self._items.get()
        if item is _DONE:
            self._items.put(_DONE)
            raise StopIteration
        if isinstance(item, BaseException):
            raise item
        return item  # type: ignore[return-value]
