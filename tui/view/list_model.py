"""The state of the list screen, without the screen: what it shows and what to do when something arrives.

The screen owns the widgets and the workers; this model owns the data they show (the newest snapshot joined with
the newest previews, the ordering, the filter, the open detail row, GitHub's and the cluster's state) and
decides, for every arrival, what the screen has to do. Pure Python: tests drive it without Textual.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from prdeck.services.deck import Budget, Row, Snapshot
from prdeck.services.errors import PrdeckError
from prdeck.services.models import Preview
from prdeck.tui.view.cluster_link import ClusterLink, ClusterState
from prdeck.tui.view.connection import Connection
from prdeck.tui.view.pull_query import SORT_ORDERS, Counts, SortOrder, count, next_sort, select
from prdeck.tui.view.safe_text import printable

PARTIAL_PAINT_INTERVAL = 0.25
"""Seconds between paints of a first list still arriving: each paint re-lays out the table, so not every page."""


def paced(
    snapshots: Iterable[Snapshot],
    first_load: bool,
    interval: float = PARTIAL_PAINT_INTERVAL,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Snapshot]:
    """The snapshots worth painting: every complete one, and pages of a first load at most every ``interval`` s.

    A refresh (not ``first_load``) keeps the list on screen until the finished one replaces it.
    """
    painted = float("-inf")
    for snapshot in snapshots:
        if snapshot.complete or (first_load and clock() - painted >= interval):
            painted = clock()
            yield snapshot


def sentence(text: str) -> str:
    """``text`` ending with a full stop (once), so another sentence can follow it."""
    text = text.rstrip()
    return text if not text or text.endswith((".", "!", "?")) else f"{text}."


@dataclass(frozen=True)
class Notice:
    """A notification for the screen to show, as plain text (never parsed as markup)."""

    message: str
    title: str
    severity: Literal["information", "warning", "error"] = "information"
    timeout: float | None = None
    """Seconds on screen; None: the app's default."""


GITHUB_BACK = Notice("GitHub is reachable again; the list is up to date.", "Reconnected")
CLUSTER_BACK = Notice("The cluster is reachable again; previews are live.", "Reconnected")


class Arrival(Enum):
    """What a snapshot's arrival asks of the screen."""

    IGNORED = "ignored"
    """A late page of an abandoned first load: the finished list on screen stays."""
    PAGE = "page"
    """A page more of the first list: paint it."""
    COMPLETE = "complete"
    """The whole list: paint it and plan the next refresh."""
    RECONNECTED = "reconnected"
    """The whole list after GitHub had been failing: as complete, and say GitHub is back."""


