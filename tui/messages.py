"""Messages the workers post back to the UI thread, each carrying its result.

A worker that produces faster than the UI paints (pages of a long list, a busy cluster watch) posts every value;
Textual drops a queued message when the next one in the queue may replace it (:meth:`Message.can_replace`,
asked of the older message with the newer one), so the UI takes the newest value and never works through a
backlog of stale ones.
"""

from __future__ import annotations

from textual.message import Message

from prdeck.services.deck import PreviewDetail, Row, Snapshot
from prdeck.services.errors import PrdeckError
from prdeck.services.models import LaunchCheck, Preview, PullDetail


class SnapshotLoaded(Message):
    """A fresh list of pull requests, or a page more of the first one."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        """A newer snapshot supersedes this one, except a page after a complete list (a late page of an
        abandoned first load must not push the finished list out of the queue)."""
        return isinstance(message, SnapshotLoaded) and (message.snapshot.complete or not self.snapshot.complete)


class PreviewsChanged(Message):
    """The cluster watch saw a change: the newest state of every preview."""

    def __init__(self, previews: tuple[Preview, ...]) -> None:
        super().__init__()
        self.previews = previews

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PreviewsChanged)


class ClusterTrouble(Message):
    """The cluster watch failed (it retries by itself)."""

    def __init__(self, error: PrdeckError) -> None:
        super().__init__()
        self.error = error

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ClusterTrouble)


class NoCluster(Message):
    """Connecting to the cluster after the first frame failed: the list goes on without previews."""

    def __init__(self, problem: PrdeckError | None) -> None:
        super().__init__()
        self.problem = problem


class DetailLoaded(Message):
    """The description of the pull request of row ``key``, for the detail pane."""

    def __init__(self, key: str, detail: PullDetail) -> None:
        super().__init__()
        self.key = key
        self.detail = detail


class PreviewDetailLoaded(Message):
    """Pods and recent events of the preview of row ``key``, for the detail pane."""

    def __init__(self, key: str, detail: PreviewDetail) -> None:
        super().__init__()
        self.key = key
        self.detail = detail


class ForkChecked(Message):
    """What launching a fork's pull request would run, for the maintainer to approve."""

    def __init__(self, row: Row, check: LaunchCheck) -> None:
        super().__init__()
        self.row = row
        self.check = check


class OpenUrl(Message):
    """Open ``url`` in the user's browser (the app decides how: see ``PrdeckApp.open_in_browser``)."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
