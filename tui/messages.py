"""Messages the workers post back to the UI thread."""

from __future__ import annotations

from textual.message import Message

from services.models import PullDetail
from services.previews import Snapshot


class SnapshotLoaded(Message):
    """A fresh list of pull requests arrived."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot


class DetailLoaded(Message):
    """The description of one pull request arrived for the detail pane."""

    def __init__(self, detail: PullDetail) -> None:
        super().__init__()
        self.detail = detail