class ListModel:
    """Everything the list screen shows, as plain data; the screen paints it after each change."""

    def __init__(self, cluster: ClusterLink | None = None) -> None:
        self.snapshot: Snapshot | None = None
        """The rows as shown: the newest list joined with the newest previews."""
        self.previews: tuple[Preview, ...] | None = None
        """The newest state of every preview from the cluster watch (None until it first delivered)."""
        self.ordering: SortOrder = SORT_ORDERS[0]
        self.query_text = ""
        self.detail_key: str | None = None
        """The row whose detail pane is open."""
        self.shown = 0
        """Rows that passed the filter at the last :meth:`rows_to_show`."""
        self.connection = Connection()
        self.retry_in: float | None = None
        """Seconds until the next automatic fetch (None: only ``r``)."""
        self.cluster = cluster or ClusterLink()

    # the list -----------------------------------------------------------------------------------------
    def arrive(self, snapshot: Snapshot) -> Arrival:
        """Take a snapshot from the loading worker.

        A snapshot is joined with the previews of its own fetch, which may be older than those the watch has
        delivered since: the newest previews are joined again, so a list fetched before the cluster answered
        still shows them (the watch may have nothing more to say for hours).
        """
        if not snapshot.complete and self.snapshot is not None and self.snapshot.complete:
            return Arrival.IGNORED
        self.snapshot = snapshot if self.previews is None else snapshot.with_previews(self.previews)
        if not snapshot.complete:
            return Arrival.PAGE
        recovered = self.connection.state == "failing"
        self.connection = self.connection.succeeded()
        return Arrival.RECONNECTED if recovered else Arrival.COMPLETE

    def github_failed(self, error: PrdeckError, refresh_seconds: float) -> Notice | None:
        """Record a failed fetch and plan the next try (:attr:`retry_in`); the first failure in a row is told."""
        self.connection = self.connection.failed(error)
        self.retry_in = self.connection.retry_in(refresh_seconds)
        if not self.connection.newly_failing:
            return None
        detail = printable(error.detail)
        if self.retry_in is not None:
            detail = f"{sentence(detail)} prdeck keeps retrying."
        return Notice(detail, printable(error.title), "error", 8)

    def pace_changed(self, seconds: float, refresh_seconds: float, budget: Budget | None) -> Notice:
        """Say that refreshes slowed down to make GitHub's budget last until its reset, or are back to normal."""
        if seconds <= refresh_seconds or budget is None:
            return Notice(f"Refreshing every {refresh_seconds:.0f}s again.", "GitHub budget", "information", 5)
        return Notice(
            f"{budget.remaining} of {budget.limit} GitHub points left until "
            f"{budget.reset_at.astimezone():%H:%M}: refreshing every {seconds:.0f}s instead of "
            f"{refresh_seconds:.0f}s so they last. Press r to refresh now.",
            "GitHub budget low",
            "warning",
            10,
        )

    # the cluster --------------------------------------------------------------------------------------
    def previews_changed(self, previews: tuple[Preview, ...]) -> Notice | None:
        """Join the newest previews; when the watch had been failing, say it is back."""
        recovered = self.cluster.state is ClusterState.FAILING
        self.previews = previews
        self.cluster = self.cluster.live()
        if self.snapshot is not None:
            self.snapshot = self.snapshot.with_previews(previews)
        return CLUSTER_BACK if recovered else None

    def cluster_failed(self, error: PrdeckError) -> Notice | None:
        """Record a failure of the watch (it retries by itself); the first in a row is told, the retries not."""
        self.cluster = self.cluster.failing(error)
        if not self.cluster.newly_failing:
            return None
        detail = f"{sentence(printable(error.detail))} prdeck keeps retrying."
        return Notice(detail, printable(error.title), "warning", 8)

    def no_cluster(self, problem: PrdeckError | None) -> None:
        self.cluster = self.cluster.none(problem)

    # what is shown ------------------------------------------------------------------------------------
    @property
    def counts(self) -> Counts | None:
        return count(self.snapshot.rows) if self.snapshot is not None else None

    @property
    def with_repo(self) -> bool:
        """The table names each row's repository when the list spans more than one."""
        return self.snapshot is not None and len(self.snapshot.repos) > 1

    def rows_to_show(self) -> list[Row]:
        """The rows that pass the filter, in the current order (and counted as shown)."""
        rows = select(self.snapshot.rows, self.query_text, self.ordering) if self.snapshot is not None else []
        self.shown = len(rows)
        return rows

    def row(self, key: str | None) -> Row | None:
        if self.snapshot is None or key is None:
            return None
        return next((row for row in self.snapshot.rows if row.key == key), None)

    def sort_next(self) -> SortOrder:
        self.ordering = next_sort(self.ordering)
        return self.ordering

    # the detail pane ----------------------------------------------------------------------------------
    def toggle_detail(self, key: str) -> Row | None:
        """Enter on a row: the row whose detail opens; None when its detail closes or there is no such row."""
        if key == self.detail_key:
            self.detail_key = None
            return None
        row = self.row(key)
        if row is not None:
            self.detail_key = key
        return row

    def follow(self, key: str) -> Row | None:
        """The cursor moved to ``key``: the row the open detail pane shows now (None: no pane, or no change)."""
        if self.detail_key is None or key == self.detail_key:
            return None
        row = self.row(key)
        if row is not None:
            self.detail_key = key
        return row

    def close_detail(self) -> None:
        self.detail_key = None

    def detail_row(self) -> Row | None:
        """The row of the open detail pane, as of the newest snapshot."""
        return self.row(self.detail_key)

    def is_detail(self, key: str) -> bool:
        """A detail that arrives for ``key`` still belongs in the pane (the user may have moved on)."""
        return key == self.detail_key
