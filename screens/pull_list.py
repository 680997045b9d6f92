"""The main screen: open pull requests at a glance, driven from the keyboard, never frozen by the network."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input
from textual.worker import Worker, WorkerState

from services.errors import PrdeckError, Unavailable
from services.previews import Deck, Row, Snapshot
from tui.connection import Connection
from tui.mailbox import Mailbox
from tui.messages import DetailLoaded, SnapshotLoaded
from tui.pull_query import SORT_ORDERS, count, next_sort, select
from tui.safe_text import printable
from tui.widgets.detail_pane import DetailPane, detail_text
from tui.widgets.pull_table import PullTable
from tui.widgets.status_bar import StatusBar, status_text

PARTIAL_PAINT_INTERVAL = 0.25
"""Seconds between paints of a first list still arriving: each paint re-lays out the table, so not every page."""


class PullListScreen(Screen[None]):
    AUTO_FOCUS = "#pulls"
    BINDINGS = [
        Binding("slash", "filter", "Filter"),
        Binding("s", "sort", "Sort"),
        Binding("r", "refresh", "Refresh"),
        Binding("O", "open_pull", "Open on GitHub"),
        Binding("escape", "back", "Back", show=False),
        Binding("question_mark", "app.help", "Help"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, deck: Deck, refresh_seconds: float) -> None:
        super().__init__()
        self.deck = deck
        self.refresh_seconds = refresh_seconds
        self.connection = Connection()
        self.snapshot: Snapshot | None = None
        self.ordering = SORT_ORDERS[0]
        self.query_text = ""
        self.detail_key: str | None = None
        self._timer: Timer | None = None
        self._retry_in: float | None = None
        self._shown = 0
        self._arrived: Mailbox[Snapshot] = Mailbox()

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Input(
            placeholder="filter: words in title, author, branch, label or repo — Enter keeps, Esc clears",
            id="filter",
            classes="hidden",
        )
        yield PullTable(id="pulls")
        yield DetailPane(id="detail", classes="hidden")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(PullTable).loading = True
        self._paint_status()
        self.load()

    # loading -----------------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="github")
    def load(self) -> None:
        """Fetch the list; the first load shows each page as it arrives, a refresh swaps in the finished list."""
        first_load = self.snapshot is None
        painted = float("-inf")
        for snapshot in self.deck.snapshots():
            partial_due = first_load and time.monotonic() - painted >= PARTIAL_PAINT_INTERVAL
            if snapshot.complete or partial_due:
                painted = time.monotonic()
                if self._arrived.put(snapshot):
                    self.post_message(SnapshotLoaded())

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail")
    def load_detail(self, row: Row) -> None:
        self.post_message(DetailLoaded(self.deck.detail(row.pull)))

    def _schedule(self, delay: float | None) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._retry_in = delay
        self._timer = self.set_timer(delay, self.load) if delay is not None else None

    def on_snapshot_loaded(self) -> None:
        snapshot = self._arrived.take()
        if snapshot is None:
            return
        if not snapshot.complete and self.snapshot is not None and self.snapshot.complete:
            return  # a late page of an abandoned first load never replaces a finished list
        self.snapshot = snapshot
        self.query_one(PullTable).loading = False
        if snapshot.complete:
            recovered = self.connection.state == "failing"
            self.connection = self.connection.succeeded()
            if recovered:
                self.notify("GitHub is reachable again; the list is up to date.", title="Reconnected")
            self._schedule(self.refresh_seconds)
        self._render_rows()

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        row = self._row(self.detail_key)
        if row is not None and (row.pull.repo, row.pull.number) == (message.detail.repo, message.detail.number):
            self.query_one(DetailPane).show(detail_text(row.pull, message.detail))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker errors become UI: a status line, one notification, a retry plan."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        failure = (
            error
            if isinstance(error, PrdeckError)
            else Unavailable("Unexpected error", f"{type(error).__name__}: {error}")
        )
        if event.worker.group == "detail":
            row = self._row(self.detail_key)
            if row is not None:
                self.query_one(DetailPane).show(detail_text(row.pull, None, failure.title))
            return
        self.connection = self.connection.failed(failure)
        self.query_one(PullTable).loading = False
        retry = self.connection.retry_in(self.refresh_seconds)
        if self.connection.newly_failing:
            detail = printable(failure.detail) + (" prdeck keeps retrying." if retry is not None else "")
            self.notify(detail, title=printable(failure.title), severity="error", timeout=8, markup=False)
        self._schedule(retry)
        self._paint_status()

    # showing -----------------------------------------------------------------------------------------
    def _row(self, key: str | None) -> Row | None:
        if self.snapshot is None or key is None:
            return None
        return next((row for row in self.snapshot.rows if row.key == key), None)

    def _render_rows(self) -> None:
        if self.snapshot is None:
            return
        rows = select(self.snapshot.rows, self.query_text, self.ordering)
        table = self.query_one(PullTable)
        table.show(rows, datetime.now(UTC), with_repo=len(self.snapshot.repos) > 1)
        self._shown = len(rows)
        self._paint_status()

    def _paint_status(self) -> None:
        counts = count(self.snapshot.rows) if self.snapshot else None
        repos = [str(repo) for repo in self.deck.repos]
        self.query_one(StatusBar).show(
            status_text(
                repos, counts, self._shown, self.ordering.name, self.query_text, self.connection, self._retry_in
            )
        )

    # actions -----------------------------------------------------------------------------------------
    def action_refresh(self) -> None:
        self.load()

    def action_sort(self) -> None:
        self.ordering = next_sort(self.ordering)
        self._render_rows()
        self.notify(f"Sorted by {self.ordering.name}", timeout=2)

    def action_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.remove_class("hidden")
        field.focus()

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self._render_rows()

    @on(Input.Submitted, "#filter")
    def filter_submitted(self) -> None:
        self.query_one(PullTable).focus()

    def action_back(self) -> None:
        field = self.query_one("#filter", Input)
        if field.has_focus or self.query_text:
            field.value = ""
            field.add_class("hidden")
            self.query_one(PullTable).focus()
        elif self.detail_key is not None:
            self._close_detail()

    @on(DataTable.RowSelected, "#pulls")
    def toggle_detail(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key == self.detail_key:
            self._close_detail()
            return
        row = self._row(key)
        if row is None:
            return
        self.detail_key = key
        pane = self.query_one(DetailPane)
        pane.remove_class("hidden")
        pane.show(detail_text(row.pull, None))
        self.load_detail(row)

    def _close_detail(self) -> None:
        self.detail_key = None
        self.query_one(DetailPane).add_class("hidden")

    def action_open_pull(self) -> None:
        row = self._row(self.query_one(PullTable).selected_key)
        if row is not None:
            self.app.open_in_browser(row.pull.url)  # type: ignore[attr-defined]
