"""The main screen: open pull requests at a glance, driven from the keyboard, never frozen by the network."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input
from textual.worker import Worker, WorkerState

from prdeck.screens.approve import ApproveScreen
from prdeck.screens.confirm import ConfirmScreen
from prdeck.screens.launch import LaunchScreen
from prdeck.screens.logs import LogsScreen
from prdeck.services.deck import Deck, Row, Snapshot
from prdeck.services.errors import PrdeckError, Unavailable
from prdeck.services.models import LaunchCheck, LaunchEvent, Preview
from prdeck.tui.messages import ClusterTrouble, DetailLoaded, PreviewDetailLoaded, PreviewsChanged, SnapshotLoaded
from prdeck.tui.view.connection import Connection
from prdeck.tui.view.launch_progress import LaunchProgress
from prdeck.tui.view.mailbox import Mailbox
from prdeck.tui.view.pull_query import SORT_ORDERS, count, next_sort, select
from prdeck.tui.view.safe_text import printable
from prdeck.tui.widgets.detail_pane import DetailPane
from prdeck.tui.widgets.field_focus import open_field
from prdeck.tui.widgets.pull_table import PullTable
from prdeck.tui.widgets.status_bar import StatusBar, status_text

PARTIAL_PAINT_INTERVAL = 0.25
"""Seconds between paints of a first list still arriving: each paint re-lays out the table, so not every page."""


class PullListScreen(Screen[None]):
    AUTO_FOCUS = "#pulls"
    BINDINGS = [
        Binding("slash", "filter", "Filter", priority=True),  # see tui.field_focus
        Binding("s", "sort", "Sort"),
        Binding("r", "refresh", "Refresh"),
        Binding("O", "open_pull", "Open on GitHub"),
        Binding("l", "launch", "Launch"),
        Binding("o", "open_preview", "Open preview"),
        Binding("t", "logs", "Logs"),
        Binding("d", "destroy", "Destroy"),
        Binding("escape", "back", "Back", show=False),
        Binding("question_mark", "app.help", "Help"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, deck: Deck, refresh_seconds: float, log_lines: int = 10_000) -> None:
        super().__init__()
        self.deck = deck
        self.refresh_seconds = refresh_seconds
        self.log_lines = log_lines
        self.connection = Connection()
        self.snapshot: Snapshot | None = None
        self.ordering = SORT_ORDERS[0]
        self.query_text = ""
        self.detail_key: str | None = None
        self._timer: Timer | None = None
        self._retry_in: float | None = None
        self._shown = 0
        self._arrived: Mailbox[Snapshot] = Mailbox()
        self._previews: Mailbox[tuple[Preview, ...]] = Mailbox()
        self._trouble: Mailbox[PrdeckError] = Mailbox()
        self._stop_cluster = threading.Event()
        problem = deck.cluster_problem
        self.cluster: tuple[str, str | None] = (
            ("connecting", None)
            if deck.has_cluster or deck.cluster_pending
            else ("none", problem.title if problem else None)
        )
        self._cluster_failures = 0
        self.launches: dict[str, LaunchProgress] = {}

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
        if self.deck.has_cluster or self.deck.cluster_pending:
            self.follow_previews()

    def on_unmount(self) -> None:
        self._stop_cluster.set()

    @work(thread=True, exclusive=True, exit_on_error=False, group="cluster")
    def follow_previews(self) -> None:
        """Runs until the screen goes: one list, then one watch; changes and failures come back coalesced.

        A connection left for later (see ``Deck.connect_cluster_later``) is made here, after the first frame.
        """
        if self.deck.cluster_pending:
            self.deck.connect_cluster()
            if not self.deck.has_cluster:
                self.app.call_from_thread(self._no_cluster)
                return

        def changed(previews: tuple[Preview, ...]) -> None:
            if self._previews.put(previews):
                self.post_message(PreviewsChanged())

        def failed(error: PrdeckError) -> None:
            if self._trouble.put(error):
                self.post_message(ClusterTrouble())

        self.deck.follow_previews(changed, failed, self._stop_cluster)

    def _no_cluster(self) -> None:
        problem = self.deck.cluster_problem
        self.cluster = ("none", problem.title if problem else None)
        self._paint_status()

    def on_previews_changed(self) -> None:
        previews = self._previews.take()
        if previews is None:
            return
        if self.cluster[0] == "failing":
            self.notify("The cluster is reachable again; previews are live.", title="Reconnected")
        self.cluster, self._cluster_failures = ("live", None), 0
        if self.snapshot is not None:
            self.snapshot = self.snapshot.with_previews(previews)
            self._render_rows()
            row = self._row(self.detail_key)
            if row is not None:
                self.query_one(DetailPane).show_row(row)
        self._paint_status()

    def on_cluster_trouble(self) -> None:
        error = self._trouble.take()
        if error is None:
            return
        self._cluster_failures += 1
        self.cluster = ("failing", error.title)
        if self._cluster_failures == 1:
            self.notify(
                printable(error.detail) + " prdeck keeps retrying.",
                title=printable(error.title),
                severity="warning",
                timeout=8,
                markup=False,
            )
        self._paint_status()

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

    @work(thread=True, exclusive=True, exit_on_error=False, group="preview-detail")
    def load_preview_detail(self, row: Row) -> None:
        assert row.preview is not None
        self.post_message(PreviewDetailLoaded(row.key, self.deck.preview_detail(row.preview)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="destroy")
    def run_destroy(self, preview: Preview) -> None:
        for line in self.deck.destroy(preview):
            self.app.call_from_thread(self.notify, line, title=f"Destroying {preview.key}", timeout=4, markup=False)
        self.app.call_from_thread(self.notify, f"{preview.namespace} is gone.", title=f"Destroyed {preview.key}")

    @work(thread=True, exclusive=True, exit_on_error=False, group="launch-check")
    def check_fork(self, row: Row) -> None:
        check = self.deck.launch_check(row.pull.repo, row.pull.number)
        self.app.call_from_thread(self._approve, row, check)

    @work(thread=True, exit_on_error=False, group="launch")
    def run_launch(self, row: Row, progress: LaunchProgress, approved_sha: str | None) -> None:
        def emit(event: LaunchEvent) -> None:
            progress.apply(event)

        try:
            result = self.deck.launch(row.pull.repo, row.pull.number, emit, expected_sha=row.pull.head_sha,
                                      approved_sha=approved_sha)
        except PrdeckError as error:
            output = tuple(getattr(error, "output", ()))
            progress.finish("failed", f"{error.title}. {error.detail}".strip(), output)
            self.app.call_from_thread(self.notify, printable(error.detail) or " ", title=printable(error.title),
                                      severity="error", timeout=10, markup=False)
            return
        summary = f"{result.url} ({result.seconds:.1f}s{', simulated build' if result.simulated else ''})"
        progress.finish("ready", summary)
        self.app.call_from_thread(self.notify, summary, title=f"Preview of {row.key} is ready", markup=False)

    @work(thread=True, exclusive=True, exit_on_error=False, group="open-preview")
    def open_preview(self, preview: Preview) -> None:
        url = self.deck.open_url(preview)
        self.app.call_from_thread(self.app.open_in_browser, url)  # type: ignore[attr-defined]

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
        if self.detail_key == f"{message.detail.repo}#{message.detail.number}":
            self.query_one(DetailPane).pull_loaded(message.detail)

    def on_preview_detail_loaded(self, message: PreviewDetailLoaded) -> None:
        if self.detail_key == message.key:
            self.query_one(DetailPane).preview_loaded(message.detail)

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
        if event.worker.group in ("detail", "preview-detail"):
            self.query_one(DetailPane).failed("pull" if event.worker.group == "detail" else "preview", failure.title)
            return
        if event.worker.group in ("destroy", "cluster", "launch-check", "open-preview", "launch"):
            self.notify(
                printable(failure.detail), title=printable(failure.title), severity="error", timeout=10, markup=False
            )
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
                repos,
                counts,
                self._shown,
                self.ordering.name,
                self.query_text,
                self.connection,
                self._retry_in,
                self.cluster,
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
        open_field(self, self.query_one("#filter", Input))

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

    @on(PullTable.RowSelected, "#pulls")
    def toggle_detail(self, event: PullTable.RowSelected) -> None:
        key = event.row_key
        if key == self.detail_key:
            self._close_detail()
            return
        row = self._row(key)
        if row is None:
            return
        self.detail_key = key
        pane = self.query_one(DetailPane)
        pane.remove_class("hidden")
        pane.show_row(row)
        if not row.orphan:
            self.load_detail(row)
        if row.preview is not None:
            self.load_preview_detail(row)

    def _close_detail(self) -> None:
        self.detail_key = None
        self.query_one(DetailPane).add_class("hidden")

    def action_open_pull(self) -> None:
        row = self._row(self.query_one(PullTable).selected_key)
        if row is not None and row.pull.url:
            self.app.open_in_browser(row.pull.url)  # type: ignore[attr-defined]

    def _selected_preview(self, doing: str) -> Preview | None:
        row = self._row(self.query_one(PullTable).selected_key)
        if row is None:
            return None
        if row.preview is None:
            why = "" if self.deck.has_cluster else f" ({self.cluster[1] or 'no cluster'})"
            self.notify(f"{row.key} has no preview to {doing}{why}.", timeout=4, markup=False)
            return None
        return row.preview

    def action_logs(self) -> None:
        preview = self._selected_preview("show logs of")
        if preview is not None:
            self.app.push_screen(LogsScreen(self.deck, preview, self.log_lines))

    def action_destroy(self) -> None:
        preview = self._selected_preview("destroy")
        if preview is None:
            return
        question = Text.assemble(
            ("Destroy the preview of ", ""),
            (printable(preview.key), "bold magenta"),
            ("?\n\nNamespace ", ""),
            (preview.namespace, "bold"),
            (" and everything in it will be deleted.", ""),
        )

        def decided(confirmed: bool | None) -> None:
            if confirmed:
                self.run_destroy(preview)
            else:
                self.notify("Nothing destroyed.", timeout=3)

        self.app.push_screen(ConfirmScreen(question), decided)

    def action_launch(self) -> None:
        """Launch (or redeploy) the selected PR's preview; a launch in flight shows its panel again."""
        row = self._row(self.query_one(PullTable).selected_key)
        if row is None or row.orphan:
            return
        running = self.launches.get(row.key)
        if running is not None and running.running:
            self.app.push_screen(LaunchScreen(running))
            return
        if not self.deck.has_cluster:
            self.notify(f"No cluster: {self.cluster[1] or 'set KUBECONFIG'}.", title="Cannot launch", markup=False)
            return
        if row.pull.fork:
            self.check_fork(row)
        else:
            self._start_launch(row, None)

    def _approve(self, row: Row, check: LaunchCheck) -> None:
        def decided(approved: bool | None) -> None:
            if approved:
                self._start_launch(row, check.head_sha)
            else:
                self.notify(f"{row.key} was not launched.", timeout=3, markup=False)

        self.app.push_screen(ApproveScreen(check), decided)

    def _start_launch(self, row: Row, approved_sha: str | None) -> None:
        progress = LaunchProgress(row.key, row.pull.head_sha)
        self.launches[row.key] = progress
        self.app.push_screen(LaunchScreen(progress))
        self.run_launch(row, progress, approved_sha)

    def action_open_preview(self) -> None:
        preview = self._selected_preview("open")
        if preview is not None:
            self.open_preview(preview)
