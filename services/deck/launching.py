"""The deck's launch: one pull request's preview built, pushed and deployed, after its turn in the queue."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from prdeck.services.deck.queue import LaunchQueue
from prdeck.services.models import LaunchEvent, RepoRef
from prdeck.services.naming import namespace_for

if TYPE_CHECKING:
    from prdeck.services.kube.service import ClusterService
    from prdeck.services.launch.launches import Launches
    from prdeck.services.launch.results import LaunchResult


class LaunchActions:
    """Mixed into :class:`prdeck.services.deck.deck.Deck` (which provides the attributes declared here)."""

    _queue: LaunchQueue

    def _require_cluster(self) -> ClusterService:
        raise NotImplementedError

    def _require_launches(self) -> Launches:
        raise NotImplementedError

    def _launch_state_changed(self) -> None:
        raise NotImplementedError

    def launch(
        self,
        repo: RepoRef,
        number: int,
        emit: Callable[[LaunchEvent], None],
        *,
        expected_sha: str | None = None,
        approved_sha: str | None = None,
        wait: bool = True,
        rollout_timeout: float | None = None,
    ) -> LaunchResult:
        """Run one launch (blocking); the row follows its steps through the preview watch's callback."""
        launches = self._require_launches()
        namespace = namespace_for(repo, number, self._require_cluster().prefix)

        def relay(event: LaunchEvent) -> None:
            if launches.track(repo, number, namespace, event):
                self._launch_state_changed()
            emit(event)

        def queued(position: int) -> None:
            launches.queued(repo, number, namespace, position)
            self._launch_state_changed()
            emit(self._queue.note(repo, number, position))

        stop = launches.stop_event(repo, number)
        try:
            with self._queue.place(queued, stop):
                return launches.launcher.launch(repo, number, relay, expected_sha=expected_sha,
                                                approved_sha=approved_sha, stop=stop, wait=wait,
                                                rollout_timeout=rollout_timeout)
        finally:
            launches.finish(repo, number)
            self._launch_state_changed()
