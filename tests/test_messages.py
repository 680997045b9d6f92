"""Messages from the workers coalesce in Textual's own queue (Message.can_replace): the UI gets the newest value."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.message import Message
from textual.widget import Widget

from prdeck.services.deck import Snapshot
from prdeck.services.errors import Unavailable
from prdeck.services.models import RepoRef
from prdeck.tui.messages import ClusterTrouble, DetailLoaded, PreviewsChanged, SnapshotLoaded
from tests.test_list_model import NOW, preview, snapshot


class Receiver(Widget):
    def __init__(self) -> None:
        super().__init__()
        self.got: list[Message] = []

    def on_snapshot_loaded(self, message: SnapshotLoaded) -> None:
        self.got.append(message)

    def on_previews_changed(self, message: PreviewsChanged) -> None:
        self.got.append(message)

    def on_cluster_trouble(self, message: ClusterTrouble) -> None:
        self.got.append(message)


class Harness(App[None]):
    def compose(self) -> ComposeResult:
        yield Receiver()


async def deliver(*messages: Message) -> list[Message]:
    """Queue all of ``messages`` before the receiver runs (as a fast worker does), then let it work."""
    app = Harness()
    async with app.run_test() as pilot:
        receiver = app.query_one(Receiver)
        for message in messages:
            receiver.post_message(message)
        await pilot.pause()
        return receiver.got


def page(rows: int) -> SnapshotLoaded:
    return SnapshotLoaded(snapshot(*range(1, rows + 1), complete=False))


async def test_a_newer_snapshot_replaces_a_queued_older_one():
    complete = SnapshotLoaded(snapshot(1, 2, 3))
    assert await deliver(page(1), page(2), complete) == [complete]


async def test_a_late_page_never_pushes_a_complete_list_out_of_the_queue():
    complete, late = SnapshotLoaded(snapshot(1, 2, 3)), page(1)
    assert await deliver(complete, late) == [complete, late], "the list model then ignores the late page"


async def test_previews_and_cluster_trouble_keep_only_the_newest():
    newest = PreviewsChanged((preview(2),))
    trouble = ClusterTrouble(Unavailable("Cannot reach the cluster", "second"))
    got = await deliver(PreviewsChanged(()), PreviewsChanged((preview(1),)), newest,
                        ClusterTrouble(Unavailable("Cannot reach the cluster", "first")), trouble)
    assert got == [newest, trouble]


async def test_only_neighbours_coalesce_so_nothing_is_lost_or_reordered():
    first, previews, second = page(1), PreviewsChanged((preview(1),)), SnapshotLoaded(snapshot(1))
    assert await deliver(first, previews, second) == [first, previews, second]


def test_results_that_each_matter_never_replace_each_other():
    from prdeck.services.models import PullDetail

    detail = PullDetail(RepoRef("octo", "app"), 1, "", "main", "a" * 40, None, False, NOW)
    assert not DetailLoaded("octo/app#1", detail).can_replace(DetailLoaded("octo/app#2", detail))
    assert not SnapshotLoaded(Snapshot((), (), NOW)).can_replace(PreviewsChanged(()))
