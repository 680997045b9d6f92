"""The thread workers that feed the list screen: the pull requests, the previews, a row's details.

Each is a ``@work`` function whose first argument is the screen it runs on; it asks the deck and posts what it
got as a message (see :mod:`prdeck.tui.messages`, whose list and watch messages coalesce). An error it raises
goes to the screen's one router, by its :class:`Work` group.
"""

from __future__ import annotations

import threading
from enum import StrEnum

from textual import work
from textual.screen import Screen
from textual.worker import get_current_worker

from prdeck.services.deck import Deck, Row
from prdeck.services.errors import PrdeckError
from prdeck.services.models import Preview
from prdeck.tui.messages import (
    ClusterTrouble,
    DetailLoaded,
    NoCluster,
    PreviewDetailLoaded,
    PreviewsChanged,
    SnapshotLoaded,
)
from prdeck.tui.view.list_model import paced


class Work(StrEnum):
    """Every worker group of the list screen (here and in :mod:`prdeck.screens.pull_actions`); the screen's
    error router has a branch for each."""

    GITHUB = "github"
    CLUSTER = "cluster"
    DETAIL = "detail"
    PREVIEW_DETAIL = "preview-detail"
    DESTROY = "destroy"
    LAUNCH_CHECK = "launch-check"
    LAUNCH = "launch"
    OPEN_PREVIEW = "open-preview"
    LIFECYCLE = "lifecycle"
    """e, p, z and the wake of l/o (:mod:`prdeck.screens.lifecycle_actions`)."""


@work(thread=True, exclusive=True, exit_on_error=False, group=Work.GITHUB)
def load_list(screen: Screen[None], deck: Deck, first_load: bool, full: bool = True) -> None:
    """Fetch the list; a first load shows pages as they arrive, a refresh swaps in the finished list.

    ``full=False``: only what changed since the last fetch (the timer's refresh); ``r`` reloads everything."""
    worker = get_current_worker()
    for snapshot in paced(deck.snapshots(full=full), first_load):
        if worker.is_cancelled:
            return  # a newer load took over
        screen.post_message(SnapshotLoaded(snapshot))


@work(thread=True, exclusive=True, exit_on_error=False, group=Work.CLUSTER)
def follow_previews(screen: Screen[None], deck: Deck, stop: threading.Event) -> None:
    """Runs until ``stop``: connects (when that was left for after the first frame), lists, then watches."""
    if deck.cluster_pending:
        deck.connect_cluster()
        if not deck.has_cluster:
            screen.post_message(NoCluster(deck.cluster_problem))
            return

    def changed(previews: tuple[Preview, ...]) -> None:
        screen.post_message(PreviewsChanged(previews))

    def failed(error: PrdeckError) -> None:
        screen.post_message(ClusterTrouble(error))

    deck.follow_previews(changed, failed, stop)


@work(thread=True, exclusive=True, exit_on_error=False, group=Work.DETAIL)
def load_detail(screen: Screen[None], deck: Deck, row: Row) -> None:
    screen.post_message(DetailLoaded(row.key, deck.detail(row.pull)))


@work(thread=True, exclusive=True, exit_on_error=False, group=Work.PREVIEW_DETAIL)
def load_preview_detail(screen: Screen[None], deck: Deck, row: Row) -> None:
    assert row.preview is not None
    screen.post_message(PreviewDetailLoaded(row.key, deck.preview_detail(row.preview)))
