"""Messages the workers post back to the UI thread."""

from __future__ import annotations

from textual.message import Message

from prdeck.services.deck import PreviewDetail
from prdeck.services.models import PullDetail


class SnapshotLoaded(Message):
    """A fresh list of pull requests (or a page more of the first one) waits in the screen's mailbox."""


class DetailLoaded(Message):
    """The description of one pull request arrived for the detail pane."""

    def __init__(self, detail: PullDetail) -> None:
        super().__init__()
        self.detail = detail


class PreviewsChanged(Message):
    """The cluster watch saw a change; the newest state of every preview waits in the screen's mailbox."""


class ClusterTrouble(Message):
    """The cluster watch failed (it retries by itself); the error waits in the screen's mailbox."""


class PreviewDetailLoaded(Message):
    """Pods and recent events of the selected row's preview, for the detail pane."""

    def __init__(self, key: str, detail: PreviewDetail) -> None:
        super().__init__()
        self.key = key
        self.detail = detail
