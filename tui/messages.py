"""Messages the workers post back to the UI thread."""

from __future__ import annotations

from textual.message import Message

from services.models import PullDetail


class SnapshotLoaded(Message):
    """A fresh list of pull requests (or a page more of the first one) waits in the screen's mailbox."""


class DetailLoaded(Message):
    """The description of one pull request arrived for the detail pane."""

    def __init__(self, detail: PullDetail) -> None:
        super().__init__()
        self.detail = detail
